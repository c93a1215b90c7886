"""The benchmark harness on a small synthetic dataset (slow: builds a dataset and
times every benchmark)."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection

from bench import runner
from bench.registry import BENCHMARKS, Case, benchmark


@pytest.mark.slow
@pytest.mark.django_db
def test_runner_times_the_subtree_counts_and_answers_match():
    call_command(
        "generate_scale", "--accounts", "3000", "--seed", "11", stdout=io.StringIO()
    )
    # The registry's subtree counts (bench/benchmarks.py); other apps' benchmarks need
    # their own data and are tested with them.
    mine = [
        "accounts_by_status_in_province",
        "accounts_by_status_visible_to_supervisor",
    ]
    lines = []
    results = runner.run(names=mine, repeat=3, out=lines.append, record=False)
    assert [r.name for r in results] == mine
    for r in results:
        assert r.status not in ("MISMATCH", "ERROR"), r
        assert r.app_ms > 0 and r.baseline_ms > 0
    if connection.vendor == "postgresql":
        # The prefix index serves the subtree count.
        assert all("account_path_status_idx" in r.indexes for r in results), results
    assert any("| accounts_by_status_in_province |" in line for line in lines)


@pytest.mark.slow
@pytest.mark.django_db
def test_a_wrong_app_path_is_reported_as_mismatch():
    call_command(
        "generate_scale", "--accounts", "200", "--seed", "1", stdout=io.StringIO()
    )

    @benchmark("test_wrong_answer", budget_ms=1000)
    def wrong(ctx):
        return Case(app=lambda: 1, baseline=lambda: 2)

    try:
        [result] = runner.run(
            names=["test_wrong_answer"], repeat=1, out=lambda _: None, record=False
        )
    finally:
        del BENCHMARKS["test_wrong_answer"]
    assert result.status == "MISMATCH"


@pytest.mark.slow
def test_results_file_merges_runs_of_the_same_day(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text("# Benchmark results\n\nhand-written notes\n")
    info = {
        "machine": {"nproc": 2, "ram_gb": 8, "database": "PostgreSQL 15"},
        "dataset": {"name": "scale", "organizations": 10, "media_accounts": 100},
    }
    ctx = SimpleNamespace(
        province=SimpleNamespace(name="合成11省人民政府", path="0001")
    )

    def result(name, ms):
        return runner.Result(name, ms, 1.0, ms, 10, 2, "idx", "ok")

    runner.write_results([result("a", 1.5), result("b", 2.5)], info, ctx, 5, path=path)
    runner.write_results([result("a", 3.5)], info, ctx, 5, path=path)
    text = path.read_text()
    assert "hand-written notes" in text
    assert text.count("<!-- bench-run ") == 1
    assert "| a | 3.50 |" in text and "| b | 2.50 |" in text
    assert "| a | 1.50 |" not in text
    info["dataset"]["media_accounts"] = 200  # another dataset: a new section
    runner.write_results([result("a", 4.5)], info, ctx, 5, path=path)
    assert path.read_text().count("<!-- bench-run ") == 2
