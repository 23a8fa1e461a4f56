"""In-app notifications, and their e-mail copies sent by a retrying task.

A notification row is the record that someone was told something; the
e-mail is a copy of it. There is one path for both, whoever notifies (a
referral answer, an assignment, the reminder sweep, a program milestone, the
weekly digest):

1. `notify_many` writes the rows of many events in one INSERT, inside the
   caller's transaction, so a refused action leaves none behind. A
   `dedupe_key` makes an event exactly-once per recipient even when two
   sweepers record it at the same moment (partial unique index
   crm_notification_dedupe_unique; DESIGN.md "Reminders and scheduled work").
2. After commit (`transaction.on_commit`) it queues the e-mail copies on the
   Celery task `crm.notification_email` (`enqueue_emails`), so nobody is
   mailed about something that was rolled back, and a slow or failing SMTP
   server never blocks the caller: the task retries with backoff.
3. The task (`notification_email_send`) takes each row on a lease
   (`email_claimed_at`) before sending and marks it sent (`emailed_at`) only
   after the mail server accepted it, so a copy queued twice, or
   redelivered, is mailed once, and one whose worker died mid-send is sent
   by another worker once the lease has run out (at least once, duplicated
   only if the worker dies between the server's acceptance and the UPDATE).
   A broker that is down only delays e-mails: the rows stay unmailed and
   the reminder sweep queues them again (`reminders._email_backlog`).

Who is told, and what (issue 26; docs/operations.md "Notifications"):

- every recipient must be able to open the notification's object: before a
  row is written, `notify_many` drops the recipients whose actor (any of
  their active memberships) does not see it through the visibility
  selector registered for its object type (`notification_audience_register`:
  follow-ups, referrals, cases, enrolments, digests), so nobody is told of
  what does not exist for them (DESIGN.md "Who sees what" rule 5);
- a notification about a confidential case (rule 4) never carries the
  company's name, the case's title or any free text (notes, consultation or
  outcome text): whatever the caller wrote, its text is replaced by a
  neutral one naming only the case number, the due date, the organisations
  and the member in charge (`CONFIDENTIAL_MESSAGES`). In-app and e-mail
  alike: the recipients who may see the case open it in the CRM.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import Case, FollowUp, Notification, Referral
from support_network.actors import Actor
from support_network.choices import Role
from support_network.errors import NotVisible
from support_network.models import Membership
from support_network.people import person_name

logger = logging.getLogger(__name__)

# Subjects of the e-mail copy, by notification kind (Japanese UI strings).
# A kind without an entry gets the generic subject; other apps add theirs
# with `notification_subject_register`.
SUBJECTS: dict[str, Any] = {
    "referral.sent": gettext_lazy("紹介が届きました"),
    "referral.accepted": gettext_lazy("紹介が受け入れられました"),
    "referral.declined": gettext_lazy("紹介が辞退されました"),
    "referral.completed": gettext_lazy("紹介の結果報告が届きました"),
    "referral.cancelled": gettext_lazy("紹介が取り消されました"),
    "referral.expired": gettext_lazy("紹介が回答期限切れになりました"),
    "referral.reminder": gettext_lazy("紹介への回答をお願いします"),
    "referral.escalation": gettext_lazy("回答されていない紹介があります"),
    "referral.assigned": gettext_lazy("紹介の担当者になりました"),
    "follow_up.reminder": gettext_lazy("フォローアップの期日です"),
    "follow_up.escalation": gettext_lazy("期日を過ぎたフォローアップがあります"),
    "case.assigned": gettext_lazy("案件の担当者になりました"),
    "digest.coordinator": gettext_lazy("今週の要確認事項"),
}

# How to build the web path of a notification's object, by object_type
# (`Notification.object_type` is the model name). Other apps add theirs with
# `notification_link_register` (programs: "enrolment").
LinkBuilder = Callable[[int], str | None]
LINKS: dict[str, LinkBuilder] = {}


def notification_subject_register(kind: str, subject: Any) -> None:
    """Give notifications of `kind` their own e-mail subject."""
    SUBJECTS[kind] = subject


def notification_link_register(object_type: str, build: LinkBuilder) -> None:
    """Let notifications about `object_type` link to the page build(id) returns."""
    LINKS[object_type] = build


def _case_path(case_id: int | None) -> str | None:
    return reverse("crm:case-detail", args=[case_id]) if case_id else None


notification_link_register("case", _case_path)
notification_link_register(
    "referral",
    lambda pk: _case_path(
        Referral.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    ),
)
notification_link_register(
    "followup",
    lambda pk: _case_path(
        FollowUp.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    ),
)
# The weekly digest is about a coordinator's membership (its scope): what
# stalls there is on the coordinators' board.
notification_link_register("membership", lambda pk: reverse("crm:board"))


def notification_path(notification: Notification) -> str | None:
    """Return the web path of the object a notification is about, if any."""
    build = LINKS.get(notification.object_type)
    if build is None or not notification.object_id.isdigit():
        return None
    return build(int(notification.object_id))


def notification_url(notification: Notification) -> str | None:
    """Return the absolute URL of the notification's object (for e-mails)."""
    path = notification_path(notification)
    if not path:
        return None
    return str(getattr(settings, "CRM_SITE_URL", "")).rstrip("/") + path


def _subject(kind: str) -> str:
    return "[知財経営支援 CRM] " + str(SUBJECTS.get(kind) or _("お知らせ"))


def _body(notification: Notification) -> str:
    return render_to_string(
        "emails/notification.txt",
        {"message": notification.message, "url": notification_url(notification)},
    )


# --- who may be told: the visibility of the object -----------------------------


@dataclass(frozen=True)
class Audience:
    """How to check that a recipient may open objects of one type.

    `selector(actor)` is the visibility selector of the type (the one the
    API and the web use); `case_of(obj)` the case the object belongs to (for
    the confidential rule of the text); `sure(membership, obj)` an optional
    shortcut returning True only where the selector certainly admits the
    membership (it saves a query per recipient in the 100k-reminder sweep);
    False means "ask the selector".
    """

    selector: Callable[[Actor], Any]
    case_of: Callable[[Any], Case | None] = lambda obj: None
    sure: Callable[[Membership, Any], bool] | None = None


AUDIENCES: dict[str, Audience] = {}


def notification_audience_register(
    object_type: str,
    selector: Callable[[Actor], Any],
    *,
    case_of: Callable[[Any], Case | None] | None = None,
    sure: Callable[[Membership, Any], bool] | None = None,
) -> None:
    """Let notifications about `object_type` go only to who `selector` admits."""
    AUDIENCES[object_type] = Audience(
        selector=selector, case_of=case_of or (lambda obj: None), sure=sure
    )


def sees_own_case(membership: Membership, case: Case | None) -> bool:
    """Return True where the own-organisation case rule surely admits membership.

    The same rule as crm.selectors.visibility.own_case_q (DESIGN.md rules 3–4): the
    assignee; managers and org admins; other non-expert staff on a case that
    is not confidential. False means only "not through this rule".
    """
    if case is None or membership.organisation_id != case.organisation_id:
        return False
    if case.assignee_id == membership.user_id:
        return True
    if membership.role == Role.EXPERT:
        return False
    if membership.role in (Role.MANAGER, Role.ORG_ADMIN):
        return True
    return not case.is_confidential


def _referral_sure(membership: Membership, referral: Referral) -> bool:
    # A party to the referral sees its record (referral_records_visible_to).
    if membership.organisation_id == referral.to_organisation_id:
        return True
    if (
        membership.organisation_id == referral.from_organisation_id
        and referral.sent_by_id == membership.user_id
    ):
        return True
    return sees_own_case(membership, referral.case)


def _register_crm_audiences() -> None:
    from crm.selectors.visibility import (
        cases_visible_to,
        follow_ups_visible_to,
        referral_records_visible_to,
    )

    notification_audience_register(
        "case",
        cases_visible_to,
        case_of=lambda case: case,
        sure=sees_own_case,
    )
    notification_audience_register(
        "followup",
        follow_ups_visible_to,
        case_of=lambda f: f.case,
        sure=lambda m, f: sees_own_case(m, f.case),
    )
    notification_audience_register(
        "referral",
        referral_records_visible_to,
        case_of=lambda r: r.case,
        sure=_referral_sure,
    )
    # The weekly digest is about the coordinator's own membership; its text
    # is built from the visibility selectors (crm/services/digest.py).
    notification_audience_register(
        "membership",
        lambda actor: Membership.objects.filter(user_id=actor.user.pk),
        sure=lambda m, membership: m.user_id == membership.user_id,
    )


_register_crm_audiences()


def _memberships_of(user_ids: set[int]) -> dict[int, list[Membership]]:
    """Return the active memberships of these users: ids and role only.

    The shortcut (`Audience.sure`) needs no more; the few memberships it
    leaves undecided get their user and organisation in `_actors_of` (at
    100k reminders, building a user and an organisation per row costs
    seconds).
    """
    found: dict[int, list[Membership]] = {}
    for m in (
        Membership.objects.filter(
            user_id__in=user_ids,
            is_active=True,
            user__is_active=True,
            organisation__is_active=True,
        )
        .only("pk", "user_id", "organisation_id", "role")
        .order_by("pk")
    ):
        found.setdefault(m.user_id, []).append(m)
    return found


def _actors_of(membership_ids: set[int]) -> dict[int, Actor]:
    if not membership_ids:
        return {}
    return {
        m.pk: Actor(user=m.user, membership=m)
        for m in Membership.objects.filter(pk__in=membership_ids).select_related(
            "user", "organisation"
        )
    }


def recipients_who_may_see(
    pairs: Iterable[tuple[Any, Iterable[Any]]],
) -> list[list[Any]]:
    """For each (object, users), return the users who may open the object.

    A user may open it when one of their active memberships (or, for a
    superuser, their account) is admitted by the visibility selector of the
    object's type. Set-based: one query for the memberships of everyone,
    then one selector query per membership the shortcut (`Audience.sure`)
    could not decide, over all of that membership's objects at once.
    Objects of a type without a registered audience keep their recipients.
    """
    pairs = [(obj, [u for u in users if u is not None]) for obj, users in pairs]
    typed = [
        (obj, users, AUDIENCES.get(obj._meta.model_name) if obj is not None else None)
        for obj, users in pairs
    ]
    user_ids = {u.pk for obj, users, audience in typed if audience for u in users}
    if not user_ids:
        return [users for _obj, users in pairs]
    memberships = _memberships_of(user_ids)
    admitted: set[tuple[str, Any, int]] = set()
    undecided: list[tuple[str, Any, Any]] = []
    for obj, users, audience in typed:
        if audience is None:
            continue
        otype = obj._meta.model_name
        for user in users:
            own = memberships.get(user.pk, [])
            if audience.sure is not None and any(audience.sure(m, obj) for m in own):
                admitted.add((otype, obj.pk, user.pk))
            else:
                undecided.append((otype, obj, user))
    superusers: set[int] = set()
    if undecided:
        # From the database, not the user objects: a caller may pass users
        # with deferred fields (the sweep loads only names): a query per row.
        from django.contrib.auth import get_user_model

        superusers = set(
            get_user_model()
            .objects.filter(pk__in={u.pk for _t, _o, u in undecided}, is_superuser=True)
            .values_list("pk", flat=True)
        )
    # (object type, membership or user) → object pks to ask the selector about
    pending: dict[tuple[str, int, bool], set] = {}
    actors: dict[tuple[str, int, bool], Actor] = {}
    for otype, obj, user in undecided:
        own = memberships.get(user.pk, [])
        if user.pk in superusers or not own:
            key = (otype, user.pk, False)
            actors[key] = Actor(user=user)
            pending.setdefault(key, set()).add(obj.pk)
        for m in own:
            pending.setdefault((otype, m.pk, True), set()).add(obj.pk)
    by_membership = _actors_of({key[1] for key in pending if key[2]})
    for key, pks in pending.items():
        otype = key[0]
        actor = actors[key] if not key[2] else by_membership.get(key[1])
        if actor is None:
            continue  # the membership ended meanwhile
        seen = AUDIENCES[otype].selector(actor).filter(pk__in=pks)
        for pk in seen.values_list("pk", flat=True):
            admitted.add((otype, pk, actor.user.pk))
    result = []
    for obj, users, audience in typed:
        if audience is None:
            result.append(users)
            continue
        otype = obj._meta.model_name
        kept = [u for u in users if (otype, obj.pk, u.pk) in admitted]
        dropped = [u.pk for u in users if (otype, obj.pk, u.pk) not in admitted]
        if dropped:
            logger.info(
                "%s %s: not told (may not see it): users %s", otype, obj.pk, dropped
            )
        result.append(kept)
    return result


# --- what a notification about a confidential case says --------------------------

# Neutral texts by kind (DESIGN.md rule 4): no company, no title, no free text.
CONFIDENTIAL_MESSAGES: dict[str, Any] = {
    "follow_up.reminder": gettext_lazy(
        "機密案件（案件 No.%(case)s）のフォローアップの期日（%(due)s）です。"
        "内容は CRM で確認してください。"
    ),
    "follow_up.escalation": gettext_lazy(
        "機密案件（案件 No.%(case)s）のフォローアップが期日（%(due)s）を過ぎても"
        "完了していません（担当: %(assignee)s）。内容は CRM で確認してください。"
    ),
    "case.assigned": gettext_lazy(
        "機密案件（案件 No.%(case)s）の担当者になりました。"
        "内容は CRM で確認してください。"
    ),
}
CONFIDENTIAL_REFERRAL_MESSAGE = gettext_lazy(
    "機密案件（案件 No.%(case)s）の紹介（No.%(referral)s、%(sender)s → "
    "%(receiver)s）: %(event)s。内容は CRM で確認してください。"
)
CONFIDENTIAL_MESSAGE = gettext_lazy(
    "機密案件（案件 No.%(case)s）について: %(event)s。内容は CRM で確認してください。"
)


def _md(d) -> str:
    return f"{d.month}月{d.day}日" if d else ""


def _person(user) -> str:
    return person_name(user)


def confidential_message(kind: str, obj: Any, case: Case) -> str:
    """Return the neutral text of a notification of `kind` about a confidential case."""
    event = str(SUBJECTS.get(kind) or _("お知らせ"))
    if isinstance(obj, Referral):
        return str(CONFIDENTIAL_REFERRAL_MESSAGE) % {
            "case": case.pk,
            "referral": obj.pk,
            "sender": obj.from_organisation.name,
            "receiver": obj.to_organisation.name,
            "event": event,
        }
    text = CONFIDENTIAL_MESSAGES.get(kind)
    if text is None:
        return str(CONFIDENTIAL_MESSAGE) % {"case": case.pk, "event": event}
    values = {"case": case.pk, "due": "", "assignee": ""}
    if isinstance(obj, FollowUp):
        values["due"] = _md(obj.due_on)
        values["assignee"] = _person(obj.assignee)
    return str(text) % values


def _safe_message(kind: str, item: NotificationItem) -> str:
    obj = item.obj
    if obj is None:
        return item.message
    audience = AUDIENCES.get(obj._meta.model_name)
    case = audience.case_of(obj) if audience is not None else None
    if case is not None and case.is_confidential:
        return confidential_message(kind, obj, case)
    return item.message


# --- cleaning up what was recorded before these rules ----------------------------


def _models_by_name() -> dict[str, Any]:
    from django.apps import apps

    return {m._meta.model_name: m for m in apps.get_models()}


def notifications_redact(*, batch_size: int = 1000) -> dict[str, int]:
    """Bring notifications recorded before issue 26 under its two rules.

    `manage.py notifications_redact`, once after upgrading (idempotent): a
    row whose recipient may not open its object is deleted (it does not
    exist for them, rule 5), and a row about a confidential case gets the
    neutral text. Rows of types without an audience, or whose object is
    gone, are left as they are. Returns counts: checked, deleted, redacted.
    """
    models = _models_by_name()
    related = {
        "followup": ("case", "assignee"),
        "referral": ("case", "from_organisation", "to_organisation"),
        "enrolment": ("program",),
    }
    counts = {"checked": 0, "deleted": 0, "redacted": 0}
    after = 0
    while True:
        batch = list(
            Notification.objects.filter(pk__gt=after, object_type__in=list(AUDIENCES))
            .exclude(object_id="")
            .select_related("recipient")
            .order_by("pk")[:batch_size]
        )
        if not batch:
            return counts
        after = batch[-1].pk
        objects: dict[str, dict[str, Any]] = {}
        for otype in {n.object_type for n in batch}:
            model = models.get(otype)
            if model is None:
                continue
            ids = {int(n.object_id) for n in batch if n.object_type == otype}
            qs = model.objects.filter(pk__in=ids)
            if otype in related:
                qs = qs.select_related(*related[otype])
            objects[otype] = {str(o.pk): o for o in qs}
        rows = [
            (n, objects.get(n.object_type, {}).get(n.object_id))
            for n in batch
            if n.object_id.isdigit()
        ]
        rows = [(n, obj) for n, obj in rows if obj is not None]
        counts["checked"] += len(rows)
        seen = recipients_who_may_see((obj, [n.recipient]) for n, obj in rows)
        with transaction.atomic():
            for (n, obj), kept in zip(rows, seen, strict=True):
                if not kept:
                    Notification.objects.filter(pk=n.pk).delete()
                    counts["deleted"] += 1
                    continue
                case = AUDIENCES[n.object_type].case_of(obj)
                if case is not None and case.is_confidential:
                    text = confidential_message(n.kind, obj, case)
                    if text != n.message:
                        Notification.objects.filter(pk=n.pk).update(message=text)
                        counts["redacted"] += 1


# --- recording ---------------------------------------------------------------


@dataclass(frozen=True)
class NotificationItem:
    """One event to tell: who, what, about which object, and its dedupe key.

    With `dedupe_key` the event is recorded at most once per recipient: each
    row gets "<dedupe_key>:u<user id>". `kind` overrides the kind given to
    `notify_many` for this item.
    """

    recipients: Iterable[Any]
    message: str
    obj: Any = None
    dedupe_key: str | None = None
    kind: str | None = None


def notify_many(
    items: Iterable[NotificationItem],
    *,
    kind: str,
    now: datetime | None = None,
) -> list[int]:
    """Record the notifications of many events; queue their e-mails after commit.

    One INSERT for the rows with a dedupe key (conflicts ignored: the unique
    index, not a prior SELECT, decides who records an event, so concurrent
    callers cannot both insert) and one for the others; this is what keeps
    the sweep of 100k reminders within DESIGN.md's 20 s. Return the ids of
    every row of these events, written now or earlier.
    """
    now = now or timezone.now()
    keyed: list[Notification] = []
    plain: list[Notification] = []
    items = list(items)
    # Only recipients who may open the object are told (issue 26).
    audiences = recipients_who_may_see((item.obj, item.recipients) for item in items)
    for item, recipients in zip(items, audiences, strict=True):
        obj = item.obj
        object_type = obj._meta.model_name if obj is not None else ""
        object_id = str(obj.pk) if obj is not None else ""
        message = _safe_message(item.kind or kind, item) if recipients else ""
        for user in {u.pk: u for u in recipients}.values():
            row = Notification(
                recipient_id=user.pk,
                kind=item.kind or kind,
                message=message,
                object_type=object_type,
                object_id=object_id,
                dedupe_key=f"{item.dedupe_key}:u{user.pk}" if item.dedupe_key else None,
                created_at=now,
            )
            (keyed if item.dedupe_key else plain).append(row)
            # DEBUG, not INFO: 100k lines per sweep cost seconds; the rows
            # themselves are the record, and the callers log their counts.
            logger.debug("%s %s → user %s", row.kind, row.dedupe_key or "", user.pk)
    ids: list[int] = []
    to_mail: list[int] = []
    if plain:
        ids += [n.pk for n in Notification.objects.bulk_create(plain)]
        to_mail += list(
            Notification.objects.filter(pk__in=ids)
            .exclude(recipient__email="")
            .values_list("pk", flat=True)
        )
    if keyed:
        Notification.objects.bulk_create(keyed, ignore_conflicts=True)
        # One query gives the rows of these events and which still need an
        # e-mail (not mailed yet, recipient with an address).
        for pk, emailed_at, address in Notification.objects.filter(
            dedupe_key__in=[n.dedupe_key for n in keyed]
        ).values_list("pk", "emailed_at", "recipient__email"):
            ids.append(pk)
            if emailed_at is None and address:
                to_mail.append(pk)
    if to_mail:
        transaction.on_commit(lambda: enqueue_emails(sorted(to_mail)))
    return ids


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    message: str,
    obj: Any = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> list[Notification]:
    """Record one event for each recipient and e-mail it after commit.

    The single-event form of `notify_many` (same rows, same e-mail path).
    With `dedupe_key` a second call (or a concurrent one) adds no row and
    sends no e-mail. Return the rows of this event, whether written now or
    earlier.
    """
    ids = notify_many(
        [
            NotificationItem(
                recipients=recipients, message=message, obj=obj, dedupe_key=dedupe_key
            )
        ],
        kind=kind,
        now=now,
    )
    if not ids:
        return []
    return list(
        Notification.objects.filter(pk__in=ids)
        .select_related("recipient")
        .order_by("pk")
    )


# --- e-mail --------------------------------------------------------------------


def enqueue_emails(ids: list[int]) -> bool:
    """Queue the e-mail copies of notifications on `crm.notification_email`.

    Never raises: with the broker down the notifications are already
    recorded in-app; the e-mails stay unsent (emailed_at NULL), a warning is
    logged and the next reminder sweep queues them again, so they are late,
    not lost. Return whether they were queued.
    """
    if not ids:
        return True
    from crm.tasks import notification_email_task

    try:
        notification_email_task.apply_async(
            kwargs={"ids": list(ids)},
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2},
        )
    # Whatever the broker client raises (refused, timeout, auth), the caller
    # has committed its work and must not fail because of an e-mail.
    except Exception as exc:
        logger.warning("e-mail of %d notifications not queued: %s", len(ids), exc)
        return False
    return True


def email_lease() -> timedelta:
    """Return how long a worker holds an e-mail it is sending.

    Longer than a send can take (EMAIL_TIMEOUT per SMTP step), so a live
    worker is never overtaken; once it has run out, a mail whose worker died
    between claiming and sending is sent by the next one.
    settings.CRM_EMAIL_LEASE_SECONDS, default 300.
    """
    return timedelta(seconds=int(getattr(settings, "CRM_EMAIL_LEASE_SECONDS", 300)))


def email_unsent_q(now: datetime) -> Q:
    """Return 'not e-mailed yet, and nobody holds a live lease on it'."""
    return Q(emailed_at__isnull=True) & (
        Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - email_lease())
    )


def _email_message(notification: Notification, address: str) -> EmailMessage:
    domain = (
        str(getattr(settings, "DEFAULT_FROM_EMAIL", "")).rpartition("@")[2].strip(">")
        or "localhost"
    )
    return EmailMessage(
        _subject(notification.kind),
        _body(notification),
        None,  # DEFAULT_FROM_EMAIL
        [address],
        # The same Message-ID on every attempt: in the rare case of a second
        # delivery (a worker killed after the server accepted the mail but
        # before it recorded so), mail clients show one message.
        headers={"Message-ID": f"<crm-notification-{notification.pk}@{domain}>"},
    )


def notification_email_send(*, ids: Iterable[int], now: datetime | None = None) -> int:
    """E-mail the notifications with these ids that were not e-mailed yet.

    Called by the task `crm.notification_email`. Each e-mail is taken on a
    lease first (a conditional UPDATE of `email_claimed_at`: row count 1
    wins), so a notification queued twice, or a retried job, is mailed once
    while the lease holds; `emailed_at` is written only after the mail
    server accepted the message. A failed send releases its lease for the
    retry; a worker killed mid-send leaves a lease that runs out
    (`email_lease`), after which the sweep's backlog (`email_unsent_q`)
    queues the mail again: at least once, never lost. Return how many
    e-mails were sent.
    """
    sent = 0
    for notification in (
        Notification.objects.filter(pk__in=list(ids), emailed_at__isnull=True)
        .select_related("recipient")
        .order_by("pk")
    ):
        address = getattr(notification.recipient, "email", "")
        if not address:
            continue  # in-app only; the row stays unmailed
        claimed_at = timezone.now()
        claimed = (
            Notification.objects.filter(pk=notification.pk)
            .filter(email_unsent_q(claimed_at))
            .update(email_claimed_at=claimed_at)
        )
        if claimed != 1:
            continue  # sent already, or another worker is sending it
        try:
            _email_message(notification, address).send()
        except (smtplib.SMTPException, OSError):
            # Release the lease so a later run can retry; the in-app row
            # already tells the recipient.
            Notification.objects.filter(
                pk=notification.pk, email_claimed_at=claimed_at
            ).update(email_claimed_at=None)
            logger.warning("notification %s: e-mail failed", notification.pk)
            continue
        Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
            emailed_at=now or timezone.now()
        )
        logger.info(
            "e-mailed %s notification %s to user %s",
            notification.kind,
            notification.pk,
            notification.recipient_id,
        )
        sent += 1
    return sent


@transaction.atomic
def notification_read(
    *, actor: Actor, notification: Notification, now: datetime | None = None
) -> Notification:
    """Mark one of the actor's notifications read (a second call changes nothing)."""
    if notification.recipient_id != actor.user.pk:
        raise NotVisible(_("見つかりません。"))
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
    notification.refresh_from_db()
    return notification
