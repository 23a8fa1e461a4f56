"""manage.py apply_retention [--now ISO8601]: the retention sweep (保存期間), by hand.

The twin of the periodic task `crm.retention_apply` (daily from beat): it
calls the same service for a given moment. Idempotent: a second run at the
same moment changes nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from crm.management.now import now_argument_add, now_option
from crm.services.retention import retention_apply
from support_network.calendar import JST

LABELS = {
    "cases": "匿名化した案件",
    "consultations": "匿名化した相談記録",
    "referrals": "匿名化した紹介",
    "outcomes": "匿名化した成果",
    "followups": "匿名化したフォローアップ",
    "contacts": "匿名化した担当者",
    "audit_events": "値を消去した監査ログ",
    "notifications": "本文を消去した通知",
    "provision_records_deleted": "保存期間（3年）を過ぎて削除した第三者提供記録",
}


class Command(BaseCommand):
    help = "保存期間を過ぎた個人データを匿名化します（統計の数値は変わりません）。"

    def add_arguments(self, parser):
        now_argument_add(parser)

    def handle(self, *args, now=None, **options):
        moment = now_option(now)
        counts = retention_apply(now=moment)
        local = moment.astimezone(JST)
        self.stdout.write(f"保存期間の適用（{local:%Y-%m-%d %H:%M} 日本時間）")
        for kind, label in LABELS.items():
            self.stdout.write(f"  {label}: {counts.get(kind, 0):,} 件")
