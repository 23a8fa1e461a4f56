"""Web pages of the accounts an organisation runs itself (org admins).

`/members/`: the acting organisation's members, with invite, role change,
deactivate / reactivate, unlock and a new invitation link. Everything goes
through support_network/services/accounts.py, as the API `members/` does;
a refused action is shown as a message on the list.
"""

from __future__ import annotations

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from support_network.errors import DomainError
from support_network.forms_accounts import (
    MemberActiveForm,
    MemberInviteForm,
    MemberRoleForm,
)
from support_network.people import person_name
from support_network.selectors import members_of_organisation
from support_network.services.accounts import (
    member_invitation_resend,
    member_invite,
    member_unlock,
    member_update,
    org_admin_require,
)
from support_network.web.actors import web_actor


def _admin_actor(request):
    actor = web_actor(request)
    org_admin_require(actor)  # 403 page otherwise (DomainErrorPageMiddleware)
    return actor


def _locked_usernames(usernames: list[str]) -> set[str]:
    limit = getattr(settings, "AXES_FAILURE_LIMIT", 0)
    if not limit:
        return set()
    return set(
        AccessAttempt.objects.filter(
            username__in=usernames, failures_since_start__gte=limit
        ).values_list("username", flat=True)
    )


@login_required
def member_list(request):
    """List the organisation's members, active ones first."""
    actor = _admin_actor(request)
    members = list(
        members_of_organisation(actor.organisation_id).order_by(
            "-is_active", "user__last_name", "user__first_name", "user__username"
        )
    )
    locked = _locked_usernames([m.user.username for m in members])
    for member in members:
        member.is_locked = member.user.username in locked
        member.has_password = member.user.has_usable_password()
        member.role_form = MemberRoleForm(
            initial={"role": member.role}, auto_id=f"id_m{member.pk}_%s"
        )
    return render(
        request,
        "accounts/member_list.html",
        {"members": members, "organisation": actor.organisation},
    )


@login_required
def member_invite_page(request):
    """Invite a member: an account, a membership and a set-password e-mail."""
    actor = _admin_actor(request)
    form = MemberInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = member_invite(actor=actor, **form.cleaned_data)
        except DomainError as exc:
            field = exc.field if exc.field in form.fields else None
            if exc.code == "username_taken":
                field = "username"
            form.add_error(field, exc.detail)
        else:
            messages.success(
                request,
                _("%(name)s さんを招待しました。%(email)s に招待メールを送りました。")
                % {
                    "name": person_name(membership.user),
                    "email": membership.user.email,
                },
            )
            return redirect("members")
    return render(
        request,
        "accounts/member_invite.html",
        {"form": form, "organisation": actor.organisation},
    )


def _member(actor, pk: int):
    return get_object_or_404(members_of_organisation(actor.organisation_id), pk=pk)


def _done(request, function, success: str):
    try:
        function()
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, success)
    return redirect("members")


@login_required
@require_POST
def member_role(request, pk: int):
    actor = _admin_actor(request)
    membership = _member(actor, pk)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("役割を選んでください。"))
        return redirect("members")
    role = form.cleaned_data["role"]
    return _done(
        request,
        lambda: member_update(actor=actor, membership=membership, role=role),
        _("%(name)s さんの役割を変更しました。")
        % {"name": person_name(membership.user)},
    )


@login_required
@require_POST
def member_active(request, pk: int):
    actor = _admin_actor(request)
    membership = _member(actor, pk)
    form = MemberActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("操作を選んでください。"))
        return redirect("members")
    is_active = form.cleaned_data["is_active"]
    name = person_name(membership.user)
    return _done(
        request,
        lambda: member_update(actor=actor, membership=membership, is_active=is_active),
        (
            _("%(name)s さんを有効にしました。")
            if is_active
            else _(
                "%(name)s さんを無効にしました。この組織としての操作は直ちにできなくなります。"
            )
        )
        % {"name": name},
    )


@login_required
@require_POST
def member_unlock_page(request, pk: int):
    actor = _admin_actor(request)
    membership = _member(actor, pk)
    return _done(
        request,
        lambda: member_unlock(actor=actor, membership=membership),
        _("%(name)s さんのログインロックを解除しました。")
        % {"name": person_name(membership.user)},
    )


@login_required
@require_POST
def member_resend(request, pk: int):
    actor = _admin_actor(request)
    membership = _member(actor, pk)
    return _done(
        request,
        lambda: member_invitation_resend(actor=actor, membership=membership),
        _("%(email)s に招待メールを再送しました。") % {"email": membership.user.email},
    )
