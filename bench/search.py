"""Company search benchmark: API (CompanyViewSet.list) vs bare SQL, per query class.

    DJANGO_SETTINGS_MODULE=config.settings \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chizai_bench \
    python -m bench.search [--per-class 30] [--seed 7]

Queries are cut from random generated rows. Each query runs once through the API
(django.test.Client, logged-in window_staff of inpit-window-13, GET
/api/v1/companies/?q=…) and once as bare SQL in the same run. Target (DESIGN.md
"Targets at national scale"): p95 <= 100 ms over 1M companies.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import time
from collections import defaultdict

TARGET_P95_MS = 100.0
KANJI = re.compile(r"[\u4e00-\u9fff]{2}")
LEGAL = ("株式会社", "有限会社", "合同会社", "㈱")

BARE_SQL = (
    "SELECT id, name FROM crm_company WHERE merged_into_id IS NULL AND "
    "(name_key LIKE %(k)s OR name_norm LIKE %(k)s OR kana_key LIKE %(r)s "
    "OR name_key LIKE %(r)s) ORDER BY id DESC LIMIT 51"
)
# Same filter, but the match set is computed first (trigram bitmap), then sorted.
BARE_SQL_MATERIALIZED = (
    "WITH m AS MATERIALIZED (SELECT id, name FROM crm_company WHERE merged_into_id IS NULL "
    "AND (name_key LIKE %(k)s OR name_norm LIKE %(k)s OR kana_key LIKE %(r)s "
    "OR name_key LIKE %(r)s)) SELECT id, name FROM m ORDER BY id DESC LIMIT 51"
)
BARE_SQL_NUMBER = (
    "SELECT id, name FROM crm_company WHERE merged_into_id IS NULL "
    "AND corporate_number = %(n)s ORDER BY id DESC LIMIT 51"
)


def _like(text: str) -> str:
    return (
        "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    )


def _cut(rng: random.Random, text: str, lo: int, hi: int) -> str | None:
    if len(text) < lo:
        return None
    length = rng.randint(lo, min(hi, len(text)))
    start = rng.randint(0, len(text) - length)
    return text[start : start + length]


def make_queries(rows, rng: random.Random, per_class: int) -> list[tuple[str, str]]:
    """Return (class, query) pairs cut from *rows* (id, name, kana, name_key, number)."""
    import jaconv

    from crm import rules

    gens = {}

    from bench.generate import PLACES, PREFIXES, STEMS

    words = [w for w, _ in PREFIXES + STEMS + PLACES if KANJI.fullmatch(w)]

    def kanji2(r):
        # A 2-kanji word the row contains (精工, 東京, 佐藤 …): what users type.
        found = [w for w in words if w in r[3]]
        return rng.choice(found) if found else None

    def any2(r):
        # Any 2 adjacent characters of the key: often a rare combination.
        return _cut(rng, r[3], 2, 2)

    def frag3_6(r):
        return _cut(rng, r[3], 3, 6)

    def kata(r):
        return _cut(rng, rules.kana_key(r[2]), 3, 6)

    def halfwidth(r):
        f = _cut(rng, rules.kana_key(r[2]), 3, 6)
        return f and jaconv.z2h(f, kana=True, ascii=False, digit=False)

    def hira(r):
        f = _cut(rng, rules.kana_key(r[2]), 3, 6)
        return f and jaconv.kata2hira(f)

    def legal_swap(r):
        name = rules.normalise_name(r[1])
        for form in ("株式会社", "有限会社", "合同会社", "(株)"):
            if name.startswith(form):
                return name[len(form) :] + ("株式会社" if form == "(株)" else form)
            if name.endswith(form):
                return ("(株)" if rng.random() < 0.3 else form) + name[: -len(form)]
        return None

    def number(r):
        n = r[4]
        if not n:
            return None
        return n if rng.random() < 0.7 else f"{n[0]}-{n[1:5]}-{n[5:9]}-{n[9:]}"

    gens = {
        "kanji 2-char word": kanji2,
        "any 2-char cut": any2,
        "name fragment 3-6": frag3_6,
        "katakana reading 3-6": kata,
        "half-width kana": halfwidth,
        "hiragana reading": hira,
        "前株/後株 swapped full name": legal_swap,
        "法人番号 (13 digits)": number,
    }
    out = []
    for cls, gen in gens.items():
        got = 0
        for r in rng.sample(rows, len(rows)):
            q = gen(r)
            if q:
                out.append((cls, q))
                got += 1
                if got >= per_class:
                    break
    rng.shuffle(out)
    return out


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    k = (len(values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sample", type=int, default=5000)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Production-like: no per-query logging in DEBUG mode.
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret-" + "x" * 40)

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from crm import rules
    from support_network.models import Membership  # noqa: F401  (app loaded)
    from support_network.services import user_create_or_update

    membership, _ = user_create_or_update(
        username="bench",
        organisation_code="inpit-window-13",
        role="window_staff",
        password="bench-pass",
        validate=False,
    )
    client = Client(SERVER_NAME="127.0.0.1", HTTP_HOST="127.0.0.1")
    client.force_login(membership.user)

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM crm_company")
        total = cur.fetchone()[0]
        cur.execute(
            "SELECT id, name, name_kana, name_key, corporate_number FROM crm_company "
            "TABLESAMPLE SYSTEM (%s) LIMIT %s",
            [
                min(100.0, max(0.5, 100.0 * args.sample * 3 / max(total, 1))),
                args.sample,
            ],
        )
        rows = cur.fetchall()
    rng = random.Random(args.seed)
    queries = make_queries(rows, rng, args.per_class)
    print(
        f"crm_company: {total:,} rows; {len(queries)} queries "
        f"({args.per_class} per class), cut from {len(rows):,} sampled rows"
    )

    # Warm-up (connections, caches, URL resolver).
    for _cls, q in queries[:10]:
        client.get("/api/v1/companies/", {"q": q})

    api = defaultdict(list)
    bare = defaultdict(list)
    mat = defaultdict(list)
    hits = defaultdict(list)
    slowest_api: dict[str, tuple[float, str]] = {}
    for cls, q in queries:
        t = time.perf_counter()
        resp = client.get("/api/v1/companies/", {"q": q})
        ms = (time.perf_counter() - t) * 1000
        assert resp.status_code == 200, (resp.status_code, resp.content[:300])
        api[cls].append(ms)
        hits[cls].append(len(resp.json()["results"]))
        if ms > slowest_api.get(cls, (0, ""))[0]:
            slowest_api[cls] = (ms, q)

        number = rules.normalise_corporate_number(q)
        with connection.cursor() as cur:
            if number.isdigit() and len(number) == 13:
                t = time.perf_counter()
                cur.execute(BARE_SQL_NUMBER, {"n": number})
                cur.fetchall()
                bare[cls].append((time.perf_counter() - t) * 1000)
                mat[cls].append(bare[cls][-1])
            else:
                k, r = rules.search_keys(q)
                p = {"k": _like(k), "r": _like(r)}
                t = time.perf_counter()
                cur.execute(BARE_SQL, p)
                cur.fetchall()
                bare[cls].append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                cur.execute(BARE_SQL_MATERIALIZED, p)
                cur.fetchall()
                mat[cls].append((time.perf_counter() - t) * 1000)

    def fmt(v):
        return f"{pct(v, 50):7.1f} {pct(v, 95):7.1f} {pct(v, 99):7.1f}"

    head = (
        f"{'query class':30} {'n':>3} {'hits':>5} | {'API p50':>7} {'p95':>7} {'p99':>7} | "
        f"{'SQL p50':>7} {'p95':>7} {'p99':>7} | {'MAT p50':>7} {'p95':>7} {'p99':>7} | target p95<=100"
    )
    print()
    print(head)
    print("-" * len(head))
    all_api, all_bare, all_mat = [], [], []
    for cls in api:
        all_api += api[cls]
        all_bare += bare[cls]
        all_mat += mat[cls]
        ok = "OK" if pct(api[cls], 95) <= TARGET_P95_MS else "MISS"
        print(
            f"{cls:30} {len(api[cls]):>3} {statistics.mean(hits[cls]):5.1f} | "
            f"{fmt(api[cls])} | {fmt(bare[cls])} | {fmt(mat[cls])} | {ok}"
        )
    ok = "OK" if pct(all_api, 95) <= TARGET_P95_MS else "MISS"
    print(
        f"{'ALL':30} {len(all_api):>3} {'':>5} | {fmt(all_api)} | {fmt(all_bare)} | "
        f"{fmt(all_mat)} | {ok}"
    )
    print(
        "\nms; API = GET /api/v1/companies/?q= through the test client (selector, "
        "filter, keyset page of 50, serializer);\nSQL = bare ORDER BY id DESC LIMIT 51; "
        "MAT = same filter as a MATERIALIZED CTE, then sort (forces the trigram bitmap)."
    )

    # EXPLAIN the Django SQL of the slowest class, for its slowest query.
    worst = max(api, key=lambda c: pct(api[c], 95))
    _ms, q = slowest_api[worst]
    with CaptureQueriesContext(connection) as ctx:
        client.get("/api/v1/companies/", {"q": q})
    page_sql = [
        x["sql"]
        for x in ctx.captured_queries
        if "crm_company" in x["sql"] and "LIMIT" in x["sql"]
    ]
    print(
        f"\nSlowest class: {worst!r}; its slowest query q={q!r} ({_ms:.1f} ms via API)"
    )
    print(f"{len(ctx.captured_queries)} SQL queries in that request:")
    for x in ctx.captured_queries:
        print(f"  {float(x['time']) * 1000:8.1f} ms  {x['sql'][:110]}")
    if page_sql:
        print("\nDjango SQL:\n" + page_sql[0])
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + page_sql[0])
            print("\nEXPLAIN (ANALYZE, BUFFERS):")
            for (line,) in cur.fetchall():
                print(line)


if __name__ == "__main__":
    main()
