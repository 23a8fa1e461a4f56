"""Dates as the whole UI spells them, whatever the browser's language (docs/dates.md).

2026/12/9 and 2026/12/9 14:05. Templates use the filters of
crm/templatetags/crm_format.py (ymd, ymd_hm, ymd_weekday), which also keep
weekday names Japanese; this module covers values Django formats itself
(`{{ a_date }}`, the admin's lists).
"""

DATE_FORMAT = "Y/n/j"
SHORT_DATE_FORMAT = "Y/n/j"
DATETIME_FORMAT = "Y/n/j H:i"
SHORT_DATETIME_FORMAT = "Y/n/j H:i"
MONTH_DAY_FORMAT = "n/j"
YEAR_MONTH_FORMAT = "Y/n"
