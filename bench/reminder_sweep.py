"""Benchmark the reminder sweep: 100k due follow-ups, alone and with 4 sweepers.

    DJANGO_SETTINGS_MODULE=config.settings \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chizai_bench_reminders \
    REDIS_URL=redis://127.0.0.1:6379/14 \
    DJANGO_EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend \
    python -m bench.reminder_sweep                     # 100,000 follow-ups

DESIGN.md target: "reminder sweep, 100k due follow-ups (notifications recorded,
e-mails queued) <= 20 s, each reminded exactly once, also with 4 sweepers at
once". Creates the database when missing, runs ``migrate`` and
``seed_network``, then ~200 users over the window organisations, one company
and case per 10 follow-ups and N open follow-ups due on the sweep's day
(bulk_create in batches; idempotent: tops up to N). Runs (a) one
``reminders_sweep`` and (b) after a reset, 4 processes calling it at once with
the same ``now``; after each it checks exactly-once in the database and counts
the e-mail ids queued in Redis (the broker; nothing consumes them here).
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing as mp
import os
import platform
import sys
import time
from datetime import date, datetime
from urllib.parse import urlparse

NOTE = "bench-reminder"  # marks the bench's follow-ups
SEND_AT = (9, 30)  # JST: after the 09:00 send time


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


def seed(n: int, users: int, day: date) -> None:
    """Top up to n open bench follow-ups due on `day`, spread over `users` users."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from crm.models import Case, Company, FollowUp
    from crm.rules.names import kana_key, name_key, normalise_name
    from support_network.models import Membership, Organisation

    User = get_user_model()
    orgs = list(
        Organisation.objects.filter(kind__in=["inpit_window", "yorozu"]).order_by("pk")
    ) or list(Organisation.objects.order_by("pk"))
    orgs = orgs[:50]
    have_users = {
        u.username: u for u in User.objects.filter(username__startswith="bench-rem-")
    }
    new_users = [
        User(
            username=f"bench-rem-{i:03d}",
            email=f"bench-rem-{i:03d}@example.invalid",
            last_name="ベンチ",
            first_name=f"{i:03d}",
            password="!",  # unusable
        )
        for i in range(users)
        if f"bench-rem-{i:03d}" not in have_users
    ]
    if new_users:
        User.objects.bulk_create(new_users)
        have_users = {
            u.username: u
            for u in User.objects.filter(username__startswith="bench-rem-")
        }
        Membership.objects.bulk_create(
            [
                Membership(
                    user=have_users[f"bench-rem-{i:03d}"],
                    organisation=orgs[i % len(orgs)],
                    role="window_staff",
                )
                for i in range(users)
            ],
            ignore_conflicts=True,
        )
    staff = [
        (m.user_id, m.organisation_id)
        for m in Membership.objects.filter(
            user__username__startswith="bench-rem-"
        ).order_by("user_id")
    ]

    have = FollowUp.objects.filter(note__startswith=NOTE).count()
    todo = n - have
    print(
        f"{len(staff)} bench users in {len({o for _u, o in staff})} organisations; "
        f"{have:,} bench follow-ups, adding {max(todo, 0):,}"
    )
    if todo <= 0:
        return
    t0 = time.perf_counter()
    step = 10_000
    for start in range(have, n, step):
        count = min(step, n - start)
        with transaction.atomic():
            # One company and case per 10 follow-ups, owned by the assignee's org.
            companies = []
            for j in range(start // 10, (start + count + 9) // 10):
                name = f"株式会社ベンチ精工{j}"
                companies.append(
                    Company(
                        name=name,
                        name_kana=f"ベンチセイコウ{j}",
                        name_norm=normalise_name(name),
                        name_key=name_key(name),
                        kana_key=kana_key(f"ベンチセイコウ{j}"),
                        kind="corporation",
                        prefecture_id="13",
                    )
                )
            Company.objects.bulk_create(companies, batch_size=2000)
            cases = []
            for k, company in enumerate(companies):
                user_id, org_id = staff[(start // 10 + k) % len(staff)]
                cases.append(
                    Case(
                        company=company,
                        organisation_id=org_id,
                        title=f"特許出願の相談 {start // 10 + k}",
                        assignee_id=user_id,
                        created_by_id=user_id,
                    )
                )
            Case.objects.bulk_create(cases, batch_size=2000)
            follow_ups = []
            for i in range(start, start + count):
                case = cases[(i - start) // 10]
                follow_ups.append(
                    FollowUp(
                        case=case,
                        organisation_id=case.organisation_id,
                        assignee_id=case.assignee_id,
                        due_on=day,
                        note=f"{NOTE} {i} 出願書類の確認",
                    )
                )
            FollowUp.objects.bulk_create(follow_ups, batch_size=5000)
        print(f"  {start + count:>8,} follow-ups  ({time.perf_counter() - t0:.1f}s)")
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) crm_followup")
        cur.execute("VACUUM (ANALYZE) crm_case")
    print(f"seeded in {time.perf_counter() - t0:.1f}s")


def reset(day: date) -> None:
    """Forget every reminder of the bench follow-ups (notifications and counters)."""
    from django.db import connection

    from crm.models import FollowUp, Notification

    Notification.objects.filter(kind__startswith="follow_up.").delete()
    FollowUp.objects.filter(note__startswith=NOTE).update(
        status="open",
        reminded_count=0,
        last_reminded_on=None,
        escalated_at=None,
        due_on=day,
    )
    with connection.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) crm_followup")
        cur.execute("VACUUM (ANALYZE) crm_notification")


def redis_client():
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def queued_email_ids(r) -> tuple[int, int, int]:
    """Return (messages, ids, distinct ids) of e-mail tasks queued in the broker."""
    messages, ids = 0, []
    for raw in r.lrange("celery", 0, -1):
        msg = json.loads(raw)
        if msg.get("headers", {}).get("task") != "crm.notification_email":
            continue
        body = msg["body"]
        if msg.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        _args, kwargs, _embed = json.loads(body)
        messages += 1
        ids.extend(kwargs["ids"])
    return messages, len(ids), len(set(ids))


def verify(n: int) -> dict:
    from django.db.models import Count

    from crm.models import FollowUp, Notification

    notes = Notification.objects.filter(kind="follow_up.reminder")
    counts = dict(
        FollowUp.objects.filter(note__startswith=NOTE)
        .values_list("reminded_count")
        .annotate(c=Count("pk"))
        .values_list("reminded_count", "c")
    )
    per_follow_up = (
        notes.values("object_id").annotate(c=Count("pk")).filter(c__gt=1).count()
    )
    found = {
        "notifications": notes.count(),
        "distinct_keys": notes.values("dedupe_key").distinct().count(),
        "follow-ups with >1 notification": per_follow_up,
        "reminded_count==1": counts.get(1, 0),
        "reminded_count!=1": sum(c for k, c in counts.items() if k != 1),
    }
    found["ok"] = (
        found["notifications"] == n
        and found["distinct_keys"] == n
        and per_follow_up == 0
        and found["reminded_count==1"] == n
        and found["reminded_count!=1"] == 0
    )
    return found


# --- sweepers ---------------------------------------------------------------------


def _sweeper(now_iso: str, batch_size: int, barrier, out) -> None:
    """One sweeper process: its own Django setup and DB connection."""
    setup_django()
    from django.db import connection

    from crm.services.reminders import reminders_sweep

    connection.ensure_connection()
    barrier.wait()
    t0 = time.perf_counter()
    result = reminders_sweep(now=datetime.fromisoformat(now_iso), batch_size=batch_size)
    out.put((os.getpid(), time.time(), time.perf_counter() - t0, result.as_dict()))
    connection.close()


def run_parallel(now: datetime, batch_size: int, workers: int) -> tuple[float, list]:
    ctx = mp.get_context("spawn")  # no inherited DB or broker sockets
    barrier = ctx.Barrier(workers + 1)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_sweeper, args=(now.isoformat(), batch_size, barrier, out))
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    barrier.wait()  # every worker is set up and connected
    t0 = time.time()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    if any(p.exitcode for p in procs):
        sys.exit(f"a sweeper failed: exit codes {[p.exitcode for p in procs]}")
    return max(end for _pid, end, _el, _r in results) - t0, results


# --- main ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--follow-ups", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--day", default="2026-06-10", help="a business day")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the single sweep"
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault(
        "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend"
    )
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point at PostgreSQL (…/chizai_bench_reminders)")
    if not os.environ.get("REDIS_URL", "").startswith("redis://"):
        sys.exit("REDIS_URL must point at a Redis db the bench may flush (…/14)")
    ensure_database(url)
    setup_django()

    from django.core.management import call_command
    from django.db import connection

    from crm.services.reminder_batches import BATCH_SIZE, office_day
    from support_network.calendar import JST
    from support_network.reminder_rules import reminder_rules

    n = args.follow_ups
    batch_size = args.batch_size or BATCH_SIZE
    day = date.fromisoformat(args.day)
    now = datetime(day.year, day.month, day.day, *SEND_AT, tzinfo=JST)
    if office_day(now, reminder_rules()) != day:
        sys.exit(f"{day} is not a business day")

    call_command("migrate", verbosity=0)
    call_command("seed_network", verbosity=0)
    seed(n, args.users, day)

    r = redis_client()
    rows = []

    # (a) one sweep -----------------------------------------------------------------
    reset(day)
    r.flushdb()
    print(f"(a) one sweep at {now.isoformat()}, batch {batch_size} …", flush=True)
    from crm.services.reminders import reminders_sweep

    if args.profile:
        import cProfile
        import pstats

        from django.test.utils import CaptureQueriesContext

        prof = cProfile.Profile()
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            prof.enable()
            result = reminders_sweep(now=now, batch_size=batch_size)
            prof.disable()
            el_a = time.perf_counter() - t0
        batches = max(1, -(-n // batch_size))
        print(
            f"  {len(ctx.captured_queries)} queries = "
            f"{len(ctx.captured_queries) / batches:.1f} per batch of {batch_size}"
        )
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
    else:
        t0 = time.perf_counter()
        result = reminders_sweep(now=now, batch_size=batch_size)
        el_a = time.perf_counter() - t0
    check = verify(n)
    q = queued_email_ids(r)
    print(f"  {el_a:.2f}s  {result.as_dict()}  {check}  queued {q}")
    rows.append(("(a) 1 sweeper", el_a, result.as_dict(), check, q))

    # (b) 4 sweepers at once --------------------------------------------------------
    reset(day)
    r.flushdb()
    connection.close()
    print(f"(b) {args.workers} sweeper processes at once …", flush=True)
    el_b, results = run_parallel(now, batch_size, args.workers)
    check = verify(n)
    q = queued_email_ids(r)
    split = [res.get("follow_up.reminder", 0) for _p, _e, _el, res in results]
    print(f"  {el_b:.2f}s  per sweeper {split}  {check}  queued {q}")
    rows.append((f"(b) {args.workers} sweepers", el_b, {"split": split}, check, q))
    r.flushdb()

    # table -----------------------------------------------------------------------
    print()
    print(
        f"{n:,} due follow-ups, {args.users} users, batch {batch_size}; "
        f"{os.cpu_count()} CPUs, {platform.python_version()}"
    )
    print(
        "| run | wall s | follow-ups/s | notifications | distinct keys | "
        "reminded once | e-mail ids queued / distinct (msgs) | exactly once | ≤ 20 s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for label, el, _res, c, (msgs, ids, distinct) in rows:
        print(
            f"| {label} | {el:.2f} | {n / el:,.0f} | {c['notifications']:,} | "
            f"{c['distinct_keys']:,} | {c['reminded_count==1']:,} | "
            f"{ids:,} / {distinct:,} ({msgs}) | {'yes' if c['ok'] else 'NO'} | "
            f"{'OK' if el <= 20 else 'MISS'} |"
        )
    if not all(c["ok"] for *_x, c, _q in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
