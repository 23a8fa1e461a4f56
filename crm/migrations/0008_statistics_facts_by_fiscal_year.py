"""Partition the statistics facts by fiscal year (PostgreSQL only).

A national fiscal year's statistics read one year's facts by an index-only
scan. In one big table those rows lie among other years' pages and updated
rows, and every index entry checks the visibility map of its heap page: the
map pages alternate and the scan costs twice the time (bench.statistics).
With one partition per fiscal year a year's facts have their own heap,
indexes and visibility map, and a query for one year reads one partition.

The table is rebuilt: a partitioned copy with the same columns, defaults,
identity, check constraints, indexes (same names) and foreign keys, one
partition per fiscal year 2010–2040 and a default partition for any other
year. Its primary key is (id, fiscal_year), as PostgreSQL requires the
partition key in a partitioned table's unique constraints; Django keeps `id`
as the model's primary key. SQLite keeps the plain table.
"""

from django.db import migrations

TABLE = "crm_consultationfact"
FIRST_YEAR, LAST_YEAR = 2010, 2040


def _rebuild(schema_editor, *, partitioned: bool) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s "
            "AND indexname <> %s ORDER BY indexname",
            [TABLE, f"{TABLE}_pkey"],
        )
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [TABLE],
        )
        foreign_keys = cursor.fetchall()
        new = f"{TABLE}_rebuilt"
        cursor.execute(
            f"CREATE TABLE {new} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING "
            "IDENTITY INCLUDING CONSTRAINTS)"
            + (" PARTITION BY RANGE (fiscal_year)" if partitioned else "")
        )
        if partitioned:
            for year in range(FIRST_YEAR, LAST_YEAR + 1):
                cursor.execute(
                    f"CREATE TABLE {TABLE}_fy{year} PARTITION OF {new} "
                    f"FOR VALUES FROM ({year}) TO ({year + 1})"
                )
            cursor.execute(f"CREATE TABLE {TABLE}_other PARTITION OF {new} DEFAULT")
        # In id order: a year's rows sit together, as when logged day by day.
        cursor.execute(f"INSERT INTO {new} SELECT * FROM {TABLE} ORDER BY id")
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {new}), 0) + 1, false)",
            [new],
        )
        cursor.execute(f"DROP TABLE {TABLE}")  # with its partitions, if any
        cursor.execute(f"ALTER TABLE {new} RENAME TO {TABLE}")
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        sequence = cursor.fetchone()[0]
        cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {TABLE}_id_seq")
        key = "id, fiscal_year" if partitioned else "id"
        cursor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY ({key})"
        )
        for definition in indexes:
            cursor.execute(definition)
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
        cursor.execute(f"ANALYZE {TABLE}")


def partition(apps, schema_editor):
    _rebuild(schema_editor, partitioned=True)


def unpartition(apps, schema_editor):
    _rebuild(schema_editor, partitioned=False)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0007_statistics_facts_yorozu_links"),
    ]

    operations = [
        migrations.RunPython(partition, unpartition),
    ]
