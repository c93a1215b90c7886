"""Time every registered benchmark (app path and raw-SQL baseline, median of K warm
runs), print a table and record it in bench/RESULTS.md."""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from django.db import connection
from django.utils.module_loading import autodiscover_modules

from bench import context as ctxmod
from bench.registry import BENCHMARKS

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
RUNS_MARKER = "<!-- bench runs below are written by `python -m bench` -->"


@dataclass
class Result:
    name: str
    app_ms: float
    baseline_ms: float
    ratio: float
    budget_ms: float
    max_ratio: float
    indexes: str
    status: str  # ok | over budget | over ratio | MISMATCH | NO INDEX | ERROR


def discover() -> None:
    import bench.bench_scale  # noqa: F401  (national scale, both scopes)
    import bench.benchmarks  # noqa: F401  (the built-in ones)

    autodiscover_modules("benchmarks")


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _indexes(plan: str) -> list[str]:
    if connection.vendor == "postgresql":
        return sorted(
            set(
                re.findall(r"(?:Index|Index Only) Scan(?: Backward)? using (\w+)", plan)
                + re.findall(r"Bitmap Index Scan on (\w+)", plan)
            )
        )
    return sorted(set(re.findall(r"USING (?:COVERING )?INDEX (\w+)", plan)))


def run(
    names=None,
    repeat: int = 15,
    province_path: str = "",
    out=print,
    record: bool = True,
) -> list[Result]:
    discover()
    ctx = ctxmod.Context(province_path=province_path)
    selected = [b for n, b in sorted(BENCHMARKS.items()) if not names or n in names]
    if names and len(selected) != len(set(names)):
        unknown = set(names) - set(BENCHMARKS)
        raise SystemExit(
            f"Unknown benchmark(s): {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(BENCHMARKS))}"
        )
    info = {"machine": ctxmod.machine(), "dataset": ctxmod.dataset()}
    out(f"Machine: {info['machine']}")
    out(
        f"Dataset: {info['dataset']}; province {ctx.province.name} ({ctx.province.path})"
    )
    results = []
    for bm in selected:
        try:
            case = bm.setup(ctx)
            captured = None
            if case.explain == "captured":
                from django.test.utils import CaptureQueriesContext

                with CaptureQueriesContext(connection) as captured:
                    app_answer = case.app()
            else:
                app_answer = case.app()
            base_answer = case.baseline()  # warm-up
        except Exception as exc:  # one broken benchmark must not hide the others
            out(f"\n{bm.name} failed: {type(exc).__name__}: {exc}")
            results.append(
                Result(bm.name, 0.0, 0.0, 0.0, bm.budget_ms, bm.max_ratio, "-", "ERROR")
            )
            continue
        status = "ok"
        if case.compare and app_answer != base_answer:
            status = "MISMATCH"
            out(
                f"\n{bm.name} MISMATCH: app {repr(app_answer)[:300]} "
                f"!= floor {repr(base_answer)[:300]}"
            )
        if captured is not None:
            plan = ctxmod.explain_captured(captured.captured_queries)
        else:
            plan = ctxmod.explain(case.explain) if case.explain is not None else ""
        used = _indexes(plan)
        app_times, base_times = [], []
        for _ in range(repeat):  # interleaved, so drift hits both sides alike
            app_times.append(_median_ms(case.app, 1))
            base_times.append(_median_ms(case.baseline, 1))
        app_ms, base_ms = statistics.median(app_times), statistics.median(base_times)
        ratio = app_ms / base_ms if base_ms else float("inf")
        if status == "ok":
            if (
                case.expect_index
                and connection.vendor == "postgresql"
                and case.expect_index not in used
            ):
                status = "NO INDEX"
            elif app_ms > bm.budget_ms:
                status = "over budget"
            elif ratio > bm.max_ratio:
                status = "over ratio"
        results.append(
            Result(
                bm.name,
                round(app_ms, 2),
                round(base_ms, 2),
                round(ratio, 2),
                bm.budget_ms,
                bm.max_ratio,
                ", ".join(used) or "-",
                status,
            )
        )
        if plan:
            out(f"\nPlan of {bm.name}:\n{plan}")
    out("")
    out(table(results))
    if record:
        write_results(results, info, ctx, repeat)
        out(f"\nRecorded in {RESULTS}")
    return results


def table(results: list[Result]) -> str:
    head = [
        "benchmark",
        "app median ms",
        "baseline median ms",
        "ratio",
        "budget ms",
        "max ratio",
        "index used",
        "status",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in results:
        lines.append(
            f"| {r.name} | {r.app_ms:.2f} | {r.baseline_ms:.2f} | {r.ratio:.2f} | "
            f"{r.budget_ms:g} | {r.max_ratio:g} | {r.indexes} | {r.status} |"
        )
    return "\n".join(lines)


def write_results(
    results: list[Result], info: dict, ctx, repeat: int, path: Path = RESULTS
):
    """One section per (date, database, dataset size); a rerun the same day replaces
    the rows of the benchmarks it ran and keeps the others."""
    text = (
        path.read_text()
        if path.exists()
        else "# Benchmark results\n\n" + RUNS_MARKER + "\n"
    )
    if RUNS_MARKER not in text:
        text = text.rstrip("\n") + "\n\n" + RUNS_MARKER + "\n"
    ds, m = info["dataset"], info["machine"]
    key = f"{date.today().isoformat()} {Path(str(ds['name'])).name} {ds['media_accounts']}"
    pattern = re.compile(
        r"<!-- bench-run " + re.escape(key) + r" -->\n.*?<!-- /bench-run -->\n", re.S
    )
    rows: dict[str, dict] = {}
    found = pattern.search(text)
    if found:
        data = re.search(r"<!-- bench-data (.*?) -->", found.group(0))
        if data:
            rows = json.loads(data.group(1))
    rows.update({r.name: asdict(r) for r in results})
    merged = [Result(**rows[n]) for n in sorted(rows)]
    section = (
        f"<!-- bench-run {key} -->\n"
        f"## {date.today().isoformat()} · {m['database']} · {ds['media_accounts']:,} accounts\n\n"
        f"- machine: {m['nproc']} CPUs, {m['ram_gb']} GB RAM, {m['database']}, "
        f"load average (1 min) at start {m.get('load_1min')}\n"
        f"- dataset: `{Path(str(ds['name'])).name}`, {ds['organizations']:,} organizations, "
        f"{ds['media_accounts']:,} media accounts; province measured: {ctx.province.name} "
        f"(`{ctx.province.path}`)\n"
        f"- median of {repeat} warm runs each, app path and baseline interleaved\n\n"
        f"{table(merged)}\n"
        f"<!-- bench-data {json.dumps(rows, ensure_ascii=False)} -->\n"
        "<!-- /bench-run -->\n"
    )
    if found:
        text = text[: found.start()] + section + text[found.end() :]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
