"""The support team of an enrolment: experts put on it and taken off it.

Only the program's operator forms teams; a program listing `rules.team`
(IPAS: an IP expert and a business expert) takes only those roles.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from crm.services.audit import audit_record
from programs.choices import TeamRole
from programs.lock_objects import enrolment_lock
from programs.models import Enrolment, Program, TeamMember
from programs.permissions import program_require_operator_staff
from programs.selectors import team_candidates
from programs.services.support_days import PLAN_STATUSES
from programs.text import program_name
from support_network.actors import Actor
from support_network.errors import Conflict, ValidationFailed
from support_network.models import Membership


def _team_roles(program: Program) -> list[str]:
    """Return the roles a program's team is made of (IPAS: IP + business expert)."""
    return list(program.rules.get("team") or [])


@transaction.atomic
def enrolment_team_add(
    *,
    actor: Actor,
    enrolment: Enrolment,
    membership: Membership | int,
    role: str,
) -> TeamMember:
    """Put an expert on the enrolment's support team, as the program's operator.

    The team is drawn from experts' memberships (any organisation of the
    network, role "expert"). A program listing `rules.team` (IPAS: an IP
    expert and a business expert, reference/programs.md §3) takes only those
    roles. Teams are formed for accepted and active enrolments.
    """
    enrolment = enrolment_lock(enrolment.pk)
    program = enrolment.program
    program_require_operator_staff(actor, program)
    if enrolment.status not in PLAN_STATUSES:
        raise Conflict(
            _("「%(status)s」の参加には支援チームを編成できません。")
            % {"status": enrolment.get_status_display()},
            code="enrolment_not_active",
            current_status=enrolment.status,
        )
    allowed = _team_roles(program) or list(TeamRole.values)
    if role not in allowed:
        raise ValidationFailed(
            _("%(program)sの支援チームの役割は%(roles)sです。")
            % {
                "program": program_name(program),
                "roles": "、".join(str(TeamRole(r).label) for r in allowed),
            },
            field="role",
        )
    pk = membership.pk if isinstance(membership, Membership) else membership
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = None
    found = team_candidates().filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise ValidationFailed(
            _("専門家として登録された所属を選んでください。"), field="membership"
        )
    if TeamMember.objects.filter(enrolment=enrolment, membership=found).exists():
        raise Conflict(
            _("%(user)sは既にこの支援チームにいます。")
            % {"user": found.user.get_username()},
            code="already_on_team",
        )
    member = TeamMember.objects.create(enrolment=enrolment, membership=found, role=role)
    audit_record(
        actor=actor,
        action="enrolment.team_add",
        obj=enrolment,
        data={"membership": found.pk, "role": role},
    )
    return member


@transaction.atomic
def enrolment_team_remove(*, actor: Actor, member: TeamMember) -> None:
    """Take an expert off an enrolment's support team, as the program's operator."""
    enrolment = enrolment_lock(member.enrolment_id)
    program_require_operator_staff(actor, enrolment.program)
    deleted, _rows = TeamMember.objects.filter(
        pk=member.pk, enrolment=enrolment
    ).delete()
    if deleted:
        audit_record(
            actor=actor,
            action="enrolment.team_remove",
            obj=enrolment,
            data={"membership": member.membership_id, "role": member.role},
        )
