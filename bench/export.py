"""Export benchmark: one national fiscal year (~500k consultations) to CSV and xlsx.

    DJANGO_SETTINGS_MODULE=config.settings \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chizai_bench_exports \
    python -m bench.export [--rows 500000] [--repeat 1] [--only csv,xlsx]

DESIGN.md targets: "CSV export of one national fiscal year (~500k rows) <= 2x
the bare csv writer; constant memory" and "xlsx export of the same <= 1.5x the
fastest bare xlsx writer; <= 150 MB RSS". Creates the database when missing,
runs `migrate` and `seed_network`, then fills one fiscal year (FY2024) with
--rows consultations in SQL (INSERT ... SELECT generate_series): 100k
companies (70 % with a 法人番号, one in 1000 named with a character outside
cp932, one in 1000 beginning with "="), two cases each over the 141 INPIT
窓口 / よろず / 商工会議所 organisations (2 % confidential), consultations
spread evenly over the year with 1–2 topics and, for half, an IP type, and a
network-wide consent for 95 % of the companies. Idempotent: tops up to --rows.

Each measurement runs in its own Python process (peak RSS = that process's
ru_maxrss, Django loaded included):

- app csv / app xlsx: `crm.exports.build.export_build` (the body of the
  Celery task) on an Export row of kind `consultations`, as a JPO
  coordinator (national hub: visibility rule 3 applies, so every row passes
  the consent and confidentiality checks). One query (server-side cursor,
  5000 rows a fetch) with the topics and IP types as correlated string_agg
  subqueries; Python maps labels (相談方法, 相談分野 in choices order, 年度,
  担当者), neutralises text, writes progress (from the row's date: no COUNT)
  and renames the file into place. xlsx runs once per engine (XlsxWriter
  constant_memory, openpyxl write-only).
- bare csv / bare xlsx: the very SQL of the app (`consultation_export_queryset`)
  streamed by a psycopg server-side cursor straight into
  `csv.writer.writerow` / XlsxWriter constant_memory `write_row` / openpyxl
  write-only `append`: raw codes, no labels, no neutralising, no progress.
  `bare_csv_no_codes` drops the two subqueries (for reference only: the
  export's 相談分野 and 知財の種類 columns cost what it saves).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

FY = 2024
BENCH_USER = "bench-export"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/chizai_bench_exports"


def ensure_database(url: str) -> None:
    import psycopg

    u = urlparse(url)
    dbname = u.path.lstrip("/")
    admin = u._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)
        ).fetchone():
            return
        print(f"creating database {dbname} (UTF8, LC_CTYPE C.UTF-8)")
        conn.execute(
            f"CREATE DATABASE \"{dbname}\" TEMPLATE template0 ENCODING 'UTF8' "
            "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        )


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


# --- data -------------------------------------------------------------------------

COMPANIES = 100_000
USERS = 100

SQL_COMPANIES = """
INSERT INTO crm_company (created_at, updated_at, corporate_number, name, name_kana,
    name_norm, name_key, kana_key, kind, prefecture_id, city, industry,
    controlled_by_large_company, size_class, employees, capital_yen)
SELECT now(), now(),
    CASE WHEN g %% 10 < 7 THEN '9' || lpad(g::text, 12, '0') END,
    CASE g %% 1000
        WHEN 0 THEN '𠮷野商店' || g
        WHEN 1 THEN '=HYPERLINK("http://example.invalid")' || g
        ELSE '株式会社ベンチ工業' || g END,
    'ベンチコウギョウ' || g,
    'bench-export ' || g, 'bench-export ' || g, 'ベンチコウギョウ' || g,
    'corporation', lpad((1 + g %% 47)::text, 2, '0'), '千代田区', 'E',
    false, 'sme', 10 + g %% 200, 10000000
FROM generate_series(1, %(n)s) g
"""

SQL_CASES = """
WITH orgs AS (
    SELECT id, row_number() OVER (ORDER BY id) AS rn
    FROM support_network_organisation
    WHERE kind IN ('inpit_window', 'yorozu', 'cci_federation')
), companies AS (
    SELECT id, row_number() OVER (ORDER BY id) AS rn
    FROM crm_company WHERE name_key LIKE 'bench-export %%'
), users AS (
    SELECT array_agg(id ORDER BY id) AS ids FROM auth_user
    WHERE username LIKE 'bench-export-staff-%%'
)
INSERT INTO crm_case (created_at, updated_at, title, status, is_confidential,
    opened_on, created_by_id, organisation_id, company_id)
SELECT now(), now(), 'bench-export 相談 ' || c.rn || '-' || k, 'open',
    (c.rn + k) %% 50 = 0, date '2024-04-01',
    u.ids[1 + (c.rn %% array_length(u.ids, 1))], o.id, c.id
FROM companies c
CROSS JOIN generate_series(1, 2) k
CROSS JOIN users u
JOIN orgs o ON o.rn = 1 + ((c.rn * 7 + k) %% %(orgs)s)
"""

SQL_CONSULTATIONS = """
WITH cases AS (
    SELECT id, company_id, organisation_id, created_by_id,
        row_number() OVER (ORDER BY id) AS rn
    FROM crm_case WHERE title LIKE 'bench-export %%'
)
INSERT INTO crm_consultation (created_at, updated_at, occurred_at, occurred_on,
    fiscal_year, channel, duration_minutes, summary, advice, next_action,
    is_confidential, author_id, case_id, company_id, organisation_id,
    is_company_first)
SELECT now(), now(), t.ts, (t.ts AT TIME ZONE 'Asia/Tokyo')::date, %(fy)s,
    (ARRAY['visit', 'phone', 'online', 'email', 'onsite'])[1 + g %% 5],
    15 + (g %% 12) * 10, 'bench-export 相談内容 ' || g, '', '',
    g %% 100 = 0, c.created_by_id, c.id, c.company_id, c.organisation_id, false
FROM generate_series(%(start)s, %(stop)s) g
CROSS JOIN LATERAL (
    SELECT timestamptz '2024-04-01 09:00+09'
        + ((g - 1)::float8 / %(total)s) * interval '364 days'
        + (g %% 8) * interval '1 hour' AS ts
) t
JOIN cases c ON c.rn = 1 + ((g::bigint * 7919) %% %(cases)s)
"""

TOPICS = [
    "patent", "utility_model", "design", "trademark", "copyright", "trade_secret",
    "contract", "licensing", "infringement", "overseas", "ip_landscape",
    "ip_finance", "startup", "branding", "standardization", "subsidy",
    "ip_management", "other",
]  # fmt: skip

SQL_TOPICS = """
INSERT INTO crm_consultationtopic (consultation_id, topic)
SELECT c.id, (%(topics)s::text[])[1 + c.id %% 18]
FROM crm_consultation c
WHERE c.fiscal_year = %(fy)s AND c.summary LIKE 'bench-export %%' AND c.id > %(after)s
UNION ALL
SELECT c.id, (%(topics)s::text[])[1 + (c.id + 5) %% 18]
FROM crm_consultation c
WHERE c.fiscal_year = %(fy)s AND c.summary LIKE 'bench-export %%' AND c.id > %(after)s
    AND c.id %% 3 = 0
"""

SQL_IP_TYPES = """
INSERT INTO crm_consultationiptype (consultation_id, ip_type)
SELECT c.id, (ARRAY['patent', 'design', 'trademark', 'copyright'])[1 + c.id %% 4]
FROM crm_consultation c
WHERE c.fiscal_year = %(fy)s AND c.summary LIKE 'bench-export %%' AND c.id > %(after)s
    AND c.id %% 2 = 0
"""

SQL_CONSENTS = """
INSERT INTO crm_consent (created_at, updated_at, scope, obtained_on, method,
    company_id, organisation_id, recorded_by_id)
SELECT now(), now(), 'network', date '2024-04-01', 'written', c.id,
    (SELECT id FROM support_network_organisation WHERE code = 'jpo'),
    (SELECT id FROM auth_user WHERE username = %(user)s)
FROM crm_company c
WHERE c.name_key LIKE 'bench-export %%' AND c.id %% 20 <> 0
    AND NOT EXISTS (SELECT 1 FROM crm_consent x WHERE x.company_id = c.id)
"""


def seed(rows: int) -> None:
    """Top the bench fiscal year up to `rows` consultations (idempotent)."""
    from django.db import connection, transaction

    from support_network.services.network import user_create_or_update

    user_create_or_update(
        username=BENCH_USER, organisation_code="jpo", role="coordinator", validate=False
    )
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM auth_user WHERE username LIKE 'bench-export-staff-%%'"
        )
        if cur.fetchone()[0] < USERS:
            print(f"creating {USERS} staff users")
            for i in range(USERS):
                membership, _ = user_create_or_update(
                    username=f"bench-export-staff-{i:03d}",
                    organisation_code="inpit-window-13",
                    role="window_staff",
                    validate=False,
                )
                user = membership.user
                user.last_name, user.first_name = "佐藤", f"太郎{i}"
                user.save(update_fields=["last_name", "first_name"])
        cur.execute(
            "SELECT count(*) FROM crm_company WHERE name_key LIKE 'bench-export %%'"
        )
        if cur.fetchone()[0] == 0:
            t = time.perf_counter()
            with transaction.atomic():
                cur.execute(SQL_COMPANIES, {"n": COMPANIES})
                cur.execute(
                    "SELECT count(*) FROM support_network_organisation "
                    "WHERE kind IN ('inpit_window', 'yorozu', 'cci_federation')"
                )
                cur.execute(SQL_CASES, {"orgs": cur.fetchone()[0]})
                cur.execute(SQL_CONSENTS, {"user": BENCH_USER})
            print(f"companies, cases, consents: {time.perf_counter() - t:.1f}s")
        cur.execute(
            "SELECT count(*), coalesce(max(id), 0) FROM crm_consultation "
            "WHERE fiscal_year = %s AND summary LIKE 'bench-export %%'",
            [FY],
        )
        have, last_id = cur.fetchone()
        if have >= rows:
            print(f"FY{FY} has {have:,} bench consultations (>= {rows:,})")
            return
        print(f"FY{FY} has {have:,} bench consultations; adding {rows - have:,}")
        t = time.perf_counter()
        cur.execute("SELECT count(*) FROM crm_case WHERE title LIKE 'bench-export %%'")
        cases = cur.fetchone()[0]
        with transaction.atomic():
            cur.execute(
                SQL_CONSULTATIONS,
                {
                    "fy": FY,
                    "start": have + 1,
                    "stop": rows,
                    "total": rows,
                    "cases": cases,
                },
            )
            cur.execute(SQL_TOPICS, {"fy": FY, "after": last_id, "topics": TOPICS})
            cur.execute(SQL_IP_TYPES, {"fy": FY, "after": last_id})
        print(f"inserted in {time.perf_counter() - t:.1f}s")
        t = time.perf_counter()
        for table in (
            "crm_company",
            "crm_case",
            "crm_consent",
            "crm_consultation",
            "crm_consultationtopic",
            "crm_consultationiptype",
        ):
            cur.execute(f"VACUUM (ANALYZE) {table}")
        print(f"VACUUM (ANALYZE): {time.perf_counter() - t:.1f}s")


# --- one measurement per process ----------------------------------------------------


def bench_actor():
    from support_network.actors import Actor
    from support_network.models import Membership

    membership = Membership.objects.select_related("user", "organisation").get(
        user__username=BENCH_USER, organisation__code="jpo"
    )
    return Actor(user=membership.user, membership=membership)


def bare_rows(actor, chunk: int = 5000, *, codes: bool = True):
    """Yield the app's query rows from a psycopg server-side cursor.

    codes=False drops the topic and IP type subqueries (a reference only).
    """
    from django.db import connection, transaction

    from crm.exports.consultations import (
        _CONSULTATION_FIELDS,
        consultation_export_queryset,
    )

    qs = consultation_export_queryset(actor, FY)
    if not codes:
        qs = qs.values_list(*_CONSULTATION_FIELDS)
    sql, params = qs.query.sql_with_params()
    connection.ensure_connection()
    with transaction.atomic(), connection.connection.cursor(name="bare") as cur:
        cur.itersize = chunk
        cur.execute(sql, params)
        yield from cur


def run_child(case: str, out_dir: Path) -> dict:
    """Run one measurement in this process; return its figures."""
    setup_django()
    from django.utils import timezone

    from crm.exports import writers as export_writers
    from crm.exports.build import export_build
    from crm.exports.files import export_file_path
    from crm.models import Export

    actor = bench_actor()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    rows = 0
    path = out_dir / f"{case}.out"
    if case in ("bare_csv", "bare_csv_no_codes"):
        import csv

        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            for row in bare_rows(actor, codes=case == "bare_csv"):
                writer.writerow(row)
                rows += 1
    elif case == "bare_xlsx_xlsxwriter":
        import xlsxwriter

        # No per-string URL or formula detection: the least work per cell.
        wb = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "tmpdir": str(out_dir),
                "strings_to_urls": False,
                "strings_to_formulas": False,
            },
        )
        ws = wb.add_worksheet()
        date_format = wb.add_format({"num_format": "yyyy/mm/dd"})
        for r, row in enumerate(bare_rows(actor)):
            ws.write_row(r, 0, row)
            ws.write_datetime(r, 1, row[1], date_format)
            rows += 1
        wb.close()
    elif case == "bare_xlsx_openpyxl":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet()
        for row in bare_rows(actor):
            ws.append(row)
            rows += 1
        wb.save(str(path))
    elif case.startswith("app_"):
        _, fmt, *engine = case.split("_")
        if engine:
            export_writers.XLSX_ENGINE = engine[0]
        now = timezone.now()
        export = Export.objects.create(
            requested_by=actor.user,
            organisation=actor.organisation,
            role=actor.role,
            kind="consultations",
            fiscal_year=FY,
            format=fmt,
            encoding="utf-8-sig",
            created_at=now,
            expires_at=now,
        )
        result = export_build(export_id=export.pk)
        export.refresh_from_db()
        if export.status != "done":
            raise SystemExit(f"export failed: {export.error} {result}")
        rows = export.row_count
        path = export_file_path(export)
    else:
        raise SystemExit(f"unknown case {case}")
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = path.stat().st_size
    path.unlink()
    if case.startswith("app_"):
        Export.objects.filter(pk=export.pk).delete()
    return {
        "case": case,
        "rows": rows,
        "seconds": seconds,
        "peak_rss_mb": peak / 1024,
        "base_rss_mb": base_rss / 1024,
        "file_mb": size / 1e6,
    }


def measure(case: str, out_dir: Path) -> dict:
    env = {**os.environ, "CRM_EXPORT_DIR": str(out_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.export", "--child", case, "--out", str(out_dir)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{case} failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


CASES = {
    "csv": ["bare_csv_no_codes", "bare_csv", "app_csv"],
    "xlsx": [
        "bare_xlsx_xlsxwriter",
        "bare_xlsx_openpyxl",
        "app_xlsx_xlsxwriter",
        "app_xlsx_openpyxl",
    ],
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", default="csv,xlsx")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "false")

    if args.child:
        print(json.dumps(run_child(args.child, Path(args.out))))
        return

    url = os.environ["DATABASE_URL"]
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL (…/chizai_bench_exports)")
    ensure_database(url)
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_network", verbosity=0)
    seed(args.rows)

    print(
        f"\nmachine: {platform.machine()} {os.cpu_count()} CPU, Python "
        f"{platform.python_version()}, load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    cases = [c for group in args.only.split(",") for c in CASES[group.strip()]]
    results: dict[str, list[dict]] = {c: [] for c in cases}
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        out_dir = Path(tmp)
        for i in range(args.repeat):
            for case in cases:
                r = measure(case, out_dir)
                results[case].append(r)
                print(
                    f"  run {i + 1} {case:<22} {r['rows']:>8,} rows "
                    f"{r['seconds']:>7.2f} s  peak RSS {r['peak_rss_mb']:>6.1f} MB "
                    f"(after setup {r['base_rss_mb']:.1f})  file {r['file_mb']:.1f} MB",
                    flush=True,
                )

    def med(case: str, key: str = "seconds") -> float:
        return statistics.median(r[key] for r in results[case])

    print(f"\nmedian of {args.repeat} run(s), FY{FY}, as a JPO coordinator (national)")
    print(f"  {'case':<22} {'seconds':>8} {'peak RSS MB':>12}")
    for case in cases:
        print(f"  {case:<22} {med(case):>8.2f} {med(case, 'peak_rss_mb'):>12.1f}")
    if "app_csv" in results:
        ratio = med("app_csv") / med("bare_csv")
        print(
            f"\nCSV: app {med('app_csv'):.2f} s / bare {med('bare_csv'):.2f} s = "
            f"{ratio:.2f}x (target <= 2x) {'OK' if ratio <= 2 else 'MISSED'}; "
            f"peak RSS {med('app_csv', 'peak_rss_mb'):.0f} MB"
        )
    if "app_xlsx_xlsxwriter" in results:
        bare = min(med("bare_xlsx_xlsxwriter"), med("bare_xlsx_openpyxl"))
        bare_name = min(
            ("bare_xlsx_xlsxwriter", "bare_xlsx_openpyxl"), key=lambda c: med(c)
        )
        for engine in ("xlsxwriter", "openpyxl"):
            case = f"app_xlsx_{engine}"
            ratio = med(case) / bare
            rss = med(case, "peak_rss_mb")
            ok = ratio <= 1.5 and rss <= 150
            print(
                f"xlsx ({engine}): app {med(case):.2f} s / fastest bare "
                f"({bare_name}) {bare:.2f} s = {ratio:.2f}x (target <= 1.5x), "
                f"peak RSS {rss:.0f} MB (target <= 150) {'OK' if ok else 'MISSED'}"
            )
        faster = min(("xlsxwriter", "openpyxl"), key=lambda e: med(f"app_xlsx_{e}"))
        print(
            f"faster engine through the app: {faster} "
            f"(crm/exports/writers.py XLSX_ENGINE)"
        )


if __name__ == "__main__":
    main()
