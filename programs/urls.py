"""Routes of programs on the API router (config/urls.py calls `register`).

`programs/` itself (ProgramViewSet, with its `estimate` action) is registered
by config/urls.py; this adds the resources the programs app owns.
"""

from rest_framework.routers import BaseRouter

from programs.views.enrolments import EnrolmentViewSet

ROUTES = [("enrolments", EnrolmentViewSet, "enrolment")]


def register(router: BaseRouter) -> None:
    """Register the programs app's viewsets on router."""
    for prefix, viewset, basename in ROUTES:
        router.register(prefix, viewset, basename=basename)
