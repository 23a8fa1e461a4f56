"""Load test: 50 concurrent staff doing a day's mixed work through gunicorn.

    DJANGO_SETTINGS_MODULE=config.settings \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chizai_bench \\
    python -m bench.load [--users 50] [--duration 60] [--warmup 10] [--think 3]

Target (DESIGN.md "Targets at national scale"): 50 concurrent staff, mixed
workload (on loopback, gunicorn 5 workers): p95 <= 300 ms, no errors.

Starts `gunicorn config.wsgi -w 5` on a free loopback port with production
settings (DJANGO_DEBUG=false), the bench database, Redis db 11 as cache and
Celery broker (flushed before and after; no worker runs, so queued e-mails
just wait there) and API rate limits raised out of the way
(DJANGO_API_RATE_USER / _ANON). The staff are users made by bench.generate
(`b.<organisation>.<k>`) of the 15 busiest organisations: 45 window staff
and coordinators and 5 managers, each with an API token. Each is a thread
that loops until the time is up: pick an action by its weight, send it with
http.client, think for an exponentially distributed time (mean `--think`
seconds), again. Window staff: search companies by a 2–4 character name
fragment, log a consultation (POST consultations/, a new case or one of their
organisation's open cases, half with a follow-up), view a case with its
timeline, list open cases, list their open follow-ups, read the referral
inbox, and refer a case they opened to a partner organisation (record the
company's consent, then POST referrals/). Managers: statistics of the fiscal
year (by topic, by prefecture × topic), case list, a case, a search.
Requests that start during the warm-up are not counted. Any 5xx, any
unexpected status, any connection error counts as an error. The rows it
writes stay in the bench database.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from bench.consultation_create import SUMMARIES, free_port, wait_for
from bench.search import pct

TARGET_P95_MS = 300.0
ROOT = Path(__file__).resolve().parent.parent
REDIS_DB = 11
STAFF_ACTIONS = {
    "search": 25,
    "log consultation": 15,
    "case timeline": 20,
    "case list": 10,
    "my follow-ups": 10,
    "referral inbox": 5,
    "refer a case": 5,
}
MANAGER_ACTIONS = {
    "statistics": 45,
    "case list": 20,
    "case timeline": 20,
    "search": 15,
}
TOPICS = ["patent", "trademark", "design", "contract", "overseas", "branding"]


def _prepare(n_users: int, seed: int) -> tuple[list[dict], list[str]]:
    """Pick the staff, give them tokens, sample what they will work on."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from support_network.tokens import token_create

    rng = random.Random(seed)
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT o.id, o.code, o.kind, o.prefecture_id
            FROM support_network_organisation o
            JOIN crm_case c ON c.organisation_id = o.id
            WHERE o.kind IN ('inpit_window', 'yorozu')
            GROUP BY o.id ORDER BY count(*) DESC LIMIT 15
            """
        )
        orgs = cur.fetchall()
        users: list[dict] = []
        n_managers = max(1, n_users // 10)
        per_org = -(-(n_users - n_managers) // len(orgs))
        for i, (org_id, code, kind, pref) in enumerate(orgs):
            cur.execute(
                """
                SELECT u.id, u.username, m.role FROM auth_user u
                JOIN support_network_membership m ON m.user_id = u.id
                WHERE m.organisation_id = %s AND u.username LIKE 'b.%%'
                ORDER BY u.username
                """,
                [org_id],
            )
            members = cur.fetchall()
            staff = [m for m in members if m[2] == "window_staff"] + [
                m for m in members if m[2] == "coordinator"
            ]
            chosen = staff[:per_org]
            if i < n_managers:
                chosen += [m for m in members if m[2] == "manager"][:1]
            cur.execute(
                "SELECT id FROM crm_case WHERE organisation_id = %s AND status = "
                "'open' AND NOT is_confidential ORDER BY id DESC LIMIT 300",
                [org_id],
            )
            cases = [r[0] for r in cur.fetchall()]
            cur.execute(
                "SELECT id FROM crm_company WHERE prefecture_id = %s "
                "ORDER BY hashint8(id) LIMIT 300",
                [pref],
            )
            companies = [r[0] for r in cur.fetchall()]
            partner_kind = "yorozu" if kind == "inpit_window" else "inpit_window"
            cur.execute(
                "SELECT code FROM support_network_organisation WHERE kind = %s "
                "AND prefecture_id = %s",
                [partner_kind, pref],
            )
            partner = cur.fetchone()[0]
            for user_id, username, role in chosen:
                users.append(
                    {
                        "user_id": user_id,
                        "username": username,
                        "role": role,
                        "org": code,
                        "cases": cases,
                        "companies": companies,
                        "partner": partner,
                    }
                )
        cur.execute(
            "SELECT name_norm FROM crm_company TABLESAMPLE SYSTEM (1) LIMIT 2000"
        )
        names = [r[0] for r in cur.fetchall()]
    staff = [u for u in users if u["role"] != "manager"][: n_users - n_managers]
    managers = [u for u in users if u["role"] == "manager"][:n_managers]
    users = staff + managers
    for u in users:
        user = get_user_model().objects.get(pk=u["user_id"])
        u["token"] = token_create(user=user)[1]
    fragments = []
    for name in names:
        n = rng.randint(2, 4)
        if len(name) > n:
            start = rng.randint(0, len(name) - n)
            fragments.append(name[start : start + n])
    return users, fragments


class Staff(threading.Thread):
    """One member of staff working through the day until `stop_at`."""

    def __init__(self, user, *, port, fragments, fiscal_year, opts, results, seed):
        super().__init__(daemon=True)
        self.u = user
        self.port = port
        self.fragments = fragments
        self.fiscal_year = fiscal_year
        self.opts = opts
        self.results = results
        self.rng = random.Random(seed)
        self.my_cases: list[int] = []
        self.referred: set[int] = set()

    def request(self, action, method, path, body=None, expect=(200,)):
        headers = {
            "Authorization": f"Token {self.u['token']}",
            "Host": "127.0.0.1",
            "Accept": "application/json",
        }
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        status, payload = 0, None
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            status = resp.status
            conn.close()
            if raw and resp.getheader("Content-Type", "").startswith(
                "application/json"
            ):
                payload = json.loads(raw)
        except (OSError, http.client.HTTPException) as exc:
            payload = repr(exc)
        ms = (time.perf_counter() - t0) * 1000
        counted = t0 >= self.opts["measure_from"]
        ok = status in expect
        self.results.append((action, ms, status, ok, counted, path, payload))
        return status, payload

    def log_consultation(self):
        from django.utils import timezone

        now = timezone.now()
        occurred = now - timedelta(minutes=self.rng.randint(5, 60 * 24 * 5))
        body = {
            "company": self.rng.choice(self.u["companies"]),
            "occurred_at": occurred.isoformat(timespec="seconds"),
            "channel": self.rng.choice(["visit", "phone", "online", "email"]),
            "duration_minutes": self.rng.choice([15, 30, 45, 60, 90]),
            "topics": self.rng.sample(TOPICS, self.rng.randint(1, 2)),
            "summary": self.rng.choice(SUMMARIES),
        }
        if self.rng.random() < 0.5:
            body["follow_up_on"] = (now.date() + timedelta(days=14)).isoformat()
        status, payload = self.request(
            "log consultation",
            "POST",
            "/api/v1/consultations/",
            body,
            expect=(201,),
        )
        if status == 201 and isinstance(payload, dict):
            self.my_cases.append(payload["case"])

    def refer(self):
        candidates = [c for c in self.my_cases if c not in self.referred]
        if not candidates:
            self.log_consultation()
            return
        case_id = candidates[-1]
        self.referred.add(case_id)
        status, case = self.request(
            "refer a case", "GET", f"/api/v1/cases/{case_id}/", expect=(200,)
        )
        if status != 200:
            return
        from django.utils import timezone

        self.request(
            "refer a case",
            "POST",
            f"/api/v1/companies/{case['company']}/consents/",
            {
                "scope": "network",
                "obtained_on": timezone.localdate().isoformat(),
                "method": "written",
            },
            expect=(201,),
        )
        self.request(
            "refer a case",
            "POST",
            "/api/v1/referrals/",
            {
                "case": case_id,
                "to_organisation": self.u["partner"],
                "reason": "専門的な支援が必要なため紹介します。",
                "topics": self.rng.sample(TOPICS, 1),
            },
            expect=(201,),
        )

    def act(self, action):
        rng = self.rng
        if action == "search":
            q = rng.choice(self.fragments)
            from urllib.parse import quote

            self.request(action, "GET", f"/api/v1/companies/?q={quote(q)}")
        elif action == "log consultation":
            self.log_consultation()
        elif action == "case timeline":
            pool = self.u["cases"] + self.my_cases
            self.request(action, "GET", f"/api/v1/cases/{rng.choice(pool)}/")
        elif action == "case list":
            self.request(action, "GET", "/api/v1/cases/?status=open")
        elif action == "my follow-ups":
            self.request(action, "GET", "/api/v1/follow-ups/?assignee=me&status=open")
        elif action == "referral inbox":
            self.request(action, "GET", "/api/v1/referrals/?direction=in&status=sent")
        elif action == "refer a case":
            self.refer()
        elif action == "statistics":
            group_by = rng.choice(["topic", "prefecture,topic", "channel"])
            self.request(
                action,
                "GET",
                f"/api/v1/statistics/consultations/?fiscal_year={self.fiscal_year}"
                f"&group_by={group_by}",
            )

    def run(self):
        actions = MANAGER_ACTIONS if self.u["role"] == "manager" else STAFF_ACTIONS
        names, weights = list(actions), list(actions.values())
        time.sleep(self.rng.uniform(0, self.opts["ramp"]))
        while time.perf_counter() < self.opts["stop_at"]:
            self.act(self.rng.choices(names, weights)[0])
            think = min(30.0, self.rng.expovariate(1 / self.opts["think"]))
            time.sleep(max(0.0, min(think, self.opts["stop_at"] - time.perf_counter())))


def _redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--think", type=float, default=3.0, help="mean seconds")
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must point at the bench database (…/chizai_bench)")
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-" + secrets.token_hex(24),
        "REDIS_URL": redis_url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Plain http on loopback: no redirect to https, no secure-only cookies.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        # The staff must not be throttled (config/settings.py rate limits).
        "DJANGO_API_RATE_USER": "1000000/hour",
        "DJANGO_API_RATE_ANON": "1000000/hour",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import django

    django.setup()
    from support_network.calendar import fiscal_year

    users, fragments = _prepare(args.users, args.seed)
    from django.utils import timezone

    fy = fiscal_year(timezone.localdate()) - 1
    roles = defaultdict(int)
    for u in users:
        roles[u["role"]] += 1
    print(
        f"{len(users)} staff ({dict(roles)}) of {len({u['org'] for u in users})} "
        f"organisations; think time mean {args.think}s; gunicorn -w {args.workers}; "
        f"warm-up {args.warmup:.0f}s, measured {args.duration:.0f}s"
    )
    _redis_flush(redis_url)
    port = free_port()
    log_path = Path("/tmp") / f"bench-load-gunicorn-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "-c",
                "config/gunicorn.conf.py",  # the production settings (gc.freeze)
                "config.wsgi",
                "-w",
                str(args.workers),
                "-b",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(port, proc)
        load_before = os.getloadavg()
        results: list = []
        start = time.perf_counter()
        opts = {
            "measure_from": start + args.warmup,
            "stop_at": start + args.warmup + args.duration,
            "ramp": min(5.0, args.warmup),
            "think": args.think,
        }
        threads = [
            Staff(
                u,
                port=port,
                fragments=fragments,
                fiscal_year=fy,
                opts=opts,
                results=results,
                seed=args.seed * 1000 + i,
            )
            for i, u in enumerate(users)
        ]
        loads = []
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            time.sleep(1)
            loads.append(os.getloadavg()[0])
            if time.perf_counter() > opts["stop_at"] + 120:
                print("some requests did not finish within 120 s after the end")
                break
        elapsed = args.duration  # requests counted are those started in it
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        _redis_flush(redis_url)

    counted = [r for r in results if r[4]]
    by_action: dict[str, list] = defaultdict(list)
    for r in counted:
        by_action[r[0]].append(r)
    print(
        f"\n{len(counted):,} requests measured in {elapsed:.0f}s = "
        f"{len(counted) / elapsed:.1f} req/s; load average {load_before[0]:.2f} at "
        f"the start, {min(loads):.2f}–{max(loads):.2f} during the run"
    )
    print(
        f"{'action':<18} {'n':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7} "
        f"{'errors':>6}  (ms; target p95 ≤ {TARGET_P95_MS:.0f}, no errors)"
    )
    rows = [*sorted(by_action.items()), ("all", counted)]
    for name, rs in rows:
        ms = [r[1] for r in rs]
        errors = sum(1 for r in rs if not r[3])
        print(
            f"{name:<18} {len(rs):>6} {pct(ms, 50):7.1f} {pct(ms, 95):7.1f} "
            f"{pct(ms, 99):7.1f} {max(ms):7.1f} {errors:>6}"
        )
    errors = [r for r in counted if not r[3]]
    statuses = defaultdict(int)
    for r in errors:
        statuses[(r[0], r[2])] += 1
    for (action, status), n in sorted(statuses.items()):
        example = next(r for r in errors if r[0] == action and r[2] == status)
        print(
            f"  error: {action} → {status or 'no response'} ×{n}: {example[5]} "
            f"{str(example[6])[:200]}"
        )
    all_ms = [r[1] for r in counted]
    verdict = "OK" if pct(all_ms, 95) <= TARGET_P95_MS and not errors else "MISSED"
    print(
        f"overall p95 {pct(all_ms, 95):.1f} ms, {len(errors)} errors: {verdict}; "
        f"gunicorn log: {log_path}"
    )


if __name__ == "__main__":
    main()
