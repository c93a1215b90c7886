"""The registry's subtree counts: the ledger's and the dashboards' hottest read."""

from __future__ import annotations

from django.db.models import Count

from bench.registry import Case, benchmark

BASELINE_SQL = (
    "SELECT status, count(*) FROM registry_mediaaccount WHERE org_path LIKE %s "
    "GROUP BY status"
)


def _baseline(ctx, path: str):
    return lambda: dict(ctx.rows(BASELINE_SQL, [path + "%"]))


@benchmark(
    "accounts_by_status_in_province",
    budget_ms=25,
    max_ratio=1.5,
    description="Count a province's media accounts by status (prefix on org_path).",
)
def accounts_by_status_in_province(ctx):
    from registry.models import MediaAccount

    path = ctx.province.path

    def app():
        qs = MediaAccount.objects.filter(org_path__startswith=path)
        return dict(
            qs.values("status").annotate(n=Count("id")).values_list("status", "n")
        )

    explain = (
        MediaAccount.objects.filter(org_path__startswith=path)
        .values("status")
        .annotate(n=Count("id"))
    )
    return Case(
        app=app,
        baseline=_baseline(ctx, path),
        explain=explain,
        expect_index="account_path_status_idx",
    )


@benchmark(
    "accounts_by_status_visible_to_supervisor",
    budget_ms=30,
    max_ratio=2.0,
    description="The same count through the scoping layer (visible_to) for a supervisor.",
)
def accounts_by_status_visible_to_supervisor(ctx):
    from accounts.scoping import forget
    from registry.models import MediaAccount

    user = ctx.supervisor

    def app():
        # A request starts with a fresh user object: the membership lookup that
        # scope_for makes once per request is part of the measured path.
        forget(user)
        qs = MediaAccount.objects.visible_to(user, "view")
        return dict(
            qs.values("status").annotate(n=Count("id")).values_list("status", "n")
        )

    explain = (
        MediaAccount.objects.visible_to(user, "view")
        .values("status")
        .annotate(n=Count("id"))
    )
    return Case(
        app=app,
        baseline=_baseline(ctx, ctx.province.path),
        explain=explain,
        expect_index="account_path_status_idx",
    )


@benchmark(
    "accounts_by_status_in_province_count_star",
    budget_ms=25,
    max_ratio=1.5,
    description="The province count with Count('*'): lets PostgreSQL answer from the "
    "index alone.",
)
def accounts_by_status_in_province_count_star(ctx):
    """Count("id") reads the heap for every row (id is not in account_path_status_idx);
    COUNT(*) needs only (org_path, status), so PostgreSQL does an index-only scan.
    Kept beside the Count("id") benchmark to show the difference."""
    from registry.models import MediaAccount

    path = ctx.province.path
    qs = (
        MediaAccount.objects.filter(org_path__startswith=path)
        .values("status")
        .annotate(n=Count("*"))
    )

    def app():
        return dict(qs.all().values_list("status", "n"))

    return Case(
        app=app,
        baseline=_baseline(ctx, path),
        explain=qs,
        expect_index="account_path_status_idx",
    )
