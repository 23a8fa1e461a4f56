"""The backup and restore procedure of docs/operations.md, run on a small data set.

pg_dump in custom format, pg_restore into a new database made as the
procedure says (template0, UTF8, C.UTF-8), then what an operator checks: the
same rows in every table, the same indexes (trigram and bigram GIN included),
the sequences where they were, Japanese text intact, and no migration
missing for the code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from crm.models import Company, Consultation, FollowUp
from crm.services.consultations import consultation_create
from tests.conftest import ORG_A, make_actor
from tests.crm.factories import CompanyFactory

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def _url(dbname: str) -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return (
        f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{dbname}"
    )


def _run(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
    return result


def _snapshot(url: str) -> dict:
    """Return what the procedure compares: row counts, indexes, sequences."""
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' "
                "ORDER BY 1"
            )
        ]
        counts = {
            t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables
        }
        indexes = sorted(
            r[0]
            for r in conn.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'"
            )
        )
        sequences = dict(
            conn.execute(
                "SELECT sequencename, last_value FROM pg_sequences "
                "WHERE schemaname = 'public'"
            ).fetchall()
        )
        names = [
            r[0] for r in conn.execute("SELECT name FROM crm_company ORDER BY id DESC")
        ]
        summaries = [
            r[0]
            for r in conn.execute("SELECT summary FROM crm_consultation ORDER BY id")
        ]
    return {
        "counts": counts,
        "indexes": indexes,
        "sequences": sequences,
        "names": names,
        "summaries": summaries,
    }


def test_pg_dump_custom_format_restores_into_a_new_database(network, tmp_path):
    for tool in ("pg_dump", "pg_restore"):
        assert shutil.which(tool), (
            f"{tool} is needed (apt-get install postgresql-client)"
        )
    actor = make_actor(ORG_A, "window_staff")
    now = timezone.now()
    companies = [
        CompanyFactory(
            name=f"株式会社バックアップ精工{i}", name_kana="バックアップセイコウ"
        )
        for i in range(3)
    ]
    for i, company in enumerate(companies):
        consultation_create(
            actor=actor,
            company=company,
            occurred_at=now - timedelta(days=i + 1),
            channel="visit",
            duration_minutes=60,
            topics=["patent", "trademark"],
            summary=f"特許出願の段取りを相談（{i}）。",
            follow_up_on=timezone.localdate() + timedelta(days=7),
        )
    assert Consultation.objects.count() == 3
    assert FollowUp.objects.count() == 3

    source = connection.settings_dict["NAME"]
    target = f"{source}_restore"
    dump = tmp_path / "crm.dump"
    admin = _url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
    try:
        # 1. Back up (docs/operations.md "Back up").
        _run("pg_dump", "--format=custom", "--compress=6", f"--file={dump}",
             f"--dbname={_url(source)}")  # fmt: skip
        listing = _run("pg_restore", "--list", str(dump)).stdout
        assert "TABLE DATA public crm_consultation" in listing
        assert "EXTENSION - pg_trgm" in listing
        # 2. Restore into a new database (docs/operations.md "Restore").
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                f"CREATE DATABASE \"{target}\" TEMPLATE template0 ENCODING 'UTF8' "
                "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            )
        _run("pg_restore", "--no-owner", "--exit-on-error", "--jobs=2",
             f"--dbname={_url(target)}", str(dump))  # fmt: skip
        # 3. Check.
        before, after = _snapshot(_url(source)), _snapshot(_url(target))
        assert after["counts"] == before["counts"]
        assert after["counts"]["crm_consultation"] == 3
        assert after["counts"]["crm_followup"] == 3
        assert after["counts"]["support_network_organisation"] > 100  # the seeds
        assert after["indexes"] == before["indexes"]
        assert any("gin_trgm_ops" in d for d in after["indexes"])
        assert after["sequences"] == before["sequences"]
        assert after["names"][:3] == [c.name for c in reversed(companies)]
        assert after["summaries"] == [
            f"特許出願の段取りを相談（{i}）。" for i in range(3)
        ]
        # The restored schema is the code's: no migration missing or pending.
        env = {
            **os.environ,
            "DATABASE_URL": _url(target),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        check = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--check"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        # The restored database takes new rows after the restored ids.
        with psycopg.connect(_url(target)) as conn:
            new_id = conn.execute(
                "INSERT INTO crm_company (created_at, updated_at, name, name_kana, "
                "name_norm, name_key, kana_key, kind, prefecture_id, city, industry, "
                "controlled_by_large_company, size_class) VALUES (now(), now(), "
                "'復元後の会社', '', '復元後の会社', '復元後の会社', '', 'corporation', "
                "'13', '', '', false, 'unknown') RETURNING id"
            ).fetchone()[0]
        assert new_id > max(c.pk for c in Company.objects.all())
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
