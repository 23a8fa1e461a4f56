"""manage.py import_consultations FILE --organisation CODE [--user U] [--dry-run].

Imports 相談記録 from an xlsx or CSV file with the same services as the web
page and the API: the dry run first (its report printed), then, unless
--dry-run, the commit in this process. Without --user the import is made
in the name of the organisation's first active coordinator, manager or
org admin.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.models import Import
from crm.permissions import IMPORT_ROLES
from crm.services.import_commit import import_commit
from crm.services.imports import (
    import_commit_request,
    import_upload,
    import_validate,
)
from support_network.actors import Actor
from support_network.errors import DomainError
from support_network.models import Membership


class Command(BaseCommand):
    help = "相談記録を Excel（xlsx）または CSV から取り込みます（まず確認、--dry-run で確認のみ）。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="xlsx または CSV（UTF-8 / Shift_JIS）")
        parser.add_argument("--organisation", required=True, help="組織コード")
        parser.add_argument(
            "--user", help="取込を行うユーザー名（既定: 組織の管理者等）"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="確認だけ行い、登録しない"
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"ファイルが見つかりません: {path}")
        members = Membership.objects.filter(
            organisation__code=options["organisation"],
            is_active=True,
            user__is_active=True,
        ).select_related("organisation", "user")
        if options["user"]:
            members = members.filter(user__username=options["user"])
        else:
            members = members.filter(role__in=IMPORT_ROLES)
        member = members.order_by("pk").first()
        if member is None:
            raise CommandError(
                "組織コードまたはユーザー名が正しくありません"
                "（コーディネーター・管理者・組織管理者が必要です）。"
            )
        actor = Actor(user=member.user, membership=member)
        try:
            imp = import_upload(
                actor=actor,
                file_name=path.name,
                content=path.read_bytes(),
                queue=False,
            )
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        import_validate(import_id=imp.pk)
        imp.refresh_from_db()
        self._report(imp)
        if imp.status != Import.Status.READY:
            raise CommandError(imp.failure or "ファイルを読めませんでした。")
        if options["dry_run"]:
            self.stdout.write("確認のみ（--dry-run）: 何も登録していません。")
            return
        if imp.valid_rows == 0:
            raise CommandError("取り込める行がありません。")
        try:
            import_commit_request(actor=actor, imp=imp, queue=False)
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        import_commit(import_id=imp.pk)
        imp.refresh_from_db()
        created = imp.created
        self.stdout.write(
            f"取込 {imp.pk}: 登録しました。企業等 {created.get('companies', 0):,} 件、"
            f"案件 {created.get('cases', 0):,} 件、"
            f"相談記録 {created.get('consultations', 0):,} 件、"
            f"フォローアップ {created.get('follow_ups', 0):,} 件。"
        )

    def _report(self, imp: Import) -> None:
        out = self.stdout.write
        out(f"取込 {imp.pk}（{imp.file_name}）: {imp.get_status_display()}")
        out(f"  データ行: {imp.rows:,} 行、有効な行: {imp.valid_rows:,} 行")
        out(
            f"  既存の企業等: {imp.companies_matched:,} 件、"
            f"新しい企業等: {imp.companies_new:,} 件"
        )
        out(f"  重複の可能性: {len(imp.duplicates):,} 行")
        if imp.unknown_headers:
            out("  使わない列: " + "、".join(imp.unknown_headers))
        for error in imp.errors:
            out(f"  {error['line']} 行目 [{error['field']}] {error['message']}")
        if imp.error_count > len(imp.errors):
            out(f"  ほか {imp.error_count - len(imp.errors):,} 件のエラー")
