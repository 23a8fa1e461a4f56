"""API views of clients and cases: thin adapters over selectors and services."""

from crm.views.cases import (
    CaseViewSet,
    ConsultationViewSet,
    FollowUpViewSet,
    OutcomeViewSet,
)
from crm.views.common import ERROR_RESPONSES, visible_or_400
from crm.views.companies import CompanyViewSet, ContactViewSet
from crm.views.referrals import (
    NotificationViewSet,
    ProvisionRecordViewSet,
    ReferralViewSet,
)

__all__ = [
    "ERROR_RESPONSES",
    "CaseViewSet",
    "CompanyViewSet",
    "ConsultationViewSet",
    "ContactViewSet",
    "FollowUpViewSet",
    "NotificationViewSet",
    "OutcomeViewSet",
    "ProvisionRecordViewSet",
    "ReferralViewSet",
    "visible_or_400",
]
