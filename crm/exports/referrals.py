"""The `referrals` export kind: the referral rows the requester may see."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from crm.choices import ReferralStatus, Topic
from crm.exports.kinds import (
    CHUNK_SIZE,
    ChoiceLabels,
    ExportTable,
    export_kind_register,
    fiscal_year_position,
    labels_by_value,
    with_codes,
)
from crm.exports.writers import DATE, DATETIME, INT, TEXT, Column
from crm.models import (
    ReferralTopic,
)
from crm.selectors.visibility import referral_records_visible_to
from support_network.actors import Actor
from support_network.calendar import (
    fiscal_year_datetime_bounds,
    fiscal_year_label,
)

REFERRAL_COLUMNS = (
    Column("紹介ID", INT, 9),
    Column("紹介日時", DATETIME, 17),
    Column("年度", TEXT, 22),
    Column("紹介元", TEXT, 30),
    Column("紹介先", TEXT, 30),
    Column("企業等", TEXT, 34),
    Column("法人番号", TEXT, 15),
    Column("都道府県（企業等）", TEXT, 10),
    Column("分野", TEXT, 24),
    Column("状態", TEXT, 18),
    Column("回答期限", DATE, 12),
    Column("回答日時", DATETIME, 17),
    Column("回答までの営業日数", INT, 10),
    Column("完了日時", DATETIME, 17),
    Column("取消・期限切れ日時", DATETIME, 17),
    Column("案件ID", INT, 9),
)

_REFERRAL_FIELDS = (
    "id",
    "sent_at",
    "from_organisation__name",
    "to_organisation__name",
    "case__company__name",
    "case__company__corporate_number",
    "case__company__prefecture__name",
    "status",
    "respond_by",
    "answered_at",
    "answer_business_days",
    "completed_at",
    "closed_at",
    "case_id",
)


def referral_export_queryset(actor: Actor, fiscal_year: int) -> QuerySet:
    """Return the visible referrals sent in the fiscal year (JST) as export values."""
    start, end = fiscal_year_datetime_bounds(fiscal_year)
    qs = (
        referral_records_visible_to(actor)
        .filter(sent_at__gte=start, sent_at__lt=end)
        .order_by("sent_at", "id")
    )
    qs, codes = with_codes(qs, ((ReferralTopic, "referral_id", "topic"),))
    return qs.values_list(*_REFERRAL_FIELDS, *codes)


def referral_rows(qs: QuerySet, fiscal_year: int) -> Iterator[tuple]:
    """Yield export rows of referral_export_queryset, streamed."""
    statuses = labels_by_value(ReferralStatus)
    topics = ChoiceLabels(Topic)
    year = fiscal_year_label(fiscal_year)
    for (
        pk,
        sent_at,
        sender,
        receiver,
        company,
        number,
        company_pref,
        status,
        respond_by,
        answered_at,
        business_days,
        completed_at,
        closed_at,
        case_id,
        topic_codes,
    ) in qs.iterator(chunk_size=CHUNK_SIZE):
        yield (
            pk,
            sent_at,
            year,
            sender,
            receiver,
            company,
            number,
            company_pref,
            topics(topic_codes),
            statuses.get(status, status),
            respond_by,
            answered_at,
            business_days,
            completed_at,
            closed_at,
            case_id,
        )


def referrals_export(*, actor: Actor, fiscal_year: int, params: dict) -> ExportTable:
    """Referral rows the actor may see as a party or through the case."""
    qs = referral_export_queryset(actor, fiscal_year)
    return ExportTable(
        columns=REFERRAL_COLUMNS,
        rows=referral_rows(qs, fiscal_year),
        position=fiscal_year_position(fiscal_year, 1),
        sheet_title=f"紹介 {fiscal_year}年度",
    )


def register() -> None:
    """Register the `referrals` export kind (called from CrmConfig.ready)."""
    export_kind_register("referrals", referrals_export)
