"""Consultations (相談記録): logging one, with its case and follow-up.

`consultation_create` opens a case when none is given and sets the
follow-up, in one transaction; `consultation_log_with_new_company`
registers the company first, in the same transaction, the composition the
web consultation form uses for a company not registered yet, so the API
can do the same. Corrections (edit, void) are crm/services/corrections.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import CaseStatus, Channel, IpType, Topic
from crm.lock_objects import company_lock_active
from crm.models import (
    Case,
    Company,
    Consultation,
    ConsultationIpType,
    ConsultationTopic,
    FollowUp,
)
from crm.permissions import case_require_writable
from crm.selectors.visibility import cases_visible_to
from crm.services.audit import audit_record
from crm.services.cases import case_open
from crm.services.companies import company_create
from crm.services.follow_ups import MAX_FOLLOW_UP_DAYS
from crm.services.steps import StepRefused
from crm.statistics.facts import consultation_facts_refresh
from support_network.actors import Actor
from support_network.calendar import fiscal_year, local_date
from support_network.errors import DomainError, ValidationFailed
from support_network.models import Organisation

# A consultation lasts at most a working day; longer is a typo.
MAX_DURATION_MINUTES = 8 * 60


def _attendee_organisations(actor: Actor, codes: Iterable[str]) -> list[Organisation]:
    codes = list(dict.fromkeys(codes))
    found = {
        o.code: o for o in Organisation.objects.filter(code__in=codes, is_active=True)
    }
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationFailed(
            _("同席組織のコードが正しくありません: %(codes)s")
            % {"codes": ", ".join(unknown)},
            field="attendees",
        )
    if actor.organisation and actor.organisation.code in found:
        raise ValidationFailed(
            _("同席組織に自分の組織は指定できません。"), field="attendees"
        )
    return [found[c] for c in codes]


def topics_validate(topics: list[str]) -> None:
    """Refuse an empty or unknown list of 相談分野 (consultations and referrals)."""
    if not topics:
        raise ValidationFailed(_("相談分野を1つ以上選んでください。"), field="topics")
    bad = [t for t in topics if t not in Topic.values]
    if bad:
        raise ValidationFailed(
            _("相談分野が正しくありません: %(slugs)s") % {"slugs": ", ".join(bad)},
            field="topics",
        )


def consultation_fields_validate(
    *,
    occurred_at: datetime,
    channel: str,
    duration_minutes: int,
    topics: list[str],
    ip_types: list[str],
    summary: str,
    today: date,
    follow_up_on: date | None = None,
) -> tuple[datetime, date]:
    """Check a consultation's fields (create and edit share the rules).

    Returns the aware `occurred_at` and its JST date; raises a field error
    in Japanese.
    """
    if timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at)
    occurred_on = local_date(occurred_at)
    if occurred_on > today:
        raise ValidationFailed(
            _("相談日時に未来の日付は入力できません。"), field="occurred_at"
        )
    if channel not in Channel.values:
        raise ValidationFailed(_("相談方法が正しくありません。"), field="channel")
    if not 1 <= duration_minutes <= MAX_DURATION_MINUTES:
        raise ValidationFailed(
            _("所要時間は1〜%(max)s分で入力してください。")
            % {"max": MAX_DURATION_MINUTES},
            field="duration_minutes",
        )
    topics_validate(topics)
    bad = [t for t in ip_types if t not in IpType.values]
    if bad:
        raise ValidationFailed(
            _("知財の種類が正しくありません: %(slugs)s") % {"slugs": ", ".join(bad)},
            field="ip_types",
        )
    if not summary.strip():
        raise ValidationFailed(_("相談内容を入力してください。"), field="summary")
    if follow_up_on is not None:
        if follow_up_on < occurred_on:
            raise ValidationFailed(
                _("フォローアップ日は相談日以降の日付にしてください。"),
                field="follow_up_on",
            )
        if (follow_up_on - today).days > MAX_FOLLOW_UP_DAYS:
            raise ValidationFailed(
                _("フォローアップ日は5年以内の日付にしてください。"),
                field="follow_up_on",
            )
    return occurred_at, occurred_on


@transaction.atomic
def consultation_create(
    *,
    actor: Actor,
    company: Company,
    occurred_at: datetime,
    channel: str,
    duration_minutes: int,
    topics: Iterable[str],
    summary: str,
    case: Case | None = None,
    ip_types: Iterable[str] = (),
    advice: str = "",
    next_action: str = "",
    follow_up_on: date | None = None,
    attendees: Iterable[str] = (),
    confidential: bool = False,
    now: datetime | None = None,
) -> Consultation:
    """Log a consultation; open a case when none is given; set its follow-up.

    `follow_up_on` creates a follow-up for the author (API.md). Everything
    is written in one transaction, or nothing is.
    """
    actor.require_membership()
    now = now or timezone.now()
    today = local_date(now)
    topics = list(dict.fromkeys(topics))
    ip_types = list(dict.fromkeys(ip_types))
    occurred_at, occurred_on = consultation_fields_validate(
        occurred_at=occurred_at,
        channel=channel,
        duration_minutes=duration_minutes,
        topics=topics,
        ip_types=ip_types,
        summary=summary,
        follow_up_on=follow_up_on,
        today=today,
    )
    attendee_orgs = _attendee_organisations(actor, attendees)
    company = company_lock_active(company.pk)

    if case is None:
        title = _("%(company)s の相談") % {"company": company.name}
        case = case_open(
            actor=actor,
            company=company,
            title=title,
            is_confidential=confidential,
            today=occurred_on,
        )
    else:
        case = cases_visible_to(actor).filter(pk=case.pk).first()
        if case is None:
            raise ValidationFailed(_("案件が見つかりません。"), field="case")
        case_require_writable(actor, case)
        if case.company_id != company.pk:
            raise ValidationFailed(
                _("案件の企業等と相談の企業等が一致しません。"), field="case"
            )
        if case.status != CaseStatus.OPEN:
            raise ValidationFailed(
                _(
                    "この案件は完了しています。相談を記録するには、"
                    "案件を再開してください。"
                ),
                field="case",
                code="case_closed",
            )

    first = (
        Consultation.objects.filter(company=company, is_company_first=True)
        .values("pk", "occurred_at")
        .first()
    )
    is_company_first = first is None or occurred_at < first["occurred_at"]
    unmarked = []
    if is_company_first and first is not None:
        # A back-dated consultation becomes the company's first.
        Consultation.objects.filter(pk=first["pk"]).update(is_company_first=False)
        unmarked.append(first["pk"])
    consultation = Consultation.objects.create(
        case=case,
        is_company_first=is_company_first,
        company=company,
        organisation=actor.organisation,
        author=actor.user,
        occurred_at=occurred_at,
        occurred_on=occurred_on,
        fiscal_year=fiscal_year(occurred_at),
        channel=channel,
        duration_minutes=duration_minutes,
        summary=summary.strip(),
        advice=advice.strip(),
        next_action=next_action.strip()[:200],
        is_confidential=confidential,
    )
    ConsultationTopic.objects.bulk_create(
        ConsultationTopic(consultation=consultation, topic=t) for t in topics
    )
    ConsultationIpType.objects.bulk_create(
        ConsultationIpType(consultation=consultation, ip_type=t) for t in ip_types
    )
    if attendee_orgs:
        consultation.attendees.set(attendee_orgs)
    consultation_facts_refresh(consultation_ids=[consultation.pk], new=True)
    if unmarked:  # the company's previous first consultation
        consultation_facts_refresh(consultation_ids=unmarked)
    if follow_up_on is not None:
        FollowUp.objects.create(
            case=case,
            consultation=consultation,
            organisation=actor.organisation,
            assignee=actor.user,
            due_on=follow_up_on,
            note=(next_action or summary).strip()[:200],
        )
    audit_record(actor=actor, action="consultation.create", obj=consultation, now=now)
    return consultation


class CompanyNotRegistered(StepRefused):
    """The company step of `consultation_log_with_new_company` was refused.

    `error` is company_create's (e.g. 409 duplicate_company with the
    existing company's id).
    """


@transaction.atomic
def consultation_log_with_new_company(
    *,
    actor: Actor,
    company_fields: Mapping[str, Any],
    now: datetime | None = None,
    **consultation: Any,
) -> Consultation:
    """Register a company, then log its first consultation, in one transaction.

    `company_fields` are company_create's fields; `consultation` the
    keyword arguments of consultation_create but `company` (its case opens
    with it). A refused registration raises CompanyNotRegistered; a refused
    consultation raises as consultation_create does, and then the company
    is not registered either: nothing is half-written.
    """
    try:
        company = company_create(
            actor=actor,
            today=local_date(now) if now else None,
            **company_fields,
        )
    except DomainError as exc:
        raise CompanyNotRegistered(exc) from exc
    return consultation_create(actor=actor, company=company, now=now, **consultation)


def company_first_consultation_refresh(*, company_ids: Iterable[int]) -> None:
    """Mark each company's first consultation in the network (merge, bulk loads).

    The first is the earliest `occurred_at`, then the lowest id: the same
    order `consultation_create` keeps when it sets the flag one at a time.
    """
    company_ids = list(company_ids)
    Consultation.objects.filter(
        company_id__in=company_ids, is_company_first=True
    ).update(is_company_first=False)
    first_ids = [
        Consultation.objects.filter(company_id=company_id)
        .order_by("occurred_at", "pk")
        .values_list("pk", flat=True)
        .first()
        for company_id in company_ids
    ]
    Consultation.objects.filter(pk__in=[pk for pk in first_ids if pk]).update(
        is_company_first=True
    )
    consultation_facts_refresh(
        consultation_ids=Consultation.objects.filter(
            company_id__in=company_ids
        ).values_list("pk", flat=True)
    )
