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
    from registry.selectors import account_counts_by_status

    path = ctx.province.path

    def app():
        return account_counts_by_status(MediaAccount.objects.in_subtree(ctx.province))

    explain = (
        MediaAccount.objects.in_subtree(ctx.province)
        .order_by()
        .values("status")
        .annotate(n=Count("*"))
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
    from registry.selectors import account_counts_by_status

    user = ctx.supervisor

    def app():
        # A request starts with a fresh user object: the membership lookup that
        # scope_for makes once per request is part of the measured path.
        forget(user)
        return account_counts_by_status(MediaAccount.objects.visible_to(user, "view"))

    explain = (
        MediaAccount.objects.visible_to(user, "view")
        .order_by()
        .values("status")
        .annotate(n=Count("*"))
    )
    return Case(
        app=app,
        baseline=_baseline(ctx, ctx.province.path),
        explain=explain,
        expect_index="account_path_status_idx",
    )
