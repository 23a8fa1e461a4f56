"""Single sign-on: each organisation signs its staff in through its own OpenID Provider.

The protocol (authorization code with PKCE, state, nonce, the ID token's
signature, issuer, audience and lifetime) is mozilla-django-oidc's, set up
per organisation in support_network/oidc.py. This module holds the rules
around it, one home each:

- which organisation's IdP a login goes to (`provider_for_login`: the
  organisation picked, or the domain of the e-mail typed), its discovery
  document and its client secret, read from the environment and never
  from the database: support_network/services/sso_config.py (imported here);
- what an ID token's claims do (`sso_login_apply`): the first login
  creates the user; the groups claim, through the IdP's group mapping,
  decides the memberships and roles in the organisations the IdP governs
  (its own and those delegated to it), at every login. A group removed at
  the IdP ends that membership; a user with no mapped group is refused; a
  mapping to an organisation the IdP does not govern refuses the login and
  changes nothing;
- whether the IdP asserted a second factor (`mfa_asserted`);
- whether a user may log in with a password at all (`password_login_refused`).

Every SSO login, refused login (with its reason) and membership change made
by a login is an audit event; support_network cannot import crm, so crm
registers the writer (`sso_event_hook_register`, and the member hook of
support_network/services/accounts.py for memberships).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from support_network.actors import Actor
from support_network.choices import Role
from support_network.models import (
    IdentityProvider,
    Membership,
    Organisation,
    SsoIdentity,
)
from support_network.services import accounts
from support_network.services.sso_config import (  # noqa: F401 (one import for callers)
    BAD_STATE,
    BAD_TOKEN,
    FOREIGN_ORGANISATION,
    IDP_ERROR,
    NO_MAPPED_GROUP,
    UNKNOWN_ORGANISATION,
    USER_INACTIVE,
    SsoRefused,
    clock_skew_seconds,
    enabled_providers,
    provider_client_secret,
    provider_email_domains,
    provider_for_login,
    provider_metadata,
    provider_metadata_forget,
)

# Audit actions (crm.AuditEvent.action).
SSO_LOGIN = "sso.login"
SSO_LOGIN_REFUSED = "sso.login_refused"
SSO_MEMBERSHIP_CREATED = "sso.membership_created"
SSO_MEMBERSHIP_CHANGED = "sso.membership_changed"
SSO_MEMBERSHIP_ENDED = "sso.membership_ended"

# amr values (RFC 8176) that mean a second factor was used at the IdP.
MFA_AMR = frozenset({"mfa", "otp", "hwk"})
# When several groups give roles in one organisation, the first role here wins.
ROLE_PRECEDENCE = (
    Role.ORG_ADMIN,
    Role.MANAGER,
    Role.COORDINATOR,
    Role.WINDOW_STAFF,
    Role.EXPERT,
)

_sso_event_hooks: list[Callable[..., None]] = []


def sso_event_hook_register(function: Callable[..., None]) -> None:
    """Call function(action=, organisation=, user=, data=) on every SSO login and refusal."""
    if function not in _sso_event_hooks:
        _sso_event_hooks.append(function)


def _sso_event(*, action: str, organisation, user, data: dict) -> None:
    for function in _sso_event_hooks:
        function(action=action, organisation=organisation, user=user, data=data)


# --- rules on claims -------------------------------------------------------


def mfa_asserted(provider: IdentityProvider, claims: dict) -> bool:
    """Return whether the ID token says a second factor was used (amr, or a configured acr)."""
    amr = claims.get("amr") or []
    if isinstance(amr, str):
        amr = amr.split()
    if MFA_AMR.intersection(str(value).lower() for value in amr):
        return True
    acr_values = set(provider.mfa_acr_values.split())
    return bool(acr_values) and str(claims.get("acr") or "") in acr_values


def password_login_refused(user) -> bool:
    """Return whether user must sign in through their organisation's IdP (no password)."""
    if user is None or not getattr(user, "pk", None):
        return False
    return Membership.objects.filter(
        user=user,
        is_active=True,
        organisation__identity_provider__is_enabled=True,
        organisation__identity_provider__passwords_disabled=True,
    ).exists()


def _governed_organisation_ids(provider: IdentityProvider) -> set[int]:
    return {provider.organisation_id} | set(
        provider.delegated_organisations.values_list("pk", flat=True)
    )


def _groups(provider: IdentityProvider, claims: dict) -> list[str]:
    value = claims.get(provider.groups_claim) or []
    if isinstance(value, str):
        value = value.split()
    return [str(group) for group in value]


def desired_roles(provider: IdentityProvider, claims: dict) -> dict[int, str]:
    """Return {organisation id: role} that the claims' groups give through the mapping.

    Refused (`foreign_organisation`) if a mapped group names an organisation
    the IdP does not govern (a mapping left after a delegation ended).
    """
    groups = set(_groups(provider, claims))
    governed = _governed_organisation_ids(provider)
    roles: dict[int, list[str]] = {}
    for line in provider.groups.filter(group__in=groups).select_related("organisation"):
        if line.organisation_id not in governed:
            raise SsoRefused(
                _(
                    "所属組織の認証サーバーが、委任されていない組織（%(org)s）の所属を"
                    "与えようとしました。ログインできません。システム管理者に連絡してください。"
                )
                % {"org": line.organisation.name},
                code=FOREIGN_ORGANISATION,
            )
        roles.setdefault(line.organisation_id, []).append(line.role)
    return {
        org_id: min(found, key=ROLE_PRECEDENCE.index) for org_id, found in roles.items()
    }


def _username_for(claims: dict, provider: IdentityProvider) -> str:
    User = get_user_model()
    email = str(claims.get("email") or "").strip()
    if (
        email
        and len(email) <= 150
        and not User._default_manager.filter(username__iexact=email).exists()
    ):
        return email
    digest = hashlib.sha256(f"{provider.issuer}|{claims['sub']}".encode()).hexdigest()
    return f"sso-{provider.organisation.code}-{digest[:12]}"[:150]


def _user_from_claims(provider: IdentityProvider, claims: dict, *, now):
    """Return (user, created) for the IdP's subject; the first login creates the user."""
    identity = (
        SsoIdentity.objects.select_related("user")
        .select_for_update()
        .filter(provider=provider, subject=str(claims["sub"]))
        .first()
    )
    if identity is not None:
        user, created = identity.user, False
    else:
        User = get_user_model()
        user = User(username=_username_for(claims, provider))
        user.set_unusable_password()  # no password: the IdP is the way in
        created = True
    user.email = str(claims.get("email") or user.email or "")[:254]
    user.last_name = str(claims.get("family_name") or user.last_name or "")[:150]
    user.first_name = str(claims.get("given_name") or user.first_name or "")[:150]
    user.save()
    if identity is None:
        identity = SsoIdentity(provider=provider, subject=str(claims["sub"]), user=user)
    identity.last_login_at = now
    identity.save()
    return user, created


def _sync_memberships(provider, user, roles: dict[int, str], *, now) -> list[dict]:
    """Make user's memberships in the governed organisations what roles says."""
    governed = _governed_organisation_ids(provider)
    actor = Actor(user=user)
    existing = {
        m.organisation_id: m
        for m in Membership.objects.select_for_update()
        .filter(user=user, organisation_id__in=governed)
        .select_related("organisation")
    }
    changes = []
    for org_id in sorted(governed):
        membership = existing.get(org_id)
        role = roles.get(org_id)
        if membership is None and role is None:
            continue
        if membership is None:
            membership = Membership.objects.create(
                user=user, organisation=Organisation.objects.get(pk=org_id), role=role
            )
            action, diff = (
                SSO_MEMBERSHIP_CREATED,
                {"role": [None, role], "is_active": [None, True]},
            )
        elif role is None:
            if not membership.is_active:
                continue
            membership.is_active = False
            membership.save(update_fields=["is_active", "updated_at"])
            action, diff = SSO_MEMBERSHIP_ENDED, {"is_active": [True, False]}
        else:
            diff = {}
            if membership.role != role:
                diff["role"] = [membership.role, role]
            if not membership.is_active:
                diff["is_active"] = [False, True]
            if not diff:
                continue
            membership.role, membership.is_active = role, True
            membership.save(update_fields=["role", "is_active", "updated_at"])
            action = SSO_MEMBERSHIP_CHANGED
        data = {"via": "sso", "provider": provider.organisation.code, "changes": diff}
        accounts.member_event_emit(
            actor=actor, action=action, membership=membership, data=data
        )
        changes.append(
            {"organisation": membership.organisation.code, "action": action, **diff}
        )
    return changes


def sso_login_apply(*, provider: IdentityProvider, claims: dict, now=None):
    """Apply a verified ID token's claims: the user and their memberships; return the user.

    One transaction: a refusal (no mapped group for a new user, a foreign
    organisation) creates and changes nothing. For a known user with no
    mapped group left, the memberships end and the login is refused.
    """
    now = now or timezone.now()
    if not claims.get("sub"):
        raise SsoRefused(
            _("ID トークンに利用者の識別子 (sub) がありません。"), code=BAD_TOKEN
        )
    roles = desired_roles(provider, claims)
    for attempt in (1, 2):
        try:
            user, created, changes = _apply(provider, claims, roles, now=now)
            break
        except IntegrityError:
            # Two first logins of one person at once (two tabs): the other
            # created the account; the second try finds it.
            if attempt == 2:
                raise
    if not roles:
        # The memberships ended (committed above); the login itself is refused.
        raise SsoRefused(_no_group_message(), code=NO_MAPPED_GROUP, user_id=user.pk)
    _sso_event(
        action=SSO_LOGIN,
        organisation=provider.organisation,
        user=user,
        data={
            "provider": provider.organisation.code,
            "subject": str(claims["sub"]),
            "mfa": mfa_asserted(provider, claims),
            "groups": _groups(provider, claims)[:50],
            "created": created,
            "memberships": changes,
        },
    )
    return user


@transaction.atomic
def _apply(provider, claims, roles, *, now):
    known = SsoIdentity.objects.filter(
        provider=provider, subject=str(claims["sub"])
    ).exists()
    if not roles and not known:
        raise SsoRefused(_no_group_message(), code=NO_MAPPED_GROUP)
    user, created = _user_from_claims(provider, claims, now=now)
    if not user.is_active:
        raise SsoRefused(
            _("このユーザーは無効です。組織管理者に連絡してください。"),
            code=USER_INACTIVE,
        )
    return user, created, _sync_memberships(provider, user, roles, now=now)


def _no_group_message() -> str:
    return _(
        "所属組織のアカウントに、この CRM の役割に対応するグループがありません。"
        "所属組織の管理者にグループの設定を依頼してください。"
    )


def sso_refusal_record(
    *, provider: IdentityProvider | None, reason: str, data: dict
) -> None:
    """Audit a refused SSO login (outside the refused transaction, so it stays)."""
    user = None
    user_id = data.pop("user_id", None)
    if user_id:
        user = get_user_model()._default_manager.filter(pk=user_id).first()
    _sso_event(
        action=SSO_LOGIN_REFUSED,
        organisation=provider.organisation if provider else None,
        user=user,
        data={
            "reason": reason,
            "provider": provider.organisation.code if provider else "",
            **data,
        },
    )


def password_refused_message(*, api: bool = False) -> str:
    """The Japanese refusal of a password login for an SSO-only organisation."""
    if api:
        return _(
            "この組織ではパスワードでのログインが無効です。Web で「所属組織のアカウントで"
            "ログイン」してから、「API トークン」（/account/api-token/）でトークンを発行してください。"
        )
    return _(
        "この組織ではパスワードでのログインが無効です。上の「所属組織のアカウントでログイン」"
        "ボタンからログインしてください。"
    )
