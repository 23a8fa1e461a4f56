"""Every registry crm plugs into support_network through, each `<thing>_register`.

support_network cannot import crm, so crm adds its audit of account changes
and its refresh of statistics facts when an organisation moves from
CrmConfig.ready().
"""

from support_network.services.accounts import member_event_hook_register
from support_network.services.network import organisation_place_hook_register
from support_network.services.sso import sso_event_hook_register

__all__ = [
    "member_event_hook_register",
    "organisation_place_hook_register",
    "sso_event_hook_register",
]
