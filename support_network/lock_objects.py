"""Row locks of the network, taken in one place (STYLE.md §2)."""

from __future__ import annotations

from support_network.models import Organisation


def organisation_lock(pk: int) -> Organisation:
    """Lock an organisation row (FOR NO KEY UPDATE) for a change of its members.

    Changes of an organisation's memberships that must keep an invariant
    over all of them (one active org admin at least) take this lock first,
    so they run one after the other.
    """
    return Organisation.objects.select_for_update(no_key=True).get(pk=pk)
