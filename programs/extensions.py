"""Everything programs plugs into crm and into the API router, in one place.

Dependencies point programs → crm, so crm cannot name programs' models or
views; programs adds what it owns here. `register()` (called by
ProgramsConfig.ready()) adds the "enrolments" export kind, the program
milestones of the reminder sweep with their notification subjects, link and
audience, and the managers' page's program figures, each through a crm
registry listed in crm/extensions.py. `api_register(router)` (called by
config/urls.py) adds the API resources programs owns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crm.extensions import (
    notification_audience_register,
    notification_link_register,
    notification_subject_register,
    program_statistics_register,
    reminder_source_register,
)
from support_network.choices import Role

if TYPE_CHECKING:
    from rest_framework.routers import BaseRouter


def register() -> None:
    """Plug programs into crm's registries; called by ProgramsConfig.ready()."""
    from programs import exports
    from programs.reminders import (
        MILESTONES,
        SUBJECTS,
        enrolment_path,
        milestone_source,
    )
    from programs.selectors import enrolments_visible_to
    from programs.statistics import program_statistics

    exports.register()  # the "enrolments" export kind
    for name, milestone in MILESTONES.items():
        reminder_source_register(name, milestone_source(milestone))
    for kind, subject in SUBJECTS.items():
        notification_subject_register(kind, subject)
    notification_link_register("enrolment", enrolment_path)
    # Only who may see the enrolment is told (issue 26; docs/visibility.md
    # "Enrolments"): the operator's members (experts excepted) always may,
    # the applying organisation's when there is no case; anyone else (e.g. a
    # coordinator of the applying organisation on a confidential case) is
    # asked of enrolments_visible_to.

    def sure(m, e) -> bool:
        if m.role == Role.EXPERT:
            return False
        if m.organisation_id == e.program.operator_id:
            return True
        return e.case_id is None and m.organisation_id == e.organisation_id

    notification_audience_register("enrolment", enrolments_visible_to, sure=sure)
    program_statistics_register(program_statistics)  # the managers' page


def api_register(router: BaseRouter) -> None:
    """Register the API resources programs owns on router (config/urls.py).

    `programs/` itself (ProgramViewSet, with its `estimate` action) is
    registered by config/urls.py, in its place in the API's order.
    """
    from programs.views.enrolments import EnrolmentViewSet

    router.register("enrolments", EnrolmentViewSet, basename="enrolment")
