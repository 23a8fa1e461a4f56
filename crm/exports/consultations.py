"""The `consultations` export kind: the consultation rows the requester may see."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from crm.choices import Channel, IpType, Topic
from crm.exports.kinds import (
    CHUNK_SIZE,
    ChoiceLabels,
    ExportTable,
    export_kind_register,
    fiscal_year_position,
    labels_by_value,
    person_name,
    with_codes,
)
from crm.exports.writers import DATE, INT, TEXT, Column
from crm.models import (
    ConsultationIpType,
    ConsultationTopic,
)
from crm.selectors.visibility import consultations_visible_to
from support_network.actors import Actor
from support_network.calendar import (
    fiscal_year_label,
)

CONSULTATION_COLUMNS = (
    Column("相談ID", INT, 9),
    Column("相談日", DATE, 12),
    Column("年度", TEXT, 22),
    Column("企業等", TEXT, 34),
    Column("法人番号", TEXT, 15),
    Column("都道府県（企業等）", TEXT, 10),
    Column("相談方法", TEXT, 10),
    Column("相談分野", TEXT, 24),
    Column("知財の種類", TEXT, 16),
    Column("所要時間（分）", INT, 10),
    Column("担当組織", TEXT, 30),
    Column("都道府県（担当組織）", TEXT, 10),
    Column("担当者", TEXT, 14),
    Column("案件ID", INT, 9),
    Column("件名", TEXT, 34),
    Column("秘匿", TEXT, 6),
)

_CONSULTATION_FIELDS = (
    "id",
    "occurred_on",
    "company__name",
    "company__corporate_number",
    "company__prefecture__name",
    "channel",
    "duration_minutes",
    "organisation__name",
    "organisation__prefecture__name",
    "author_id",
    "author__last_name",
    "author__first_name",
    "author__username",
    "case_id",
    "case__title",
    "is_confidential",
    "case__is_confidential",
)


def consultation_export_queryset(actor: Actor, fiscal_year: int) -> QuerySet:
    """Return the visible consultations of the fiscal year as export values.

    values_list of _CONSULTATION_FIELDS plus the joined topic and IP type
    codes, in keyset order (occurred_at, id). bench/export.py streams the
    same SQL into a bare csv writer as the reference.
    """
    qs = (
        consultations_visible_to(actor)
        .filter(fiscal_year=fiscal_year)
        .order_by("occurred_at", "id")
    )
    qs, codes = with_codes(
        qs,
        (
            (ConsultationTopic, "consultation_id", "topic"),
            (ConsultationIpType, "consultation_id", "ip_type"),
        ),
    )
    return qs.values_list(*_CONSULTATION_FIELDS, *codes)


def consultation_rows(
    qs: QuerySet, fiscal_year: int, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple]:
    """Yield export rows of consultation_export_queryset, streamed."""
    channels = labels_by_value(Channel)
    topics = ChoiceLabels(Topic)
    ip_types = ChoiceLabels(IpType)
    year = fiscal_year_label(fiscal_year)
    names: dict[int, str] = {}
    for (
        pk,
        occurred_on,
        company,
        number,
        company_pref,
        channel,
        minutes,
        organisation,
        org_pref,
        author,
        last,
        first,
        username,
        case_id,
        title,
        confidential,
        case_confidential,
        topic_codes,
        ip_codes,
    ) in qs.iterator(chunk_size=chunk_size):
        name = names.get(author)
        if name is None:
            name = names[author] = person_name(last, first, username)
        yield (
            pk,
            occurred_on,
            year,
            company,
            number,
            company_pref,
            channels.get(channel, channel),
            topics(topic_codes),
            ip_types(ip_codes),
            minutes,
            organisation,
            org_pref,
            name,
            case_id,
            title,
            "○" if confidential or case_confidential else "",
        )


def consultations_export(
    *, actor: Actor, fiscal_year: int, params: dict
) -> ExportTable:
    """Row-level consultations of the fiscal year the actor may see (rules 3–4)."""
    qs = consultation_export_queryset(actor, fiscal_year)
    return ExportTable(
        columns=CONSULTATION_COLUMNS,
        rows=consultation_rows(qs, fiscal_year),
        position=fiscal_year_position(fiscal_year, 1),
        sheet_title=f"相談記録 {fiscal_year}年度",
    )


def register() -> None:
    """Register the `consultations` export kind (called from CrmConfig.ready)."""
    export_kind_register("consultations", consultations_export)
