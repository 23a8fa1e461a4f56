"""URL map: the web UI, the admin, the API under /api/v1/ and its schema."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config.api import ApiRouter
from config.api_docs import ApiDocsView
from crm.views.audit import AuditEventViewSet
from crm.views.cases import CaseViewSet
from crm.views.companies import CompanyViewSet, ContactViewSet
from crm.views.consultations import ConsultationViewSet
from crm.views.events import EventViewSet
from crm.views.exports import ExportViewSet
from crm.views.follow_ups import FollowUpViewSet
from crm.views.imports import ImportViewSet
from crm.views.notifications import NotificationViewSet
from crm.views.outcomes import OutcomeViewSet
from crm.views.personal_data import RetentionPolicyView
from crm.views.provision_records import ProvisionRecordViewSet
from crm.views.referrals import ReferralViewSet
from crm.views.statistics import (
    ConsultationStatisticsView,
    EventStatisticsView,
    OutcomeStatisticsView,
    ReferralStatisticsView,
    SurveyStatisticsView,
)
from crm.views.surveys import SurveySettingsView, SurveyViewSet
from crm.web.health import health
from crm.web.home import my_work
from programs import extensions as programs_extensions
from programs.views.programs import ProgramViewSet
from programs.views.statistics import ProgramStatisticsView
from support_network.views.auth import (
    PasswordChangeView,
    TokenRevokeView,
    TokenView,
    TotpConfirmView,
    TotpEnrolView,
)
from support_network.views.members import MemberViewSet
from support_network.views.network import OrganisationViewSet, PrefectureViewSet
from support_network.views.password import PasswordResetRequestView
from support_network.web import sso as sso_web
from support_network.web.actors import organisation_switch
from support_network.web.mfa import admin_login

router = ApiRouter()
router.register("prefectures", PrefectureViewSet, basename="prefecture")
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("programs", ProgramViewSet, basename="program")
router.register("companies", CompanyViewSet, basename="company")
router.register("contacts", ContactViewSet, basename="contact")
router.register("cases", CaseViewSet, basename="case")
router.register("consultations", ConsultationViewSet, basename="consultation")
programs_extensions.api_register(router)  # enrolments/
router.register("follow-ups", FollowUpViewSet, basename="follow-up")
router.register("outcomes", OutcomeViewSet, basename="outcome")
router.register("referrals", ReferralViewSet, basename="referral")
router.register(
    "provision-records", ProvisionRecordViewSet, basename="provision-record"
)
router.register("notifications", NotificationViewSet, basename="notification")
router.register("events", EventViewSet, basename="event")
router.register("exports", ExportViewSet, basename="export")
router.register("surveys", SurveyViewSet, basename="survey")
router.register("imports", ImportViewSet, basename="import")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("members", MemberViewSet, basename="member")

admin.site.site_header = "知財経営支援 CRM 管理画面"
admin.site.site_title = "知財経営支援 CRM"
admin.site.index_title = "管理"
# One login for the site and the admin: the admin's form would skip the
# second factor (support_network/web/mfa.py).
admin.site.login = admin_login

handler404 = "config.api.not_found"
handler500 = "config.api.server_error"
handler400 = "config.input_cleaning.bad_request"

urlpatterns = [
    path("", my_work, name="home"),
    path("organisation/", organisation_switch, name="organisation-switch"),
    path("", include("crm.web.urls")),
    path("", include("programs.web.urls")),
    # Accounts, and the login (with its second step for users with TOTP) and
    # /account/mfa/.
    path("", include("support_network.web.urls")),
    # Ends the local session; after an SSO login also the IdP's (support_network/web/sso.py).
    path("logout/", sso_web.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("api/v1/auth/token/", TokenView.as_view(), name="api-token"),
    path(
        "api/v1/auth/password/reset/",
        PasswordResetRequestView.as_view(),
        name="api-password-reset",
    ),
    path(
        "api/v1/auth/token/revoke/", TokenRevokeView.as_view(), name="api-token-revoke"
    ),
    path(
        "api/v1/auth/password/change/",
        PasswordChangeView.as_view(),
        name="api-password-change",
    ),
    path("api/v1/auth/mfa/totp/", TotpEnrolView.as_view(), name="api-mfa-totp"),
    path(
        "api/v1/auth/mfa/totp/confirm/",
        TotpConfirmView.as_view(),
        name="api-mfa-totp-confirm",
    ),
    path(
        "api/v1/retention-policy/",
        RetentionPolicyView.as_view(),
        name="retention-policy",
    ),
    path(
        "api/v1/statistics/consultations/",
        ConsultationStatisticsView.as_view(),
        name="statistics-consultations",
    ),
    path(
        "api/v1/statistics/referrals/",
        ReferralStatisticsView.as_view(),
        name="statistics-referrals",
    ),
    path(
        "api/v1/statistics/events/",
        EventStatisticsView.as_view(),
        name="statistics-events",
    ),
    path(
        "api/v1/statistics/surveys/",
        SurveyStatisticsView.as_view(),
        name="statistics-surveys",
    ),
    path(
        "api/v1/survey-settings/",
        SurveySettingsView.as_view(),
        name="survey-settings",
    ),
    path(
        "api/v1/statistics/outcomes/",
        OutcomeStatisticsView.as_view(),
        name="statistics-outcomes",
    ),
    path(
        "api/v1/statistics/programs/",
        ProgramStatisticsView.as_view(),
        name="statistics-programs",
    ),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
]
