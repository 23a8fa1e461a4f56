"""The consultation form (相談記録): log a consultation in under a minute.

The company is picked by typeahead or registered inline (with the registry's
duplicate check, crm/web/common.py); the case defaults to the company's open
case of the actor's organisation. Views are adapters, like the API's: they
read through the visibility selectors, write through the services, and turn
a DomainError into a field message on the re-rendered form, so nothing typed
is lost.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import CheckboxSelectMultiple
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crm import permissions
from crm.choices import CaseStatus
from crm.models import Company
from crm.selectors.companies import company_cases_visible_to, default_case_for
from crm.selectors.visibility import cases_visible_to, companies_visible_to
from crm.services import consultations as consultations_services
from crm.services.consultations import (
    CompanyNotRegistered,
    consultation_log_with_new_company,
)
from crm.web.common import (
    PICKER_LIMIT,
    company_duplicates,
    company_error,
    company_initial,
    company_matches,
)
from crm.web.forms import (
    ConsultationForm,
    NewCompanyForm,
    add_domain_error,
    attendee_choices,
)
from support_network.errors import DomainError
from support_network.web.actors import web_actor


def _case_choices(
    actor, company: Company | None, chosen: str | None = None
) -> list[tuple[str, str]]:
    if company is None:
        return []
    writable = _writable_cases(actor, company)
    choices = [
        (str(c.pk), f"#{c.pk} {c.title}（{c.organisation.name}）")
        for c in writable.filter(status=CaseStatus.OPEN)[:30]
    ]
    closed = _closed_case(writable, chosen)
    if closed is not None:
        # A closed case chosen (linked to, or closed since the form was
        # opened) stays on offer, so the service's refusal says why and
        # the page offers to reopen it instead of "not a valid choice".
        choices.append(
            (
                str(closed.pk),
                _("#%(pk)s %(title)s（%(organisation)s・完了）")
                % {
                    "pk": closed.pk,
                    "title": closed.title,
                    "organisation": closed.organisation.name,
                },
            )
        )
    return choices


def _writable_cases(actor, company: Company):
    # Only the cases the actor may write on (crm.permissions): a hub sees
    # others' cases, it does not log consultations on them.
    return company_cases_visible_to(actor, company).filter(
        pk__in=permissions.cases_writable_by(actor).values("pk"),
    )


def _closed_case(cases, chosen: str | None):
    if not chosen or not (chosen.isascii() and chosen.isdigit()) or len(chosen) > 12:
        return None
    return cases.filter(pk=int(chosen), status=CaseStatus.CLOSED).first()


def _visible_company(actor, pk) -> Company | None:
    if not pk:
        return None
    return companies_visible_to(actor).filter(pk=pk).first()


@login_required
@require_GET
def consultation_case_field(request):
    """Return the case choice for the company just picked (htmx)."""
    actor = web_actor(request)
    company = _visible_company(actor, request.GET.get("company"))
    default = default_case_for(actor, company) if company else None
    form = ConsultationForm(
        initial={"case": str(default.pk) if default else ""},
        case_choices=_case_choices(actor, company),
    )
    return render(request, "crm/_case_field.html", {"form": form, "company": company})


@login_required
def consultation_create(request):
    """Log a consultation (相談記録) in under a minute, keyboard only.

    The company is picked by typeahead or registered inline (with the same
    duplicate check as the registry); the case defaults to the company's
    open case of the actor's organisation; a new case opens otherwise.
    Company, consultation, case and follow-up are written together or not
    at all.
    """
    actor = web_actor(request)
    data = request.POST if request.method == "POST" else None
    picked = data.get("pick_company") if data else None
    company_id = picked or (data or request.GET).get("company")
    company = _visible_company(actor, company_id)
    if company_id and company is None:
        raise Http404
    chosen_case = None if picked else (data or request.GET).get("case")
    choices = {
        "case_choices": _case_choices(actor, company, chosen_case),
        "attendee_choices": attendee_choices(actor.organisation),
    }
    if picked:
        # The user chose a candidate: keep everything typed, switch company.
        initial = _initial_from(data, ConsultationForm)
        initial.update(_consultation_initial(actor, company))
        form = ConsultationForm(initial=initial, **choices)
        data = None
    else:
        initial = _consultation_initial(actor, company)
        # "＋ 相談を記録" on a case page preselects that case.
        if chosen_case in {value for value, _label in choices["case_choices"]}:
            initial["case"] = chosen_case
        form = ConsultationForm(data, initial=initial, **choices)
    new_company = NewCompanyForm(
        data if data and data.get("new-name") and company is None else None,
        initial=company_initial(actor),
    )
    context = {
        "form": form,
        "new_company": new_company,
        "company": company,
        "candidates": [],
        "matches": [],
        "company_q": "" if picked else (data or request.GET).get("company_q", ""),
    }
    closed = company and _closed_case(_writable_cases(actor, company), chosen_case)
    if closed:
        context["closed_case"] = closed
        context["can_reopen"] = permissions.can_manage_case(actor, closed)
        if data is None:
            # The refusal consultation_create will give, said before typing.
            context["closed_case_message"] = _(
                "この案件は完了しています。相談を記録するには、案件を再開してください。"
            )
    if data is None:
        return render(request, "crm/consultation_form.html", context)

    form_ok = form.is_valid()
    if company is None and new_company.is_bound:
        if new_company.is_valid() and not new_company.cleaned_data["confirm_new"]:
            context["candidates"] = company_duplicates(new_company)
            if context["candidates"]:
                new_company = NewCompanyForm(
                    {**data.dict(), "new-confirm_new": "on"},
                    initial=company_initial(actor),
                )
                new_company.is_valid()
                context["new_company"] = new_company
                return render(request, "crm/consultation_form.html", context)
        if not new_company.is_valid():
            return render(request, "crm/consultation_form.html", context)
    elif company is None:
        context["matches"] = company_matches(actor, context["company_q"], PICKER_LIMIT)
        form.add_error(
            None,
            _("企業等を選んでください。見つからないときは新しく登録できます。"),
        )
        return render(request, "crm/consultation_form.html", context)
    if not form_ok:
        return render(request, "crm/consultation_form.html", context)

    cleaned = form.cleaned_data
    case = None
    if cleaned["case"]:
        case = cases_visible_to(actor).filter(pk=cleaned["case"]).first()
        if case is None:
            form.add_error("case", _("案件が見つかりません。"))
            return render(request, "crm/consultation_form.html", context)
    consultation_fields = {
        "case": case,
        "occurred_at": form.occurred_at(),
        "channel": cleaned["channel"],
        "duration_minutes": cleaned["duration_minutes"],
        "topics": cleaned["topics"],
        "ip_types": cleaned["ip_types"],
        "summary": cleaned["summary"],
        "advice": cleaned["advice"],
        "next_action": cleaned["next_action"],
        "follow_up_on": cleaned["follow_up_on"],
        "attendees": cleaned["attendees"],
        "confidential": cleaned["confidential"],
    }
    try:
        if company is None:
            # Company and consultation are written together or not at all.
            consultation = consultation_log_with_new_company(
                actor=actor,
                company_fields=new_company.service_fields(),
                **consultation_fields,
            )
        else:
            consultation = consultations_services.consultation_create(
                actor=actor, company=company, **consultation_fields
            )
    except CompanyNotRegistered as exc:
        company_error(new_company, exc.error)
        context["company"] = None
        return render(request, "crm/consultation_form.html", context)
    except DomainError as exc:
        if not new_company.errors:
            add_domain_error(
                form, exc, {"occurred_at": "occurred_on", "company": "case"}
            )
        context["company"] = None if new_company.is_bound else company
        return render(request, "crm/consultation_form.html", context)
    messages.success(request, _("相談記録を保存しました。"))
    url = reverse("crm:case-detail", args=[consultation.case_id])
    return redirect(f"{url}#consultation-{consultation.pk}")


def _initial_from(data, form_class) -> dict:
    """Return posted values as a form's initial data (shown, not validated)."""
    initial = {}
    for name, field in form_class.base_fields.items():
        if isinstance(field.widget, CheckboxSelectMultiple):
            initial[name] = data.getlist(name)
        elif name in data:
            initial[name] = data.get(name)
    return initial


def _consultation_initial(actor, company: Company | None) -> dict:
    initial = {}
    if company is not None:
        initial["company"] = company.pk
        default = default_case_for(actor, company)
        initial["case"] = str(default.pk) if default else ""
    return initial
