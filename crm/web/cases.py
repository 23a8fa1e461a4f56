"""Web UI of cases: the case list, the case page and its actions, closing and reopening.

The case page shows the timeline and records outcomes and completes
follow-ups from it; corrections of its records are crm/web/corrections.py.

The list reads `cases_visible_to` only, so it shows exactly the cases whose
page would open; it pages by keyset on (-opened_on, -id), the order of the
`crm_case_org_opened_idx` index, never by OFFSET. Closing and reopening go
through the services, which apply DESIGN.md "Who may change what" rule 4
(the owning organisation's coordinators, managers and org admins).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm import permissions
from crm.choices import FollowUpStatus
from crm.selectors.cases import case_timeline
from crm.selectors.companies import company_cases_visible_to, company_search
from crm.selectors.search import search_terms
from crm.selectors.visibility import (
    cases_visible_to,
    companies_visible_to,
    follow_ups_visible_to,
)
from crm.services import cases as cases_services
from crm.services import follow_ups as follow_ups_services
from crm.services.audit import audit_record
from crm.services.cases import outcome_record
from crm.web.common import member_choices
from crm.web.forms import OutcomeForm, add_domain_error
from crm.web.forms_cases import CaseCloseForm, CaseListForm, CaseReopenForm
from support_network.errors import Conflict, DomainError, PermissionDenied
from support_network.web.actors import web_actor

PAGE_SIZE = 50


def _cursor_parse(value: str) -> tuple[dt.date, int] | None:
    """Read a cursor "YYYY-MM-DD.id"; None when it is not one."""
    day, sep, pk = value.partition(".")
    if not sep or not (pk.isascii() and pk.isdigit()) or len(pk) > 12:
        return None
    try:
        return dt.date.fromisoformat(day), int(pk)
    except ValueError:
        return None


def _company_filter(actor, value: str) -> Q:
    """Match a company by id (digits up to 12) or by name, reading or 法人番号."""
    if value.isascii() and value.isdigit() and len(value) <= 12:
        return Q(company_id=int(value))
    terms = search_terms(value)
    if terms is None:
        return Q(pk__in=[])
    companies = company_search(companies_visible_to(actor), value)
    return Q(company__in=companies.values("pk"))


@login_required
@require_GET
def case_list(request):
    """案件一覧: mine / my organisation's / all I see, by status, company, assignee."""
    actor = web_actor(request)
    members = member_choices(actor.organisation_id) if actor.organisation_id else []
    form = CaseListForm(request.GET, member_choices=members)
    form.is_valid()  # a wrong value only drops its own filter
    data = form.cleaned_data
    scope = data.get("scope") or "mine"
    status = data.get("status") or "open"
    qs = cases_visible_to(actor)
    if scope == "mine":
        qs = qs.filter(assignee_id=actor.user.pk)
    elif scope == "organisation":
        qs = qs.filter(organisation_id=actor.organisation_id)
    if status != "all":
        qs = qs.filter(status=status)
    company = (data.get("company") or "").strip()
    if company:
        qs = qs.filter(_company_filter(actor, company))
    if data.get("assignee"):
        qs = qs.filter(assignee_id=data["assignee"])

    status_code = 200
    after = request.GET.get("after", "")
    if after:
        cursor = _cursor_parse(after)
        if cursor is None:
            status_code = 400
            form.add_error(
                None, _("ページの指定が正しくありません。最初のページを表示します。")
            )
        else:
            day, pk = cursor
            qs = qs.filter(Q(opened_on__lt=day) | Q(opened_on=day, pk__lt=pk))
    cases = list(qs.order_by("-opened_on", "-id")[: PAGE_SIZE + 1])
    next_url = ""
    if len(cases) > PAGE_SIZE:
        cases = cases[:PAGE_SIZE]
        last = cases[-1]
        params = {
            "scope": scope,
            "status": status,
            "company": company,
            "assignee": data.get("assignee") or "",
        }
        params = {k: v for k, v in params.items() if v != ""}
        params["after"] = f"{last.opened_on.isoformat()}.{last.pk}"
        next_url = f"?{urlencode(params)}"
    base = {"status": status, "company": company, "assignee": data.get("assignee")}
    return render(
        request,
        "crm/cases/list.html",
        {
            "form": form,
            "cases": cases,
            "scope": scope,
            "status": status,
            "tabs": [
                (value, label, _tab_url(value, base))
                for value, label in CaseListForm.SCOPES
            ],
            "next_url": next_url,
            "first_url": _tab_url(scope, base) if after else "",
            "page_size": PAGE_SIZE,
        },
        status=status_code,
    )


def _tab_url(scope: str, base: dict) -> str:
    params = {"scope": scope, **{k: v for k, v in base.items() if v}}
    return f"{reverse('crm:case-list')}?{urlencode(params)}"


def _manageable_case(request, pk: int):
    """Return (actor, case) or refuse: 404 unseen, 403 seen but not manageable."""
    actor = web_actor(request)
    case = get_object_or_404(cases_visible_to(actor), pk=pk)
    if not permissions.can_manage_case(actor, case):
        raise DjangoPermissionDenied(
            _(
                "案件を完了・再開できるのは、案件を担当する組織のコーディネーター・"
                "管理者・組織管理者です。"
            )
        )
    return actor, case


@login_required
@require_POST
def case_close(request, pk: int):
    """Close a case with its closing note (完了メモ)."""
    actor, case = _manageable_case(request, pk)
    form = CaseCloseForm(request.POST)
    if form.is_valid():
        try:
            cases_services.case_close(actor=actor, case=case, note=form.cleaned_data["note"])
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.detail) from exc
        except Conflict as exc:
            messages.warning(request, exc.detail)
            return redirect("crm:case-detail", pk=case.pk)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("案件を完了にしました。"))
            return redirect("crm:case-detail", pk=case.pk)
    context = _case_context(actor, case, OutcomeForm(), close_form=form)
    return render(request, "crm/case_detail.html", context, status=400)


@login_required
@require_POST
def case_reopen(request, pk: int):
    """Reopen a closed case; the closing note stays in the audit trail."""
    actor, case = _manageable_case(request, pk)
    form = CaseReopenForm(request.POST)
    if form.is_valid():
        try:
            cases_services.case_reopen(actor=actor, case=case, note=form.cleaned_data["note"])
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.detail) from exc
        except DomainError as exc:
            messages.warning(request, exc.detail)
        else:
            messages.success(request, _("案件を再開しました。"))
        return redirect("crm:case-detail", pk=case.pk)
    context = _case_context(actor, case, OutcomeForm(), reopen_form=form)
    return render(request, "crm/case_detail.html", context, status=400)


@login_required
def case_detail(request, pk: int):
    """Show a case's timeline and the company's other visible cases."""
    actor = web_actor(request)
    case = get_object_or_404(cases_visible_to(actor), pk=pk)
    audit_record(actor=actor, action="case.view", obj=case)
    context = _case_context(actor, case, OutcomeForm())
    return render(request, "crm/case_detail.html", context)


def _case_context(
    actor, case, outcome_form: OutcomeForm, close_form=None, reopen_form=None
) -> dict:
    timeline = case_timeline(actor, case)
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
        # Legal hold (法的保全): the owning organisation's managers, org admins.
        "can_hold": permissions.can_hold_case(actor, case),
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
        "other_cases": company_cases_visible_to(actor, case.company).exclude(
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
    case = get_object_or_404(cases_visible_to(actor), pk=pk)
    if not permissions.can_write_case(actor, case):
        raise DjangoPermissionDenied(_("この案件は閲覧のみです。"))
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            outcome_record(actor=actor, case=case, **form.cleaned_data)
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
    follow_up = get_object_or_404(follow_ups_visible_to(actor), pk=pk)
    try:
        follow_ups_services.follow_up_complete(actor=actor, follow_up=follow_up)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.detail) from exc
    except DomainError as exc:
        messages.warning(request, exc.detail)
    else:
        messages.success(request, _("フォローアップを完了にしました。"))
    if request.POST.get("next") == "case":
        return redirect("crm:case-detail", pk=follow_up.case_id)
    return redirect("home")
