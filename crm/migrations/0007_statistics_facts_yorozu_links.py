from django.db import migrations, models


def backfill(apps, schema_editor):
    """Mark the よろず連携 rows of facts already built (see 0009 otherwise).

    Uses the service, which only updates `is_yorozu_link` here.
    """
    if not apps.get_model("crm", "ConsultationFact").objects.exists():
        return
    from crm.services.facts import yorozu_link_marks_refresh

    yorozu_link_marks_refresh()


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
