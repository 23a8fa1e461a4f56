"""manage.py send_reminders [--now ISO8601]: the reminder sweep, by hand.

The twin of the periodic task `crm.reminders_sweep` (STYLE.md §6): it calls
the same service, so operators and tests can replay a given moment. Running
it twice for the same moment sends nothing the second time.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from crm.management.now import now_argument_add, now_option
from crm.services.reminders import reminders_sweep
from support_network.calendar import JST

LABELS = {
    "follow_up.reminder": "フォローアップのリマインド",
    "follow_up.escalation": "フォローアップのエスカレーション",
    "referral.reminder": "紹介の回答催促",
    "referral.escalation": "紹介のエスカレーション",
    "referral.expiry": "紹介の期限切れ",
    "program.ipas_end": "IPAS の支援終了のお知らせ",
    "program.period_review": "支援期の振り返りのお知らせ",
    "program.day_quota": "支援日数の上限のお知らせ",
    "program.plan_missing": "支援計画の未登録のお知らせ",
    "email.requeued": "未送信メールの再キュー",
}


class Command(BaseCommand):
    help = "期日を迎えたリマインド・エスカレーション・紹介の期限切れを処理します。"

    def add_arguments(self, parser):
        now_argument_add(parser)

    def handle(self, *args, now=None, **options):
        moment = now_option(now)
        result = reminders_sweep(now=moment)
        self.stdout.write(
            f"リマインド処理（{moment.astimezone(JST):%Y-%m-%d %H:%M} 日本時間）"
        )
        if not result.is_office_hours:
            self.stdout.write("  営業日の送信時刻前のため、リマインドは送信しません。")
        for kind, label in LABELS.items():
            if result.counts.get(kind):
                self.stdout.write(f"  {label}: {result.counts[kind]:,} 件")
        for kind, n in result.as_dict().items():
            if kind not in LABELS and n:
                self.stdout.write(f"  {kind}: {n:,} 件")  # a plugged-in source
        self.stdout.write(f"  合計: {result.total:,} 件")
