"""Accounts an organisation runs itself: invite, change role, deactivate, unlock.

Org admins administer their own organisation's memberships (DESIGN.md "Who
may change what" rule 7), on the web (support_network/web/members.py) and
in the API (`members/`, support_network/views/members.py), both through the
functions here. An organisation always keeps one active org admin
(409 `last_org_admin`).

support_network cannot import crm (dependencies point programs → crm →
support_network), so the audit trail, which lives in crm, plugs in through
`member_event_hook_register`: crm registers a hook that writes each event.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.validators import ASCIIUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from support_network.actors import Actor
from support_network.choices import Role
from support_network.errors import (
    Conflict,
    NotVisible,
    PermissionDenied,
    ValidationFailed,
)
from support_network.lock_objects import organisation_lock
from support_network.models import Membership
from support_network.people import name_split, person_name
from support_network.selectors import active_memberships
from support_network.services.password import (
    account_mail_send,
    password_link_expiry,
    password_link_path,
)

# Audit actions (crm.AuditEvent.action) of the account administration.
MEMBER_INVITED = "member.invited"
MEMBER_INVITATION_SENT = "member.invitation_sent"
MEMBER_CHANGED = "member.changed"
MEMBER_UNLOCKED = "member.unlocked"

_member_event_hooks: list[Callable[..., None]] = []


def member_event_hook_register(function: Callable[..., None]) -> None:
    """Call function(actor=, action=, membership=, data=) on every account change.

    The hook runs inside the change's transaction, so an audit event is
    written together with the change or not at all.
    """
    if function not in _member_event_hooks:
        _member_event_hooks.append(function)


def _member_event(
    *, actor: Actor, action: str, membership: Membership, data: dict
) -> None:
    for function in _member_event_hooks:
        function(actor=actor, action=action, membership=membership, data=data)


def member_event_emit(
    *, actor: Actor, action: str, membership: Membership, data: dict
) -> None:
    """Tell the registered hooks (crm's audit) of a membership change made elsewhere
    in support_network (single sign-on: support_network/services/sso.py)."""
    _member_event(actor=actor, action=action, membership=membership, data=data)


def org_admin_require(actor: Actor) -> None:
    """Refuse anybody but an org admin acting for their organisation (403)."""
    if actor.membership is None or actor.role != Role.ORG_ADMIN:
        raise PermissionDenied(
            _("メンバーを管理できるのは組織管理者だけです。"),
            code="org_admin_only",
        )


def _own_membership(actor: Actor, membership: Membership) -> None:
    # Another organisation's membership does not exist for this actor.
    if membership.organisation_id != actor.organisation_id:
        raise NotVisible(_("見つかりません。"), code="not_found")


def _role_check(role: str) -> None:
    if role not in Role.values:
        raise ValidationFailed(
            _("役割は %(roles)s のいずれかです。") % {"roles": ", ".join(Role.values)},
            field="role",
        )


def member_invitation_mail_send(*, membership_id: int, inviter_id: int | None) -> int:
    """Mail the invitation with a fresh set-password link; return 1, or 0 if moot.

    Run by `member_invitation_mail_task` after the invitation is committed;
    an SMTP failure raises, and the task retries it. Nothing is sent once
    the member has set a password or the membership was deactivated.
    """
    membership = (
        Membership.objects.select_related("user", "organisation")
        .filter(pk=membership_id, is_active=True)
        .first()
    )
    if membership is None or not membership.user.email:
        return 0
    user = membership.user
    if user.has_usable_password():
        return 0
    inviter = get_user_model()._default_manager.filter(pk=inviter_id).first()
    context = {
        "name": person_name(user),
        "username": user.get_username(),
        "organisation": membership.organisation.name,
        "role": membership.get_role_display(),
        "inviter": person_name(inviter) or _("組織管理者"),
        "link": settings.CRM_SITE_URL.rstrip("/") + password_link_path(user),
        "login_link": settings.CRM_SITE_URL.rstrip("/") + reverse("login"),
        "expires_at": password_link_expiry(),
    }
    account_mail_send(
        "emails/member_invitation_subject.txt",
        "emails/member_invitation.txt",
        context,
        user.email,
    )
    return 1


def _invitation_mail_queue(membership: Membership, actor: Actor) -> None:
    from support_network.tasks import member_invitation_mail_task

    member_invitation_mail_task.delay_on_commit(membership.pk, actor.user.pk)


@transaction.atomic
def member_invite(
    *, actor: Actor, username: str, email: str, name: str, role: str
) -> Membership:
    """Create an account and its membership of the actor's organisation.

    The account has no usable password: the invitation e-mail carries a
    one-time link to set one (valid PASSWORD_RESET_TIMEOUT). 409
    `username_taken` when the login id is in use, by anyone.
    """
    org_admin_require(actor)
    username = (username or "").strip()
    email = (email or "").strip()
    if not username:
        raise ValidationFailed(_("ログインIDを入力してください。"), field="username")
    try:
        ASCIIUsernameValidator()(username)
    except ValidationError as exc:
        raise ValidationFailed(
            _("ログインIDに使えるのは英数字と @ . + - _ だけです。"), field="username"
        ) from exc
    if len(username) > 150:
        raise ValidationFailed(
            _("ログインIDは 150 文字以内で入力してください。"), field="username"
        )
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationFailed(
            _("有効なメールアドレスを入力してください。"), field="email"
        ) from exc
    last_name, first_name = name_split(name)
    if not last_name:
        raise ValidationFailed(_("氏名（姓 名）を入力してください。"), field="name")
    if len(last_name) > 150 or len(first_name) > 150:
        raise ValidationFailed(
            _("姓・名はそれぞれ 150 文字以内で入力してください。"), field="name"
        )
    _role_check(role)
    user_model = get_user_model()
    taken = Conflict(
        _("ログインID「%(username)s」は既に使われています。") % {"username": username},
        code="username_taken",
    )
    if user_model._default_manager.filter(username__iexact=username).exists():
        raise taken
    try:
        with transaction.atomic():
            user = user_model(
                username=username,
                email=email,
                last_name=last_name,
                first_name=first_name,
            )
            user.set_unusable_password()
            user.save()
    except IntegrityError as exc:  # the same id invited at the same moment
        raise taken from exc
    membership = Membership.objects.create(
        user=user, organisation=actor.organisation, role=role, is_active=True
    )
    _member_event(
        actor=actor,
        action=MEMBER_INVITED,
        membership=membership,
        data={"username": username, "role": role, "email": email},
    )
    _invitation_mail_queue(membership, actor)
    return membership


@transaction.atomic
def member_invitation_resend(*, actor: Actor, membership: Membership) -> Membership:
    """Send a new set-password link to a member who has not set a password yet."""
    org_admin_require(actor)
    _own_membership(actor, membership)
    user = membership.user
    if not membership.is_active:
        raise Conflict(
            _("無効にしたメンバーには招待メールを送れません。先に有効にしてください。"),
            code="member_inactive",
        )
    if user.has_usable_password():
        raise Conflict(
            _(
                "このメンバーは既にパスワードを設定しています。"
                "パスワードを忘れた場合はログイン画面の「パスワードを忘れた方」から再設定できます。"
            ),
            code="password_already_set",
        )
    if not user.email:
        raise ValidationFailed(_("メールアドレスが登録されていません。"), field="email")
    _member_event(
        actor=actor,
        action=MEMBER_INVITATION_SENT,
        membership=membership,
        data={"email": user.email},
    )
    _invitation_mail_queue(membership, actor)
    return membership


def _would_leave_no_org_admin(membership: Membership, role: str, is_active: bool):
    if membership.role != Role.ORG_ADMIN or not membership.is_active:
        return False
    if role == Role.ORG_ADMIN and is_active:
        return False
    others = active_memberships().filter(
        organisation_id=membership.organisation_id, role=Role.ORG_ADMIN
    )
    return not others.exclude(pk=membership.pk).exists()


def last_org_admin_check(membership: Membership, *, role: str, is_active: bool):
    """Refuse (409 `last_org_admin`) a change leaving no active org admin.

    membership holds the stored values; role and is_active the new ones.
    member_update calls it under the organisation lock; the admin site's
    membership forms call it too, so no path removes the last org admin.
    """
    if _would_leave_no_org_admin(membership, role, is_active):
        raise Conflict(
            _(
                "組織管理者がいなくなるため変更できません。"
                "先に別のメンバーを組織管理者にしてください。"
            ),
            code="last_org_admin",
        )


@transaction.atomic
def member_update(
    *,
    actor: Actor,
    membership: Membership,
    role: str | None = None,
    is_active: bool | None = None,
) -> Membership:
    """Change a member's role or (de)activate them.

    A deactivated membership acts for the organisation no more from the
    next request on, in web sessions and API tokens alike: every request
    resolves its acting membership through `memberships_of`, which reads
    `active_memberships()`. 409 `last_org_admin` when the change would leave
    the organisation without an active org admin; the organisation row is
    locked, so two admins demoting each other at once cannot both succeed.
    """
    org_admin_require(actor)
    _own_membership(actor, membership)
    if role is not None:
        _role_check(role)
    organisation_lock(membership.organisation_id)
    membership = Membership.objects.select_related("user", "organisation").get(
        pk=membership.pk
    )
    new_role = membership.role if role is None else role
    new_active = membership.is_active if is_active is None else bool(is_active)
    last_org_admin_check(membership, role=new_role, is_active=new_active)
    changes = {}
    if new_role != membership.role:
        changes["role"] = [membership.role, new_role]
    if new_active != membership.is_active:
        changes["is_active"] = [membership.is_active, new_active]
    if not changes:
        return membership
    membership.role = new_role
    membership.is_active = new_active
    membership.save(update_fields=["role", "is_active", "updated_at"])
    _member_event(
        actor=actor,
        action=MEMBER_CHANGED,
        membership=membership,
        data={"username": membership.user.get_username(), "changes": changes},
    )
    return membership


@transaction.atomic
def member_unlock(*, actor: Actor, membership: Membership) -> int:
    """Clear the login lockout (django-axes) of the member's login id.

    Return the number of failure records removed. This clears the
    username's records from every address, so the per-address ceiling
    (support_network/auth.py) no longer counts them either.
    """
    from axes.utils import reset

    org_admin_require(actor)
    _own_membership(actor, membership)
    username = membership.user.get_username()
    removed = reset(username=username)
    _member_event(
        actor=actor,
        action=MEMBER_UNLOCKED,
        membership=membership,
        data={"username": username, "removed": removed},
    )
    return removed
