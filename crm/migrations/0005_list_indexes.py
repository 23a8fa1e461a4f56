"""Indexes for the case and consultation lists in their keyset order (and one
for statistics).

`cases/` pages by (-opened_on, -id) and `consultations/` by (-occurred_at,
-id) over what the caller may see: the organisation's own cases OR cases
referred to it (crm.selectors.case_visibility_q). An OR with an EXISTS
cannot use the per-organisation indexes (organisation, date, id) of 0001,
so without an index in the list's own order PostgreSQL read every row of
the table, joined the company, organisation and user of each, sorted and
kept 51: ~350 ms on 58k cases, 3–12 s at national scale, at every page.
With these it walks the list's order from the cursor position and stops
after 51 visible rows: the cost depends on the organisation's share of the
rows around that position, not on the page depth (bench/lists.py keeps the
plans). Plain SQL, as 0002 and 0003, so that the models keep their
declared indexes; the list indexes are made on SQLite too.
"""

from django.db import migrations

INDEXES = {
    "crm_case_opened_idx": "crm_case (opened_on DESC, id DESC)",
    "crm_consult_time_idx": "crm_consultation (occurred_at DESC, id DESC)",
    # "Referred to my organisation" as a set (PostgreSQL hashes the EXISTS of
    # the visibility rule when it expects to test many rows): an index-only
    # scan instead of reading every referral the organisation ever received
    # (24k rows, 37 ms for a national INPIT window before this index).
    "crm_referral_to_case_idx": "crm_referral (to_organisation_id, status, case_id)",
    # Statistics of a fiscal year, whole or for some organisations, read from
    # the index alone: an organisation's consultations are spread over the
    # whole year's heap (19k pages read for 35k rows of a よろず拠点, 200+ ms
    # of a manager's statistics request; 70 ms with this index, load test).
    "crm_consult_fy_org_cover_idx": (
        "crm_consultation (fiscal_year, organisation_id) "
        "INCLUDE (id, company_id, is_company_first, duration_minutes)"
    ),
}


# PostgreSQL only: SQLite has no INCLUDE (and the embedded default has no
# national-scale statistics to speed up).
POSTGRESQL_ONLY = {"crm_consult_fy_org_cover_idx"}


def create(apps, schema_editor):
    for name, target in INDEXES.items():
        if name in POSTGRESQL_ONLY and schema_editor.connection.vendor != "postgresql":
            continue
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("crm", "0004_statistics_exports")]

    operations = [migrations.RunPython(create, drop)]
