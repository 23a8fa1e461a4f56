"""Web UI routes of programs (the API routes are in programs/urls.py)."""

from django.urls import path

from programs import web, web_enrolments

app_name = "programs"

urlpatterns = [
    path("programs/", web.program_list, name="program-list"),
    path("programs/<slug:code>/", web.program_detail, name="program-detail"),
    path(
        "cases/<int:case_id>/enrol/",
        web_enrolments.enrolment_apply,
        name="enrolment-apply",
    ),
    path(
        "cases/<int:case_id>/refer-to-program/",
        web_enrolments.enrolment_refer,
        name="enrolment-refer",
    ),
    path(
        "enrolments/<int:pk>/", web_enrolments.enrolment_detail, name="enrolment-detail"
    ),
    path(
        "enrolments/<int:pk>/transition/",
        web_enrolments.enrolment_transition,
        name="enrolment-transition",
    ),
    path(
        "enrolments/<int:pk>/plan/",
        web_enrolments.enrolment_plan,
        name="enrolment-plan",
    ),
    path(
        "enrolments/<int:pk>/support-days/",
        web_enrolments.enrolment_support_day,
        name="enrolment-support-day",
    ),
    path(
        "enrolments/<int:pk>/team/",
        web_enrolments.enrolment_team_add,
        name="enrolment-team-add",
    ),
    path(
        "enrolments/<int:pk>/team/<int:member_pk>/remove/",
        web_enrolments.enrolment_team_remove,
        name="enrolment-team-remove",
    ),
    path(
        "enrolments/<int:pk>/continue/",
        web_enrolments.enrolment_continue,
        name="enrolment-continue",
    ),
]
