"""Web UI routes of programs (the API routes are in programs/extensions.py)."""

from django.urls import path

from programs.web import applications, enrolments, programs

app_name = "programs"

urlpatterns = [
    path("programs/", programs.program_list, name="program-list"),
    path("programs/<slug:code>/", programs.program_detail, name="program-detail"),
    path(
        "cases/<int:case_id>/enrol/",
        applications.enrolment_apply,
        name="enrolment-apply",
    ),
    path(
        "cases/<int:case_id>/refer-to-program/",
        applications.enrolment_refer,
        name="enrolment-refer",
    ),
    path("enrolments/<int:pk>/", enrolments.enrolment_detail, name="enrolment-detail"),
    path(
        "enrolments/<int:pk>/transition/",
        enrolments.enrolment_transition,
        name="enrolment-transition",
    ),
    path(
        "enrolments/<int:pk>/plan/",
        enrolments.enrolment_plan,
        name="enrolment-plan",
    ),
    path(
        "enrolments/<int:pk>/support-days/",
        enrolments.enrolment_support_day,
        name="enrolment-support-day",
    ),
    path(
        "enrolments/<int:pk>/team/",
        enrolments.enrolment_team_add,
        name="enrolment-team-add",
    ),
    path(
        "enrolments/<int:pk>/team/<int:member_pk>/remove/",
        enrolments.enrolment_team_remove,
        name="enrolment-team-remove",
    ),
    path(
        "enrolments/<int:pk>/continue/",
        enrolments.enrolment_continue,
        name="enrolment-continue",
    ),
]
