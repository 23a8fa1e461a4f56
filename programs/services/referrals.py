"""Referring a case into a program (支援事業へ紹介): apply and refer, at once.

The application (programs/services/enrolments.py) and crm's referral to the
program's operator are one transaction, so the API and the web UI get the
same all-or-nothing composition; `enrolment_refer_with_consent` records the
company's consent first, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from crm.models import Case, Company
from crm.selectors.visibility import cases_visible_to
from crm.services.consents import consent_record_for_receiver
from crm.services.referrals import referral_send
from programs.models import Enrolment, Program
from programs.services.enrolments import enrolment_apply
from programs.text import program_name
from support_network.actors import Actor
from support_network.errors import ValidationFailed
from support_network.models import Organisation


@transaction.atomic
def enrolment_refer(
    *,
    actor: Actor,
    program: Program,
    fiscal_year: int,
    case: Case | int,
    reason: str,
    topics: list[str],
    company: Company | int | None = None,
    scheme: str | None = None,
    joint_research_yen_per_year: int | None = None,
    is_national_project: bool = False,
    confirmed_conditions: Iterable[str] | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> Enrolment:
    """Refer a case to the program's operator and apply for the program, at once.

    One transaction: the application (eligibility first, 400 not_eligible)
    and the referral to the operator organisation (APPI consent, 409
    consent_required) are written together or not at all. The enrolment
    keeps the referral it came with.
    """
    pk = case.pk if isinstance(case, Case) else case
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = None
    found = cases_visible_to(actor).filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise ValidationFailed(_("案件が見つかりません。"), field="case")
    operator = Organisation.objects.get(pk=program.operator_id)
    if actor.organisation_id == operator.pk:
        raise ValidationFailed(
            _(
                "%(program)sの実施機関（%(operator)s）の所属者は、紹介せずに"
                "そのまま申し込んでください。"
            )
            % {"program": program_name(program), "operator": operator.name},
            field="program",
        )
    enrolment = enrolment_apply(
        actor=actor,
        program=program,
        fiscal_year=fiscal_year,
        company=found.company_id if company is None else company,
        case=found,
        scheme=scheme,
        joint_research_yen_per_year=joint_research_yen_per_year,
        is_national_project=is_national_project,
        confirmed_conditions=confirmed_conditions,
        today=today,
    )
    referral = referral_send(
        actor=actor,
        case=found,
        to_organisation=operator,
        reason=reason,
        topics=topics,
        now=now,
    )
    enrolment.referral = referral
    enrolment.save(update_fields=["referral", "updated_at"])
    return enrolment


@transaction.atomic
def enrolment_refer_with_consent(
    *,
    actor: Actor,
    program: Program,
    case: Case,
    consent_scope: str,
    consent_obtained_on: date,
    consent_method: str,
    **refer: Any,
) -> Enrolment:
    """Record the company's consent, then refer and apply (enrolment_refer).

    One transaction: a consent limited to listed organisations names the
    program's operator. A refused consent raises crm.services.consents.ConsentNotRecorded; a
    refused application or referral rolls the consent back.
    """
    consent_record_for_receiver(
        actor=actor,
        company=case.company,
        receiver=program.operator,
        scope=consent_scope,
        obtained_on=consent_obtained_on,
        method=consent_method,
    )
    return enrolment_refer(actor=actor, program=program, case=case, **refer)
