"""The weekly coordinator digest: what is overdue and stalled in their scope.

Every Monday at 08:00 JST (beat entry "crm.coordinator_digest"; also
`manage.py send_digest --now ISO8601`), each active coordinator membership
gets one notification, in-app and by e-mail, listing:

- open follow-ups past their due date, and
- referrals still unanswered after their answer deadline (respond_by),

of its own organisation and, for a hub (経済産業局, 弁理士会 地域会; JPO,
INPIT and 中小企業庁 for the nation), of the organisations in the
prefectures it covers (DESIGN.md "Who sees what" rule 3: "region
coordinators … digests"). Only what the coordinator may see is listed or
counted: the lists start from the visibility selectors, so a hub sees a
covered organisation's case only under the company's network-wide consent,
never a confidential one. Nothing is sent when both lists are empty, and at
most one digest per membership and ISO week (dedupe key
"digest:<ISO year>-W<week>:m<membership>"), however often it runs.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import FollowUpStatus
from crm.models import FollowUp, Notification, Referral
from crm.selectors.visibility import follow_ups_visible_to, referral_records_visible_to
from crm.services.notifications import NotificationItem, notify_many
from support_network.actors import Actor
from support_network.calendar import date_text, local_date
from support_network.choices import Role
from support_network.models import Membership
from support_network.people import person_name
from support_network.selectors import active_memberships, hub_prefecture_codes

logger = logging.getLogger(__name__)

DIGEST_KIND = "digest.coordinator"

# Rows listed per section; the counts cover all of them.
LIST_LIMIT = 10


@dataclass
class Digest:
    """What one coordinator should look at this week."""

    actor: Actor
    today: date
    follow_ups: list[FollowUp] = field(default_factory=list)
    follow_up_count: int = 0
    referrals: list[Referral] = field(default_factory=list)
    referral_count: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.follow_up_count or self.referral_count)



def _scope(actor: Actor, field_name: str) -> Q:
    """Return the organisations a coordinator's digest covers, at field_name.

    Its own organisation; a hub adds the organisations of the prefectures it
    covers (None from hub_prefecture_codes: the whole nation).
    """
    own = Q(**{field_name: actor.organisation_id})
    codes = hub_prefecture_codes(actor.organisation)
    if codes is None:
        return Q()
    if codes:
        return own | Q(**{f"{field_name[: -len('_id')]}__prefecture_id__in": codes})
    return own


def coordinator_digest(actor: Actor, *, today: date) -> Digest:
    """Return the digest of the coordinator acting as `actor` on `today`."""
    digest = Digest(actor=actor, today=today)
    follow_ups = (
        follow_ups_visible_to(actor)
        .filter(
            _scope(actor, "organisation_id"),
            status=FollowUpStatus.OPEN,
            due_on__lt=today,
        )
        .select_related("organisation", "case__company", "assignee")
        .order_by("due_on", "pk")
    )
    digest.follow_up_count = follow_ups.count()
    if digest.follow_up_count:
        digest.follow_ups = list(follow_ups[:LIST_LIMIT])
    referrals = (
        referral_records_visible_to(actor)
        .filter(
            _scope(actor, "to_organisation_id"),
            Referral.overdue_q(today),
        )
        .select_related("from_organisation", "to_organisation", "case__company")
        .order_by("respond_by", "pk")
    )
    digest.referral_count = referrals.count()
    if digest.referral_count:
        digest.referrals = list(referrals[:LIST_LIMIT])
    return digest


def digest_message(digest: Digest) -> str:
    """Return the Japanese text of a digest (the notification and the e-mail)."""
    organisation = digest.actor.organisation
    lines = [
        _("今週の要確認事項（%(org)s、%(date)s時点）")
        % {"org": organisation.name, "date": date_text(digest.today)}
    ]
    if digest.follow_up_count:
        lines += [
            "",
            _("■ 期日を過ぎたフォローアップ: %(n)s件") % {"n": digest.follow_up_count},
        ]
        for f in digest.follow_ups:
            if f.case.is_confidential:
                # Rule 4: no company, title or note of a confidential case.
                lines.append(
                    _(
                        "・%(org)s 機密案件（案件 No.%(case)s）期日 %(due)s（担当: %(who)s）"
                    )
                    % {
                        "org": f.organisation.short_name or f.organisation.name,
                        "case": f.case_id,
                        "due": date_text(f.due_on),
                        "who": person_name(f.assignee),
                    }
                )
                continue
            lines.append(
                _("・%(org)s %(company)s「%(note)s」期日 %(due)s（担当: %(who)s）")
                % {
                    "org": f.organisation.short_name or f.organisation.name,
                    "company": f.case.company.name,
                    "note": f.note or f.case.title,
                    "due": date_text(f.due_on),
                    "who": person_name(f.assignee),
                }
            )
        if digest.follow_up_count > len(digest.follow_ups):
            lines.append(
                _("…ほか%(n)s件")
                % {"n": digest.follow_up_count - len(digest.follow_ups)}
            )
    if digest.referral_count:
        lines += [
            "",
            _("■ 回答期限を過ぎた紹介: %(n)s件") % {"n": digest.referral_count},
        ]
        for r in digest.referrals:
            lines.append(
                _("・%(sender)s → %(receiver)s %(company)s 回答期限 %(due)s")
                % {
                    "sender": r.from_organisation.short_name
                    or r.from_organisation.name,
                    "receiver": r.to_organisation.short_name or r.to_organisation.name,
                    "company": (
                        _("機密案件（案件 No.%(case)s）") % {"case": r.case_id}
                        if r.case.is_confidential
                        else r.case.company.name
                    ),
                    "due": date_text(r.respond_by),
                }
            )
        if digest.referral_count > len(digest.referrals):
            lines.append(
                _("…ほか%(n)s件") % {"n": digest.referral_count - len(digest.referrals)}
            )
    return "\n".join(lines)


def digest_key(membership: Membership, today: date) -> str:
    """Return the dedupe key of a membership's digest for the ISO week of today."""
    year, week, _weekday = today.isocalendar()
    return f"digest:{year}-W{week:02d}:m{membership.pk}"


def coordinator_digest_send(*, now: datetime | None = None) -> Counter:
    """Send this ISO week's digest to every active coordinator, at most once.

    Return counts: "digest.sent", "digest.empty" (nothing to report, nothing
    sent), "digest.already_sent" (this week's digest exists).
    """
    now = now or timezone.now()
    today = local_date(now)
    counts: Counter = Counter()
    memberships = (
        active_memberships()
        .filter(role=Role.COORDINATOR)
        .select_related("user", "organisation")
        .order_by("pk")
    )
    for membership in memberships:
        key = digest_key(membership, today)
        if Notification.objects.filter(
            dedupe_key=f"{key}:u{membership.user_id}"
        ).exists():
            counts["digest.already_sent"] += 1
            continue
        actor = Actor(user=membership.user, membership=membership)
        digest = coordinator_digest(actor, today=today)
        if digest.is_empty:
            counts["digest.empty"] += 1
            continue
        notify_many(
            [
                NotificationItem(
                    recipients=[membership.user],
                    message=digest_message(digest),
                    obj=membership,
                    dedupe_key=key,
                )
            ],
            kind=DIGEST_KIND,
            now=now,
        )
        logger.info(
            "digest %s → user %s (%s follow-ups, %s referrals)",
            key,
            membership.user_id,
            digest.follow_up_count,
            digest.referral_count,
        )
        counts["digest.sent"] += 1
    return counts
