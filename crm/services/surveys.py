"""Satisfaction surveys (満足度調査, the KPI 支援満足度): schedule, send, answer.

The reminder sweep runs `surveys_sweep` as a reminder source (registered in
CrmConfig.ready()): it schedules a survey N business days after each
consultation (the organisation's `after_consultation_business_days`, default
3, 0 = off) and when a referral is completed (about the receiver), then
claims the due ones the same way reminders are claimed (`claim_batches`:
SKIP LOCKED, a conditional UPDATE that must change every row): a claimed
survey is `sending`, and its e-mail goes through the retrying task
`crm.survey_email`, which leases it and marks it `sent` only after the
mail server accepted it (exactly once: never lost, never twice; a lease
that ran out is queued again by the next sweep). A survey goes only to a contact with an e-mail who has not opted out,
of a company with an active consent that allows surveys, and at most once
per company per organisation per 30 days; otherwise it is `skipped` with
the reason. The link's token is stored only as its SHA-256: single use,
expires 30 days after sending.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import ReferralStatus
from crm.models import (
    Company,
    Consent,
    Consultation,
    Contact,
    Referral,
    Survey,
    SurveySettings,
)
from crm.permissions import survey_settings_require_manageable
from crm.services.audit import audit_record
from crm.services.notification_emails import email_lease
from crm.services.reminder_batches import (
    BATCH_SIZE,
    Contended,
    claim_batches,
    office_day,
)
from support_network.actors import Actor
from support_network.calendar import add_business_days, fiscal_year, local_date
from support_network.choices import Role
from support_network.errors import (
    Conflict,
    NotVisible,
    ValidationFailed,
)
from support_network.models import Organisation
from support_network.reminder_rules import reminder_rules

logger = logging.getLogger(__name__)

SURVEY_VALID_DAYS = 30
# At most one survey per company per organisation within this many days.
SURVEY_INTERVAL_DAYS = 30
# Consultations and completions older than this are not surveyed any more.
SCHEDULE_LOOKBACK_DAYS = 45
DEFAULTS = SurveySettings()

SKIP_NO_CONSENT = "no_consent"
SKIP_NO_CONTACT = "no_contact"
SKIP_RECENT = "recent_survey"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- settings ---------------------------------------------------------------


def survey_settings_get(organisation: Organisation) -> SurveySettings:
    """Return the organisation's settings (the defaults when never saved)."""
    found = SurveySettings.objects.filter(organisation=organisation).first()
    return found or SurveySettings(organisation=organisation)


@transaction.atomic
def survey_settings_update(*, actor: Actor, **fields: Any) -> SurveySettings:
    """Change the acting organisation's settings (org admins only)."""
    survey_settings_require_manageable(actor)
    days = fields.get("after_consultation_business_days")
    if days is not None and not 0 <= days <= 30:
        raise ValidationFailed(
            _("相談後の営業日数は0〜30で入力してください（0 = 送らない）。"),
            field="after_consultation_business_days",
        )
    row, _created = SurveySettings.objects.select_for_update().get_or_create(
        organisation=actor.organisation
    )
    for name in (
        "after_consultation_business_days",
        "after_referral_completed",
        "after_enrolment_completed",
    ):
        if name in fields:
            setattr(row, name, fields[name])
    row.save()
    audit_record(actor=actor, action="survey_settings.update", obj=row)
    return row


# --- scheduling -------------------------------------------------------------


def _consenting_companies() -> Exists:
    return Exists(
        Consent.objects.filter(
            company_id=OuterRef("company_id"),
            allows_surveys=True,
            withdrawn_at__isnull=True,
        )
    )


def surveys_schedule(*, day: date) -> int:
    """Create the scheduled surveys of recent consultations and completed referrals.

    Idempotent: a consultation or referral has at most one survey (unique),
    and concurrent sweepers' inserts are ignored on conflict.
    """
    settings_by_org = {s.organisation_id: s for s in SurveySettings.objects.all()}
    since = day - timedelta(days=SCHEDULE_LOOKBACK_DAYS)
    off = [o for o, s in settings_by_org.items() if not s.after_consultation_business_days]
    consultations = (
        Consultation.objects.filter(occurred_on__gte=since, occurred_on__lte=day)
        .filter(survey__isnull=True)
        .exclude(organisation_id__in=off)
        .filter(_consenting_companies())
        .values_list("pk", "organisation_id", "company_id", "occurred_on")
    )
    rows = []
    for pk, org_id, company_id, occurred_on in consultations.iterator():
        days = settings_by_org.get(org_id, DEFAULTS).after_consultation_business_days
        due_on = add_business_days(occurred_on, days)
        rows.append(
            Survey(
                organisation_id=org_id,
                company_id=company_id,
                source=Survey.Source.CONSULTATION,
                consultation_id=pk,
                due_on=due_on,
                fiscal_year=fiscal_year(due_on),
            )
        )
    off_referrals = [
        o for o, s in settings_by_org.items() if not s.after_referral_completed
    ]
    referrals = (
        Referral.objects.filter(
            status=ReferralStatus.COMPLETED,
            completed_at__gte=timezone.make_aware(
                datetime.combine(since, datetime.min.time())
            ),
        )
        .filter(survey__isnull=True)
        .exclude(to_organisation_id__in=off_referrals)
        .annotate(has_consent=_consenting_referral())
        .filter(has_consent=True)
        .values_list(
            "pk", "to_organisation_id", "from_organisation_id", "case__company_id",
            "completed_at",
        )
    )
    for pk, to_org, from_org, company_id, completed_at in referrals.iterator():
        due_on = add_business_days(local_date(completed_at), 0)
        rows.append(
            Survey(
                organisation_id=to_org,
                from_organisation_id=from_org,
                company_id=company_id,
                source=Survey.Source.REFERRAL,
                referral_id=pk,
                due_on=due_on,
                fiscal_year=fiscal_year(due_on),
            )
        )
    created = Survey.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)


# What other apps survey (crm does not import them): source → the Survey
# field holding the plain id of the thing the survey is about, and the
# SurveySettings switch that turns it on.
_OTHER_SOURCES = {
    Survey.Source.ENROLMENT: ("enrolment_id", "after_enrolment_completed"),
}


def survey_schedule_for(
    *,
    organisation: Organisation,
    company: Company,
    source: str,
    about_id: int,
    due_on: date,
    case_id: int | None = None,
) -> Survey | None:
    """Schedule one survey of company about organisation's help; return it or None.

    For other apps' moments (programs: an enrolment completed, `source`
    "enrolment", `about_id` the enrolment's id). None when the
    organisation's setting for that source is off, or when that enrolment
    already has its survey (at most one each, also when called twice at
    once: the insert is ignored on conflict). Call it inside the caller's
    transaction; the reminder sweep sends it from `due_on` under the usual
    rules (consent, e-mail, opt-out, 30 days). `case_id`: the case a filing
    the company reports in its answer is recorded on (confirm-outcome).
    """
    if source not in _OTHER_SOURCES:
        raise ValueError(f"unknown survey source: {source!r}")
    field, setting = _OTHER_SOURCES[source]
    if not getattr(survey_settings_get(organisation), setting):
        return None
    if Survey.objects.filter(**{field: about_id}).exists():
        return None
    Survey.objects.bulk_create(
        [
            Survey(
                organisation=organisation,
                company=company,
                source=source,
                due_on=due_on,
                fiscal_year=fiscal_year(due_on),
                case_id=case_id,
                **{field: about_id},
            )
        ],
        ignore_conflicts=True,
    )
    return Survey.objects.filter(**{field: about_id}).first()


def _consenting_referral() -> Exists:
    return Exists(
        Consent.objects.filter(
            company_id=OuterRef("case__company_id"),
            allows_surveys=True,
            withdrawn_at__isnull=True,
        )
    )


# --- sending ----------------------------------------------------------------


def survey_contact(company: Company) -> Contact | None:
    """Return the contact a survey of company goes to, or None.

    The contact of an active consent that allows surveys when it has an
    e-mail, else the company's earliest contact with an e-mail; never one
    who opted out.
    """
    consents = Consent.objects.filter(
        company=company, allows_surveys=True, withdrawn_at__isnull=True
    ).select_related("contact")
    reachable = Q(surveys_opted_out_at__isnull=True) & ~Q(email="")
    for consent in consents.order_by("pk"):
        contact = consent.contact
        if contact and contact.email and contact.surveys_opted_out_at is None:
            return contact
    if not consents.exists():
        return None
    return company.contacts.filter(reachable).order_by("pk").first()


def _send_one(survey: Survey, *, now: datetime) -> str:
    """Claim survey (already locked) for sending, or skip it; return "sent" or "skipped".

    A claimed survey is `sending`: its e-mail is queued after commit on the
    task `crm.survey_email`, which marks it `sent` once the mail server has
    accepted it (`survey_email_send`).
    """
    has_consent = Consent.objects.filter(
        company_id=survey.company_id, allows_surveys=True, withdrawn_at__isnull=True
    ).exists()
    contact = survey_contact(survey.company) if has_consent else None
    # A survey being sent counts as sent for the 30-day rule.
    recent = (
        Survey.objects.filter(
            company_id=survey.company_id, organisation_id=survey.organisation_id
        )
        .filter(
            Q(sent_at__gte=now - timedelta(days=SURVEY_INTERVAL_DAYS))
            | Q(status=Survey.Status.SENDING)
        )
        .exists()
    )
    reason = (
        SKIP_NO_CONSENT
        if not has_consent
        else SKIP_NO_CONTACT
        if contact is None
        else SKIP_RECENT
        if recent
        else ""
    )
    qs = Survey.objects.filter(pk=survey.pk, status=Survey.Status.SCHEDULED)
    if reason:
        if qs.update(status=Survey.Status.SKIPPED, skipped_reason=reason) != 1:
            raise Contended
        return "skipped"
    changed = qs.update(
        status=Survey.Status.SENDING, contact=contact, email_claimed_at=None
    )
    if changed != 1:
        raise Contended
    # After commit: a rolled-back batch queues nothing.
    transaction.on_commit(lambda: survey_email_enqueue(survey.pk, now=now))
    return "sent"


def survey_email_enqueue(survey_id: int, *, now: datetime) -> bool:
    """Queue the e-mail of a sending survey on `crm.survey_email` (never raises)."""
    from crm.tasks import enqueue, survey_email_task

    return enqueue(
        survey_email_task,
        what=f"e-mail of survey {survey_id}",
        survey_id=survey_id,
        now=now.isoformat(),
    )


def survey_unsent_q(at: datetime) -> Q:
    """Return 'being sent, not sent yet, and nobody holds a live lease on it'."""
    return Q(status=Survey.Status.SENDING) & (
        Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=at - email_lease())
    )


def survey_email_send(*, survey_id: int, now: datetime | None = None) -> str:
    """Send the e-mail of a sending survey, exactly once; return what happened.

    Called by the task `crm.survey_email`. The survey is taken on a lease
    first (a conditional UPDATE of `email_claimed_at` that also stores the
    new link's hash: row count 1 wins), so a redelivered task or a survey
    queued twice is mailed once while the lease holds; it becomes `sent`
    only after the mail server accepted the message. A failed send releases
    the lease and returns "failed" (the task retries); a worker killed
    mid-send leaves a lease that runs out, and the next sweep queues the
    survey again. "sent", "failed", "skipped" (the contact opted out or has
    no e-mail any more) or "none" (sent already, or another worker holds it).
    `now` is the sweep's moment: the link expires 30 days after it.
    """
    claimed_at = timezone.now()
    token = secrets.token_urlsafe(32)
    claimed = (
        Survey.objects.filter(survey_unsent_q(claimed_at), pk=survey_id)
        .update(email_claimed_at=claimed_at, token_hash=token_hash(token))
    )
    if claimed != 1:
        return "none"
    survey = Survey.objects.select_related("organisation", "company", "contact").get(
        pk=survey_id
    )
    contact = survey.contact
    if contact is None or not contact.email or contact.surveys_opted_out_at:
        Survey.objects.filter(pk=survey_id, status=Survey.Status.SENDING).update(
            status=Survey.Status.SKIPPED, skipped_reason=SKIP_NO_CONTACT, token_hash=None
        )
        return "skipped"
    try:
        _survey_email(survey, contact, token).send()
    except (smtplib.SMTPException, OSError):
        Survey.objects.filter(pk=survey_id, email_claimed_at=claimed_at).update(
            email_claimed_at=None
        )
        logger.warning("survey %s: e-mail failed (will be retried)", survey_id)
        return "failed"
    sent_at = now or timezone.now()
    Survey.objects.filter(pk=survey_id, status=Survey.Status.SENDING).update(
        status=Survey.Status.SENT,
        sent_at=sent_at,
        expires_at=sent_at + timedelta(days=SURVEY_VALID_DAYS),
    )
    return "sent"


def _surveys_requeue(now: datetime, *, batch_size: int) -> int:
    """Queue again the sending surveys nobody holds a live lease on.

    Left over when the broker was down at commit time, when the task's
    retries ran out, or when a worker died mid-send (its lease ran out).
    A survey queued twice is still mailed once (the lease).
    """
    ids = list(
        Survey.objects.filter(survey_unsent_q(timezone.now()))
        .order_by("pk")
        .values_list("pk", flat=True)[: batch_size * 10]
    )
    return sum(1 for pk in ids if survey_email_enqueue(pk, now=now))


def _survey_url(path: str) -> str:
    return settings.CRM_SITE_URL.rstrip("/") + path


def _survey_email(survey: Survey, contact: Contact, token: str) -> EmailMessage:
    organisation = survey.organisation
    body = render_to_string(
        "emails/survey.txt",
        {
            "contact": contact,
            "company": survey.company,
            "organisation": organisation,
            "survey_url": _survey_url(f"/surveys/{token}/"),
            "opt_out_url": _survey_url(f"/surveys/{token}/opt-out/"),
            "valid_days": SURVEY_VALID_DAYS,
        },
    )
    subject = _("【%(name)s】ご支援についてのアンケートのお願い") % {
        "name": organisation.name
    }
    domain = (
        str(getattr(settings, "DEFAULT_FROM_EMAIL", "")).rpartition("@")[2].strip(">")
        or "localhost"
    )
    return EmailMessage(
        subject=subject,
        body=body,
        to=[contact.email],
        # The same Message-ID on every attempt: a rare second delivery (a
        # worker killed after the server accepted it) shows as one message.
        headers={"Message-ID": f"<crm-survey-{survey.pk}@{domain}>"},
    )


def surveys_sweep(now: datetime, *, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Schedule and send the surveys due at `now` (a reminder source).

    Runs in office hours on business days only, like reminders.
    """
    day = office_day(now, reminder_rules())
    if day is None:
        return {}
    counts = {"survey.scheduled": surveys_schedule(day=day)}
    counts["survey.requeued"] = _surveys_requeue(now, batch_size=batch_size)
    counts["survey.sent"] = 0
    counts["survey.skipped"] = 0

    def process(batch: list[Survey]) -> None:
        done = {"sent": 0, "skipped": 0}
        # Lock the batch's companies in id order: the 30-day rule is then
        # checked by one sweeper at a time per company, without deadlocks.
        list(
            Company.objects.select_for_update(no_key=True)
            .filter(pk__in={s.company_id for s in batch})
            .order_by("pk")
        )
        for survey in batch:
            done[_send_one(survey, now=now)] += 1
        # Reached only when every row of the batch was ours (no Contended).
        counts["survey.sent"] += done["sent"]
        counts["survey.skipped"] += done["skipped"]

    due = Survey.objects.filter(
        status=Survey.Status.SCHEDULED, due_on__lte=day
    ).select_related("company", "organisation")
    claim_batches(due, batch_size=batch_size, process=process, label="surveys")
    return counts


# --- answering --------------------------------------------------------------


class SurveyGone(Conflict):
    """The link was used or expired (410)."""

    status_code = 410


def survey_for_token(token: str, *, now: datetime | None = None) -> Survey:
    """Return the open survey of a token; NotVisible (404) or SurveyGone (410)."""
    now = now or timezone.now()
    if not token or len(token) > 100:
        raise NotVisible(_("このアンケートのリンクは見つかりません。"), code="unknown")
    survey = (
        Survey.objects.filter(token_hash=token_hash(token))
        .select_related("organisation", "company", "contact")
        .first()
    )
    if survey is None or survey.status not in (
        Survey.Status.SENT,
        Survey.Status.ANSWERED,
    ):
        raise NotVisible(_("このアンケートのリンクは見つかりません。"), code="unknown")
    if survey.status == Survey.Status.ANSWERED:
        raise SurveyGone(
            _("このアンケートには既にご回答いただいています。ありがとうございました。"),
            code="used",
        )
    if survey.expires_at is None or survey.expires_at <= now:
        raise SurveyGone(
            _("このアンケートの回答期限（送信から30日）が過ぎています。"),
            code="expired",
        )
    return survey


@transaction.atomic
def survey_answer(
    *,
    token: str,
    score: int,
    useful: int,
    comment: str = "",
    filed_after: bool = False,
    application_number: str = "",
    now: datetime | None = None,
) -> Survey:
    """Record the company's answer, once; a filing becomes an outcome proposal."""
    now = now or timezone.now()
    survey = survey_for_token(token, now=now)
    for name, value in (("score", score), ("useful", useful)):
        if value not in (1, 2, 3, 4, 5):
            raise ValidationFailed(_("1〜5から選んでください。"), field=name)
    application_number = (application_number or "").strip()
    if application_number and not filed_after:
        filed_after = True
    changed = Survey.objects.filter(
        pk=survey.pk, status=Survey.Status.SENT, expires_at__gt=now
    ).update(
        status=Survey.Status.ANSWERED,
        answered_at=now,
        score=score,
        useful=useful,
        comment=(comment or "").strip()[:4000],
        filed_after=filed_after,
        application_number=application_number[:60],
        updated_at=now,
    )
    if changed != 1:
        # A concurrent answer won: the link is used now.
        survey_for_token(token, now=now)
        raise SurveyGone(_("このアンケートには既にご回答いただいています。"), code="used")
    survey.refresh_from_db()
    if survey.filed_after and survey.application_number:
        _propose_outcome(survey, now=now)
    return survey


def _propose_outcome(survey: Survey, *, now: datetime) -> None:
    from crm.services.notifications import NotificationItem, notify_many
    from support_network.selectors import active_members

    users = [
        m.user
        for m in active_members(
            {survey.organisation_id}, (Role.MANAGER, Role.ORG_ADMIN, Role.COORDINATOR)
        ).select_related("user")
    ]
    if not users:
        return
    notify_many(
        [
            NotificationItem(
                recipients=users,
                message=_(
                    "%(company)s から満足度調査で「その後に出願した」（出願番号 "
                    "%(number)s）と回答がありました。成果として確認してください。"
                )
                % {
                    "company": survey.company.name,
                    "number": survey.application_number,
                },
                obj=survey.company,
                dedupe_key=f"survey-outcome:{survey.pk}",
            )
        ],
        kind="survey_outcome_proposed",
        now=now,
    )


@transaction.atomic
def survey_opt_out(*, token: str, now: datetime | None = None) -> Contact | None:
    """Record on the contact that they want no more surveys (any state of the link)."""
    now = now or timezone.now()
    if not token or len(token) > 100:
        raise NotVisible(_("このアンケートのリンクは見つかりません。"), code="unknown")
    survey = Survey.objects.filter(token_hash=token_hash(token)).first()
    if survey is None:
        raise NotVisible(_("このアンケートのリンクは見つかりません。"), code="unknown")
    if survey.contact_id is None:
        return None
    Contact.objects.filter(
        pk=survey.contact_id, surveys_opted_out_at__isnull=True
    ).update(surveys_opted_out_at=now)
    return Contact.objects.get(pk=survey.contact_id)


@transaction.atomic
def survey_outcome_confirm(
    *, actor: Actor, survey: Survey, today: date | None = None
) -> Survey:
    """Record the filing a company reported in its answer as an outcome of the case.

    Staff of the surveyed organisation confirm what the company said (出願
    with its number); the outcome goes on the consultation's (or the
    referral's) case, through the outcome service and its write rules.
    """
    from crm.services.cases import outcome_record

    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if not (survey.filed_after and survey.application_number):
        raise Conflict(
            _("この回答には出願番号がないため、成果として記録できません。"),
            code="no_filing",
        )
    if survey.outcome_id is not None:
        raise Conflict(
            _("この回答の出願は既に成果として記録されています。"),
            code="already_confirmed",
        )
    if survey.consultation_id:
        case = survey.consultation.case
    elif survey.referral_id:
        case = survey.referral.case
    elif survey.case_id:
        case = survey.case
    else:
        raise Conflict(_("案件が見つかりません。"), code="no_case")
    outcome = outcome_record(
        actor=actor,
        case=case,
        kind="filing",
        occurred_on=local_date(survey.answered_at),
        reference=survey.application_number,
        note=_("満足度調査の回答（企業等からの申告）による"),
        today=today,
    )
    survey.outcome = outcome
    survey.save(update_fields=["outcome", "updated_at"])
    audit_record(actor=actor, action="survey.outcome_confirm", obj=survey)
    return survey
