"""Benchmarks register here with @benchmark; the runner finds them.

A benchmark is a setup function taking the run's Context and returning a Case: the
app path (ORM, scoping layer, service) and a raw-SQL baseline that computes the same
answer. Both are timed in the same run, so the ratio shows what the app layer costs
over the database's own work; `budget_ms` bounds the app path's median and
`max_ratio` bounds the overhead.

Apps add their own in `<app>/benchmarks.py` (imported by the runner through
Django's autodiscover_modules), e.g.::

    from bench.registry import Case, benchmark

    @benchmark("posts_pending_review", budget_ms=50, max_ratio=2.0)
    def posts_pending_review(ctx):
        qs = Post.objects.filter(...)
        return Case(app=lambda: qs.count(), baseline=lambda: ctx.scalar("SELECT ..."),
                    explain=qs)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Case:
    app: Callable[[], Any]
    baseline: Callable[[], Any]
    # A queryset (or (sql, params)) whose plan the runner records, to show which
    # index the app path uses.
    explain: Any = None
    # Compare the two answers (normalized with `normalize`) after the warm-up run.
    compare: bool = True
    expect_index: str = ""  # an index name the plan must mention (PostgreSQL only)
    # explain="captured": the runner records the SQL the app path actually sends
    # during its warm-up (CaptureQueriesContext) and EXPLAINs each SELECT of it.


@dataclass(frozen=True)
class Benchmark:
    name: str
    setup: Callable[..., Case]
    budget_ms: float
    max_ratio: float
    description: str = ""


BENCHMARKS: dict[str, Benchmark] = {}


def benchmark(
    name: str, *, budget_ms: float, max_ratio: float = 2.0, description: str = ""
):
    def register(setup: Callable[..., Case]) -> Callable[..., Case]:
        if name in BENCHMARKS and BENCHMARKS[name].setup is not setup:
            raise ValueError(f"benchmark {name!r} is registered twice")
        BENCHMARKS[name] = Benchmark(
            name=name,
            setup=setup,
            budget_ms=budget_ms,
            max_ratio=max_ratio,
            description=description or (setup.__doc__ or "").strip().split("\n")[0],
        )
        return setup

    return register
