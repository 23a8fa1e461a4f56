"""manage.py send_digest [--now ISO8601]: the weekly coordinator digest, by hand.

The twin of the periodic task `crm.coordinator_digest` (Monday 08:00 JST):
it calls the same service for a given moment. Each coordinator gets at most
one digest per ISO week, so running it again that week sends nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from crm.management.now import now_argument_add, now_option
from crm.services.digest import coordinator_digest_send
from support_network.calendar import JST

LABELS = {
    "digest.sent": "送信したダイジェスト",
    "digest.empty": "報告事項なし（送信せず）",
    "digest.already_sent": "今週は送信済み",
}


class Command(BaseCommand):
    help = "コーディネーターに今週の要確認事項（ダイジェスト）を送信します。"

    def add_arguments(self, parser):
        now_argument_add(parser)

    def handle(self, *args, now=None, **options):
        moment = now_option(now)
        counts = coordinator_digest_send(now=moment)
        local = moment.astimezone(JST)
        year, week, _day = local.date().isocalendar()
        self.stdout.write(
            f"コーディネーター向けダイジェスト（{local:%Y-%m-%d %H:%M} 日本時間、"
            f"{year}年 第{week}週）"
        )
        for kind, label in LABELS.items():
            self.stdout.write(f"  {label}: {counts.get(kind, 0):,} 件")
