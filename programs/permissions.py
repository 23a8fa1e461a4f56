"""Who may change a program's enrolments: the operator's staff, the support team.

Seeing is not writing (STYLE.md §1): the services ask these checks before
they write, so the API and the web UI refuse the same people.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from programs.models import Enrolment, Program
from programs.selectors import is_on_team, is_operator_staff
from support_network.actors import Actor
from support_network.errors import PermissionDenied


def program_require_operator_staff(actor: Actor, program: Program) -> None:
    if not is_operator_staff(actor, program):
        raise PermissionDenied(
            _(
                "この操作ができるのは、実施機関（%(operator)s）の"
                "コーディネーターと管理者だけです。"
            )
            % {"operator": program.operator.name}
        )


def enrolment_require_support_staff(actor: Actor, enrolment: Enrolment) -> None:
    """Let the operator's coordinators and managers and the support team through."""
    if is_operator_staff(actor, enrolment.program) or is_on_team(actor, enrolment):
        return
    raise PermissionDenied(
        _(
            "支援計画と支援日を記録できるのは、実施機関（%(operator)s）の"
            "コーディネーター・管理者と支援チームの専門家だけです。"
        )
        % {"operator": enrolment.program.operator.name}
    )
