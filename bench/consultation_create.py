"""Consultation logging benchmark: POST /api/v1/consultations/ through gunicorn.

    DJANGO_SETTINGS_MODULE=config.settings \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chizai_bench \\
    python -m bench.consultation_create [--requests 500] [--warmup 50]

Target (DESIGN.md "Targets at national scale"): log a consultation (API,
through gunicorn) p95 <= 50 ms. Needs the bench database of bench.generate
(1M companies) and Redis on 127.0.0.1:6379.

Starts `gunicorn config.wsgi -w 2` on a free loopback port with production
settings (DJANGO_DEBUG=false), creates the user `bench` (window_staff of
inpit-window-13) with `manage.py create_user`, gets a token from
POST /api/v1/auth/token/, then POSTs consultations one after the other with
http.client: a company picked at random from the table, 1–3 topics, sometimes
IP types, advice, a next action, a follow-up date, attendees or the
confidential flag. It prints p50/p95/p99, then runs one request of each body
shape in-process under CaptureQueriesContext to count SQL statements, and
stops gunicorn. The consultations (and cases, follow-ups, audit events) it
creates stay in the bench database.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench.search import pct

TARGET_P95_MS = 50.0
ROOT = Path(__file__).resolve().parent.parent
ORGANISATION = "inpit-window-13"
ATTENDEES = ["yorozu-13", "jpaa-kanto", "cci-federation-13", "inpit-expert-startup"]
SUMMARIES = [
    "新製品の特許出願について、先行技術調査の進め方と出願までの段取りを相談。",
    "自社ブランドの商標登録を検討中。指定商品・役務の選び方と費用感を説明した。",
    "取引先との共同開発契約における知財の帰属条項について助言を求められた。",
    "海外展開（ASEAN）に向けた商標・意匠の出願戦略と補助金の活用について相談。",
    "職務発明規程の整備について。社内規程のひな形と運用上の注意点を紹介。",
    "模倣品が国内ECサイトで販売されている件。証拠保全と警告書の送付手順を説明。",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not start within 30 s")


def body_for(rng: random.Random, company_id: int, now, *, shape: str | None = None):
    """Return a realistic POST body; `shape` forces "minimal" or "full"."""
    from crm.choices import Channel, IpType, Topic

    occurred = now - timedelta(minutes=rng.randint(10, 60 * 24 * 20))
    full = shape == "full" or (shape is None and rng.random() < 0.3)
    body = {
        "company": company_id,
        "occurred_at": occurred.isoformat(timespec="seconds"),
        "channel": rng.choice(Channel.values),
        "duration_minutes": rng.choice([15, 30, 45, 60, 90, 120]),
        "topics": rng.sample(Topic.values, rng.randint(1, 3)),
        "summary": rng.choice(SUMMARIES),
    }
    if shape == "minimal":
        return body
    if full or rng.random() < 0.5:
        body["ip_types"] = rng.sample(IpType.values, rng.randint(1, 2))
    if full or rng.random() < 0.4:
        body["advice"] = (
            "J-PlatPatでの検索方法を案内し、次回までに候補を整理してもらう。"
        )
        body["next_action"] = "先行技術の候補リストを受け取り、出願方針を決める"
    if full or rng.random() < 0.5:
        due = occurred.date() + timedelta(days=rng.randint(7, 60))
        body["follow_up_on"] = max(due, now.date()).isoformat()
    if full or rng.random() < 0.2:
        body["attendees"] = rng.sample(ATTENDEES, rng.randint(1, 2))
    if not full and rng.random() < 0.05:
        body["confidential"] = True
    return body


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    # Loopback over plain http: no HTTPS redirect, no secure-only cookies.
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("DJANGO_SECURE_COOKIES", "false")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + secrets.token_hex(24))
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("DATABASE_URL must point at the bench database (…/chizai_bench)")

    password = "bench-" + secrets.token_urlsafe(12)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "create_user",
            "bench",
            "--organisation",
            ORGANISATION,
            "--role",
            "window_staff",
            "--password",
            password,
        ],
        cwd=ROOT,
        check=True,
    )

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework.test import APIClient

    with connection.cursor() as cur:
        cur.execute(
            "SELECT id FROM crm_company TABLESAMPLE SYSTEM (1) "
            "WHERE merged_into_id IS NULL LIMIT 5000"
        )
        company_ids = [row[0] for row in cur.fetchall()]
        cur.execute("SELECT count(*) FROM crm_company")
        total = cur.fetchone()[0]
    rng = random.Random(args.seed)
    now = timezone.localtime()

    port = free_port()
    gunicorn = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-c",
            "config/gunicorn.conf.py",  # the production settings (gc.freeze)
            "config.wsgi",
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        wait_for(port, gunicorn)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def post(path: str, body: dict, token: str | None = None):
            headers = {"Content-Type": "application/json", "Host": "127.0.0.1"}
            if token:
                headers["Authorization"] = f"Token {token}"
            t = time.perf_counter()
            conn.request("POST", path, json.dumps(body), headers)
            resp = conn.getresponse()
            data = resp.read()
            ms = (time.perf_counter() - t) * 1000
            return resp.status, data, ms

        status, data, _ms = post(
            "/api/v1/auth/token/", {"username": "bench", "password": password}
        )
        if status != 200:
            sys.exit(f"token: {status} {data[:200]!r}")
        token = json.loads(data)["token"]

        times: list[float] = []
        for i in range(args.warmup + args.requests):
            body = body_for(rng, rng.choice(company_ids), now)
            status, data, ms = post("/api/v1/consultations/", body, token)
            if status != 201:
                sys.exit(f"POST consultations/: {status} {data[:300]!r} for {body}")
            if i >= args.warmup:
                times.append(ms)
        conn.close()
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        try:
            gunicorn.wait(timeout=20)
        except subprocess.TimeoutExpired:
            gunicorn.kill()

    ok = "OK" if pct(times, 95) <= TARGET_P95_MS else "MISS"
    print(
        f"\ncrm_company: {total:,} rows; gunicorn -w {args.workers}; "
        f"{args.requests} POSTs after {args.warmup} warm-up, one at a time"
    )
    print(
        f"POST /api/v1/consultations/ ms: p50 {pct(times, 50):.1f}  "
        f"p95 {pct(times, 95):.1f}  p99 {pct(times, 99):.1f}  "
        f"max {max(times):.1f}  mean {statistics.mean(times):.1f}  "
        f"({1000 / statistics.mean(times):.0f} req/s)  target p95 <= 50: {ok}"
    )

    # SQL statements of one request per body shape, in-process (same code path
    # as gunicorn's workers, minus the HTTP server).
    client = APIClient(SERVER_NAME="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    for shape in ("minimal", "full"):
        body = body_for(rng, rng.choice(company_ids), now, shape=shape)
        with CaptureQueriesContext(connection) as ctx:
            response = client.post("/api/v1/consultations/", body, format="json")
        assert response.status_code == 201, response.content[:300]
        sql_ms = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
        print(
            f"\n{shape} body ({', '.join(sorted(body))}): "
            f"{len(ctx.captured_queries)} SQL statements, {sql_ms:.1f} ms in SQL"
        )
        for q in ctx.captured_queries:
            print(f"  {float(q['time']) * 1000:6.1f} ms  {q['sql'][:120]}")


if __name__ == "__main__":
    main()
