"""Every registry another app plugs into crm through, each `<thing>_register`.

Dependencies point programs → crm → support_network, so crm cannot name
programs' models; programs adds what it owns from ProgramsConfig.ready():
an export kind, reminder sources, notification subjects, links and
audiences, and the managers' page's program figures. Each registry keeps
living beside the code that reads it; this module is the one place to look
them up.
"""

from crm.exports.kinds import export_kind_register
from crm.services.notification_audiences import notification_audience_register
from crm.services.notification_emails import (
    notification_link_register,
    notification_subject_register,
)
from crm.services.reminders import reminder_source_register
from crm.statistics.programs import program_statistics_register

__all__ = [
    "export_kind_register",
    "notification_audience_register",
    "notification_link_register",
    "notification_subject_register",
    "program_statistics_register",
    "reminder_source_register",
]
