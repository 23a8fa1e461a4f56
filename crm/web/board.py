"""The coordinator board: open cases that need attention, and assigning them.

Coordinators, managers and org admins see their organisation's open cases
(a hub's coordinator those of the cases the hub rule shows them), ranked by
escalations, overdue follow-ups and waiting referrals, all read by
`crm.selectors.board.board_get`; assigning goes through `services.case_assign`.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.models import Case
from crm.permissions import MANAGING_ROLES as ASSIGNING_ROLES
from crm.selectors.board import assignable_member_get, board_get
from crm.selectors.visibility import cases_visible_to
from crm.services import assignment as assignment_services
from crm.web.common import member_choices
from crm.web.forms_referrals import AssignForm
from crm.web.referrals import LIST_LIMIT
from support_network.errors import DomainError
from support_network.people import person_name
from support_network.web.actors import web_actor


def _require_board(actor) -> None:
    if not actor.has_role(*ASSIGNING_ROLES):
        raise DjangoPermissionDenied(
            _("ボードはコーディネーター・管理者・組織管理者が使えます。")
        )


@login_required
def board(request):
    """Open cases of my organisation (and a hub's cases) with what needs attention."""
    actor = web_actor(request)
    _require_board(actor)
    today = timezone.localdate()
    board = board_get(actor, today=today, limit=LIST_LIMIT)
    return render(
        request,
        "crm/referrals/board.html",
        {
            "cases": board.cases,
            "assign_form": AssignForm(
                member_choices=member_choices(actor.organisation_id)
            ),
            "own_organisation_id": actor.organisation_id,
            "limit": LIST_LIMIT,
            "is_hub": board.is_hub,
            # Accepted referrals to my organisation: the receiving side's work.
            "received": board.received,
        },
    )


@login_required
@require_POST
def case_assign(request, pk: int):
    """Assign a case of my organisation to a member of staff (audited, notifies)."""
    actor = web_actor(request)
    case = get_object_or_404(cases_visible_to(actor), pk=pk)
    form = AssignForm(request.POST, member_choices=member_choices(case.organisation_id))
    if not form.is_valid():
        messages.warning(
            request, _("担当者は案件を担当する組織の職員から選んでください。")
        )
        return _board_or_case(actor, case)
    assignee = assignable_member_get(
        case.organisation_id, form.cleaned_data["assignee"]
    )
    try:
        assignment_services.case_assign(actor=actor, case=case, assignee=assignee)
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
