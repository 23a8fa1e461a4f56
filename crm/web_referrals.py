"""Web UI of referrals: refer a case, inbox/outbox, coordinator board, notifications.

Like crm/web.py these views are adapters: they read through the visibility
selectors, write through the services (referral life cycle, consent,
assignment, notifications) and turn a DomainError into a field error on a
re-rendered form, or into a warning message after a one-click action.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from crm import selectors, services
from crm.choices import (
    CaseStatus,
    ConsentScope,
    FollowUpStatus,
    ReferralStatus,
    Topic,
)
from crm.forms import add_domain_error
from crm.forms_referrals import AssignForm, InlineConsentForm, ReferralForm
from crm.models import Case, ConsultationTopic, FollowUp, Notification, Referral
from crm.permissions import MANAGING_ROLES as ASSIGNING_ROLES
from crm.permissions import can_write_case
from crm.routing import referral_suggestions
from crm.selectors import referral_records_visible_to
from crm.services.notifications import notification_path
from support_network.actors import Actor
from support_network.errors import Conflict, DomainError, ValidationFailed
from support_network.models import ExpertiseTag, Membership, Organisation
from support_network.people import person_name
from support_network.selectors import hub_prefecture_codes
from support_network.web import web_actor

# Bounded pages: the inbox, the board and the notification list show at most this.
LIST_LIMIT = 200
NOTIFICATION_LIMIT = 100


# --- Refer a case -------------------------------------------------------------


def _case_topics(actor, case: Case) -> list[str]:
    """Return the topics of the case's consultations the actor may see."""
    return list(
        ConsultationTopic.objects.filter(
            consultation__in=selectors.consultations_visible_to(actor).filter(case=case)
        )
        .order_by("topic")
        .values_list("topic", flat=True)
        .distinct()
    )


def _routing_choices() -> list[tuple[str, str]]:
    return list(
        ExpertiseTag.objects.exclude(slug__in=Topic.values)
        .order_by("slug")
        .values_list("slug", "name")
    )


def _suggestions(actor, case: Case, tags: list[str]):
    # Only known tags: one unknown slug would make routing refuse them all.
    known = list(
        ExpertiseTag.objects.filter(slug__in=tags).values_list("slug", flat=True)
    )
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
    others = (
        Organisation.objects.filter(is_active=True)
        .exclude(pk__in=[case.organisation_id, actor.organisation_id])
        .exclude(code__in=[code for code, _label in suggested])
        .order_by("kind", "code")
        .values_list("code", "name")
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
    records the consent and sends the referral in one transaction, so a
    refused send leaves no consent behind either.
    """
    actor = web_actor(request)
    case = get_object_or_404(selectors.cases_visible_to(actor), pk=pk)
    if not can_write_case(actor, case):
        raise DjangoPermissionDenied(_("この案件は閲覧のみです。"))
    data = request.POST if request.method == "POST" else None
    action = data.get("action", "send") if data else ""
    topics = data.getlist("topics") if data else _case_topics(actor, case)
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
        routing_choices=_routing_choices(),
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
    to_organisation = Organisation.objects.get(code=cleaned["to_organisation"])
    try:
        with transaction.atomic():
            if action == "consent_send":
                _record_consent(actor, case, to_organisation, consent_form)
            referral = services.referral_send(
                actor=actor,
                case=case,
                to_organisation=to_organisation,
                reason=cleaned["reason"],
                topics=cleaned["topics"],
            )
    except Conflict as exc:
        if exc.code == "consent_required":
            context["consent_needed"] = True
            context["consent_message"] = exc.detail
            # Not a failure for the user: the page's next step is recording
            # the consent, so it answers 200 like any form step.
            return render(request, "crm/referrals/referral_form.html", context)
        form.add_error("to_organisation", exc.detail)
        return render(request, "crm/referrals/referral_form.html", context, status=409)
    except _ConsentInvalid:
        return render(request, "crm/referrals/referral_form.html", context, status=400)
    except DomainError as exc:
        add_domain_error(form, exc)
        return render(request, "crm/referrals/referral_form.html", context, status=400)
    messages.success(
        request,
        _("%(organisation)s へ紹介しました。回答期限は %(date)s です。")
        % {
            "organisation": to_organisation.name,
            "date": f"{referral.respond_by:%Y}/{referral.respond_by.month}/{referral.respond_by.day}",
        },
    )
    url = reverse("crm:case-detail", args=[case.pk])
    return redirect(f"{url}#referral-{referral.pk}")


class _ConsentInvalid(Exception):
    """Abort the write: the consent form already carries the message."""


def _record_consent(actor, case: Case, to_organisation, consent_form) -> None:
    cleaned = consent_form.cleaned_data
    scope = cleaned["scope"]
    try:
        services.consent_record(
            actor=actor,
            company=case.company,
            scope=scope,
            obtained_on=cleaned["obtained_on"],
            method=cleaned["method"],
            organisations=(
                [to_organisation.code] if scope == ConsentScope.ORGANISATIONS else []
            ),
        )
    except DomainError as exc:
        add_domain_error(consent_form, exc)
        raise _ConsentInvalid from exc


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
    qs = referral_records_visible_to(actor).filter(
        **{
            "to_organisation_id" if box == "in" else "from_organisation_id": (
                actor.organisation_id
            )
        }
    )
    if status:
        qs = qs.filter(status=status)
    referrals = list(
        qs.select_related(
            "case__company",
            "from_organisation",
            "to_organisation",
            "sent_by",
            "assignee",
        )
        .prefetch_related("topics")
        .annotate(
            # A receiver no longer sees the case of a declined referral:
            # link it only when the case page would open.
            case_visible=Exists(
                selectors.cases_visible_to(actor).filter(pk=OuterRef("case_id"))
            )
        )
        .order_by("-sent_at", "-id")[:LIST_LIMIT]
    )
    for r in referrals:
        r.overdue = r.status == ReferralStatus.SENT and r.respond_by < today
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
            "members": _member_choices(actor.organisation_id)
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
        "accept": services.referral_accept,
        "decline": services.referral_decline,
        "complete": services.referral_complete,
        "cancel": services.referral_cancel,
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
        get_user_model().objects.filter(pk=int(assignee_id)).first()
        if assignee_id.isascii() and assignee_id.isdigit()
        else None
    )
    try:
        services.referral_assign(actor=actor, referral=referral, assignee=assignee)
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


# --- Coordinator board --------------------------------------------------------


def _require_board(actor) -> None:
    if not actor.has_role(*ASSIGNING_ROLES):
        raise DjangoPermissionDenied(
            _("ボードはコーディネーター・管理者・組織管理者が使えます。")
        )


def _count(qs) -> Coalesce:
    """Return a correlated COUNT subquery (one per row, no join fan-out)."""
    return Coalesce(
        Subquery(
            qs.values("case_id").annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def _member_choices(organisation_id: int) -> list[tuple[int, str]]:
    members = (
        Membership.objects.filter(
            organisation_id=organisation_id, is_active=True, user__is_active=True
        )
        .select_related("user")
        .order_by("user__username")
    )
    return [
        (
            m.user_id,
            f"{person_name(m.user)}（{m.get_role_display()}）",
        )
        for m in members
    ]


@login_required
def board(request):
    """Open cases of my organisation (and a hub's cases) with what needs attention."""
    actor = web_actor(request)
    _require_board(actor)
    today = timezone.localdate()
    qs = selectors.cases_visible_to(actor).filter(status=CaseStatus.OPEN)
    is_hub = (
        actor.has_role("coordinator") and hub_prefecture_codes(actor.organisation) != []
    )
    if not is_hub:
        qs = qs.filter(organisation_id=actor.organisation_id)
    open_follow_ups = FollowUp.objects.filter(
        case_id=OuterRef("pk"), status=FollowUpStatus.OPEN
    )
    last_consultation = (
        selectors.consultations_visible_to(actor)
        .filter(case_id=OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    cases = list(
        qs.annotate(
            last_activity=Subquery(last_consultation),
            overdue_follow_ups=_count(open_follow_ups.filter(due_on__lt=today)),
            waiting_referrals=_count(
                Referral.objects.filter(
                    case_id=OuterRef("pk"), status=ReferralStatus.SENT
                )
            ),
            escalated=_count(open_follow_ups.filter(escalated_at__isnull=False))
            + _count(
                Referral.objects.filter(
                    case_id=OuterRef("pk"),
                    status=ReferralStatus.SENT,
                    escalated_at__isnull=False,
                )
            ),
        ).order_by("-escalated", "-overdue_follow_ups", "-waiting_referrals", "-id")[
            :LIST_LIMIT
        ]
    )
    return render(
        request,
        "crm/referrals/board.html",
        {
            "cases": cases,
            "assign_form": AssignForm(
                member_choices=_member_choices(actor.organisation_id)
            ),
            "own_organisation_id": actor.organisation_id,
            "limit": LIST_LIMIT,
            "is_hub": is_hub,
            # Accepted referrals to my organisation: the receiving side's work.
            "received": referral_records_visible_to(actor)
            .filter(
                to_organisation_id=actor.organisation_id,
                status=ReferralStatus.ACCEPTED,
            )
            .select_related("case__company", "from_organisation", "assignee")
            .order_by("-answered_at", "-id")[:LIST_LIMIT],
        },
    )


@login_required
@require_POST
def case_assign(request, pk: int):
    """Assign a case of my organisation to a member of staff (audited, notifies)."""
    actor = web_actor(request)
    case = get_object_or_404(selectors.cases_visible_to(actor), pk=pk)
    form = AssignForm(
        request.POST, member_choices=_member_choices(case.organisation_id)
    )
    if not form.is_valid():
        messages.warning(
            request, _("担当者は案件を担当する組織の職員から選んでください。")
        )
        return _board_or_case(actor, case)
    assignee = (
        Membership.objects.select_related("user")
        .get(
            organisation_id=case.organisation_id,
            user_id=form.cleaned_data["assignee"],
            is_active=True,
        )
        .user
    )
    try:
        services.case_assign(actor=actor, case=case, assignee=assignee)
    except DomainError as exc:
        messages.warning(request, exc.detail)
    else:
        messages.success(
            request,
            _("#%(case)s の担当者を %(who)s に変更しました。")
            % {
                "case": case.pk,
                "who": person_name(assignee),
            },
        )
    return _board_or_case(actor, case)


def _board_or_case(actor, case: Case):
    """Go back to the board, or to the case for someone the board refuses."""
    if actor.has_role(*ASSIGNING_ROLES):
        return redirect("crm:board")
    return redirect("crm:case-detail", pk=case.pk)


# --- Notifications ------------------------------------------------------------


def _notification_links(notifications: list[Notification]) -> None:
    """Attach the page each notification is about, from the one link registry.

    The e-mails link through crm.services.notifications.notification_path
    (cases, referrals, follow-ups, the digest's board, programs' enrolments…);
    the page uses the same registry, so every notification an e-mail links
    is linked here too. Notifications about one object share one lookup.
    """
    paths: dict[tuple[str, str], str] = {}
    for n in notifications:
        key = (n.object_type, n.object_id)
        if key not in paths:
            paths[key] = notification_path(n) or ""
        n.url = paths[key]


@login_required
def notification_list(request):
    """The user's notifications, newest first, unread ones marked."""
    notifications = list(
        Notification.objects.filter(recipient=request.user).order_by(
            "-created_at", "-id"
        )[:NOTIFICATION_LIMIT]
    )
    _notification_links(notifications)
    return render(
        request,
        "crm/referrals/notification_list.html",
        {
            "notifications": notifications,
            "unread": sum(1 for n in notifications if n.read_at is None),
            "limit": NOTIFICATION_LIMIT,
        },
    )


@login_required
@require_POST
def notification_read(request, pk: int):
    """Mark one notification read; someone else's is 404."""
    # Notifications are the user's, whatever organisation they act for.
    actor = Actor(user=request.user)
    notification = Notification.objects.filter(pk=pk, recipient=request.user).first()
    if notification is None:
        raise Http404
    services.notification_read(actor=actor, notification=notification)
    return redirect("crm:notification-list")


@login_required
@require_POST
def notification_read_all(request):
    """Mark every unread notification of the user read."""
    actor = Actor(user=request.user)
    unread = Notification.objects.filter(
        recipient=request.user, read_at__isnull=True
    ).order_by("pk")[:LIST_LIMIT]
    with transaction.atomic():
        for notification in unread:
            services.notification_read(actor=actor, notification=notification)
    messages.success(request, _("すべて既読にしました。"))
    return redirect("crm:notification-list")
