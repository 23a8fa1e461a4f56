"""The import path migrations 0007 and 0009 pin; the facts live in crm/statistics/facts.py.

`crm/migrations/0007_statistics_facts_yorozu_links.py` and
`0009_statistics_facts_numbers.py` import these two functions from here, and
a migration's imports must keep working for as long as the migration exists.
New code imports crm.statistics.facts.
"""

from crm.statistics.facts import consultation_facts_refresh, yorozu_link_marks_refresh

__all__ = ["consultation_facts_refresh", "yorozu_link_marks_refresh"]
