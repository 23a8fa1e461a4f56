"""Statistics facts store prefecture and topic as smallints.

A national fiscal year groups 1.35M fact rows by prefecture × topic; numbers
compare and group faster than text and make the covering index a third
smaller (bench.statistics). The index of primary rows (one per consultation)
now leads with the prefecture and covers the month chart's columns. `prefecture_no` is the JIS number of the handling
organisation's prefecture; `topic_no` follows crm.choices.TOPIC_NUMBERS.

Facts already built are converted in place. Where there are consultations
but no facts yet (a database upgraded from before 0006), the facts are built
here, by the service, which writes the current model: the backfill belongs
to the last migration of the fact table, so a later one that changes the
table must take it over.
"""

from django.db import migrations, models
from django.db.models import Case, Value, When
from django.db.models.functions import Cast

# As in crm.choices.TOPIC_NUMBERS when this migration was written.
TOPIC_NUMBERS = {
    "patent": 1,
    "utility_model": 2,
    "design": 3,
    "trademark": 4,
    "copyright": 5,
    "trade_secret": 6,
    "contract": 7,
    "licensing": 8,
    "infringement": 9,
    "overseas": 10,
    "ip_landscape": 11,
    "ip_finance": 12,
    "startup": 13,
    "branding": 14,
    "standardization": 15,
    "subsidy": 16,
    "ip_management": 17,
    "other": 18,
}


def to_numbers(apps, schema_editor):
    apps.get_model("crm", "ConsultationFact").objects.update(
        prefecture_no=Cast("prefecture_id", models.PositiveSmallIntegerField()),
        topic_no=Case(
            *(When(topic=t, then=Value(n)) for t, n in TOPIC_NUMBERS.items()),
            default=Value(0),
        ),
    )


def to_codes(apps, schema_editor):
    facts = apps.get_model("crm", "ConsultationFact").objects
    for code in apps.get_model("support_network", "Prefecture").objects.values_list(
        "code", flat=True
    ):
        facts.filter(prefecture_no=int(code)).update(prefecture_id=code)
    facts.update(
        topic=Case(
            *(When(topic_no=n, then=Value(t)) for t, n in TOPIC_NUMBERS.items()),
            default=Value(""),
        )
    )


def backfill(apps, schema_editor):
    if apps.get_model("crm", "ConsultationFact").objects.exists():
        return
    if not apps.get_model("crm", "Consultation").objects.exists():
        return
    from crm.services.facts import consultation_facts_refresh

    consultation_facts_refresh()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0008_statistics_facts_by_fiscal_year"),
        ("support_network", "0002_organisation_reminder_rules"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="consultationfact", name="crm_fact_fy_pref_topic_idx"
        ),
        migrations.RemoveIndex(
            model_name="consultationfact", name="crm_fact_fy_primary_idx"
        ),
        migrations.AddField(
            model_name="consultationfact",
            name="prefecture_no",
            field=models.PositiveSmallIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="consultationfact",
            name="topic_no",
            field=models.PositiveSmallIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.RunPython(to_numbers, to_codes),
        migrations.RemoveField(model_name="consultationfact", name="prefecture"),
        migrations.RemoveField(model_name="consultationfact", name="topic"),
        migrations.AddIndex(
            model_name="consultationfact",
            index=models.Index(
                fields=["fiscal_year", "prefecture_no", "topic_no", "company"],
                include=("is_company_first", "minutes", "organisation"),
                name="crm_fact_fy_pref_topic_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="consultationfact",
            index=models.Index(
                condition=models.Q(("is_primary", True)),
                fields=["fiscal_year", "prefecture_no", "company"],
                include=(
                    "is_company_first",
                    "minutes",
                    "organisation",
                    "month",
                    "is_yorozu_link",
                ),
                name="crm_fact_fy_primary_idx",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
