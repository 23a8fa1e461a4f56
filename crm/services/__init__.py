"""Rule-bearing writes on clients and cases (STYLE.md §2).

Each service takes keyword-only arguments and an Actor, runs in one
transaction and raises DomainError subclasses with Japanese messages, so the
API, the web UI, commands and tasks all share one implementation.
"""

from crm.services.assignment import case_assign
from crm.services.audit import audit_record
from crm.services.cases import case_close, case_open, case_reopen, outcome_record
from crm.services.companies import (
    COMPANY_FIELDS,
    company_create,
    company_derive_keys,
    company_update,
    company_validate,
    corporate_number_clean,
    size_class_hint,
)
from crm.services.consents import consent_covering, consent_record, consent_withdraw
from crm.services.consultations import (
    CompanyNotRegistered,
    consultation_create,
    consultation_log_with_new_company,
)
from crm.services.contacts import contact_create, contact_update
from crm.services.corrections import (
    consultation_update,
    consultation_void,
    follow_up_update,
    outcome_update,
    outcome_void,
)
from crm.services.follow_ups import follow_up_complete
from crm.services.merge import company_merge
from crm.services.notification_emails import notification_email_send
from crm.services.notifications import notification_read, notify
from crm.services.referral_transitions import (
    referral_accept,
    referral_assign,
    referral_cancel,
    referral_complete,
    referral_decline,
    referral_expire,
)
from crm.services.referrals import (
    PROVIDED_ITEM_LABELS,
    ConsentNotRecorded,
    referral_send,
    referral_send_with_consent,
)
from crm.services.reminder_batches import SweepResult
from crm.services.reminders import reminders_sweep

__all__ = [
    "COMPANY_FIELDS",
    "PROVIDED_ITEM_LABELS",
    "CompanyNotRegistered",
    "ConsentNotRecorded",
    "SweepResult",
    "audit_record",
    "case_assign",
    "case_close",
    "case_open",
    "case_reopen",
    "company_create",
    "company_derive_keys",
    "company_merge",
    "company_update",
    "company_validate",
    "consent_covering",
    "consent_record",
    "consent_withdraw",
    "consultation_create",
    "consultation_log_with_new_company",
    "consultation_update",
    "consultation_void",
    "contact_create",
    "contact_update",
    "corporate_number_clean",
    "follow_up_complete",
    "follow_up_update",
    "notification_email_send",
    "notification_read",
    "notify",
    "outcome_record",
    "outcome_update",
    "outcome_void",
    "referral_accept",
    "referral_assign",
    "referral_cancel",
    "referral_complete",
    "referral_decline",
    "referral_expire",
    "referral_send",
    "referral_send_with_consent",
    "reminders_sweep",
    "size_class_hint",
]
