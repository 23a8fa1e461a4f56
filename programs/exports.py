"""The `enrolments` export kind (crm/exports/kinds.py registry).

crm never imports programs: ProgramsConfig.ready() registers this provider.
The rows are the enrolments of the fiscal year's rounds that the requester
may see (`enrolments_visible_to`), read in id order in chunks.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Case as SqlCase
from django.db.models import F, QuerySet, When

from crm.exports.kinds import CHUNK_SIZE, ExportTable, FiscalYearLabels
from crm.exports.writers import DATE, DECIMAL, INT, TEXT, Column
from crm.extensions import export_kind_register
from programs.choices import EnrolmentStatus, Scheme
from programs.selectors import enrolments_visible_to
from support_network.actors import Actor

ENROLMENT_COLUMNS = (
    Column("参加ID", INT, 9),
    Column("支援事業", TEXT, 30),
    Column("年度", TEXT, 22),
    Column("企業等", TEXT, 34),
    Column("法人番号", TEXT, 15),
    Column("都道府県（企業等）", TEXT, 10),
    Column("申込組織", TEXT, 30),
    Column("類型", TEXT, 6),
    Column("状態", TEXT, 10),
    Column("支援開始日", DATE, 12),
    Column("支援終了予定日", DATE, 12),
    Column("支援期", INT, 8),
    Column("使用日数", DECIMAL, 10),
    Column("案件ID", INT, 9),
)

_FIELDS = (
    "id",
    "program__name",
    "round__fiscal_year",
    "company__name",
    "company__corporate_number",
    "company__prefecture__name",
    "organisation__name",
    "scheme",
    "status",
    "started_on",
    "ends_on",
    "period",
    "days_used",
    "export_case_id",
)


def enrolment_export_queryset(actor: Actor, fiscal_year: int) -> QuerySet:
    """Return the visible enrolments of the fiscal year's rounds, in id order."""
    # The case id only where the requester may see the case (an operator
    # exports the applications, docs/visibility.md "Enrolments").
    return (
        enrolments_visible_to(actor)
        .filter(round__fiscal_year=fiscal_year)
        .annotate(
            export_case_id=SqlCase(
                When(case_is_visible=True, then=F("case_id")), default=None
            )
        )
        .order_by("id")
    )


def enrolment_rows(qs: QuerySet) -> Iterator[tuple]:
    """Yield export rows of the enrolments in qs."""
    statuses = {v: str(label) for v, label in EnrolmentStatus.choices}
    schemes = {v: str(label) for v, label in Scheme.choices}
    years = FiscalYearLabels()
    for (
        pk,
        program,
        year,
        company,
        number,
        company_pref,
        organisation,
        scheme,
        status,
        started_on,
        ends_on,
        period,
        days_used,
        case_id,
    ) in qs.values_list(*_FIELDS).iterator(chunk_size=CHUNK_SIZE):
        yield (
            pk,
            program,
            years[year],
            company,
            number,
            company_pref,
            organisation,
            schemes.get(scheme, scheme),
            statuses.get(status, status),
            started_on,
            ends_on,
            period,
            days_used,
            case_id,
        )


def enrolments_export(*, actor: Actor, fiscal_year: int, params: dict) -> ExportTable:
    """Enrolments of the fiscal year the actor may see."""
    qs = enrolment_export_queryset(actor, fiscal_year)
    return ExportTable(
        columns=ENROLMENT_COLUMNS,
        rows=enrolment_rows(qs),
        total=qs.count(),
        sheet_title=f"支援事業の参加 {fiscal_year}年度",
    )


def register() -> None:
    """Register the `enrolments` export kind (called from ProgramsConfig.ready)."""
    export_kind_register("enrolments", enrolments_export)
