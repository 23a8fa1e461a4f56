"""Audit events of the accounts an organisation runs (DESIGN.md rule 7).

support_network/services_accounts.py cannot import crm; it calls the hook
registered here (crm/apps.py) inside the change's transaction. Each event
names the membership as its object and belongs to its organisation, so
that organisation's org admins read it in GET /api/v1/audit-events/
(`member.invited`, `member.changed` with `changes`, `member.unlocked`,
`member.invitation_sent`).
"""

from __future__ import annotations

from crm.services.audit import audit_record
from support_network.actors import Actor


def audit_member_event(*, actor, action, membership, data) -> None:
    """Write one audit event of an account change."""
    audit_record(
        actor=actor,
        action=action,
        obj=membership,
        data=data,
        organisation=membership.organisation,
    )


def audit_sso_event(*, action, organisation, user, data) -> None:
    """Write one audit event of single sign-on (`sso.login`, `sso.login_refused`).

    It names the account as its object (none for a refusal before any
    account is known) and belongs to the IdP's organisation.
    """
    audit_record(
        actor=Actor(user=user) if user is not None and action == "sso.login" else None,
        action=action,
        obj=user,
        data=data,
        organisation=organisation,
    )
