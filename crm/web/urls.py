"""Web UI routes of clients and cases (the API routes are in config/urls.py)."""

from django.urls import path

from crm.web import (
    board,
    cases,
    companies,
    consultations,
    corrections,
    imports,
    notifications,
    referrals,
    statistics,
)

app_name = "crm"

urlpatterns = [
    # Bringing history in (issue 22).
    path("imports/", imports.import_list, name="import-list"),
    path("imports/<int:pk>/", imports.import_detail, name="import-detail"),
    path("imports/<int:pk>/status/", imports.import_status, name="import-status"),
    path("imports/<int:pk>/mapping/", imports.import_mapping, name="import-mapping"),
    path("imports/<int:pk>/commit/", imports.import_commit, name="import-commit"),
    path("imports/<int:pk>/undo/", imports.import_undo_view, name="import-undo"),
    path("companies/", companies.company_search, name="company-search"),
    path("companies/new/", companies.company_create, name="company-create"),
    path("companies/picker/", companies.company_picker, name="company-picker"),
    path("companies/<int:pk>/", companies.company_detail, name="company-detail"),
    # The company page's upkeep (issue 17): master data, contacts, consents.
    path("companies/<int:pk>/edit/", companies.company_edit, name="company-edit"),
    path(
        "companies/<int:pk>/contacts/new/",
        companies.contact_create,
        name="contact-create",
    ),
    path("contacts/<int:pk>/edit/", companies.contact_edit, name="contact-edit"),
    path(
        "contacts/<int:pk>/delete/",
        companies.contact_delete,
        name="contact-delete",
    ),
    path(
        "companies/<int:pk>/consents/new/",
        companies.consent_create,
        name="consent-create",
    ),
    path(
        "consents/<int:pk>/withdraw/",
        companies.consent_withdraw,
        name="consent-withdraw",
    ),
    path(
        "consultations/new/",
        consultations.consultation_create,
        name="consultation-create",
    ),
    path(
        "consultations/new/case-field/",
        consultations.consultation_case_field,
        name="consultation-case-field",
    ),
    path("cases/", cases.case_list, name="case-list"),
    path("cases/<int:pk>/", cases.case_detail, name="case-detail"),
    # Record upkeep (issue 17): close and reopen, corrections.
    path("cases/<int:pk>/close/", cases.case_close, name="case-close"),
    path("cases/<int:pk>/reopen/", cases.case_reopen, name="case-reopen"),
    path(
        "consultations/<int:pk>/edit/",
        corrections.consultation_edit,
        name="consultation-edit",
    ),
    path(
        "consultations/<int:pk>/void/",
        corrections.consultation_void,
        name="consultation-void",
    ),
    path("outcomes/<int:pk>/edit/", corrections.outcome_edit, name="outcome-edit"),
    path("outcomes/<int:pk>/void/", corrections.outcome_void, name="outcome-void"),
    path(
        "follow-ups/<int:pk>/edit/",
        corrections.follow_up_edit,
        name="follow-up-edit",
    ),
    path("cases/<int:pk>/outcomes/", cases.outcome_create, name="outcome-create"),
    path(
        "follow-ups/<int:pk>/complete/",
        cases.follow_up_complete,
        name="follow-up-complete",
    ),
    # Referrals, coordinator board and notifications (issue 4).
    path("cases/<int:pk>/refer/", referrals.referral_create, name="referral-create"),
    path("referrals/", referrals.referral_list, name="referral-list"),
    path(
        "referrals/<int:pk>/accept/",
        referrals.referral_accept,
        name="referral-accept",
    ),
    path(
        "referrals/<int:pk>/assign/",
        referrals.referral_assign,
        name="referral-assign",
    ),
    path(
        "referrals/<int:pk>/decline/",
        referrals.referral_decline,
        name="referral-decline",
    ),
    path(
        "referrals/<int:pk>/complete/",
        referrals.referral_complete,
        name="referral-complete",
    ),
    path(
        "referrals/<int:pk>/cancel/",
        referrals.referral_cancel,
        name="referral-cancel",
    ),
    path("board/", board.board, name="board"),
    path("board/cases/<int:pk>/assign/", board.case_assign, name="case-assign"),
    path("notifications/", notifications.notification_list, name="notification-list"),
    path(
        "notifications/read-all/",
        notifications.notification_read_all,
        name="notification-read-all",
    ),
    path(
        "notifications/<int:pk>/read/",
        notifications.notification_read,
        name="notification-read",
    ),
    # Managers' page: statistics and exports (issue 7).
    path("statistics/", statistics.statistics_page, name="statistics"),
    path(
        "statistics/exports/",
        statistics.statistics_export_start,
        name="statistics-export",
    ),
    path(
        "statistics/exports/<int:pk>/",
        statistics.statistics_export_status,
        name="statistics-export-status",
    ),
    path(
        "statistics/exports/<int:pk>/download/",
        statistics.statistics_export_download,
        name="statistics-export-download",
    ),
]
