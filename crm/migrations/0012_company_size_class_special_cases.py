"""Recompute every company's stored size class under the corrected SME rules.

Issue 16 items 1–2: the cabinet-order special cases (ゴム製品製造業, 旅館業,
ソフトウェア業・情報処理サービス業, 宿泊業・娯楽業 for 小規模) now apply, and a bare
JSIC letter whose 中分類 fall in different SME groups no longer decides the size.
size_class is derived data (crm.services.companies.company_derive_keys); statistics
read it from the company row, so no fact needs rebuilding.
"""

from django.db import migrations

BATCH = 2000


def recompute(apps, schema_editor):
    from crm import rules

    Company = apps.get_model("crm", "Company")
    changed = []
    rows = Company.objects.only(
        "id", "kind", "industry", "capital_yen", "employees", "size_class"
    ).order_by("id")
    for company in rows.iterator(chunk_size=BATCH):
        size = rules.size_class(
            kind=company.kind,
            industry=company.industry or None,
            capital_yen=company.capital_yen,
            employees=company.employees,
        )
        if size != company.size_class:
            company.size_class = size
            changed.append(company)
        if len(changed) >= BATCH:
            Company.objects.bulk_update(changed, ["size_class"])
            changed = []
    if changed:
        Company.objects.bulk_update(changed, ["size_class"])


class Migration(migrations.Migration):
    dependencies = [("crm", "0011_notification_email_lease_export_heartbeat")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
