"""Benchmark: one national fiscal year's statistics, prefecture × topic.

    export DJANGO_SETTINGS_MODULE=config.settings
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/chizai_bench_stats
    python -m bench.generate --companies 300000       # companies (COPY)
    python -m bench.statistics --fill 700000           # consultations per FY (SQL)
    python -m bench.statistics --repeat 20             # measure

DESIGN.md target: p95 ≤ 300 ms and ≤ 3× the bare SQL aggregate, for ~700k
consultations in one fiscal year (the よろず拠点 FY2024 scale). `--fill N`
writes N consultations in each of FY2023 and FY2024 with INSERT … SELECT
(cases, 1–3 topics each, realistic channel and duration spreads), then marks each company's first consultation with a
window function, as the app's consultation service keeps it. The bench
first times the app alone, `--repeat` calls in a row (**app alone**: what a
manager waits for; the target's p95), then, alternating in the same run:
- **app**: `crm.statistics.consultations.consultation_statistics` as a national manager
  (JPO), group_by prefecture,topic: the GROUP BY query with every measure
  (consultations, distinct companies, new companies, minutes) plus the
  totals query and the labels;
- **bare**: the hand-written SQL of the same rows and measures;
- **bare count**: prefecture × topic COUNT(*) only (DESIGN.md's
  orientation figure, ~60 ms on such a machine).
- **bare facts**: the same measures hand-written over the statistics facts
  (`crm_consultationfact`, crm/statistics/facts.py), grouped query then
  totals.
The app reads the facts too (prefecture × topic needs nothing else) and asks
for the grouped rows and the totals in one UNION ALL, which PostgreSQL runs
as a Parallel Append: the two aggregates at once, one per core.
It ends with EXPLAIN (ANALYZE, BUFFERS) of the app's statement.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

BARE_SQL = """
SELECT o.prefecture_id, t.topic, count(*), count(DISTINCT c.company_id),
       sum(CASE WHEN c.is_company_first THEN 1 ELSE 0 END), sum(c.duration_minutes)
FROM crm_consultation c
JOIN support_network_organisation o ON o.id = c.organisation_id
JOIN crm_consultationtopic t ON t.consultation_id = c.id
WHERE c.fiscal_year = %s
GROUP BY 1, 2
"""
BARE_COUNT_SQL = """
SELECT o.prefecture_id, t.topic, count(*)
FROM crm_consultation c
JOIN support_network_organisation o ON o.id = c.organisation_id
JOIN crm_consultationtopic t ON t.consultation_id = c.id
WHERE c.fiscal_year = %s
GROUP BY 1, 2
"""

# The same measures over the statistics facts, hand-written: the grouped
# query and the totals (one row per consultation), one after the other.
BARE_FACTS_SQL = """
SELECT prefecture_no, topic_no, count(*), count(DISTINCT company_id),
       sum(CASE WHEN is_company_first THEN 1 ELSE 0 END), sum(minutes)
FROM crm_consultationfact WHERE fiscal_year = %s GROUP BY 1, 2
"""
BARE_FACTS_TOTALS_SQL = """
SELECT count(*), count(DISTINCT company_id),
       sum(CASE WHEN is_company_first THEN 1 ELSE 0 END), sum(minutes)
FROM crm_consultationfact WHERE fiscal_year = %s AND is_primary
"""

TOPICS = [
    "patent", "trademark", "design", "utility_model", "copyright", "trade_secret",
    "overseas", "licensing", "infringement", "branding", "startup", "contract",
    "ip_landscape", "ip_management",
]  # fmt: skip


def _fill(cur, per_year: int, fiscal_years: list[int]) -> None:
    """Write per_year consultations (with cases and topics) in each fiscal year."""
    cur.execute(
        "SELECT id FROM auth_user WHERE username = 'bench-stats'",
    )
    author = cur.fetchone()[0]
    for fy in fiscal_years:
        cur.execute(
            "SELECT count(*) FROM crm_consultation WHERE fiscal_year = %s", [fy]
        )
        have = cur.fetchone()[0]
        todo = per_year - have
        if todo <= 0:
            print(f"FY{fy}: {have:,} consultations already")
            continue
        t0 = time.perf_counter()
        cur.execute(
            """
            CREATE TEMP TABLE bench_src AS
            WITH orgs AS (
                SELECT array_agg(id ORDER BY id) AS ids FROM support_network_organisation
                WHERE kind IN ('inpit_window', 'yorozu', 'cci', 'inpit_expert_window')
            ), companies AS (SELECT min(id) AS lo, max(id) AS hi FROM crm_company)
            SELECT g AS n,
                   orgs.ids[1 + floor(random() * array_length(orgs.ids, 1))::int]
                       AS organisation_id,
                   companies.lo + floor(random() * (companies.hi - companies.lo + 1))::int
                       AS company_id,
                   make_timestamptz(%s, 4, 1, 9, 0, 0, 'Asia/Tokyo')
                       + floor(random() * 365)::int * interval '1 day'
                       + floor(random() * 9 * 60)::int * interval '1 minute'
                       AS occurred_at,
                   (ARRAY['visit','visit','visit','phone','phone','online','online',
                          'email','onsite'])[1 + floor(random() * 9)::int] AS channel,
                   (ARRAY[15,30,30,45,60,60,60,90,120])[1 + floor(random() * 9)::int]
                       AS duration
            FROM generate_series(1, %s) g, orgs, companies
            """,
            [fy, todo],
        )
        cur.execute(
            """
            WITH new_cases AS (
                INSERT INTO crm_case (created_at, updated_at, company_id,
                    organisation_id, title, status, is_confidential, created_by_id,
                    opened_on)
                SELECT now(), now(), company_id, organisation_id, '相談', 'open',
                    false, %s, (occurred_at AT TIME ZONE 'Asia/Tokyo')::date
                FROM bench_src ORDER BY n
                RETURNING id
            ), numbered AS (
                SELECT id, row_number() OVER (ORDER BY id) AS n FROM new_cases
            )
            INSERT INTO crm_consultation (created_at, updated_at, case_id, company_id,
                organisation_id, author_id, occurred_at, occurred_on, fiscal_year,
                channel, duration_minutes, summary, advice, next_action,
                is_confidential, is_company_first)
            SELECT now(), now(), numbered.id, s.company_id, s.organisation_id, %s,
                s.occurred_at, (s.occurred_at AT TIME ZONE 'Asia/Tokyo')::date, %s,
                s.channel, s.duration, '相談内容', '', '', false, false
            FROM bench_src s JOIN numbered USING (n)
            """,
            [author, author, fy],
        )
        cur.execute(
            """
            INSERT INTO crm_consultationtopic (consultation_id, topic)
            SELECT DISTINCT c.id, (%s::text[])[1 + floor(random() * %s)::int]
            FROM crm_consultation c, generate_series(1, 1 + floor(random() * 2)::int)
            WHERE c.fiscal_year = %s AND NOT EXISTS (
                SELECT 1 FROM crm_consultationtopic t WHERE t.consultation_id = c.id)
            """,
            [TOPICS, len(TOPICS), fy],
        )
        cur.execute("DROP TABLE bench_src")
        print(f"FY{fy}: +{todo:,} consultations in {time.perf_counter() - t0:.1f}s")
    t0 = time.perf_counter()
    cur.execute(
        """
        UPDATE crm_consultation c SET is_company_first = (c.id = f.first_id)
        FROM (SELECT DISTINCT ON (company_id) company_id, id AS first_id
              FROM crm_consultation ORDER BY company_id, occurred_at, id) f
        WHERE f.company_id = c.company_id
          AND c.is_company_first IS DISTINCT FROM (c.id = f.first_id)
        """
    )
    from crm.statistics.facts import consultation_facts_refresh

    written = consultation_facts_refresh()
    print(f"statistics facts rebuilt: {written:,} rows")
    cur.execute("VACUUM (ANALYZE) crm_consultationfact")
    cur.execute("VACUUM (ANALYZE) crm_consultation")
    cur.execute("VACUUM (ANALYZE) crm_consultationtopic")
    cur.execute("VACUUM (ANALYZE) crm_case")
    print(
        f"first consultations marked, tables analysed in {time.perf_counter() - t0:.1f}s"
    )


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fill", type=int, default=0, help="consultations per FY")
    parser.add_argument("--fiscal-year", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--group-by", default="prefecture,topic")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL (…/chizai_bench_stats)")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from crm.statistics.consultations import consultation_statistics
    from support_network.actors import Actor
    from support_network.services.network import user_create_or_update

    membership, _created = user_create_or_update(
        username="bench-stats",
        organisation_code="jpo",
        role="manager",
        password="bench-stats-pw-1",
        validate=False,
    )
    actor = Actor(user=membership.user, membership=membership)
    with connection.cursor() as cur:
        if args.fill:
            _fill(cur, args.fill, [args.fiscal_year - 1, args.fiscal_year])
        cur.execute(
            "SELECT count(*) FROM crm_consultation WHERE fiscal_year = %s",
            [args.fiscal_year],
        )
        n = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM crm_consultation")
        total = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM crm_company")
        companies = cur.fetchone()[0]
    print(
        f"FY{args.fiscal_year}: {n:,} consultations ({total:,} in all, "
        f"{companies:,} companies); group_by={args.group_by}"
    )
    if n == 0:
        sys.exit("no consultations: run with --fill N first")
    group_by = args.group_by.split(",")

    def app():
        return consultation_statistics(
            actor=actor, fiscal_year=args.fiscal_year, group_by=group_by
        )

    def bare(sql):
        def run():
            with connection.cursor() as cur:
                cur.execute(sql, [args.fiscal_year])
                return cur.fetchall()

        return run

    def bare_facts():
        return bare(BARE_FACTS_SQL)(), bare(BARE_FACTS_TOTALS_SQL)()

    runs = {
        "app": app,
        "bare": bare(BARE_SQL),
        "bare count": bare(BARE_COUNT_SQL),
        "bare facts": bare_facts,
    }
    times: dict[str, list[float]] = {k: [] for k in ["app alone", *runs]}
    for fn in runs.values():  # warm the caches once
        fn()
    for _i in range(args.repeat):
        t0 = time.perf_counter()
        app()
        times["app alone"].append((time.perf_counter() - t0) * 1000)
    for _i in range(args.repeat):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t0) * 1000)
    result = app()
    bare_rows = bare(BARE_SQL)()
    assert len(result["rows"]) == len(bare_rows), (len(result["rows"]), len(bare_rows))
    assert sum(r["consultations"] for r in result["rows"]) == sum(
        r[2] for r in bare_rows
    )
    for name, values in times.items():
        print(
            f"{name:>12}: p50 {_p(values, 0.5):7.1f} ms  p95 {_p(values, 0.95):7.1f} ms"
            f"  (n={len(values)})"
        )
    for reference in ("bare", "bare facts"):
        ratio = _p(times["app"], 0.95) / _p(times[reference], 0.95)
        ratio50 = statistics.median(times["app"]) / statistics.median(times[reference])
        print(f"app / {reference}: p95 {ratio:.2f}×, p50 {ratio50:.2f}×")
    print(
        f"(target: p95 ≤ 300 ms and ≤ 3× the bare aggregate); "
        f"rows {len(result['rows'])}, totals {result['totals']}"
    )
    # EXPLAIN the app's slowest statement (the grouped query), as it ran.
    with CaptureQueriesContext(connection) as captured:
        app()
    slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
        print(
            f"\nEXPLAIN (ANALYZE, BUFFERS) of the app's grouped query "
            f"({len(captured.captured_queries)} statements):"
        )
        print("\n".join(r[0] for r in cur.fetchall()))


if __name__ == "__main__":
    main()
