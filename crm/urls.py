"""Web UI routes of clients and cases (the API routes are in config/urls.py)."""

from django.urls import path

from crm import web

app_name = "crm"

urlpatterns = [
    path("companies/", web.company_search, name="company-search"),
    path("companies/new/", web.company_create, name="company-create"),
    path("companies/picker/", web.company_picker, name="company-picker"),
    path("companies/<int:pk>/", web.company_detail, name="company-detail"),
    path("consultations/new/", web.consultation_create, name="consultation-create"),
    path(
        "consultations/new/case-field/",
        web.consultation_case_field,
        name="consultation-case-field",
    ),
    path("cases/<int:pk>/", web.case_detail, name="case-detail"),
    path("cases/<int:pk>/outcomes/", web.outcome_create, name="outcome-create"),
    path(
        "follow-ups/<int:pk>/complete/",
        web.follow_up_complete,
        name="follow-up-complete",
    ),
]
