"""Case and consultation lists at any page depth: API vs bare keyset vs OFFSET.

    DJANGO_SETTINGS_MODULE=config.settings \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chizai_bench \\
    python -m bench.lists [--org inpit-window-13] [--repeat 30] [--walk 100]

Target (DESIGN.md "Targets at national scale"): case / consultation list,
organisation scope, any page depth: p95 <= 50 ms (keyset).

As a window staff member of a big organisation (a `b.<org>.003` user made by
bench.generate, token-authenticated), through the API in-process
(django.test.Client, DJANGO_DEBUG=false): GET /api/v1/cases/ and
GET /api/v1/consultations/, pages of 50. Page 1, 10 and 100 are reached by
following `next` (the walk is timed too); deeper pages (1000, 2000, the last)
through a cursor crafted the way DRF writes one (position of the first row
of the page + offset among equal positions), checked against the row the
same ordering gives with OFFSET. Each depth is requested `--repeat` times,
round-robin with the others. In the same run, bare SQL references on the
organisation's index: a keyset page by row comparison, the plain OR keyset,
the OR keyset with the redundant `date <= last` bound, and OFFSET 100000.
Ends with EXPLAIN (ANALYZE, BUFFERS) of the app's list statement on the
deepest page of each list.
"""

from __future__ import annotations

import argparse
import base64
import gc
import os
import time
from datetime import timedelta
from urllib.parse import urlencode, urlparse

from bench.search import pct

TARGET_P95_MS = 50.0
PAGE = 50

LISTS = {
    # name: (url, model field ordering, table, date column, bare org column)
    "cases": ("/api/v1/cases/", "opened_on", "crm_case", "organisation_id"),
    "consultations": (
        "/api/v1/consultations/",
        "occurred_at",
        "crm_consultation",
        "organisation_id",
    ),
}


def _cursor(position: str, offset: int) -> str:
    """Return a DRF CursorPagination cursor (forward) for position + offset."""
    query = {"o": offset} if offset else {}
    query["p"] = position
    return base64.b64encode(urlencode(query, doseq=True).encode("ascii")).decode()


def _bare_sql(table: str, date_col: str, org_col: str) -> dict[str, str]:
    cols = f"id, {date_col}"
    order = f"ORDER BY {date_col} DESC, id DESC"
    return {
        "keyset (row compare)": (
            f"SELECT {cols} FROM {table} WHERE {org_col} = %(org)s "
            f"AND ({date_col}, id) < (%(d)s, %(i)s) {order} LIMIT 51"
        ),
        "keyset OR": (
            f"SELECT {cols} FROM {table} WHERE {org_col} = %(org)s "
            f"AND ({date_col} < %(d)s OR ({date_col} = %(d)s AND id < %(i)s)) "
            f"{order} LIMIT 51"
        ),
        "keyset OR + date <= last": (
            f"SELECT {cols} FROM {table} WHERE {org_col} = %(org)s "
            f"AND {date_col} <= %(d)s "
            f"AND ({date_col} < %(d)s OR ({date_col} = %(d)s AND id < %(i)s)) "
            f"{order} LIMIT 51"
        ),
        "OFFSET": (
            f"SELECT {cols} FROM {table} WHERE {org_col} = %(org)s "
            f"{order} OFFSET %(offset)s LIMIT 50"
        ),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--org", default="inpit-window-13")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--walk", type=int, default=100, help="pages to follow")
    parser.add_argument("--offset", type=int, default=100_000)
    parser.add_argument("--lists", default="cases,consultations")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret-" + "x" * 40)
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1")
    os.environ.setdefault("DJANGO_API_RATE_USER", "1000000/hour")

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from crm.selectors.visibility import cases_visible_to, consultations_visible_to
    from support_network.actors import Actor
    from support_network.models import Membership, Organisation
    from support_network.services.network import user_create_or_update
    from support_network.tokens import token_create

    org = Organisation.objects.get(code=args.org)
    user = get_user_model().objects.filter(username=f"b.{args.org}.003").first()
    if user is None:  # not a bench.generate database: a user of our own
        user = user_create_or_update(
            username="bench-lists",
            organisation_code=args.org,
            role="window_staff",
            password="bench-lists-pw-1",
            validate=False,
        )[0].user
    membership = Membership.objects.get(user=user, organisation=org)
    actor = Actor(user=user, membership=membership)
    _token, token = token_create(user=user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    # As the gunicorn workers do once the app is loaded (config/gunicorn.conf.py
    # post_worker_init): without it, full collections over the loaded
    # modules pause one request in ~15 by 60–100 ms.
    gc.freeze()

    with connection.cursor() as cur:
        cur.execute("SELECT version()")
        version = cur.fetchone()[0].split(" on ")[0]
        cur.execute("SELECT count(*) FROM crm_case")
        n_cases = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM crm_consultation")
        n_cons = cur.fetchone()[0]
    print(
        f"{version}; {n_cases:,} cases, {n_cons:,} consultations; "
        f"as {user.username} ({membership.role}, {org.code}); "
        f"load average {os.getloadavg()[0]:.2f}"
    )

    def get(url: str):
        t = time.perf_counter()
        resp = client.get(url)
        ms = (time.perf_counter() - t) * 1000
        assert resp.status_code == 200, (url, resp.status_code, resp.content[:300])
        return resp.json(), ms

    explains: list[tuple[str, str, list[str]]] = []
    summary: list[tuple[str, str, float, float]] = []
    for name in args.lists.split(","):
        url, date_field, table, org_col = LISTS[name]
        qs_fn = {
            "cases": cases_visible_to,
            "consultations": consultations_visible_to,
        }[name]
        ordered = qs_fn(actor).order_by(f"-{date_field}", "-id")
        t0 = time.perf_counter()
        total = ordered.count()
        count_ms = (time.perf_counter() - t0) * 1000
        print(
            f"\n== {name}: {total:,} visible to {user.username} "
            f"(count {count_ms:.0f} ms, once) =="
        )

        # Walk: follow `next` from page 1.
        urls: dict[str, str] = {}
        walk_ms: list[float] = []
        next_url = url
        for page in range(1, args.walk + 1):
            if page in (1, 10, 100, 1000) or page == args.walk:
                urls[f"page {page}"] = next_url
            body, ms = get(next_url)
            walk_ms.append(ms)
            if not body["next"]:
                break
            parsed = urlparse(body["next"])
            next_url = f"{parsed.path}?{parsed.query}"
        print(
            f"walk of {len(walk_ms)} pages by `next`: p50 {pct(walk_ms, 50):.1f} "
            f"p95 {pct(walk_ms, 95):.1f} max {max(walk_ms):.1f} ms"
        )

        # Deeper: crafted cursors, checked against OFFSET.
        for label, row in (
            ("page 1000", 999 * PAGE),
            ("page 2000", 1999 * PAGE),
            ("last page", total - PAGE),
        ):
            if row <= args.walk * PAGE or row >= total or row < 0:
                continue
            value, first_id = ordered.values_list(date_field, "id")[row]
            if date_field == "opened_on":
                position, before = str(value + timedelta(days=1)), value
                s = ordered.filter(**{f"{date_field}__gt": before}).count()
            else:
                position = str(value + timedelta(microseconds=1))
                s = ordered.filter(**{f"{date_field}__gt": value}).count()
            crafted = f"{url}?cursor={_cursor(position, row - s)}"
            body, _ms = get(crafted)
            assert body["results"][0]["id"] == first_id, (label, body["results"][0])
            urls[f"{label} (row {row:,})"] = crafted

        # Bare references at the same boundaries (last row of the previous page).
        bare = _bare_sql(table, date_field, org_col)
        bounds = {}
        for label in urls:
            row = 0
            if label.startswith("page "):
                row = (int(label.split()[1].split()[0]) - 1) * PAGE
            if "(row" in label:
                row = int(label.split("(row ")[1].rstrip(")").replace(",", ""))
            if row:
                bounds[label] = ordered.values_list(date_field, "id")[row - 1]

        def run_bare(sql: str, params: dict) -> float:
            t = time.perf_counter()
            with connection.cursor() as cur:
                cur.execute(sql, params)
                cur.fetchall()
            return (time.perf_counter() - t) * 1000

        times: dict[str, list[float]] = {label: [] for label in urls}
        # Bare references at each depth's boundary; OFFSET once (fixed depth).
        bare_times: dict[tuple[str, str], list[float]] = {
            (label, key): [] for label in bounds for key in bare if key != "OFFSET"
        }
        offset_times: list[float] = []
        offset = min(args.offset, max(0, total - PAGE))
        for u in urls.values():  # warm
            get(u)
        for _i in range(args.repeat):
            for label, u in urls.items():
                times[label].append(get(u)[1])
            for (label, key), values in bare_times.items():
                d, i = bounds[label]
                values.append(run_bare(bare[key], {"org": org.pk, "d": d, "i": i}))
            offset_times.append(
                run_bare(bare["OFFSET"], {"org": org.pk, "offset": offset})
            )

        # SQL statements per request, and the list statement of the first and
        # the deepest page (EXPLAIN below).
        plans = []
        for label in (next(iter(urls)), list(urls)[-1]):
            with CaptureQueriesContext(connection) as captured:
                get(urls[label])
            statements = captured.captured_queries
            main_sql = max(
                (q for q in statements if f'FROM "{table}"' in q["sql"]),
                key=lambda q: float(q["time"]),
            )
            plans.append((label, main_sql["sql"]))
        print(
            f"API, {len(statements)} SQL statements per request; bare SQL on "
            f"{table}.{org_col} = {org.pk} (the organisation's index) at the same "
            f"position; ms, n={args.repeat}; target API p95 ≤ 50"
        )
        keys = [k for k in bare if k != "OFFSET"]
        print(
            f"{'depth':<26} {'API p50':>8} {'p95':>7} {'max':>7}        "
            + "".join(f"{k + ' p50/p95':>34}" for k in keys)
        )
        for label, values in times.items():
            p95 = pct(values, 95)
            verdict = "OK" if p95 <= TARGET_P95_MS else "MISSED"
            cells = "".join(
                f"{pct(bare_times[label, k], 50):>25.2f} / {pct(bare_times[label, k], 95):6.2f}"
                if (label, k) in bare_times
                else f"{'–':>34}"
                for k in keys
            )
            print(
                f"{label:<26} {pct(values, 50):8.1f} {p95:7.1f} {max(values):7.1f} "
                f"{verdict:<6}{cells}"
            )
            summary.append((name, label, pct(values, 50), p95))
        print(
            f"bare OFFSET {offset:,} LIMIT 50 on the same index: "
            f"p50 {pct(offset_times, 50):.2f} p95 {pct(offset_times, 95):.2f} ms"
        )
        for label, sql in plans:
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql.replace("%", "%%"))
                plan = [r[0] for r in cur.fetchall()]
            explains.append((name, label, [sql, *plan]))

    print("\nsummary (ms):")
    for name, label, p50, p95 in summary:
        print(f"  {name:<14} {label:<26} p50 {p50:6.1f}  p95 {p95:6.1f}")
    for name, label, lines in explains:
        print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the {name} list statement, {label}:")
        print(lines[0])
        print("\n".join(lines[1:]))
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
