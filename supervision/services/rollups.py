"""The dashboard's roll-up: per organization and day, the figures of its whole
subtree (OrgDailyStat), so that a dashboard reads one row for its scope and one row
per organization one level down, never the raw tables.

Two ways in, both set-based:
- `rollup_day(day)`: the whole tree. For each depth of the tree, one grouped query
  per source, grouped by the path prefix of that depth (a materialized path's first
  4 x depth characters are the ancestor at that depth), then one upsert. Run each
  night and after each sweep (`supervision.rollup_today`).
- `rollup_chain(organization)`: the organization and its ancestors only (one
  aggregate per ancestor and source), after a service changed an order or a
  finding, so the dashboard figure moves at once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Substr
from django.utils import timezone

from accounts.models import Organization
from moderation.models import DirectiveTarget, Post, PostStatus
from registry.models import AccountStatus, Filing, FilingStatus, MediaAccount, Platform
from supervision.models import (
    ORDER_OPEN_STATUSES,
    ROLLUP_FIELDS,
    AccountPost,
    Finding,
    FindingKind,
    FindingStatus,
    OrgDailyStat,
    RectificationOrder,
    Severity,
)

STEP = Organization.steplen
STATUS_FIELD = {
    AccountStatus.ACTIVE: "accounts_active",
    AccountStatus.RECTIFYING: "accounts_rectifying",
    AccountStatus.SUSPENDED: "accounts_suspended",
    AccountStatus.CANCELLED: "accounts_cancelled",
}


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def _sources(day: date, now: datetime):
    """(queryset, path field, [(extra group field or None, counter)]) per source."""
    start, end = _day_bounds(day)
    open_findings = Finding.objects.filter(status=FindingStatus.OPEN)
    open_orders = RectificationOrder.objects.filter(status__in=ORDER_OPEN_STATUSES)
    return [
        (
            "accounts",
            MediaAccount.objects.exclude(status=AccountStatus.NOT_OPENED),
            "org_path",
            ("platform_id", "status"),
        ),
        ("findings", open_findings, "org_path", ("kind", "severity")),
        (
            "reposts_overdue",
            DirectiveTarget.objects.filter(
                overdue_at__isnull=False, confirmed_at__isnull=True
            ),
            "org_path",
            (),
        ),
        (
            "filings_pending",
            Filing.objects.filter(status=FilingStatus.SUBMITTED),
            "org_path",
            (),
        ),
        (
            "reviews_pending",
            Post.objects.filter(status=PostStatus.IN_REVIEW),
            "org_path",
            (),
        ),
        ("orders_open", open_orders, "org_path", ()),
        ("orders_overdue", open_orders.filter(due_at__lt=now), "org_path", ()),
        (
            "posts_day",
            AccountPost.objects.filter(published_at__gte=start, published_at__lt=end),
            "org_path",
            (),
        ),
    ]


def _empty() -> dict:
    row = dict.fromkeys(ROLLUP_FIELDS, 0)
    row["by_platform"] = {}
    row["by_kind"] = {}
    return row


def _add(
    figures: dict,
    name: str,
    groups: tuple,
    values: dict,
    count: int,
    platforms: dict[int, str],
) -> None:
    if name == "accounts":
        figures["accounts_total"] += count
        status = values["status"]
        if status in STATUS_FIELD:
            figures[STATUS_FIELD[status]] += count
        code = platforms.get(values["platform_id"], str(values["platform_id"]))
        per = figures["by_platform"].setdefault(code, {})
        per[status] = per.get(status, 0) + count
    elif name == "findings":
        figures["findings_open"] += count
        figures[f"findings_{values['severity']}"] += count
        if values["kind"] == FindingKind.IDLE:
            figures["idle_now"] += count
        if values["kind"] in (FindingKind.SLA_BREACH, FindingKind.UNANSWERED_3M):
            figures["sla_breaches"] += count
        figures["by_kind"][values["kind"]] = (
            figures["by_kind"].get(values["kind"], 0) + count
        )
    else:
        figures[name] += count


def _collect(
    day: date, now: datetime, length: int, under: str | None
) -> dict[str, dict]:
    """Figures per path prefix of `length` characters (one grouped query per
    source), optionally only under the path `under`."""
    platforms = dict(Platform.objects.values_list("id", "code"))
    figures: dict[str, dict] = defaultdict(_empty)
    for name, qs, path_field, groups in _sources(day, now):
        if under:
            qs = qs.filter(**{f"{path_field}__startswith": under})
        rows = (
            qs.annotate(prefix=Substr(path_field, 1, length))
            .values("prefix", *groups)
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            if len(row["prefix"]) < length:
                continue  # rows of organizations above this depth
            _add(figures[row["prefix"]], name, groups, row, row["n"], platforms)
    return figures


def _save(
    day: date, figures: dict[str, dict], orgs: dict[str, tuple[int, int]], now: datetime
) -> int:
    rows = []
    for path, values in figures.items():
        if path not in orgs:
            continue
        org_id, depth = orgs[path]
        rows.append(
            OrgDailyStat(
                organization_id=org_id,
                path=path,
                depth=depth,
                day=day,
                computed_at=now,
                **values,
            )
        )
    OrgDailyStat.objects.bulk_create(
        rows,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["path", "day"],
        update_fields=[*ROLLUP_FIELDS, "by_platform", "by_kind", "computed_at"],
    )
    return len(rows)


@transaction.atomic
def rollup_day(day: date | None = None, now: datetime | None = None) -> int:
    """Recompute every organization's figures for `day` (today by default). Rows of
    organizations that no longer have anything are removed. Returns rows written."""
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    orgs = {
        p: (i, d) for p, i, d in Organization.objects.values_list("path", "id", "depth")
    }
    max_depth = max((d for _i, d in orgs.values()), default=0)
    figures: dict[str, dict] = {}
    for depth in range(1, max_depth + 1):
        figures.update(_collect(day, now, depth * STEP, None))
    written = _save(day, figures, orgs, now)
    OrgDailyStat.objects.filter(day=day).exclude(path__in=list(figures)).delete()
    return written


@transaction.atomic
def rollup_chain(organization: Organization, now: datetime | None = None) -> int:
    """Recompute today's figures of the organization and its ancestors."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    path = organization.path
    chain = [path[:i] for i in range(STEP, len(path) + 1, STEP)]
    orgs = {
        p: (i, d)
        for p, i, d in Organization.objects.filter(path__in=chain).values_list(
            "path", "id", "depth"
        )
    }
    figures = {}
    for prefix in chain:
        collected = _collect(day, now, len(prefix), prefix)
        figures[prefix] = collected.get(prefix, _empty())
    return _save(day, figures, orgs, now)


def refresh_after_commit(organization_id: int) -> None:
    """Services call this inside their transaction: the chain of the organization is
    recomputed after commit (a Celery task; inline when tasks run eagerly)."""

    def send():
        from supervision.tasks import rollup_chain_task

        rollup_chain_task.delay(organization_id)

    transaction.on_commit(send)


def severity_fields() -> list[str]:
    return [f"findings_{s}" for s in Severity.values]
