"""Web UI of applying for a program from a case and referring a case into one.

Adapters: reads through programs/selectors.py, writes through
programs/services/ (one transaction each, so nothing is half-written), and a
DomainError goes back beside the field it is about with everything typed kept.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Case
from crm.permissions import can_write_case
from crm.selectors.visibility import cases_visible_to
from crm.services.consents import ConsentNotRecorded
from crm.web.forms import add_domain_error
from crm.web.forms_referrals import InlineConsentForm
from programs import selectors
from programs.choices import EnrolmentStatus, ProgramKind
from programs.services import eligibility, enrolments, referrals
from programs.web.forms import (
    EnrolmentApplyForm,
    ProgramReferralForm,
    fiscal_year_choices,
)
from programs.web.rules_text import eligibility_text
from support_network.calendar import date_text, fiscal_year_label
from support_network.calendar import fiscal_year as fiscal_year_of
from support_network.errors import Conflict, DomainError
from support_network.web.actors import web_actor

S = EnrolmentStatus

# Where a refusal of enrolment_apply is shown on the apply form.
NOT_ELIGIBLE_FIELDS = {
    "company": "program",
    "program": "program",
    "scheme": "scheme",
    "joint_research_yen_per_year": "joint_research_yen_per_year",
    "is_national_project": "is_national_project",
    "confirmed_conditions": "confirmed_conditions",
}
APPLY_FIELD_ALIASES = {"company": "program", "to_organisation": "program"}


# --- Applying for a program from a case -----------------------------------------------


def _condition_choices(programs) -> list[tuple[str, str]]:
    """Return the checked conditions of the programs as (code, "事業: label")."""
    seen: dict[str, str] = {}
    for program in programs:
        for condition in eligibility.program_conditions(program):
            name = program.short_name or program.name
            seen.setdefault(condition["code"], f"{name}: {condition['label']}")
    return list(seen.items())


def _program_choices(programs) -> list[tuple[str, str]]:
    return [
        (p.code, f"{p.name}（{p.operator.short_name or p.operator.name}）")
        for p in programs
    ]


def _apply_fiscal_years() -> list[tuple[int, str]]:
    return fiscal_year_choices(selectors.enrolment_round_fiscal_years())


def _round_notice(form) -> str:
    """Return a note when the chosen round has no free seat (applying still works)."""
    data = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
    code = data.get("program") or form.initial.get("program")
    fy = data.get("fiscal_year") or form.initial.get("fiscal_year")
    if not code or not fy:
        return ""
    round_ = selectors.program_round_get(code=code, fiscal_year=fy)
    if round_ is None:
        return ""
    used = selectors.round_capacity_used(round_)
    if used < round_.capacity:
        return ""
    return _(
        "%(program)sの%(year)sの採択枠（%(capacity)s件）は埋まっています。申込はできますが、"
        "辞退などで枠が空かない限り採択されません（採択しようとすると round_full）。"
    ) % {
        "program": round_.program.short_name or round_.program.name,
        "year": fiscal_year_label(round_.fiscal_year),
        "capacity": round_.capacity,
    }


def _apply_error(request, form, exc: DomainError, actor) -> None:
    """Put a refusal of enrolment_apply / enrolment_refer on the right field."""
    if isinstance(exc, eligibility.NotEligible):
        form.add_error(NOT_ELIGIBLE_FIELDS.get(exc.about, "program"), exc.detail)
    elif isinstance(exc, Conflict) and exc.code == "already_enrolled":
        existing = exc.extra.get("existing")
        message = exc.detail
        if (
            existing
            and selectors.enrolments_visible_to(actor).filter(pk=existing).exists()
        ):
            message += _(" 申込の画面: %(url)s") % {
                "url": reverse("programs:enrolment-detail", args=[existing])
            }
        form.add_error("program", message)
    else:
        add_domain_error(form, exc, APPLY_FIELD_ALIASES)


def _case_for_apply(actor, case_id: int) -> Case:
    case = get_object_or_404(
        cases_visible_to(actor).select_related("company", "organisation"),
        pk=case_id,
    )
    if not can_write_case(actor, case):
        raise DjangoPermissionDenied(_("この案件は閲覧のみです。"))
    return case


@login_required
def enrolment_apply(request, case_id: int):
    """支援事業に申し込む: apply for a program on behalf of the case's company."""
    actor = web_actor(request)
    case = _case_for_apply(actor, case_id)
    today = timezone.localdate()
    programs = list(selectors.enrolment_programs())
    data = request.POST if request.method == "POST" else None
    form = EnrolmentApplyForm(
        data,
        initial={
            "program": request.GET.get("program", ""),
            "fiscal_year": fiscal_year_of(today),
        },
        program_choices=_program_choices(programs),
        condition_choices=_condition_choices(programs),
        fiscal_year_choices=_apply_fiscal_years(),
    )
    context = {
        "case": case,
        "form": form,
        "programs": [
            {"program": p, "eligibility": eligibility_text(p)} for p in programs
        ],
        "subsidies": selectors.programs_list().filter(kind=ProgramKind.SUBSIDY),
    }
    if data is None or not form.is_valid():
        context["round_notice"] = _round_notice(form) if data is None else ""
        return render(
            request,
            "programs/enrolment_apply.html",
            context,
            status=200 if data is None else 400,
        )
    context["round_notice"] = _round_notice(form)
    cleaned = form.cleaned_data
    program = next(p for p in programs if p.code == cleaned["program"])
    try:
        enrolment = enrolments.enrolment_apply(
            actor=actor,
            program=program,
            fiscal_year=cleaned["fiscal_year"],
            company=case.company_id,
            case=case,
            scheme=cleaned["scheme"] or None,
            joint_research_yen_per_year=cleaned["joint_research_yen_per_year"],
            is_national_project=cleaned["is_national_project"],
            confirmed_conditions=cleaned.get("confirmed_conditions") or (),
            today=today,
        )
    except DomainError as exc:
        _apply_error(request, form, exc, actor)
        return render(
            request,
            "programs/enrolment_apply.html",
            context,
            status=exc.status_code,
        )
    messages.success(
        request,
        _("%(program)sに申し込みました（%(year)s）。")
        % {"program": program.name, "year": fiscal_year_label(cleaned["fiscal_year"])},
    )
    return redirect("programs:enrolment-detail", pk=enrolment.pk)


# --- Referring a case into a program (支援事業へ紹介) ------------------------------------


@login_required
def enrolment_refer(request, case_id: int):
    """支援事業へ紹介: refer the case to a program's operator and apply, in one go.

    The referral (APPI consent, provision record) and the application
    (eligibility) are written in one transaction. A missing consent
    (409 consent_required) re-renders the page with everything typed kept
    and the inline consent form; submitting it records the consent, sends
    the referral and applies, together or not at all.
    """
    actor = web_actor(request)
    case = _case_for_apply(actor, case_id)
    today = timezone.localdate()
    # The operator must be another organisation than the case's and the
    # user's own: those apply directly.
    programs = [
        p
        for p in selectors.enrolment_programs()
        if p.operator_id not in (case.organisation_id, actor.organisation_id)
    ]
    data = request.POST if request.method == "POST" else None
    action = data.get("action", "send") if data else ""
    form = ProgramReferralForm(
        data,
        initial={
            "program": request.GET.get("program", ""),
            "fiscal_year": fiscal_year_of(today),
        },
        program_choices=_program_choices(programs),
        condition_choices=_condition_choices(programs),
        fiscal_year_choices=_apply_fiscal_years(),
    )
    consent_form = InlineConsentForm(data if action == "consent_send" else None)
    context = {
        "case": case,
        "form": form,
        "consent_form": consent_form,
        "consent_needed": action == "consent_send",
        "consent_message": "",
        "programs": [
            {"program": p, "eligibility": eligibility_text(p)} for p in programs
        ],
    }
    template = "programs/enrolment_refer.html"
    if data is None:
        return render(request, template, context)
    form_ok = form.is_valid()
    consent_ok = action != "consent_send" or consent_form.is_valid()
    if not (form_ok and consent_ok):
        return render(request, template, context, status=400)
    cleaned = form.cleaned_data
    program = next(p for p in programs if p.code == cleaned["program"])
    refer = {
        "actor": actor,
        "program": program,
        "fiscal_year": cleaned["fiscal_year"],
        "case": case,
        "reason": cleaned["reason"],
        "topics": cleaned["topics"],
        "scheme": cleaned["scheme"] or None,
        "joint_research_yen_per_year": cleaned["joint_research_yen_per_year"],
        "is_national_project": cleaned["is_national_project"],
        "confirmed_conditions": cleaned.get("confirmed_conditions") or (),
        "today": today,
    }
    try:
        if action == "consent_send":
            consent = consent_form.cleaned_data
            enrolment = referrals.enrolment_refer_with_consent(
                consent_scope=consent["scope"],
                consent_obtained_on=consent["obtained_on"],
                consent_method=consent["method"],
                **refer,
            )
        else:
            enrolment = referrals.enrolment_refer(**refer)
    except ConsentNotRecorded as exc:
        add_domain_error(consent_form, exc.error)
        return render(request, template, context, status=400)
    except Conflict as exc:
        if exc.code == "consent_required":
            context["consent_needed"] = True
            context["consent_message"] = exc.detail
            # The next step of the page, not a failure: like the referral
            # page, it answers 200 with the consent form.
            return render(request, template, context)
        _apply_error(request, form, exc, actor)
        return render(request, template, context, status=409)
    except DomainError as exc:
        _apply_error(request, form, exc, actor)
        return render(request, template, context, status=exc.status_code)
    messages.success(
        request,
        _(
            "%(operator)s へ紹介し、%(program)sに申し込みました。"
            "回答期限は %(date)s です。"
        )
        % {
            "operator": program.operator.name,
            "program": program.name,
            "date": date_text(enrolment.referral.respond_by),
        },
    )
    return redirect("programs:enrolment-detail", pk=enrolment.pk)
