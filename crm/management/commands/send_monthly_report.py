"""manage.py send_monthly_report [--now ISO8601]: the monthly report, by hand.

The twin of the periodic task `crm.monthly_report`: it calls the same
service, which mails each active manager only on the first business day of
the month, once per month. `--now` replays a given moment (a value without
offset is JST).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from crm.management.now import now_argument_add, now_option
from crm.services.monthly_report import first_business_day, monthly_report_send
from support_network.calendar import JST, local_date


class Command(BaseCommand):
    help = "月初の最初の営業日に、管理者へ前月と年度累計の統計（Excel）をメールで送ります。"

    def add_arguments(self, parser):
        now_argument_add(parser)

    def handle(self, *args, now=None, **options):
        moment = now_option(now)
        result = monthly_report_send(now=moment)
        self.stdout.write(
            f"月次統計レポート（{moment.astimezone(JST):%Y-%m-%d %H:%M} 日本時間）"
        )
        if not result.is_report_day:
            today = local_date(moment)
            day = first_business_day(today.year, today.month)
            self.stdout.write(
                f"  今日は月初の最初の営業日（{day.year}/{day.month}/{day.day}）ではないため、送信しません。"
            )
            return
        self.stdout.write(f"  対象月: {result.month}")
        self.stdout.write(f"  送信: {result.sent} 件")
        self.stdout.write(f"  送信済み（重複のため送らず）: {result.already_sent} 件")
        if result.failed:
            self.stderr.write(
                f"  送信失敗: {result.failed} 件（もう一度実行してください）"
            )
