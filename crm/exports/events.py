"""The registrants of one event as an xlsx sheet (受付名簿), for its hosts.

An event holds at most a few hundred registrations, so the sheet is written
at once, not as a queued export; the rows come from the selector that shows
registrations only to the host and the co-hosts.
"""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _

from crm.exports.writers import DATETIME, TEXT, Column, WriteResult, write_xlsx
from crm.models import Event
from crm.selectors.events import event_attendees_visible_to
from support_network.actors import Actor


def registrant_columns() -> list[Column]:
    return [
        Column(_("企業等"), TEXT, 30),
        Column(_("フリガナ"), TEXT, 24),
        Column(_("法人番号"), TEXT, 15),
        Column(_("都道府県"), TEXT, 10),
        Column(_("参加者氏名"), TEXT, 16),
        Column(_("メールアドレス"), TEXT, 28),
        Column(_("登録組織"), TEXT, 24),
        Column(_("出席"), TEXT, 6),
        Column(_("出席記録日時"), DATETIME, 18),
    ]


def event_registrants_write(*, actor: Actor, event: Event, path: Path) -> WriteResult:
    """Write the event's registrants the actor may see to an xlsx file."""
    rows = (
        (
            a.company.name,
            a.company.name_kana,
            a.company.corporate_number or "",
            a.company.prefecture.name,
            a.contact_name,
            a.contact_email,
            a.registered_by.name,
            _("出席") if a.is_attended else "",
            a.attended_at,
        )
        for a in event_attendees_visible_to(actor, event)
    )
    return write_xlsx(
        path,
        registrant_columns(),
        rows,
        sheet_title=_("参加者名簿"),
        fiscal_year=event.fiscal_year,
    )
