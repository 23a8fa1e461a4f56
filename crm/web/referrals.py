"""Web UI of referrals: refer a case, the inbox/outbox, accept/decline/complete/cancel.

Like the other pages of crm/web/ these views are adapters: they read through
the selectors (crm/selectors/referral_form.py, crm/selectors/inbox.py),
write through the services (referral life cycle, consent, assignment) and
turn a DomainError into a field error on a re-rendered form, or into a
warning message after a one-click action. The board is crm/web/board.py,
the notifications crm/web/notifications.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from crm.choices import (
    ReferralStatus,
)
from crm.models import Case, Referral
from crm.permissions import MANAGING_ROLES as ASSIGNING_ROLES
from crm.permissions import can_write_case
from crm.selectors.inbox import inbox_referral_list
from crm.selectors.referral_form import (
    case_topics_visible_to,
    expertise_tags_known,
    organisation_get,
    referral_receiver_choices,
    routing_tag_choices,
    user_get,
)
from crm.selectors.suggestions import referral_suggestions
from crm.selectors.visibility import cases_visible_to, referral_records_visible_to
from crm.services import referral_transitions as referral_transitions_services
from crm.services.consents import ConsentNotRecorded
from crm.services.referrals import referral_send, referral_send_with_consent
from crm.web.common import member_choices
from crm.web.forms import add_domain_error
from crm.web.forms_referrals import InlineConsentForm, ReferralForm
from support_network.calendar import date_text
from support_network.errors import Conflict, DomainError, ValidationFailed
from support_network.people import person_name
from support_network.web.actors import web_actor

# Bounded pages: the inbox (and the board) show at most this.
LIST_LIMIT = 200


# --- Refer a case -------------------------------------------------------------


def _suggestions(actor, case: Case, tags: list[str]):
    # Only known tags: one unknown slug would make routing refuse them all.
    known = expertise_tags_known(tags)
    if tags and not known:
        return []
    try:
        return referral_suggestions(actor, case, known)
    except ValidationFailed:
        # Nothing to route by yet (no topics): the plain list still works.
        return []


def _organisation_choices(actor, case: Case, suggestions) -> list:
    """Return the select's options: suggestions (with reasons) first, then the rest."""
    suggested = [
        (s.organisation.code, f"{s.organisation.name} — {s.reason}")
        for s in suggestions
    ]
    others = referral_receiver_choices(
        case, actor, exclude_codes=[code for code, _label in suggested]
    )
    choices = []
    if suggested:
        choices.append((_("おすすめ（相談分野・地域・受入状況から）"), suggested))
    choices.append((_("その他の組織"), list(others)))
    return choices


@login_required
def referral_create(request, pk: int):
    """他機関へ紹介: send a referral, recording the consent on the spot if missing.

    A missing consent (409 consent_required) re-renders the page with the
    typed reason and topics kept and an inline consent form; submitting it
    records the consent and sends the referral in one transaction
    (services.referral_send_with_consent), so a refused send leaves no
    consent behind either.
    """
    actor = web_actor(request)
    case = get_object_or_404(cases_visible_to(actor), pk=pk)
    if not can_write_case(actor, case):
        raise DjangoPermissionDenied(_("この案件は閲覧のみです。"))
    data = request.POST if request.method == "POST" else None
    action = data.get("action", "send") if data else ""
    topics = data.getlist("topics") if data else case_topics_visible_to(actor, case)
    routing = data.getlist("routing") if data else []
    suggestions = _suggestions(actor, case, [*topics, *routing])
    form = ReferralForm(
        data if action in ("send", "consent_send") else None,
        initial={
            "topics": topics,
            "routing": routing,
            "reason": (data or {}).get("reason", ""),
        },
        organisation_choices=_organisation_choices(actor, case, suggestions),
        routing_choices=routing_tag_choices(),
    )
    if action == "suggest":
        # "提案を更新": re-rank for the ticked topics, keep what was typed.
        form.initial["to_organisation"] = data.get("to_organisation", "")
    consent_form = InlineConsentForm(data if action == "consent_send" else None)
    context = {
        "case": case,
        "form": form,
        "consent_form": consent_form,
        "suggestions": suggestions,
        "consent_needed": action == "consent_send",
        "consent_message": "",
    }
    if action not in ("send", "consent_send"):
        return render(request, "crm/referrals/referral_form.html", context)

    form_ok = form.is_valid()
    consent_ok = action != "consent_send" or consent_form.is_valid()
    if not (form_ok and consent_ok):
        return render(request, "crm/referrals/referral_form.html", context, status=400)
    cleaned = form.cleaned_data
    to_organisation = organisation_get(cleaned["to_organisation"])
    send = {
        "actor": actor,
        "case": case,
        "to_organisation": to_organisation,
        "reason": cleaned["reason"],
        "topics": cleaned["topics"],
    }
    try:
        if action == "consent_send":
            consent = consent_form.cleaned_data
            referral = referral_send_with_consent(
                **send,
                consent_scope=consent["scope"],
                consent_obtained_on=consent["obtained_on"],
                consent_method=consent["method"],
            )
        else:
            referral = referral_send(**send)
    except Conflict as exc:
        if exc.code == "consent_required":
            context["consent_needed"] = True
            context["consent_message"] = exc.detail
            # Not a failure for the user: the page's next step is recording
            # the consent, so it answers 200 like any form step.
            return render(request, "crm/referrals/referral_form.html", context)
        form.add_error("to_organisation", exc.detail)
        return render(request, "crm/referrals/referral_form.html", context, status=409)
    except ConsentNotRecorded as exc:
        add_domain_error(consent_form, exc.error)
        return render(request, "crm/referrals/referral_form.html", context, status=400)
    except DomainError as exc:
        add_domain_error(form, exc)
        return render(request, "crm/referrals/referral_form.html", context, status=400)
    messages.success(
        request,
        _("%(organisation)s へ紹介しました。回答期限は %(date)s です。")
        % {
            "organisation": to_organisation.name,
            "date": date_text(referral.respond_by),
        },
    )
    url = reverse("crm:case-detail", args=[case.pk])
    return redirect(f"{url}#referral-{referral.pk}")


# --- Inbox / outbox -----------------------------------------------------------


@login_required
def referral_list(request):
    """受信 (addressed to my organisation) / 送信 (sent by it), by status."""
    actor = web_actor(request)
    box = "out" if request.GET.get("box") == "out" else "in"
    status = request.GET.get("status", "")
    if status not in ReferralStatus.values:
        status = ""
    today = timezone.localdate()
    referrals = inbox_referral_list(actor, box=box, status=status, limit=LIST_LIMIT)
    for r in referrals:
        r.overdue = r.is_overdue_on(today)
    return render(
        request,
        "crm/referrals/referral_list.html",
        {
            "box": box,
            "status": status,
            "statuses": ReferralStatus.choices,
            "referrals": referrals,
            "limit": LIST_LIMIT,
            "today": today,
            # The receiving side's coordinators assign their own staff;
            # window staff take a referral themselves.
            "members": member_choices(actor.organisation_id)
            if box == "in" and actor.has_role(*ASSIGNING_ROLES)
            else [],
        },
    )


# --- Transitions (accept / decline / complete / cancel) -----------------------

SUCCESS = {
    "accept": _lazy("紹介を受け入れました。"),
    "decline": _lazy("紹介を辞退しました。"),
    "complete": _lazy("紹介を完了にし、結果を紹介元へ報告しました。"),
    "cancel": _lazy("紹介を取り消しました。"),
}


def _back(request, referral: Referral, action: str):
    """Return to the case page or the inbox the action was taken from.

    After a decline the receiver no longer sees the case (DESIGN.md "Who
    sees what" rule 3), so it goes back to the inbox instead.
    """
    target = request.POST.get("next", "")
    if target == "case" and action != "decline":
        url = reverse("crm:case-detail", args=[referral.case_id])
        return redirect(f"{url}#referral-{referral.pk}")
    if target.startswith(
        reverse("crm:referral-list")
    ) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    box = "out" if action == "cancel" else "in"
    return redirect(f"{reverse('crm:referral-list')}?box={box}")


def _transition(request, pk: int, action: str):
    actor = web_actor(request)
    referral = get_object_or_404(referral_records_visible_to(actor), pk=pk)
    if action == "complete":
        kwargs = {"outcome_note": request.POST.get("outcome_note", "")}
    else:
        kwargs = {"note": request.POST.get("note", "")}
    service = {
        "accept": referral_transitions_services.referral_accept,
        "decline": referral_transitions_services.referral_decline,
        "complete": referral_transitions_services.referral_complete,
        "cancel": referral_transitions_services.referral_cancel,
    }[action]
    # The service checks the note (required outcome, length) and words
    # the message in Japanese; a refusal comes back as a warning.
    try:
        service(actor=actor, referral=referral, **kwargs)
    except DomainError as exc:
        messages.warning(request, exc.detail)
    else:
        messages.success(request, str(SUCCESS[action]))
    return _back(request, referral, action)


@login_required
@require_POST
def referral_accept(request, pk: int):
    return _transition(request, pk, "accept")


@login_required
@require_POST
def referral_assign(request, pk: int):
    """Assign the receiving side of an accepted referral (inbox)."""
    actor = web_actor(request)
    referral = get_object_or_404(referral_records_visible_to(actor), pk=pk)
    assignee_id = request.POST.get("assignee", "")
    # Who may be assigned (an active member of the receiver) is the service's rule.
    assignee = (
        user_get(int(assignee_id))
        if assignee_id.isascii() and assignee_id.isdigit()
        else None
    )
    try:
        referral_transitions_services.referral_assign(actor=actor, referral=referral, assignee=assignee)
    except DomainError as exc:
        messages.warning(request, exc.detail)
    else:
        messages.success(
            request,
            _("紹介の担当者を %(who)s に変更しました。")
            % {"who": person_name(assignee)},
        )
    return _back(request, referral, "assign")


@login_required
@require_POST
def referral_decline(request, pk: int):
    return _transition(request, pk, "decline")


@login_required
@require_POST
def referral_complete(request, pk: int):
    return _transition(request, pk, "complete")


@login_required
@require_POST
def referral_cancel(request, pk: int):
    return _transition(request, pk, "cancel")
