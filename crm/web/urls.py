"""Web UI routes of clients and cases (the API routes are in config/urls.py)."""

from django.urls import path

from crm.web import (
    board,
    cases,
    companies,
    consultations,
    corrections,
    events,
    imports,
    notifications,
    personal_data,
    referrals,
    statistics,
    surveys,
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
    # Requests from a person (APPI art. 33, 35) and the retention policy.
    path(
        "contacts/<int:pk>/disclosure/",
        personal_data.contact_disclosure,
        name="contact-disclosure",
    ),
    path(
        "contacts/<int:pk>/disclosure/<int:export>/",
        personal_data.contact_disclosure_status,
        name="contact-disclosure-status",
    ),
    path("contacts/<int:pk>/erase/", personal_data.contact_erase, name="contact-erase"),
    path("personal-data/", personal_data.personal_data_page, name="personal-data"),
    path(
        "personal-data/file-book.<str:format>",
        personal_data.file_book_download,
        name="personal-data-file-book",
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
        "cases/<int:pk>/legal-hold/",
        personal_data.case_legal_hold,
        name="case-legal-hold",
    ),
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
    # Network events (issue 21).
    path("events/", events.event_list, name="event-list"),
    path("events/new/", events.event_create, name="event-create"),
    path("events/<int:pk>/", events.event_detail, name="event-detail"),
    path("events/<int:pk>/edit/", events.event_edit, name="event-edit"),
    path(
        "events/<int:pk>/attendees/<int:aid>/attend/",
        events.event_attend,
        name="event-attend",
    ),
    path(
        "events/<int:pk>/registrants.xlsx",
        events.event_registrants_xlsx,
        name="event-registrants",
    ),
    path("statistics/surveys/", surveys.survey_answers, name="survey-answers"),
    # Public satisfaction surveys (no login; issue 21).
    path("surveys/<str:token>/", surveys.survey_page, name="survey"),
    path(
        "surveys/<str:token>/opt-out/",
        surveys.survey_opt_out_page,
        name="survey-opt-out",
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
