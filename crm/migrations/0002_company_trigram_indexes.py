"""Trigram GIN indexes for infix company search, on PostgreSQL only.

`LIKE '%fragment%'` on name_key / name_norm / kana_key uses these for
fragments of 3+ characters (reference/text_normalization.md §5). SQLite
(the embedded default) skips them and scans, which is fine at laptop scale.
"""

from django.db import migrations

INDEXES = {
    "crm_company_name_key_trgm": "name_key",
    "crm_company_name_norm_trgm": "name_norm",
    "crm_company_kana_key_trgm": "kana_key",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON crm_company "
            f"USING gin ({column} gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
