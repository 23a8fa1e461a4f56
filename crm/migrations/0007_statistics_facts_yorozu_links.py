from django.db import migrations, models


def backfill(apps, schema_editor):
    """Build the facts, or mark the よろず連携 rows of facts already built.

    Uses the services (crm/services/facts.py), which write with the current
    models: a later migration that adds a column to the fact table must move
    this backfill after it. On an empty database nothing is called.
    """
    if not apps.get_model("crm", "Consultation").objects.exists():
        return
    from crm.services.facts import (
        consultation_facts_refresh,
        yorozu_link_marks_refresh,
    )

    if apps.get_model("crm", "ConsultationFact").objects.exists():
        yorozu_link_marks_refresh()
    else:
        consultation_facts_refresh()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0006_statistics_facts"),
    ]

    operations = [
        migrations.AddField(
            model_name="consultationfact",
            name="is_yorozu_link",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
