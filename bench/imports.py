"""Import benchmark: commit of 50,000 相談記録 rows through the services.

    DJANGO_SETTINGS_MODULE=config.settings \
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chizai_bench_imports \
    python -m bench.imports [--rows 50000] [--companies 5000]

Issue 22 target: a commit of 50,000 rows at >= 2,000 rows/s through the
services on this machine, in constant memory. Creates the database when
missing, runs `migrate` and `seed_network`, writes a cp932 CSV with --rows
rows (--companies companies, half of them already registered, 和暦 and 西暦
dates mixed, a follow-up on one row in ten) and runs, each in its own
process so the peak RSS is that step's: the dry run (`import_validate`),
the commit (`import_commit`, the body of `crm.import_commit`) and the undo
(`import_undo`, which also leaves the database as it was for the next run).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.export import ensure_database, setup_django

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/chizai_bench_imports"
ORG = "inpit-window-13"
USER = "bench-import"
HEADER = [
    "相談日",
    "企業名",
    "都道府県",
    "相談方法",
    "相談分野",
    "所要時間",
    "相談内容",
    "フォローアップ日",
]
CHANNELS = ["来所", "電話", "オンライン", "メール", "訪問"]
TOPICS = ["特許", "商標", "意匠、商標", "契約", "営業秘密", "特許・実用新案"]


def write_file(path: Path, rows: int, companies: int) -> None:
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(HEADER)
    for i in range(rows):
        year = 2019 + i % 6
        month, day = 1 + i % 12, 1 + i % 28
        if year >= 2020 or month >= 5:
            era_year = year - 2018
            when = f"令和{'元' if era_year == 1 else era_year}年{month}月{day}日"
        else:
            when = f"H31.{month}.{day}"
        writer.writerow(
            [
                when if i % 2 else f"{year}/{month}/{day}",
                f"株式会社ベンチ{i % companies}",
                "東京都",
                CHANNELS[i % 5],
                TOPICS[i % len(TOPICS)],
                "1時間30分" if i % 3 == 0 else str(30 + i % 90),
                f"出願前の相談 {i}",
                f"{year}/{month}/{day}" if i % 10 == 0 else "",
            ]
        )
    path.write_bytes(text.getvalue().encode("cp932"))


def prepare(url: str, companies: int) -> None:
    ensure_database(url)
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_network", verbosity=0)
    from crm.models import Company
    from crm.services.companies import company_derive_keys
    from support_network.models import Prefecture
    from support_network.services.network import user_create_or_update

    user_create_or_update(
        username=USER,
        organisation_code=ORG,
        role="coordinator",
        password="bench-pass-1234",
        validate=False,
    )
    tokyo = Prefecture.objects.get(code="13")
    existing = set(
        Company.objects.filter(name__startswith="株式会社ベンチ").values_list(
            "name", flat=True
        )
    )
    todo = []
    for n in range(0, companies, 2):  # half of the companies already registered
        name = f"株式会社ベンチ{n}"
        if name not in existing:
            company = Company(name=name, kind="corporation", prefecture=tokyo)
            company_derive_keys(company)
            todo.append(company)
    Company.objects.bulk_create(todo, batch_size=2000)


def step(name: str, path: str) -> dict:
    """Run one step in this process and return its figures."""
    setup_django()
    from crm.models import Import
    from crm.services.import_commit import import_commit
    from crm.services.imports import (
        import_commit_request,
        import_undo,
        import_upload,
        import_validate,
    )
    from support_network.actors import Actor
    from support_network.models import Membership

    member = Membership.objects.select_related("user", "organisation").get(
        user__username=USER, organisation__code=ORG
    )
    actor = Actor(user=member.user, membership=member)
    start = time.perf_counter()
    cpu = time.process_time()
    if name == "validate":
        imp = import_upload(
            actor=actor,
            file_name="bench.csv",
            content=Path(path).read_bytes(),
            queue=False,
        )
        import_validate(import_id=imp.pk)
    else:
        imp = Import.objects.filter(requested_by=member.user).latest("pk")
        if name == "commit":
            import_commit_request(actor=actor, imp=imp, queue=False)
            import_commit(import_id=imp.pk)
        else:
            import_undo(actor=actor, imp=imp)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    imp.refresh_from_db()
    return {
        "step": name,
        "seconds": round(seconds, 2),
        # This process's CPU time (Python and Django; PostgreSQL's is apart).
        "cpu_seconds": round(cpu, 2),
        "rows": imp.rows,
        "valid_rows": imp.valid_rows,
        "status": imp.status,
        "created": imp.created,
        "companies_matched": imp.companies_matched,
        "companies_new": imp.companies_new,
        "peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--companies", type=int, default=5_000)
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    # As in production: no query log growing with every statement.
    os.environ.setdefault("DJANGO_DEBUG", "false")
    if args.step:
        print(json.dumps(step(args.step, args.file), ensure_ascii=False))
        return
    prepare(os.environ["DATABASE_URL"], args.companies)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.csv"
        write_file(path, args.rows, args.companies)
        print(f"file: {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB (cp932)")
        for name in ("validate", "commit", "undo"):
            out = (
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.imports",
                        "--step",
                        name,
                        "--file",
                        str(path),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            result = json.loads(out)
            rate = result["rows"] / result["seconds"] if result["seconds"] else 0
            print(
                f"{name}: {result['seconds']} s = {rate:,.0f} rows/s, "
                f"peak RSS {result['peak_rss_mb']} MB; {json.dumps(result, ensure_ascii=False)}"
            )


if __name__ == "__main__":
    main()
