"""Indexes for short fragments and ranked company search, on PostgreSQL only.

pg_trgm (0002) cannot serve `LIKE '%xy%'` for 1- and 2-character
fragments: they hold no complete trigram, so a rare or absent 2-character
word (知財, 特許) scanned the whole table. pg_bigm is not packaged for
Debian 12, so this adds the same idea in plain SQL:

- `crm_bigrams(VARIADIC text[])`: the characters and the pairs of adjacent
  characters (1- and 2-grams) of each argument, as text[]. A GIN index over
  `crm_bigrams(name_key, name_norm, kana_key)` answers
  `crm_bigrams(...) @> ARRAY['知財']` exactly (a fragment of 1 or 2
  characters occurs in a column iff it is one of its grams; GIN `@>` on
  arrays is not lossy, so no row is rechecked), and ANALYZE keeps the
  frequencies of the common grams, so the planner knows 精工 from 知財.
- btree `text_pattern_ops` on name_key and kana_key: exact and prefix
  matches, the first two ranks of crm.search. The database collation is
  C.UTF-8, not C, so the plain btree cannot serve `LIKE 'x%'`.
- statistics target 1000 (default 100) on the gram index. PostgreSQL takes a
  gram missing from its list of common grams for half as frequent as the
  rarest listed one: with the default 1,000 listed that is 0.13% of the
  table, so 知財 (no match) was estimated at 1,300 rows and read by walking
  the whole primary key backwards (480 ms at 1M). With target 1000 the list
  holds ~6,500 grams and the floor is ~0.01% (知財: 108 rows, 0.04 ms), for
  ~10 s more ANALYZE at 1M rows on 2 cores.

The function costs about 20 µs a row; its declared COST (10) only has to
put it after the cheap `strpos` pre-filter that crm.search places in front
of it. SQLite (the embedded default) skips all of this and scans.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION crm_bigrams(VARIADIC parts text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 10 AS $$
  SELECT array(
    SELECT substr(part, i, n)
    FROM unnest(parts) AS part,
         generate_series(1, length(part)) AS i,
         (VALUES (1), (2)) AS width(n)
  )
$$
"""

INDEXES = {
    "crm_company_bigram_idx": (
        "USING gin (crm_bigrams(name_key, name_norm, kana_key))"
    ),
    "crm_company_name_key_pattern_idx": "(name_key text_pattern_ops)",
    "crm_company_kana_key_pattern_idx": "(kana_key text_pattern_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The GIN build is CPU-bound (~1-2 min at 1M companies on 2 cores); more
    # memory than the 64 MB default saves it a few merge passes.
    schema_editor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    schema_editor.execute(FUNCTION)
    for name, definition in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON crm_company {definition}"
        )
    schema_editor.execute(
        "ALTER INDEX crm_company_bigram_idx ALTER COLUMN 1 SET STATISTICS 1000"
    )
    # Statistics of the new index expression: without them the planner
    # guesses every gram rare and reads common ones through the index.
    schema_editor.execute("ANALYZE crm_company")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP FUNCTION IF EXISTS crm_bigrams(VARIADIC text[])")


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_company_trigram_indexes")]

    operations = [migrations.RunPython(create, drop)]
