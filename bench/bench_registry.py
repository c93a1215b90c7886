"""Benchmarks of the ledger (issue 3, "Speed").

Quick ones register with @benchmark and run in `python -m bench` (median of K warm
runs against a raw-SQL baseline):

- ledger_query_page: the ledger's filtered page of 50 for a province subtree (count,
  rows with platform and organizations joined, operators) through the FilterSet;
- ledger_page_http: the same page as the server renders it (Django test client,
  signed in as the province supervisor), HTML included;
- ledger_api_page: /api/v1/ledger/ for the same filter.

Heavy ones take seconds and memory, so each runs once in a fresh subprocess that
reports its wall time and peak RSS (`resource.getrusage`):

    python -m bench.bench_registry [page] [export] [import] [counterfeit] [--record]

- page: wall and CPU time of the ledger page and API (30 warm requests);
- export: XLSX of 20,000 accounts x 30 columns (budget 10 s, 300 MB peak);
- import: a 5,000-row XLSX, dry run and confirm (budget 30 s); the confirm runs in a
  transaction that is rolled back, so the dataset is left as it was;
- counterfeit: 1,000 candidates against every account of the dataset (budget 10 s),
  cold (index built) and warm (index cached).

`--record` appends a section to bench/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from bench.registry import Case, benchmark

FILTER = {"status": "active", "sort": "-followers"}


def _page_sql(path: str) -> tuple[str, str]:
    count = (
        "SELECT count(*) FROM registry_mediaaccount a "
        "WHERE a.org_path LIKE %s AND a.status = 'active'"
    )
    # The page by hand as one query: filter, join, sort, limit.
    rows = (
        "SELECT a.id, a.display_name, a.platform_account_id, a.status, a.followers, "
        "a.last_post_at, p.name, o.name, s.name, l.username "
        "FROM registry_mediaaccount a "
        "JOIN registry_platform p ON p.id = a.platform_id "
        "JOIN accounts_organization o ON o.id = a.organization_id "
        "JOIN accounts_organization s ON s.id = a.supervising_organization_id "
        "LEFT JOIN accounts_user l ON l.id = a.liaison_id "
        "WHERE a.org_path LIKE %s AND a.status = 'active' "
        "ORDER BY a.followers DESC, a.id DESC LIMIT 50"
    )
    return count, rows


def _baseline(ctx):
    count_sql, rows_sql = _page_sql(ctx.province.path)
    like = ctx.province.path + "%"

    def run():
        total = ctx.scalar(count_sql, [like])
        rows = ctx.rows(rows_sql, [like])
        ids = [r[0] for r in rows]
        if ids:
            ctx.rows(
                "SELECT t.mediaaccount_id, u.username FROM registry_mediaaccount_operators t "
                "JOIN accounts_user u ON u.id = t.user_id WHERE t.mediaaccount_id = ANY(%s)"
                if _pg()
                else "SELECT 1",
                [ids] if _pg() else [],
            )
        return total, ids

    return run


def _pg() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"



def _ledger_page_path(user, params):
    """The ledger's data path as a request runs it (fresh scope, filter, first page),
    and the bound filterset for EXPLAIN."""
    from accounts.scoping import forget
    from registry import ledger

    def app():
        forget(user)
        filterset = ledger.ledger_filter(user, params)
        assert filterset.is_valid(), filterset.errors
        page, accounts = ledger.ledger_page(filterset.qs, 1)
        return page.paginator.count, [a.pk for a in accounts]

    filterset = ledger.ledger_filter(user, params)
    filterset.is_valid()
    return app, filterset

@benchmark(
    "ledger_query_page",
    budget_ms=100,
    max_ratio=3.0,
    description="Ledger: filtered, sorted page of 50 of a province subtree (count, rows, "
    "operators) through the FilterSet vs the same SQL by hand.",
)
def ledger_query_page(ctx):

    user = ctx.supervisor
    params = {**FILTER, "org": str(ctx.province.pk)}

    app, filterset = _ledger_page_path(user, params)
    return Case(
        app=app,
        baseline=_baseline(ctx),
        explain=filterset.qs[:50],
        expect_index="account_path_status_idx",
    )


@benchmark(
    "ledger_page_http",
    budget_ms=100,
    max_ratio=30.0,
    description="Ledger page as served (HTML rendered, session, scoping) vs the raw SQL "
    "of its data; the ratio shows the cost of rendering.",
)
def ledger_page_http(ctx):
    from django.test import Client

    client = Client()
    client.force_login(ctx.supervisor)
    params = {**FILTER, "org": str(ctx.province.pk)}

    def app():
        response = client.get(
            "/registry/ledger/", params, HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
        assert response.status_code == 200, response.status_code
        return response.status_code

    return Case(app=app, baseline=_baseline(ctx), compare=False)


@benchmark(
    "ledger_api_page",
    budget_ms=100,
    max_ratio=30.0,
    description="GET /api/v1/ledger/ (same filter, page of 50, JSON) vs the raw SQL.",
)
def ledger_api_page(ctx):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(ctx.supervisor)
    params = {**FILTER, "org": str(ctx.province.pk)}

    def app():
        response = client.get("/api/v1/ledger/", params)
        assert response.status_code == 200, response.status_code
        return response.status_code

    return Case(app=app, baseline=_baseline(ctx), compare=False)


# --- registry overview and the "filing overdue" filter -----------------------------
def _overdue_sql(ctx) -> tuple[str, list]:
    """The ledger's "filing overdue" condition (registry.ledger.filing_overdue_q) by
    hand, over the province subtree."""
    from datetime import datetime, timedelta
    from datetime import time as dtime

    from django.utils import timezone

    from registry.ledger import unfiled_cutoff

    now = timezone.now()
    cutoff = unfiled_cutoff(timezone.localdate(now))
    recorded_by = datetime.combine(
        cutoff + timedelta(days=1), dtime.min, tzinfo=timezone.get_current_timezone()
    )
    where = (
        "a.org_path LIKE %s AND ("
        " a.id IN (SELECT account_id FROM registry_filing WHERE is_late)"
        " OR a.id IN (SELECT account_id FROM registry_filing"
        "             WHERE status = 'submitted' AND due_at < %s)"
        " OR (a.status = 'pending'"
        "     AND a.id NOT IN (SELECT account_id FROM registry_filing"
        "                      WHERE status = 'submitted')"
        "     AND (a.opened_on <= %s OR (a.opened_on IS NULL AND a.created_at < %s))))"
    )
    return where, [ctx.province.path + "%", now, cutoff, recorded_by]


def _overdue_baseline(ctx):
    where, params = _overdue_sql(ctx)

    def run():
        total = ctx.scalar(f"SELECT count(*) FROM registry_mediaaccount a WHERE {where}", params)
        ids = [
            r[0]
            for r in ctx.rows(
                f"SELECT a.id FROM registry_mediaaccount a WHERE {where} "
                "ORDER BY a.org_path, a.id LIMIT 50",
                params,
            )
        ]
        if ids:
            marks = ", ".join(["%s"] * len(ids))
            ctx.rows(
                "SELECT a.id, a.display_name, p.name, o.name, s.name, l.username "
                "FROM registry_mediaaccount a "
                "JOIN registry_platform p ON p.id = a.platform_id "
                "JOIN accounts_organization o ON o.id = a.organization_id "
                "JOIN accounts_organization s ON s.id = a.supervising_organization_id "
                f"LEFT JOIN accounts_user l ON l.id = a.liaison_id WHERE a.id IN ({marks})",
                ids,
            )
            ctx.rows(
                "SELECT t.mediaaccount_id, u.username FROM registry_mediaaccount_operators t "
                f"JOIN accounts_user u ON u.id = t.user_id WHERE t.mediaaccount_id IN ({marks})",
                ids,
            )
        return total, ids

    return run


@benchmark(
    "ledger_filing_overdue_query",
    budget_ms=60,
    max_ratio=2.0,
    description="Ledger 'filing overdue' filter: count and page of 50 of a province "
    "subtree through the FilterSet vs the same SQL by hand.",
)
def ledger_filing_overdue_query(ctx):

    user = ctx.supervisor
    params = {"filing_overdue": "true", "org": str(ctx.province.pk)}

    app, filterset = _ledger_page_path(user, params)
    return Case(
        app=app,
        baseline=_overdue_baseline(ctx),
        explain=filterset.qs.values_list("pk", flat=True)[:50],
        # The partial index of late filings (registry migration 0005); without it
        # every request scanned all filings of the country (bench/RESULTS.md).
        expect_index="filing_late_account_idx",
    )


@benchmark(
    "ledger_filing_overdue_http",
    budget_ms=100,
    max_ratio=30.0,
    description="GET /registry/ledger/?filing_overdue=true as the province supervisor "
    "(HTML rendered) vs the raw SQL of its data.",
)
def ledger_filing_overdue_http(ctx):
    from django.test import Client

    client = Client()
    client.force_login(ctx.supervisor)

    def app():
        response = client.get(
            "/registry/ledger/",
            {"filing_overdue": "true", "org": str(ctx.province.pk)},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
        assert response.status_code == 200, response.status_code
        return response.status_code

    return Case(app=app, baseline=_overdue_baseline(ctx), compare=False)


def _overview_baseline(ctx):
    """registry.selectors.registry_overview's numbers by hand: the same aggregates
    over the province subtree."""
    from datetime import timedelta

    from django.utils import timezone

    from registry.ledger import idle_days_default
    from registry.selectors import CLEANUP_IDLE_DAYS, CLEANUP_LIST_LENGTH

    like = ctx.province.path + "%"
    where, overdue_params = _overdue_sql(ctx)
    overdue = where.split(" AND (", 1)[1].rsplit(")", 1)[0]

    def run():
        now = timezone.now()
        idle_at = now - timedelta(days=idle_days_default())
        cleanup_at = now - timedelta(days=CLEANUP_IDLE_DAYS)
        posting = "a.status IN ('active', 'rectifying')"
        by_status = dict(
            ctx.rows(
                "SELECT status, count(*) FROM registry_mediaaccount a "
                "WHERE a.org_path LIKE %s GROUP BY status",
                [like],
            )
        )
        by_platform = ctx.rows(
            "SELECT a.platform_id, count(*) FROM registry_mediaaccount a "
            "WHERE a.org_path LIKE %s GROUP BY a.platform_id",
            [like],
        )
        totals = ctx.rows(
            "SELECT"
            f" count(*) FILTER (WHERE {posting} AND (a.last_post_at < %s OR a.last_post_at IS NULL)),"
            f" count(*) FILTER (WHERE {posting} AND (a.last_post_at < %s OR a.last_post_at IS NULL)),"
            f" count(*) FILTER (WHERE {overdue})"
            " FROM registry_mediaaccount a WHERE a.org_path LIKE %s",
            [idle_at, cleanup_at, *overdue_params[1:], like],
        )[0]
        filings = ctx.rows(
            "SELECT count(*) FILTER (WHERE status = 'submitted'),"
            " count(*) FILTER (WHERE status = 'submitted' AND due_at < %s),"
            " count(*) FILTER (WHERE is_late) FROM registry_filing WHERE org_path LIKE %s",
            [now, like],
        )[0]
        rotations = ctx.rows(
            "SELECT count(*), count(*) FILTER (WHERE t.due_at < %s) "
            "FROM registry_rotationtask t JOIN registry_mediaaccount a ON a.id = t.account_id "
            "WHERE t.done_at IS NULL AND a.org_path LIKE %s",
            [now, like],
        )[0]
        cleanup = ctx.rows(
            "SELECT a.id, a.display_name, p.name, o.name FROM registry_mediaaccount a "
            "JOIN registry_platform p ON p.id = a.platform_id "
            "JOIN accounts_organization o ON o.id = a.organization_id "
            f"WHERE a.org_path LIKE %s AND {posting} "
            "AND (a.last_post_at < %s OR a.last_post_at IS NULL) "
            "ORDER BY a.last_post_at ASC NULLS FIRST, a.id LIMIT %s",
            [like, cleanup_at, CLEANUP_LIST_LENGTH],
        )
        return (
            sum(by_status.values()), len(by_platform), tuple(totals), tuple(filings),
            tuple(rotations), [r[0] for r in cleanup],
        )

    return run


@benchmark(
    "registry_overview_query",
    budget_ms=200,
    max_ratio=2.0,
    description="registry_overview selector (the /registry/overview/ numbers) for the "
    "province supervisor vs the same aggregates by hand.",
)
def registry_overview_query(ctx):
    from accounts.scoping import forget
    from registry import selectors

    user = ctx.supervisor

    def app():
        forget(user)
        o = selectors.registry_overview(user)
        return (
            o["total"], len(o["by_platform"]),
            (o["accounts"]["idle"], o["accounts"]["cleanup"], o["accounts"]["filing_overdue"]),
            (o["filings"]["pending"], o["filings"]["pending_past_due"], o["filings"]["late"]),
            (o["rotations"]["open"], o["rotations"]["overdue"]),
            [a.pk for a in o["cleanup"]],
        )

    return Case(app=app, baseline=_overview_baseline(ctx))


@benchmark(
    "registry_overview_http",
    budget_ms=300,
    max_ratio=30.0,
    description="GET /registry/overview/ as the province supervisor (HTML rendered) vs "
    "the raw SQL of its numbers.",
)
def registry_overview_http(ctx):
    from django.test import Client

    client = Client()
    client.force_login(ctx.supervisor)

    def app():
        response = client.get("/registry/overview/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200, response.status_code
        return response.status_code

    return Case(app=app, baseline=_overview_baseline(ctx), compare=False)


# --- heavy benchmarks (one subprocess each) -------------------------------------------
def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _child_export() -> dict:
    from django.db.models import Count, Q

    from registry.ledger import LedgerFilter
    from registry.models import MediaAccount
    from registry.services import ledger_export

    # The largest provinces together, until 20,000 accounts: a big province's export.
    step = 4
    sizes = (
        MediaAccount.objects.dangerously_all()
        .extra(select={"p": f"substr(org_path, 1, {step})"})  # noqa: S610
        .values("p")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    paths, total = [], 0
    for row in sizes:
        paths.append(row["p"])
        total += row["n"]
        if total >= 20000:
            break
    cond = Q()
    for p in paths:
        cond |= Q(org_path__startswith=p)
    base = MediaAccount.objects.filter(cond).select_related(
        "platform", "organization", "supervising_organization", "liaison"
    )
    qs = LedgerFilter({"sort": "organization"}, queryset=base, request=None).qs[:20000]
    rss_before = _peak_mb()
    start = time.perf_counter()
    path = ledger_export.xlsx_tempfile(qs)
    seconds = time.perf_counter() - start
    size = os.path.getsize(path)
    import openpyxl

    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = sheet.max_row - 1
    columns = sheet.max_column
    os.unlink(path)
    return {
        "seconds": round(seconds, 2),
        "rows": rows,
        "columns": columns,
        "file_mb": round(size / 1e6, 1),
        "peak_rss_mb": _peak_mb(),
        "rss_before_mb": rss_before,
    }


def _child_import() -> dict:
    import io
    import tempfile

    import openpyxl
    from django.conf import settings
    from django.db import transaction

    from accounts.models import Organization
    from bench.context import Context
    from registry.services import ledger_import

    ctx = Context()
    user = ctx.supervisor
    settings.VAR_DIR = Path(tempfile.mkdtemp(prefix="bench-import-"))
    orgs = list(
        Organization.objects.filter(path__startswith=ctx.province.path).values_list(
            "name", flat=True
        )
    )
    rng = random.Random(2026)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([c.header for c in ledger_import.COLUMNS])
    platforms = ["微博", "抖音", "bilibili", "今日头条"]
    for n in range(5000):
        platform = platforms[n % len(platforms)]
        url = f"https://space.bilibili.com/9{n:08d}" if platform == "bilibili" else ""
        sheet.append(
            [
                rng.choice(orgs),
                platform,
                f"导入测试{n}",
                "" if url else f"benchimp{n}",
                url,
                "机构",
                "已认证",
                "正常",
                rng.randint(0, 500000),
                "2019-06-01",
                "2025-09-01",
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    start = time.perf_counter()
    stage = ledger_import.import_stage(user=user, filename="bench.xlsx", data=data)
    stage = ledger_import.import_check(stage_id=stage["id"], user=user)
    check_s = time.perf_counter() - start
    good, bad = len(stage["good"]), len(stage["errors"])
    start = time.perf_counter()
    with transaction.atomic():
        done = ledger_import.media_account_import(stage_id=stage["id"], actor=user)
        confirm_s = time.perf_counter() - start
        transaction.set_rollback(True)  # leave the benchmark dataset as it was
    return {
        "rows": 5000,
        "good": good,
        "bad": bad,
        "imported": done["imported"],
        "check_seconds": round(check_s, 2),
        "confirm_seconds": round(confirm_s, 2),
        "seconds": round(check_s + confirm_s, 2),
        "peak_rss_mb": _peak_mb(),
    }


def _homophone_table(names) -> dict[str, list[str]]:
    from registry import counterfeit

    by_sound: dict[str, list[str]] = {}
    for name in names:
        for char in name:
            if "\u4e00" <= char <= "\u9fff":
                sound = counterfeit._syllable(char)
                bucket = by_sound.setdefault(sound, [])
                if char not in bucket:
                    bucket.append(char)
    return by_sound


def _child_counterfeit() -> dict:
    from accounts.models import Organization
    from accounts.scoping import Scope
    from registry import counterfeit
    from registry.models import MediaAccount, Platform

    roots = tuple(Organization.objects.filter(depth=1).values_list("path", flat=True))
    scope = Scope(subtree_paths=roots)
    rng = random.Random(7)
    sample = list(
        MediaAccount.objects.order_by("?").values_list(
            "display_name", "platform__code", "platform_account_id"
        )[:2000]
    )
    templates = dict(Platform.objects.values_list("code", "profile_url_template"))
    sounds = _homophone_table(n for n, _p, _i in sample)
    lines = []
    for n in range(1000):
        name, platform, account_id = sample[n]
        kind = n % 5
        if kind == 0:  # homophone twin
            chars = list(name)
            spots = [
                i
                for i, c in enumerate(chars)
                if len(sounds.get(counterfeit._syllable(c), [])) > 1
            ]
            if spots:
                i = rng.choice(spots)
                options = [
                    c for c in sounds[counterfeit._syllable(chars[i])] if c != chars[i]
                ]
                chars[i] = rng.choice(options)
            lines.append("".join(chars))
        elif kind == 1:  # look-alike with an extra word
            lines.append(name + rng.choice(["官方", "发布厅", "服务号", "之声"]))
        elif kind == 2 and templates.get(platform):  # a registered URL
            lines.append(templates[platform].format(account_id=account_id))
        elif kind == 3:  # unrelated
            lines.append(
                "".join(
                    rng.choice("春夏秋冬山水风云花鸟鱼虫日月星辰") for _ in range(6)
                )
            )
        else:
            lines.append(name)
    candidates = counterfeit.parse_candidates("\n".join(lines))
    start = time.perf_counter()
    results = counterfeit.check_in_scope(scope, candidates)
    cold = time.perf_counter() - start
    index = counterfeit.index_for(scope)
    start = time.perf_counter()
    counterfeit.check_in_scope(scope, candidates)
    warm = time.perf_counter() - start
    kinds: dict[str, int] = {}
    for finding in results:
        kinds[finding.kind] = kinds.get(finding.kind, 0) + 1
    return {
        "candidates": len(candidates),
        "accounts": len(index),
        "distinct_names": len(index.norms),
        "seconds": round(cold, 2),
        "cold_seconds": round(cold, 2),
        "warm_seconds": round(warm, 2),
        "kinds": kinds,
        "peak_rss_mb": _peak_mb(),
    }


def _child_page() -> dict:
    """Wall and CPU time (this process) of the ledger page and API, 30 warm requests:
    on a loaded machine the wall time includes waiting for a CPU, the CPU time does
    not (database time is in the wall time only)."""
    import statistics

    from django.test import Client
    from rest_framework.test import APIClient

    from bench.context import Context

    ctx = Context()
    params = {**FILTER, "org": str(ctx.province.pk)}
    page = Client()
    page.force_login(ctx.supervisor)
    api = APIClient()
    api.force_authenticate(ctx.supervisor)
    out = {}
    calls = (
        (
            "page",
            lambda: page.get(
                "/registry/ledger/", params, HTTP_ACCEPT_LANGUAGE="zh-hans"
            ),
        ),
        ("api", lambda: api.get("/api/v1/ledger/", params)),
    )
    for name, call in calls:
        for _ in range(5):
            call()
        walls, cpus = [], []
        for _ in range(30):
            wall, cpu = time.perf_counter(), time.process_time()
            response = call()
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            assert response.status_code == 200
        out[f"{name}_wall_ms"] = round(statistics.median(walls), 1)
        out[f"{name}_cpu_ms"] = round(statistics.median(cpus), 1)
    out["seconds"] = round(out["page_wall_ms"] / 1000, 3)
    out["peak_rss_mb"] = _peak_mb()
    out["load_1min"] = round(os.getloadavg()[0], 1)
    return out


CHILDREN = {
    "page": _child_page,
    "export": _child_export,
    "import": _child_import,
    "counterfeit": _child_counterfeit,
}
BUDGETS = {
    "page": "< 100 ms server time (page of 50, province subtree)",
    "export": "< 10 s, peak < 300 MB",
    "import": "< 30 s (dry run + confirm)",
    "counterfeit": "< 10 s",
}


def run_child(name: str) -> dict:
    env = dict(os.environ)
    root = Path(__file__).resolve().parent.parent
    output = subprocess.run(
        [sys.executable, "-m", "bench.bench_registry", "--child", name],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if output.returncode != 0:
        return {"error": output.stderr[-2000:]}
    return json.loads(output.stdout.strip().splitlines()[-1])


def record(results: dict) -> None:
    from bench import context as ctxmod

    info = ctxmod.machine()
    ds = ctxmod.dataset()
    path = Path(__file__).resolve().parent / "RESULTS.md"
    lines = [
        "",
        f"## {date.today().isoformat()} · ledger heavy benchmarks (bench/bench_registry.py) · "
        f"{info['database']} · {ds['media_accounts']:,} accounts",
        "",
        f"- machine: {info['nproc']} CPUs, {info['ram_gb']} GB RAM; dataset `{ds['name']}` "
        f"({ds['organizations']:,} organizations); one run each in a fresh process, peak = "
        "max RSS of that process (Django and the dataset's Python objects included)",
        "",
        "| benchmark | budget | wall time s | peak RSS MB | details |",
        "|---|---|---|---|---|",
    ]
    for name, data in results.items():
        if "error" in data:
            lines.append(f"| {name} | {BUDGETS[name]} | ERROR | - | see run output |")
            continue
        details = ", ".join(
            f"{k}={v}" for k, v in data.items() if k not in ("seconds", "peak_rss_mb")
        )
        lines.append(
            f"| {name} | {BUDGETS[name]} | {data['seconds']} | {data['peak_rss_mb']} | {details} |"
        )
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    path.write_text(text.rstrip("\n") + "\n" + "\n".join(lines) + "\n")


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if argv[:1] == ["--child"]:
        print(json.dumps(CHILDREN[argv[1]](), ensure_ascii=False))
        return
    names = [a for a in argv if a in CHILDREN] or list(CHILDREN)
    results = {}
    for name in names:
        results[name] = run_child(name)
        print(name, json.dumps(results[name], ensure_ascii=False))
    if "--record" in argv:
        record(results)


if __name__ == "__main__":
    main(sys.argv[1:])
