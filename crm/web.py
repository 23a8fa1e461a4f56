"""Web UI of clients and cases: the pages window staff live in all day.

Views are adapters, like the API's: they read through the visibility
selectors, write through the services, and turn a DomainError into a field
message on the re-rendered form, so nothing typed is lost.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.forms import CheckboxSelectMultiple
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm import permissions, search, selectors, services
from crm.choices import CaseStatus, FollowUpStatus
from crm.forms import (
    CompanyForm,
    ConsultationForm,
    NewCompanyForm,
    OutcomeForm,
    add_domain_error,
    attendee_choices,
)
from crm.forms_cases import CaseCloseForm, CaseReopenForm
from crm.models import Company
from support_network.errors import Conflict, DomainError, PermissionDenied
from support_network.web import web_actor

# How many companies a search page and the typeahead show.
SEARCH_LIMIT = 50
PICKER_LIMIT = 10


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


@login_required
def my_work(request):
    """Show today's and overdue follow-ups, recent consultations, waiting referrals."""
    try:
        actor = web_actor(request)
    except DomainError as exc:
        return render(request, "crm/no_membership.html", {"message": exc.detail})
    today = timezone.localdate()
    work = selectors.my_work(actor, today=today)
    return render(request, "crm/my_work.html", {"work": work, "today": today})


def _search(actor, query: str, limit: int) -> list[Company]:
    """Return the best `limit` matches, ranked like the API's search."""
    terms = search.search_terms(query)
    if terms is None:
        return []
    qs = selectors.company_search(selectors.companies_visible_to(actor), query)
    if terms.corporate_number:
        return list(qs[:limit])
    return search.ranked_rows(qs, terms, limit=limit)


@login_required
@require_GET
def company_search(request):
    """Find a company by 法人番号, name or reading, any width or legal form."""
    actor = web_actor(request)
    query = request.GET.get("q", "").strip()
    companies = _search(actor, query, SEARCH_LIMIT)
    context = {"q": query, "companies": companies, "limit": SEARCH_LIMIT}
    if _is_htmx(request):
        return render(request, "crm/_company_results.html", context)
    return render(request, "crm/company_search.html", context)


@login_required
@require_GET
def company_picker(request):
    """Return typeahead options for the consultation form (htmx)."""
    actor = web_actor(request)
    query = request.GET.get("company_q", "").strip()
    companies = _search(actor, query, PICKER_LIMIT)
    return render(
        request, "crm/_company_picker.html", {"q": query, "companies": companies}
    )


def _duplicates(form: CompanyForm) -> list[Company]:
    data = form.cleaned_data
    return list(
        selectors.company_duplicate_candidates(
            name=data["name"], prefecture=data["prefecture"].code
        )[:10]
    )


@login_required
def company_create(request):
    """Register a company, after showing "この会社ですか？" candidates."""
    actor = web_actor(request)
    candidates: list[Company] = []
    form = CompanyForm(request.POST or None, initial=_company_initial(actor))
    if request.method == "POST" and form.is_valid():
        if not form.cleaned_data["confirm_new"]:
            candidates = _duplicates(form)
        if candidates:
            form = CompanyForm({**request.POST.dict(), "confirm_new": "on"})
            form.is_valid()
        else:
            try:
                company = services.company_create(actor=actor, **form.service_fields())
            except DomainError as exc:
                _company_error(form, exc)
            else:
                messages.success(
                    request, _("%(name)s を登録しました。") % {"name": company.name}
                )
                if request.POST.get("then") == "consult":
                    url = reverse("crm:consultation-create")
                    return redirect(f"{url}?company={company.pk}")
                return redirect("crm:company-detail", pk=company.pk)
    return render(
        request,
        "crm/company_form.html",
        {"form": form, "candidates": candidates, "then": request.GET.get("then", "")},
    )


def _company_initial(actor) -> dict:
    organisation = actor.organisation
    if organisation is not None and organisation.prefecture_id:
        return {"prefecture": organisation.prefecture_id}
    return {}


def _company_error(form, exc: DomainError) -> None:
    if isinstance(exc, Conflict) and exc.code == "duplicate_company":
        url = reverse("crm:company-detail", args=[exc.extra.get("existing")])
        # A link, not the path as text (format_html escapes the parts).
        form.add_error(
            "corporate_number",
            format_html(
                '{} <a href="{}">{}</a>',
                exc.detail,
                url,
                _("既存の登録を使ってください（登録済みの企業等を開く）"),
            ),
        )
    else:
        add_domain_error(form, exc)


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
    return selectors.company_cases_visible_to(actor, company).filter(
        pk__in=permissions.cases_writable_by(actor).values("pk"),
    )


def _closed_case(cases, chosen: str | None):
    if not chosen or not (chosen.isascii() and chosen.isdigit()) or len(chosen) > 12:
        return None
    return cases.filter(pk=int(chosen), status=CaseStatus.CLOSED).first()


def _visible_company(actor, pk) -> Company | None:
    if not pk:
        return None
    return selectors.companies_visible_to(actor).filter(pk=pk).first()


@login_required
@require_GET
def consultation_case_field(request):
    """Return the case choice for the company just picked (htmx)."""
    actor = web_actor(request)
    company = _visible_company(actor, request.GET.get("company"))
    default = selectors.default_case_for(actor, company) if company else None
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
        initial=_company_initial(actor),
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
            context["candidates"] = _duplicates(new_company)
            if context["candidates"]:
                new_company = NewCompanyForm(
                    {**data.dict(), "new-confirm_new": "on"},
                    initial=_company_initial(actor),
                )
                new_company.is_valid()
                context["new_company"] = new_company
                return render(request, "crm/consultation_form.html", context)
        if not new_company.is_valid():
            return render(request, "crm/consultation_form.html", context)
    elif company is None:
        context["matches"] = _search(actor, context["company_q"], PICKER_LIMIT)
        form.add_error(
            None,
            _("企業等を選んでください。見つからないときは新しく登録できます。"),
        )
        return render(request, "crm/consultation_form.html", context)
    if not form_ok:
        return render(request, "crm/consultation_form.html", context)

    try:
        with transaction.atomic():
            if company is None:
                try:
                    company = services.company_create(
                        actor=actor, **new_company.service_fields()
                    )
                except DomainError as exc:
                    _company_error(new_company, exc)
                    raise
            cleaned = form.cleaned_data
            case = None
            if cleaned["case"]:
                case = (
                    selectors.cases_visible_to(actor).filter(pk=cleaned["case"]).first()
                )
                if case is None:
                    form.add_error("case", _("案件が見つかりません。"))
                    raise _FormInvalid
            consultation = services.consultation_create(
                actor=actor,
                company=company,
                case=case,
                occurred_at=form.occurred_at(),
                channel=cleaned["channel"],
                duration_minutes=cleaned["duration_minutes"],
                topics=cleaned["topics"],
                ip_types=cleaned["ip_types"],
                summary=cleaned["summary"],
                advice=cleaned["advice"],
                next_action=cleaned["next_action"],
                follow_up_on=cleaned["follow_up_on"],
                attendees=cleaned["attendees"],
                confidential=cleaned["confidential"],
            )
    except _FormInvalid:
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


class _FormInvalid(Exception):
    """Abort the write: the form already carries the message."""


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
        default = selectors.default_case_for(actor, company)
        initial["case"] = str(default.pk) if default else ""
    return initial


@login_required
def case_detail(request, pk: int):
    """Show a case's timeline and the company's other visible cases."""
    actor = web_actor(request)
    case = get_object_or_404(selectors.cases_visible_to(actor), pk=pk)
    services.audit_record(actor=actor, action="case.view", obj=case)
    context = _case_context(actor, case, OutcomeForm())
    return render(request, "crm/case_detail.html", context)


def _case_context(
    actor, case, outcome_form: OutcomeForm, close_form=None, reopen_form=None
) -> dict:
    timeline = selectors.case_timeline(actor, case)
    can_write = permissions.can_write_case(actor, case)
    # The page shows no button for what the user may not do: the records
    # (by kind) the actor may correct, void or reschedule.
    changeable = {"consultation": set(), "outcome": set(), "follow_up": set()}
    for e in timeline:
        if e.kind in changeable and permissions.can_change_record(
            actor, e.obj, case_is_writable=can_write
        ):
            changeable[e.kind].add(e.obj.pk)
    return {
        "case": case,
        "timeline": timeline,
        "can_write": can_write,
        # Close and reopen: the owning organisation's coordinators,
        # managers and org admins (DESIGN.md "Who may change what" rule 4).
        "can_manage": permissions.can_manage_case(actor, case),
        "close_form": close_form or CaseCloseForm(),
        "reopen_form": reopen_form or CaseReopenForm(),
        "changeable_consultations": changeable["consultation"],
        "changeable_outcomes": changeable["outcome"],
        "changeable_follow_ups": changeable["follow_up"],
        "completable": {
            e.obj.pk
            for e in timeline
            if e.kind == "follow_up"
            and e.obj.status == FollowUpStatus.OPEN
            and e.obj.pk in changeable["follow_up"]
        },
        "other_cases": selectors.company_cases_visible_to(actor, case.company).exclude(
            pk=case.pk
        ),
        "outcome_form": outcome_form,
        "today": timezone.localdate(),
        # The programs app's reverse relation (crm does not import programs);
        # whoever sees the case sees its enrolments (programs/selectors.py).
        "enrolments": case.enrolments.select_related("program", "round").order_by(
            "-id"
        ),
    }


@login_required
@require_POST
def outcome_create(request, pk: int):
    """Record an outcome of a case from its timeline page."""
    actor = web_actor(request)
    case = get_object_or_404(selectors.cases_visible_to(actor), pk=pk)
    if not permissions.can_write_case(actor, case):
        raise DjangoPermissionDenied(_("この案件は閲覧のみです。"))
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            services.outcome_record(actor=actor, case=case, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("成果を記録しました。"))
            return redirect(f"{reverse('crm:case-detail', args=[case.pk])}#outcomes")
    context = _case_context(actor, case, form)
    return render(request, "crm/case_detail.html", context, status=400)


@login_required
@require_POST
def follow_up_complete(request, pk: int):
    """Mark a follow-up done, then go back where the user was."""
    actor = web_actor(request)
    follow_up = get_object_or_404(selectors.follow_ups_visible_to(actor), pk=pk)
    try:
        services.follow_up_complete(actor=actor, follow_up=follow_up)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.detail) from exc
    except DomainError as exc:
        messages.warning(request, exc.detail)
    else:
        messages.success(request, _("フォローアップを完了にしました。"))
    if request.POST.get("next") == "case":
        return redirect("crm:case-detail", pk=follow_up.case_id)
    return redirect("home")
