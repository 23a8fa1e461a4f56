"""The Django admin of crm, one module per concept.

Importing the modules registers their ModelAdmins when Django's admin
autodiscovery imports `crm.admin`.
"""

from crm.admin import audit, cases, companies, exports, notifications, referrals

__all__ = ["audit", "cases", "companies", "exports", "notifications", "referrals"]
