"""Pure business rules about companies, kept free of Django.

These rules decide which records are the same company (corporate_number, names), how
users find companies (names.search_keys), which SME industry group and limits a JSIC
code has (industries) and which programmes a company may use (company_size). Being
Django-free, models, services, importers and reports share one tested implementation,
and it is tested without a database.

``size_class`` is re-exported here only because migration 0012 imports it as
``crm.rules.size_class``; code imports it from crm.rules.company_size.
"""

from crm.rules.company_size import size_class  # noqa: F401  (pinned by migration 0012)
