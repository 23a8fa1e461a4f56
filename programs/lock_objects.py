"""Row locks of programs, taken in one place (STYLE.md §2 Concurrency).

Read-modify-writes of an enrolment (its status, period, plan, days, team)
lock its row; acceptance and applying lock the round, so its capacity and
the duplicate check hold when two people act at once.
"""

from __future__ import annotations

from programs.models import Enrolment, Program, ProgramRound


def enrolment_lock(pk: int) -> Enrolment:
    """Lock the enrolment row for a read-modify-write."""
    return Enrolment.objects.select_for_update().get(pk=pk)


def program_round_lock(pk: int) -> ProgramRound:
    """Lock a round row while its seats are counted."""
    return ProgramRound.objects.select_for_update().get(pk=pk)


def program_round_lock_for(
    *, program: Program, fiscal_year: int
) -> ProgramRound | None:
    """Lock the round of program in fiscal_year; None when there is none."""
    return (
        ProgramRound.objects.select_for_update()
        .filter(program=program, fiscal_year=fiscal_year)
        .first()
    )
