"""The registry overview's roll-up (RegistryFigures): per organization, the figures
of its whole subtree, recomputed for the whole tree in one set-based pass.

One grouped query per source, grouped by the organization's path (the accounts by
status and platform; the idle, clean-up and filing-overdue counts; the filings; the
rotation tasks), then the figures are summed up the tree in Python, deepest level
first (a materialized path less its last 4 characters is the parent's), then only
the rows that changed are written. No query per organization or per account; timed
at national scale in bench/RESULTS.md (`registry_figures_rollup`), run every few
minutes by Celery.

Not a governance action: figures are derived data, so no audit event is written
(the same as supervision's daily roll-up).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Organization
from registry.models import (
    Filing,
    FilingStatus,
    MediaAccount,
    RegistryFigures,
    RotationTask,
)

STEP = Organization.steplen
COUNTERS = RegistryFigures.COUNTERS
BATCH = 2000


# pg_try_advisory_xact_lock key: one roll-up at a time per database.
LOCK_KEY = 0x72656731  # "reg1"


def _lock() -> bool:
    """Caller is inside a transaction; released at its end."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
        return bool(cursor.fetchone()[0])


def _own_figures(now) -> tuple[dict, dict, dict]:
    """Per organization path: ({status: n}, {platform id: n}, {counter: n})."""
    from registry.ledger import filing_overdue_q, idle_q

    statuses: dict[str, Counter] = defaultdict(Counter)
    platforms: dict[str, Counter] = defaultdict(Counter)
    counters: dict[str, Counter] = defaultdict(Counter)
    accounts = MediaAccount.objects.order_by()
    for path, status, platform_id, n in (
        accounts.values("org_path", "status", "platform_id")
        .annotate(n=Count("*"))
        .values_list("org_path", "status", "platform_id", "n")
    ):
        statuses[path][status] += n
        platforms[path][str(platform_id)] += n
    for row in (
        accounts.filter(idle_q() | idle_q(kind="cleanup") | filing_overdue_q(now))
        .values("org_path")
        .annotate(
            idle=Count("pk", filter=idle_q()),
            cleanup=Count("pk", filter=idle_q(kind="cleanup")),
            filing_overdue=Count("pk", filter=filing_overdue_q(now)),
        )
    ):
        counters[row["org_path"]].update(
            {k: row[k] for k in ("idle", "cleanup", "filing_overdue")}
        )
    submitted = Q(status=FilingStatus.SUBMITTED)
    for row in (
        Filing.objects.order_by()
        .filter(submitted | Q(is_late=True))
        .values("org_path")
        .annotate(
            filings_pending=Count("pk", filter=submitted),
            filings_pending_past_due=Count("pk", filter=submitted & Q(due_at__lt=now)),
            filings_late=Count("pk", filter=Q(is_late=True)),
        )
    ):
        counters[row["org_path"]].update(
            {
                k: row[k]
                for k in ("filings_pending", "filings_pending_past_due", "filings_late")
            }
        )
    for row in (
        RotationTask.objects.order_by()
        .filter(done_at__isnull=True)
        .values("account__org_path")
        .annotate(
            rotations_open=Count("pk"),
            rotations_overdue=Count("pk", filter=Q(due_at__lt=now)),
        )
    ):
        counters[row["account__org_path"]].update(
            {k: row[k] for k in ("rotations_open", "rotations_overdue")}
        )
    return statuses, platforms, counters


def _subtree_figures(now) -> dict[str, tuple[Counter, Counter, Counter]]:
    """Per organization path: (statuses, platforms, counters) of its whole subtree.
    Bottom-up: each node is added to its parent once, deepest level first, so the
    cost is one merge per organization, not one per organization and ancestor."""
    own_status, own_platform, own_counters = _own_figures(now)
    nodes: dict[str, tuple[Counter, Counter, Counter]] = {}

    def node(path):
        if path not in nodes:
            nodes[path] = (Counter(), Counter(), Counter())
        return nodes[path]

    for i, own in enumerate((own_status, own_platform, own_counters)):
        for path, figures in own.items():
            node(path)[i].update(figures)
    by_length: dict[int, set[str]] = defaultdict(set)
    for path in nodes:
        by_length[len(path)].add(path)
    for length in range(max(by_length, default=0), STEP, -STEP):
        for path in by_length.get(length, ()):
            parent = path[:-STEP]
            by_length[len(parent)].add(parent)
            into = node(parent)
            for i in range(3):
                into[i].update(nodes[path][i])
    return nodes


def _row(total, by_status, by_platform, counters) -> tuple:
    return (total, by_status, by_platform, *(counters.get(k, 0) for k in COUNTERS))


def figures_rollup(now=None) -> int:
    """Recompute RegistryFigures for the whole tree; returns the number of rows
    written. Organizations with nothing in their subtree have no row (the overview
    reads a missing row as zeros). Only rows whose figures changed are written; the
    others get the run's time in one UPDATE (their figures hold as of now), so a
    run over 53,000 organizations writes the few hundred that moved.

    Safe to run twice at once: the writes run in one transaction under an advisory
    lock (PostgreSQL; SQLite serializes writers), and a run that finds the lock
    taken leaves the work to the one holding it."""
    now = now or timezone.now()
    nodes = _subtree_figures(now)
    org_ids = dict(Organization.objects.values_list("path", "pk"))
    wanted = {}
    for path, (statuses, platforms, counters) in nodes.items():
        if path in org_ids:
            wanted[path] = (
                org_ids[path],
                _row(sum(statuses.values()), dict(statuses), dict(platforms), counters),
            )
    with transaction.atomic():
        if not _lock():
            return 0
        existing = {
            path: (org_id, tuple(rest))
            for path, org_id, *rest in RegistryFigures.objects.values_list(
                "path", "organization_id", "total", "by_status", "by_platform",
                *COUNTERS,
            )
        }
        stale = [
            path for path, (org_id, _f) in existing.items()
            if path not in wanted or wanted[path][0] != org_id
        ]
        if stale:
            RegistryFigures.objects.filter(path__in=stale).delete()
        changed = [
            RegistryFigures(
                organization_id=org_id,
                path=path,
                computed_at=now,
                **dict(zip(("total", "by_status", "by_platform", *COUNTERS), figures,
                           strict=True)),
            )
            for path, (org_id, figures) in wanted.items()
            if path in stale or existing.get(path) != (org_id, figures)
        ]
        RegistryFigures.objects.bulk_create(
            changed,
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=["organization"],
            update_fields=["path", "total", "by_status", "by_platform", "computed_at",
                           *COUNTERS],
        )
        RegistryFigures.objects.exclude(computed_at=now).update(computed_at=now)
    return len(changed)
