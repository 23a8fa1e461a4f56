"""Web UI of corrections: 訂正 and 取消 of consultations and outcomes, rescheduling.

Each page finds its record through the visibility selector (404 unseen),
refuses a visible record the user may not change with the 403 page
(crm.permissions.can_change_record, the check the services make again),
and writes through crm/services/corrections.py, which keeps the old values
in the audit trail and the statistics facts in step. A refused or invalid
submit re-renders the form with the message beside its field.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from crm import permissions
from crm.selectors.board import assignable_member_get
from crm.selectors.visibility import (
    consultations_visible_to,
    follow_ups_visible_to,
    outcomes_visible_to,
)
from crm.services import corrections as corrections_services
from crm.services.corrections import (
    consultation_update,
    follow_up_update,
    outcome_update,
)
from crm.web.common import member_choices
from crm.web.forms import add_domain_error
from crm.web.forms_cases import (
    ConsultationEditForm,
    FollowUpEditForm,
    OutcomeEditForm,
    VoidForm,
)
from support_network.calendar import date_text
from support_network.errors import DomainError, PermissionDenied
from support_network.web.actors import web_actor

# Service field names shown under another form field.
CONSULTATION_ALIASES = {"occurred_at": "occurred_on"}


def _changeable(request, queryset, pk: int):
    """Return (actor, record): 404 when unseen, 403 when seen but not changeable."""
    actor = web_actor(request)
    record = get_object_or_404(queryset(actor), pk=pk)
    if not permissions.can_change_record(actor, record):
        raise DjangoPermissionDenied(
            _(
                "この記録を変更できるのは、記録した組織の記録者・担当者と、"
                "その組織のコーディネーター・管理者・組織管理者だけです。"
            )
        )
    return actor, record


def _to_case(record, anchor: str = "timeline"):
    return redirect(f"{reverse('crm:case-detail', args=[record.case_id])}#{anchor}")


def _write(form, call, aliases=None) -> bool:
    """Run a service call; put its refusal on the form. Return True on success."""
    try:
        call()
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.detail) from exc
    except DomainError as exc:
        add_domain_error(form, exc, aliases)
        return False
    return True


@login_required
def consultation_edit(request, pk: int):
    """訂正: correct a consultation; statistics follow in the same transaction."""
    actor, consultation = _changeable(request, consultations_visible_to, pk)
    initial = ConsultationEditForm.initial_for(consultation)
    form = ConsultationEditForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        if not fields:
            messages.info(request, _("変更はありませんでした。"))
            return _to_case(consultation, f"consultation-{consultation.pk}")
        if _write(
            form,
            lambda: consultation_update(
                actor=actor, consultation=consultation, **fields
            ),
            CONSULTATION_ALIASES,
        ):
            messages.success(request, _("相談記録を訂正しました。"))
            return _to_case(consultation, f"consultation-{consultation.pk}")
    return render(
        request,
        "crm/corrections/consultation_edit.html",
        {"form": form, "consultation": consultation, "case": consultation.case},
        status=400 if form.is_bound else 200,
    )


def _void_page(request, record, kind: str, void, done: str):
    """The 取消 confirmation of a consultation or outcome: a reason, then void(reason)."""
    form = VoidForm(request.POST if request.method == "POST" else None)
    if (
        request.method == "POST"
        and form.is_valid()
        and _write(form, lambda: void(form.cleaned_data["reason"]))
    ):
        messages.success(request, done)
        return _to_case(record)
    return render(
        request,
        "crm/corrections/void_confirm.html",
        {"form": form, "record": record, "kind": kind, "case": record.case},
        status=400 if form.is_bound else 200,
    )


@login_required
def consultation_void(request, pk: int):
    """取消: void a consultation typed in error, with a reason."""
    actor, consultation = _changeable(request, consultations_visible_to, pk)
    return _void_page(
        request,
        consultation,
        "consultation",
        lambda reason: corrections_services.consultation_void(
            actor=actor, consultation=consultation, reason=reason
        ),
        _("相談記録（%(date)s）を取り消しました。")
        % {"date": date_text(consultation.occurred_on)},
    )


@login_required
def outcome_edit(request, pk: int):
    """訂正 of an outcome."""
    actor, outcome = _changeable(request, outcomes_visible_to, pk)
    initial = {
        name: getattr(outcome, name)
        for name in ("kind", "occurred_on", "ip_type", "reference", "amount_yen")
    }
    initial["note"] = outcome.note
    form = OutcomeEditForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        if not fields:
            messages.info(request, _("変更はありませんでした。"))
            return _to_case(outcome, f"outcome-{outcome.pk}")
        if _write(
            form,
            lambda: outcome_update(actor=actor, outcome=outcome, **fields),
        ):
            messages.success(request, _("成果を訂正しました。"))
            return _to_case(outcome, f"outcome-{outcome.pk}")
    return render(
        request,
        "crm/corrections/outcome_edit.html",
        {"form": form, "outcome": outcome, "case": outcome.case},
        status=400 if form.is_bound else 200,
    )


@login_required
def outcome_void(request, pk: int):
    """取消 of an outcome recorded in error, with a reason."""
    actor, outcome = _changeable(request, outcomes_visible_to, pk)
    return _void_page(
        request,
        outcome,
        "outcome",
        lambda reason: corrections_services.outcome_void(
            actor=actor, outcome=outcome, reason=reason
        ),
        _("成果を取り消しました。"),
    )


@login_required
def follow_up_edit(request, pk: int):
    """Reschedule a follow-up: due date, note, assignee within its organisation."""
    actor, follow_up = _changeable(request, follow_ups_visible_to, pk)
    form = FollowUpEditForm(
        request.POST if request.method == "POST" else None,
        initial={
            "due_on": follow_up.due_on,
            "note": follow_up.note,
            "assignee": follow_up.assignee_id,
        },
        member_choices=member_choices(follow_up.organisation_id),
    )
    if request.method == "POST" and form.is_valid():
        fields = {}
        for name in form.changed_data:
            fields[name] = form.cleaned_data[name]
        if "assignee" in fields:
            # A member of the follow-up's organisation (the choices);
            # follow_up_update checks again under its lock.
            fields["assignee"] = assignable_member_get(
                follow_up.organisation_id, fields["assignee"]
            )
        if not fields:
            messages.info(request, _("変更はありませんでした。"))
            return _to_case(follow_up, f"follow-up-{follow_up.pk}")
        if _write(
            form,
            lambda: follow_up_update(
                actor=actor, follow_up=follow_up, **fields
            ),
        ):
            messages.success(request, _("フォローアップの予定を変更しました。"))
            return _to_case(follow_up, f"follow-up-{follow_up.pk}")
    return render(
        request,
        "crm/corrections/follow_up_edit.html",
        {"form": form, "follow_up": follow_up, "case": follow_up.case},
        status=400 if form.is_bound else 200,
    )
