"""Web UI routes of clients and cases (the API routes are in config/urls.py)."""

from django.urls import path

from crm import (
    web,
    web_cases,
    web_companies,
    web_corrections,
    web_referrals,
    web_statistics,
)

app_name = "crm"

urlpatterns = [
    path("companies/", web.company_search, name="company-search"),
    path("companies/new/", web.company_create, name="company-create"),
    path("companies/picker/", web.company_picker, name="company-picker"),
    path("companies/<int:pk>/", web_companies.company_detail, name="company-detail"),
    # The company page's upkeep (issue 17): master data, contacts, consents.
    path("companies/<int:pk>/edit/", web_companies.company_edit, name="company-edit"),
    path(
        "companies/<int:pk>/contacts/new/",
        web_companies.contact_create,
        name="contact-create",
    ),
    path("contacts/<int:pk>/edit/", web_companies.contact_edit, name="contact-edit"),
    path(
        "contacts/<int:pk>/delete/",
        web_companies.contact_delete,
        name="contact-delete",
    ),
    path(
        "companies/<int:pk>/consents/new/",
        web_companies.consent_create,
        name="consent-create",
    ),
    path(
        "consents/<int:pk>/withdraw/",
        web_companies.consent_withdraw,
        name="consent-withdraw",
    ),
    path("consultations/new/", web.consultation_create, name="consultation-create"),
    path(
        "consultations/new/case-field/",
        web.consultation_case_field,
        name="consultation-case-field",
    ),
    path("cases/", web_cases.case_list, name="case-list"),
    path("cases/<int:pk>/", web.case_detail, name="case-detail"),
    # Record upkeep (issue 17): close and reopen, corrections.
    path("cases/<int:pk>/close/", web_cases.case_close, name="case-close"),
    path("cases/<int:pk>/reopen/", web_cases.case_reopen, name="case-reopen"),
    path(
        "consultations/<int:pk>/edit/",
        web_corrections.consultation_edit,
        name="consultation-edit",
    ),
    path(
        "consultations/<int:pk>/void/",
        web_corrections.consultation_void,
        name="consultation-void",
    ),
    path("outcomes/<int:pk>/edit/", web_corrections.outcome_edit, name="outcome-edit"),
    path("outcomes/<int:pk>/void/", web_corrections.outcome_void, name="outcome-void"),
    path(
        "follow-ups/<int:pk>/edit/",
        web_corrections.follow_up_edit,
        name="follow-up-edit",
    ),
    path("cases/<int:pk>/outcomes/", web.outcome_create, name="outcome-create"),
    path(
        "follow-ups/<int:pk>/complete/",
        web.follow_up_complete,
        name="follow-up-complete",
    ),
    # Referrals, coordinator board and notifications (issue 4).
    path(
        "cases/<int:pk>/refer/", web_referrals.referral_create, name="referral-create"
    ),
    path("referrals/", web_referrals.referral_list, name="referral-list"),
    path(
        "referrals/<int:pk>/accept/",
        web_referrals.referral_accept,
        name="referral-accept",
    ),
    path(
        "referrals/<int:pk>/assign/",
        web_referrals.referral_assign,
        name="referral-assign",
    ),
    path(
        "referrals/<int:pk>/decline/",
        web_referrals.referral_decline,
        name="referral-decline",
    ),
    path(
        "referrals/<int:pk>/complete/",
        web_referrals.referral_complete,
        name="referral-complete",
    ),
    path(
        "referrals/<int:pk>/cancel/",
        web_referrals.referral_cancel,
        name="referral-cancel",
    ),
    path("board/", web_referrals.board, name="board"),
    path("board/cases/<int:pk>/assign/", web_referrals.case_assign, name="case-assign"),
    path("notifications/", web_referrals.notification_list, name="notification-list"),
    path(
        "notifications/read-all/",
        web_referrals.notification_read_all,
        name="notification-read-all",
    ),
    path(
        "notifications/<int:pk>/read/",
        web_referrals.notification_read,
        name="notification-read",
    ),
    # Managers' page: statistics and exports (issue 7).
    path("statistics/", web_statistics.statistics_page, name="statistics"),
    path(
        "statistics/exports/",
        web_statistics.statistics_export_start,
        name="statistics-export",
    ),
    path(
        "statistics/exports/<int:pk>/",
        web_statistics.statistics_export_status,
        name="statistics-export-status",
    ),
    path(
        "statistics/exports/<int:pk>/download/",
        web_statistics.statistics_export_download,
        name="statistics-export-download",
    ),
]
