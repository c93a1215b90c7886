"""Heavy benchmarks of supervision (issue 11, "Speed"), each run once, in this
process, in a transaction rolled back afterwards (the dataset is left as it was):

    python -m bench.bench_supervision [ingest] [rollup] [sweep] [--rows N] [--record]

- ingest: N metric snapshots (default 1,000,000: every live account over as many
  days as needed) through `metrics_ingest` in batches of 5,000, the way collectors
  send them (validation, per-row report, upsert, follower-jump check, audit).
- rollup: one day's activity (one post per account, ~200,000 rows, inserted with one
  INSERT ... SELECT) then `rollup_day` of the whole tree for that day.
- sweep: the whole nightly sweep (every kind) from an empty findings table (the
  first run, which opens everything) and again (the steady state).

The quick ones (per-kind sweeps against raw SQL, dashboards) are in
supervision/benchmarks.py and run with `python -m bench`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path


class _Rollback(Exception):
    pass


def _timed_rolled_back(fn) -> dict:
    from django.db import transaction

    started = time.perf_counter()
    try:
        with transaction.atomic():
            details = fn()
            details["seconds"] = round(time.perf_counter() - started, 2)
            raise _Rollback(details)
    except _Rollback as done:
        return done.args[0]


def ingest(rows_wanted: int) -> dict:
    from django.utils import timezone

    from registry.models import MediaAccount
    from supervision.services.activity import MAX_ROWS, metrics_ingest

    ids = list(
        MediaAccount.objects.filter(status__in=["active", "rectifying"])
        .order_by("id")
        .values_list("id", flat=True)
    )
    days = -(-rows_wanted // len(ids))
    today = timezone.localdate()

    def run():
        sent, created, rejected, batches = 0, 0, 0, 0
        batch: list[dict] = []
        for back in range(days, 0, -1):
            day = (today - timedelta(days=back)).isoformat()
            for i, pk in enumerate(ids):
                if sent >= rows_wanted:
                    break
                batch.append(
                    {
                        "account": pk,
                        "day": day,
                        "followers": 1000 + i % 977 + back,
                        "posts": i % 5,
                        "reads": i % 1000,
                        "reposts": i % 7,
                        "comments": i % 11,
                        "likes": i % 13,
                    }
                )
                sent += 1
                if len(batch) == MAX_ROWS:
                    report = metrics_ingest(actor=None, rows=batch)
                    created += report["created"] + report["updated"]
                    rejected += report["rejected"]
                    batches += 1
                    batch = []
        if batch:
            report = metrics_ingest(actor=None, rows=batch)
            created += report["created"] + report["updated"]
            rejected += report["rejected"]
            batches += 1
        return {
            "rows": sent,
            "written": created,
            "rejected": rejected,
            "batches": batches,
            "accounts": len(ids),
            "days": days,
        }

    result = _timed_rolled_back(run)
    result["rows_per_second"] = round(result["rows"] / result["seconds"])
    return result


def rollup() -> dict:
    from django.db import connection
    from django.utils import timezone

    from supervision import partitions
    from supervision.services.rollups import rollup_day

    day = timezone.localdate() - timedelta(days=1)

    def run():
        partitions.ensure_months("supervision_accountpost", [day])
        started = time.perf_counter()
        with connection.cursor() as c:
            c.execute(
                "INSERT INTO supervision_accountpost (account_id, platform_id, "
                "platform_post_id, org_path, published_at, url, source, recorded_at) "
                "SELECT id, platform_id, 'bench-' || id, org_path, "
                "(%s::date + time '09:00' + (id %% 600) * interval '1 minute') "
                "AT TIME ZONE 'Asia/Shanghai', '', 'collector', now() "
                "FROM registry_mediaaccount WHERE status IN ('active', 'rectifying')",
                [day],
            )
            inserted = c.rowcount
        insert_seconds = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        written = rollup_day(day)
        return {
            "posts": inserted,
            "insert_seconds": insert_seconds,
            "rollup_seconds": round(time.perf_counter() - started, 2),
            "stat_rows": written,
        }

    return _timed_rolled_back(run)


def sweep() -> dict:
    from supervision.models import Finding
    from supervision.services.sweeps import findings_sweep

    def run():
        Finding.objects.all().delete()
        started = time.perf_counter()
        first = findings_sweep()
        first_seconds = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        second = findings_sweep()
        second_seconds = round(time.perf_counter() - started, 2)
        return {
            "first_seconds": first_seconds,
            "opened": sum(v["opened"] for v in first.values()),
            "steady_seconds": second_seconds,
            "steady_opened": sum(v["opened"] for v in second.values()),
            "steady_refreshed": sum(v["refreshed"] for v in second.values()),
        }

    return _timed_rolled_back(run)


BUDGETS = {
    "ingest": "1,000,000 snapshots < 60 s",
    "rollup": "one day's activity rolled up < 60 s",
    "sweep": "each daily sweep < 1 s (per kind: see the quick benchmarks)",
}


def record(results: dict) -> None:
    from bench import context as ctxmod

    info, ds = ctxmod.machine(), ctxmod.dataset()
    path = Path(__file__).resolve().parent / "RESULTS.md"
    lines = [
        "",
        f"## {date.today().isoformat()} · supervision heavy benchmarks "
        f"(bench/bench_supervision.py) · {info['database']} · {ds['media_accounts']:,} accounts",
        "",
        f"- machine: {info['nproc']} CPUs, {info['ram_gb']} GB RAM, load average "
        f"{info['load_1min']} at the end; dataset `{ds['name']}` ({ds['organizations']:,} "
        "organizations); one run each, rolled back",
        "",
        "| benchmark | budget | wall time s | details |",
        "|---|---|---|---|",
    ]
    for name, data in results.items():
        details = ", ".join(f"{k}={v}" for k, v in data.items() if k != "seconds")
        lines.append(
            f"| {name} | {BUDGETS[name]} | {data.get('seconds', 'ERROR')} | {details} |"
        )
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    path.write_text(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n")


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    rows = 1_000_000
    if "--rows" in argv:
        rows = int(argv[argv.index("--rows") + 1])
    chosen = [a for a in argv if a in BUDGETS] or list(BUDGETS)
    results = {}
    for name in chosen:
        try:
            results[name] = ingest(rows) if name == "ingest" else globals()[name]()
        except Exception as exc:  # a failed benchmark is reported, the others still run
            results[name] = {"error": repr(exc)[:300]}
        print(name, json.dumps(results[name], ensure_ascii=False), flush=True)
    if "--record" in argv:
        record(results)


if __name__ == "__main__":
    main(sys.argv[1:])
