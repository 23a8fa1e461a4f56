"""manage.py import_nta_companies FILE…: companies from 法人番号公表サイト data.

Takes the 全件データ or 差分データ CSV (Unicode or Shift_JIS edition), as
downloaded (.zip) or unzipped. Several files are imported one after another
in the order given, which is how daily diff files must be applied.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from crm.services.nta_csv import ENCODINGS, encoding_label
from crm.services.nta_import import (
    DEFAULT_BATCH_SIZE,
    NtaImportResult,
    company_import_nta,
)
from support_network.actors import Actor
from support_network.errors import DomainError

# Print progress at most every this many rows, so big files show life.
PROGRESS_EVERY_ROWS = 100_000


def result_lines(result: NtaImportResult) -> list[str]:
    """Return the Japanese summary of an import, one line per item."""
    verb = "登録予定" if result.dry_run else "登録"
    lines = [
        f"  データ行: {result.rows:,} 行",
        f"  新規{verb}: {result.created:,} 件",
        f"  更新{'予定' if result.dry_run else ''}: {result.updated:,} 件",
        f"  変更なし: {result.unchanged:,} 件",
        f"  最新でない履歴の行（読み飛ばし）: {result.superseded:,} 行",
        f"  閉鎖・合併・削除済みの未登録法人（登録せず）: {result.skipped_closed:,} 件",
        f"  国内所在地のない未登録法人（登録せず）: {result.skipped_abroad:,} 件",
        f"  合併による統合先の設定: {result.merged:,} 件",
    ]
    if result.rejected_count:
        lines.append(
            f"取り込まなかった行（誤りのある行）: {result.rejected_count:,} 行"
        )
        lines += [f"  {r['line']} 行目: {r['reason']}" for r in result.rejected]
        if result.rejected_count > len(result.rejected):
            lines.append(f"  ほか {result.rejected_count - len(result.rejected):,} 行")
    if result.closed_existing_count:
        lines.append(
            f"閉鎖・合併・削除等の届いた登録済みの企業等: "
            f"{result.closed_existing_count:,} 件（案件等を確認してください）"
        )
        lines += [
            f"  {c['corporate_number']} {c['name']}（ID {c['company_id']}、"
            f"処理区分 {c['process']}）"
            for c in result.closed_existing
        ]
        if result.closed_existing_count > len(result.closed_existing):
            lines.append(
                f"  ほか {result.closed_existing_count - len(result.closed_existing):,} 件"
            )
    if result.possible_duplicate_count:
        lines.append(
            f"法人番号のない既存の企業等と名称・都道府県が一致（重複の可能性）: "
            f"{result.possible_duplicate_count:,} 件"
        )
        lines += [
            f"  {d['corporate_number']} {d['name']}（ID {d['company_id']}）"
            f" ⇔ {d['existing_name']}（ID {d['existing_id']}）"
            for d in result.possible_duplicates
        ]
        if result.possible_duplicate_count > len(result.possible_duplicates):
            lines.append(
                f"  ほか "
                f"{result.possible_duplicate_count - len(result.possible_duplicates):,}"
                f" 件"
            )
    return lines


class Command(BaseCommand):
    help = (
        "法人番号公表サイトの基本3情報（全件データ・差分データ）の CSV から企業等を"
        "登録・更新します。Unicode 版・Shift_JIS 版、ZIP のままでも読めます。"
        "ファイルは指定した順に取り込むので、差分データは日付順に指定してください。"
        "誤りのある行はその行だけ取り込まず、行番号と理由を表示します。"
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="CSV または ZIP ファイル")
        parser.add_argument(
            "--encoding",
            choices=ENCODINGS,
            default="auto",
            help="文字コード（既定: auto = 自動判別。utf-8 は Unicode 版、"
            "cp932 は Shift_JIS 版）",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="確認のみ：件数を数えるだけで何も登録しません",
        )
        parser.add_argument(
            "--user",
            help="監査ログに実行者として記録するユーザー名（スーパーユーザー）",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"1回のトランザクションで書き込む行数（既定: {DEFAULT_BATCH_SIZE}）",
        )

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size は 1 以上で指定してください。")
        actor = self._actor(options["user"])
        paths = [Path(name) for name in options["files"]]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"ファイルが見つかりません: {path}")
        for path in paths:
            self._import(path, actor=actor, options=options)

    def _actor(self, username: str | None) -> Actor | None:
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"ユーザーが見つかりません: {username}")
        return Actor(user=user)

    def _import(self, path: Path, *, actor: Actor | None, options) -> None:
        next_report = [PROGRESS_EVERY_ROWS]

        def progress(result: NtaImportResult) -> None:
            done = result.created + result.updated + result.unchanged
            done += result.superseded + result.skipped_closed + result.skipped_abroad
            if done >= next_report[0]:
                self.stderr.write(f"  … {done:,} / {result.rows:,} 行")
                next_report[0] = done + PROGRESS_EVERY_ROWS

        self.stdout.write(f"{path} を取り込みます。")
        try:
            with path.open("rb") as source:
                result = company_import_nta(
                    actor=actor,
                    source=source,
                    filename=path.name,
                    encoding=options["encoding"],
                    dry_run=options["dry_run"],
                    batch_size=options["batch_size"],
                    progress=progress,
                )
        except DomainError as exc:
            raise CommandError(f"{path}: {exc.detail}") from exc
        except OSError as exc:
            raise CommandError(f"{path} を読めません: {exc.strerror}") from exc
        label = encoding_label(result.encoding)
        if result.dry_run:
            self.stdout.write(
                self.style.WARNING(
                    f"確認のみ（何も登録していません）。文字コード: {label}"
                )
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(f"取り込みました。文字コード: {label}")
            )
        for line in result_lines(result):
            self.stdout.write(line)
