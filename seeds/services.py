"""Load the network and program reference data from seeds/data/, idempotently.

Reference data is not a migration (STYLE.md §10): `manage.py seed_network`
upserts every row on its stable code, so running it twice gives the same
rows, and a later run picks up corrected names.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from programs.models import Program, ProgramRound
from support_network.calendar import fiscal_year
from support_network.models import ExpertiseTag, Organisation, Prefecture, Region
from support_network.services.network import organisation_place_changed

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass
class SeedReport:
    """How many rows of each kind the seed created or updated."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, created: bool) -> None:
        bucket = self.created if created else self.updated
        bucket[kind] = bucket.get(kind, 0) + 1

    def summary(self) -> str:
        kinds = sorted(set(self.created) | set(self.updated))
        return ", ".join(
            f"{k}: +{self.created.get(k, 0)} ~{self.updated.get(k, 0)}" for k in kinds
        )


def _rows(name: str, data_dir: Path) -> list[dict[str, str]]:
    with (data_dir / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def round_capacity(rules: dict, fy: int) -> int | None:
    """Return a program's capacity for fiscal year fy from its rules."""
    capacity = rules.get("capacity_per_fiscal_year")
    if isinstance(capacity, dict):
        return capacity.get(str(fy), capacity.get("default"))
    return capacity


@transaction.atomic
def _organisation_places() -> dict[int, tuple]:
    """Return each organisation's (kind, prefecture, effective region)."""
    return {
        pk: (kind, prefecture, prefecture_region or region)
        for pk, kind, prefecture, prefecture_region, region in (
            Organisation.objects.values_list(
                "pk", "kind", "prefecture_id", "prefecture__region_id", "region_id"
            )
        )
    }


def network_seed(*, data_dir: Path = DATA_DIR, today=None) -> SeedReport:
    """Upsert regions, prefectures, expertise tags, organisations and programs.

    Rounds are opened for the current and the next fiscal year when missing;
    existing rounds are left as an administrator set them.
    """
    report = SeedReport()
    today = today or timezone.localdate()

    for row in _rows("regions.csv", data_dir):
        _, created = Region.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "short_name": row["short_name"],
                "sort_order": int(row["sort_order"]),
            },
        )
        report.count("regions", created)

    prefecture_rows = _rows("prefectures.csv", data_dir)
    for row in prefecture_rows:
        _, created = Prefecture.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "name_en": row["name_en"],
                "region_id": row["region"],
            },
        )
        report.count("prefectures", created)

    tags = {}
    for row in _rows("expertise.csv", data_dir):
        tag, created = ExpertiseTag.objects.update_or_create(
            slug=row["slug"], defaults={"name": row["name"]}
        )
        tags[tag.slug] = tag
        report.count("expertise", created)

    places_before = _organisation_places()
    for row in _rows("organisations.csv", data_dir):
        parent = Organisation.objects.get(code=row["parent"]) if row["parent"] else None
        org, created = Organisation.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "short_name": row["short_name"],
                "kind": row["kind"],
                "prefecture_id": row["prefecture"] or None,
                "region_id": row["region"] or None,
                "parent": parent,
                "is_network_member": row["is_network_member"].strip().lower() == "true",
                "capacity": int(row["capacity"]),
                "email": row["email"],
            },
        )
        wanted = [tags[s] for s in row["expertise"].split("|") if s]
        org.expertise.set(wanted)
        report.count("organisations", created)

    for row in prefecture_rows:
        Prefecture.objects.filter(code=row["code"]).update(
            jpaa_branch=Organisation.objects.get(code=row["jpaa_branch"])
        )
    # Statistics facts carry the organisation's kind, prefecture and region.
    moved = [
        pk
        for pk, place in _organisation_places().items()
        if pk in places_before and places_before[pk] != place
    ]
    if moved:
        organisation_place_changed(moved)

    current = fiscal_year(today)
    programs = json.loads((data_dir / "programs.json").read_text(encoding="utf-8"))
    for item in programs:
        program, created = Program.objects.update_or_create(
            code=item["code"],
            defaults={
                "name": item["name"],
                "short_name": item.get("short_name", ""),
                "kind": item["kind"],
                "operator": Organisation.objects.get(code=item["operator"]),
                "description": item.get("description", ""),
                "rules": item["rules"],
                "source": item.get("source", ""),
            },
        )
        report.count("programs", created)
        for fy in (current, current + 1):
            capacity = round_capacity(item["rules"], fy)
            if capacity is None:
                continue
            _, created = ProgramRound.objects.get_or_create(
                program=program, fiscal_year=fy, defaults={"capacity": capacity}
            )
            if created:
                report.count("rounds", True)
    return report
