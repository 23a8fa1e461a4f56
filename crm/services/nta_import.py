"""Bulk import of companies from the 法人番号公表サイト download files.

NTA data is the master for a company's identity, name and address
(reference/houjin_bangou.md §5), so the import creates the companies the
network does not know yet and brings known ones (matched on 法人番号) up to
date. Rules:

- The whole file is checked first; one bad line refuses the file and nothing
  is written. Then rows are applied in file order (差分データ must be applied
  in sequenceNumber order) in batches, each in its own transaction, so a long
  national import never holds locks on staff's companies for minutes. Every
  run of the same file gives the same rows, so an interrupted import is
  finished by running it again.
- Rows with 最新履歴 = 0 are older states of an entity and are skipped.
- Name, reading (フリガナ), prefecture and city come from NTA. The CRM's own
  data (kind, industry, capital, employees, …) of a known company is kept:
  the CRM's kinds (university, investor, …) are finer than 法人種別.
- Closed, merged or deleted entities are not created. A known company that is
  absorbed in a merger points to its successor (`merged_into`) when the
  successor is in the CRM, which removes it from search; other closures are
  listed in the result for staff to act on, since cases may hang on them.
- A new company whose normalised name and prefecture match a company without
  法人番号 is still created, and the pair is listed as a possible duplicate:
  linking them automatically could join two different legal entities'
  histories and consents.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import BinaryIO

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import CompanyKind
from crm.models import AuditEvent, Company
from crm.services.audit import audit_record
from crm.services.companies import company_derive_keys
from crm.services.nta_csv import ENCODING_AUTO, NtaCsv, NtaRecord, RowError
from support_network.actors import Actor
from support_network.errors import Conflict, PermissionDenied, ValidationFailed
from support_network.models import Prefecture

DEFAULT_BATCH_SIZE = 2000
# How many bad lines an error message lists; the count covers them all.
MAX_REPORTED_ERRORS = 20
# How many entries each list of the result keeps; the counts cover them all.
MAX_LISTED = 100

# 法人種別 → CompanyKind (reference/houjin_bangou.md §4, code table `kind`).
# 399 (その他の設立登記法人) is refined from the legal form in the name below.
_KIND_BY_CODE = {
    "101": CompanyKind.PUBLIC_BODY,  # 国の機関
    "201": CompanyKind.PUBLIC_BODY,  # 地方公共団体
    "301": CompanyKind.CORPORATION,  # 株式会社
    "302": CompanyKind.CORPORATION,  # 有限会社 (特例有限会社)
    "303": CompanyKind.CORPORATION,  # 合名会社
    "304": CompanyKind.CORPORATION,  # 合資会社
    "305": CompanyKind.CORPORATION,  # 合同会社
    "401": CompanyKind.CORPORATION,  # 外国会社等
}
# Legal forms of 399 that map to a finer kind; the first match wins, so the
# longer 国立研究開発法人 comes before anything it contains. 学校法人 stays
# "other": many run only schools, not universities.
_KIND_BY_LEGAL_FORM = (
    ("国立研究開発法人", CompanyKind.RESEARCH_INSTITUTE),
    ("国立大学法人", CompanyKind.UNIVERSITY),
    ("公立大学法人", CompanyKind.UNIVERSITY),
    ("大学共同利用機関法人", CompanyKind.RESEARCH_INSTITUTE),
    ("独立行政法人", CompanyKind.PUBLIC_BODY),
    ("社団法人", CompanyKind.ASSOCIATION),
    ("財団法人", CompanyKind.ASSOCIATION),
    ("組合", CompanyKind.ASSOCIATION),
    ("商工会議所", CompanyKind.ASSOCIATION),
    ("商工会", CompanyKind.ASSOCIATION),
)

# Company columns NTA data may change, with the service-derived ones.
_UPDATED_FIELDS = [
    "name",
    "name_kana",
    "prefecture",
    "city",
    "merged_into",
    "name_norm",
    "name_key",
    "kana_key",
    "updated_at",
]


def company_kind_for_nta(kind_code: str, name: str) -> str:
    """Return the CRM kind of an entity from its 法人種別 and, for 399, its name."""
    if kind_code in _KIND_BY_CODE:
        return _KIND_BY_CODE[kind_code]
    if kind_code == "399":
        for legal_form, kind in _KIND_BY_LEGAL_FORM:
            if legal_form in name:
                return kind
    return CompanyKind.OTHER


@dataclass
class NtaImportResult:
    """What one import did (or, in a dry run, would do)."""

    filename: str = ""
    encoding: str = ""
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    superseded: int = 0  # 最新履歴 = 0: an older state of an entity
    skipped_closed: int = 0  # closed / merged / deleted, not in the CRM
    skipped_abroad: int = 0  # no domestic address, not in the CRM
    merged: int = 0  # known companies now pointing to their successor
    closed_existing_count: int = 0
    closed_existing: list[dict] = field(default_factory=list)
    possible_duplicate_count: int = 0
    possible_duplicates: list[dict] = field(default_factory=list)
    rejected_count: int = 0  # bad lines, refused whole; the rest is imported
    rejected: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def company_import_nta(
    *,
    actor: Actor | None,
    source: BinaryIO,
    filename: str = "",
    encoding: str = ENCODING_AUTO,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_rows: int | None = None,
    now: datetime | None = None,
    progress: Callable[[NtaImportResult], None] | None = None,
) -> NtaImportResult:
    """Create and update companies from an NTA CSV (plain or zipped).

    *actor* None is the operator at the command line. *source* is a seekable
    binary stream that stays the caller's. A dry run checks the file and
    counts what would change, then rolls everything back. *max_rows* refuses
    bigger files before anything is written (the admin runs inside a request).

    Raises:
        PermissionDenied: when the actor is not a superuser.
        ValidationFailed: when the file is unreadable or any line is bad.
        Conflict: when another user registered one of the numbers meanwhile.
    """
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied(
            _("法人番号公表サイトのデータを取り込めるのはシステム管理者だけです。")
        )
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now = now or timezone.now()
    prefectures = {p.code: p for p in Prefecture.objects.all()}
    if not prefectures:
        raise ValidationFailed(
            _("都道府県が登録されていません。先に seed_network を実行してください。"),
            code="prefectures_missing",
        )
    csv_file = NtaCsv(source, encoding=encoding)
    result = NtaImportResult(
        filename=filename, encoding=csv_file.encoding, dry_run=dry_run
    )
    result.rows = _check(csv_file, max_rows=max_rows)

    # A dry run applies everything in one transaction and rolls it back, so
    # its counts are exactly those of a real run.
    outer = transaction.atomic() if dry_run else contextlib.nullcontext()
    with outer:
        batch: list[NtaRecord] = []
        for record in csv_file.records():
            if isinstance(record, RowError):
                # A bad line is refused whole and reported; the good lines
                # of a 5-million-row file are still imported.
                result.rejected_count += 1
                if len(result.rejected) < MAX_REPORTED_ERRORS:
                    result.rejected.append(
                        {"line": record.line, "reason": record.message}
                    )
                continue
            batch.append(record)
            if len(batch) >= batch_size:
                _apply_batch(batch, result, prefectures, actor=actor, now=now)
                batch = []
                if progress:
                    progress(result)
        if batch:
            _apply_batch(batch, result, prefectures, actor=actor, now=now)
            if progress:
                progress(result)
        if dry_run:
            transaction.set_rollback(True)
        else:
            audit_record(
                actor=actor,
                action="company.import_nta",
                data=result.as_dict(),
                now=now,
            )
    return result


def _check(csv_file: NtaCsv, *, max_rows: int | None) -> int:
    """Return the number of data rows; refuse an empty, oversized or unreadable file."""
    rows = 0
    good = 0
    first_errors: list[RowError] = []
    for record in csv_file.records():
        rows += 1
        if max_rows is not None and rows > max_rows:
            raise ValidationFailed(
                _(
                    "行数が多すぎます（この画面の上限は %(max)s 行です）。"
                    "manage.py import_nta_companies で取り込んでください。"
                )
                % {"max": f"{max_rows:,}"},
                code="nta_file_too_large",
                field="file",
            )
        if not isinstance(record, RowError):
            good += 1
        elif len(first_errors) < 3:
            first_errors.append(record)
    if rows == 0:
        raise ValidationFailed(
            _("データ行がありません。"), code="nta_file_empty", field="file"
        )
    if good == 0:
        # Not a single readable line: the wrong file, not a few bad rows.
        lines = [
            _("%(line)d 行目: %(message)s") % {"line": e.line, "message": e.message}
            for e in first_errors
        ]
        raise ValidationFailed(
            "\n".join(
                [
                    _(
                        "取り込める行が1行もありません。"
                        "法人番号公表サイトのCSVか確認してください。"
                    ),
                    *lines,
                ]
            ),
            code="nta_file_invalid",
            field="file",
        )
    return rows


def _apply_batch(
    records: list[NtaRecord],
    result: NtaImportResult,
    prefectures: dict[str, Prefecture],
    *,
    actor: Actor | None,
    now: datetime,
) -> None:
    """Apply consecutive records in one transaction."""
    try:
        with transaction.atomic():
            _apply_batch_locked(records, result, prefectures, actor=actor, now=now)
    except IntegrityError as exc:
        # Only the partial unique constraint on 法人番号 can fail here: a
        # company_create of the same number won the race after the lookup.
        raise Conflict(
            _(
                "取り込み中に、同じ法人番号の企業等が別の操作で登録されました。"
                "もう一度取り込んでください（何度取り込んでも結果は同じです）。"
            ),
            code="duplicate_company",
        ) from exc


def _apply_batch_locked(
    records: list[NtaRecord],
    result: NtaImportResult,
    prefectures: dict[str, Prefecture],
    *,
    actor: Actor | None,
    now: datetime,
) -> None:
    numbers = {r.corporate_number for r in records}
    numbers |= {r.successor for r in records if r.successor}
    # Locked in pk order, as everywhere, so a concurrent company_update waits
    # instead of losing its change or deadlocking.
    companies = {
        c.corporate_number: c
        for c in Company.objects.filter(corporate_number__in=numbers)
        .order_by("pk")
        .select_for_update()
    }
    created: dict[str, Company] = {}
    changed: dict[str, set[str]] = {}
    touched: set[str] = set()
    merges: dict[str, str] = {}
    for record in records:
        number = record.corporate_number
        if not record.is_latest:
            result.superseded += 1
            continue
        company = companies.get(number)
        if company is None:
            if record.is_closed:
                result.skipped_closed += 1
            elif not record.prefecture_code:
                result.skipped_abroad += 1
            else:
                company = Company(
                    corporate_number=number,
                    kind=company_kind_for_nta(record.kind_code, record.name),
                    registered_by=None,  # public master data, no one's own
                )
                _copy_nta_fields(company, record, prefectures)
                companies[number] = created[number] = company
            continue
        if number in created:
            # A later row of an entity created in this batch: still unsaved.
            _copy_nta_fields(company, record, prefectures)
            continue
        touched.add(number)
        if record.is_closed:
            _note_closed(result, company, record)
            if record.successor:
                merges[number] = record.successor
            if record.is_deleted:
                continue  # a withdrawn number's row describes no entity
        fields = _copy_nta_fields(company, record, prefectures)
        if fields:
            changed.setdefault(number, set()).update(fields)

    for company in created.values():
        company_derive_keys(company)
    Company.objects.bulk_create(list(created.values()))
    result.created += len(created)
    _note_possible_duplicates(result, list(created.values()))

    for number, successor_number in merges.items():
        company = companies[number]
        successor = companies.get(successor_number)
        if successor is not None and company.merged_into_id != successor.pk:
            company.merged_into = successor
            changed.setdefault(number, set()).add("merged_into")
            result.merged += 1

    updated = [companies[number] for number in changed]
    for company in updated:
        company_derive_keys(company)
        company.updated_at = now
    Company.objects.bulk_update(updated, _UPDATED_FIELDS)
    result.updated += len(updated)
    result.unchanged += len(touched - set(changed))
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor.user if actor else None,
            organisation=actor.organisation if actor else None,
            action="company.update",
            object_type=Company._meta.model_name,
            object_id=str(company.pk),
            at=now,
            data={"fields": sorted(changed[company.corporate_number]), "source": "nta"},
        )
        for company in updated
    )


def _copy_nta_fields(
    company: Company, record: NtaRecord, prefectures: dict[str, Prefecture]
) -> list[str]:
    """Copy the NTA master data onto *company*; return the fields that changed."""
    values: dict = {"name": record.name}
    # An empty フリガナ means NTA has none, not that the CRM's reading is wrong.
    if record.furigana:
        values["name_kana"] = record.furigana
    # Without a domestic address (moved abroad) the last prefecture stays:
    # the CRM needs one, and statistics count the company there.
    if record.prefecture_code:
        values["prefecture_id"] = prefectures[record.prefecture_code].pk
        values["city"] = record.city
    changed = []
    for name, value in values.items():
        if getattr(company, name) != value:
            setattr(company, name, value)
            changed.append(name.removesuffix("_id"))
    return changed


def _note_closed(result: NtaImportResult, company: Company, record: NtaRecord):
    result.closed_existing_count += 1
    if len(result.closed_existing) < MAX_LISTED:
        result.closed_existing.append(
            {
                "company_id": company.pk,
                "corporate_number": record.corporate_number,
                "name": company.name,
                "process": record.process,
                "close_date": record.close_date.isoformat()
                if record.close_date
                else None,
                "successor": record.successor,
            }
        )


def _note_possible_duplicates(result: NtaImportResult, created: list[Company]) -> None:
    """List existing companies without 法人番号 that look like a created one."""
    if not created:
        return
    by_key = {(c.name_key, c.prefecture_id): c for c in created}
    candidates = (
        Company.objects.filter(
            corporate_number__isnull=True,
            merged_into__isnull=True,
            name_key__in={key for key, _pref in by_key},
        )
        .order_by("pk")
        .values_list("pk", "name", "name_key", "prefecture_id")
    )
    for pk, name, name_key, prefecture_id in candidates:
        new = by_key.get((name_key, prefecture_id))
        if new is None:
            continue
        result.possible_duplicate_count += 1
        if len(result.possible_duplicates) < MAX_LISTED:
            result.possible_duplicates.append(
                {
                    "company_id": new.pk,
                    "corporate_number": new.corporate_number,
                    "name": new.name,
                    "existing_id": pk,
                    "existing_name": name,
                }
            )
