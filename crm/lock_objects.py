"""Row locks of clients and cases, taken in one place (STYLE.md §2)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from crm.models import Company, Event
from support_network.errors import Conflict


def company_lock_active(pk: int) -> Company:
    """Lock a company row (FOR NO KEY UPDATE) and refuse a merged one.

    Writers that attach rows to a company take this lock, so they wait for a
    merge holding the row and never attach to a company merged meanwhile.
    """
    company = Company.objects.select_for_update(no_key=True).get(pk=pk)
    if company.merged_into_id is not None:
        raise Conflict(
            _(
                "この企業等は別の企業等に統合されています。統合後の企業等に登録してください。"
            ),
            code="company_merged",
            merged_into=company.merged_into_id,
        )
    return company


def event_lock(pk: int) -> Event:
    """Lock an event row, so registrations past its capacity are refused.

    Every registration takes this lock before counting, so two concurrent
    registrations for the last seat are counted one after the other.
    """
    return Event.objects.select_for_update().get(pk=pk)
