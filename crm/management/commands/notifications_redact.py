"""manage.py notifications_redact: notifications recorded before issue 26, under its rules.

Run once after upgrading (running it again changes nothing): deletes the
notifications whose recipient may not open their object, and replaces the
text of those about a confidential case with the neutral one
(crm.services.notification_redaction.notifications_redact; docs/visibility.md
"Notifications").
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from crm.services.notification_redaction import notifications_redact


class Command(BaseCommand):
    help = (
        "閲覧できない対象についての通知を削除し、機密案件の通知の本文を"
        "案件番号だけの文面に置き換えます。"
    )

    def handle(self, *args, **options):
        counts = notifications_redact()
        self.stdout.write(
            f"確認した通知 {counts['checked']} 件、削除 {counts['deleted']} 件、"
            f"本文を置き換え {counts['redacted']} 件"
        )
