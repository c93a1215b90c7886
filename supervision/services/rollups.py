"""The dashboard's roll-up: per organization and day, the figures of its whole
subtree (OrgDailyStat), so that a dashboard reads one row for its scope and one row
per organization one level down, never the raw tables.

Two ways in, both set-based:
- `rollup_day(day)`: the whole tree. On PostgreSQL one statement computes it: each
  source grouped once by its rows' own organization path, each group added to every
  ancestor (a materialized path's first 4 x depth characters are the ancestor at that
  depth), summed per ancestor; then one upsert and one delete. Elsewhere (SQLite in
  development) one grouped query per depth and source, summed in Python. Run each
  night and after each sweep (`supervision.rollup_today`).
- `rollup_chain(organization)`: the organization and its ancestors only (one
  aggregate per ancestor and source), after a service changed an order or a
  finding, so the dashboard figure moves at once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, Max
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
    if connection.vendor == "postgresql":
        return _rollup_day_sql(day, now)
    return _rollup_day_python(day, now)


def _rollup_day_python(day: date, now: datetime) -> int:
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


ROLLUP_TABLE = "supervision_rollup_rows"
ROLLUP_WORK_MEM = "128MB"


def _leaf_sql(day: date, now: datetime) -> tuple[str, list]:
    """The sources (the same querysets as the Python path) grouped by their rows' own
    organization path, as one UNION ALL of (source, path, k1, k2, n): k1 and k2 are
    the platform code and account status, or the finding kind and severity."""
    parts, params = [], []
    for name, qs, path_field, groups in _sources(day, now):
        sql, qs_params = (
            qs.values(path_field, *groups).annotate(n=Count("pk")).order_by()
        ).query.sql_with_params()
        columns = ", ".join(["path", *("k1", "k2")[: len(groups)], "n"])
        if name == "accounts":
            keys, join = (
                "COALESCE(pl.code, s.k1::text), s.k2::text",
                "LEFT JOIN registry_platform pl ON pl.id = s.k1",
            )
        elif groups:
            keys, join = "s.k1::text, s.k2::text", ""
        else:
            keys, join = "NULL::text, NULL::text", ""
        parts.append(
            f"SELECT %s::text, s.path, {keys}, s.n FROM ({sql}) AS s({columns}) {join}"
        )
        params += [name, *qs_params]
    return " UNION ALL ".join(parts), params


def _quoted(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _sum(source: str, key: str = "", values: list | None = None) -> str:
    """SQL: the sum of `n` over one source's groups, or over those whose `key` (k1 or
    k2) is one of `values` (the code's own constants, never input)."""
    where = [f"source = {_quoted(source)}"]
    if key:
        where.append(f"{key} IN ({', '.join(_quoted(v) for v in values or [])})")
    return f"COALESCE(SUM(n) FILTER (WHERE {' AND '.join(where)}), 0)"


def _rollup_day_sql(day: date, now: datetime) -> int:
    """PostgreSQL: the whole tree's figures in one statement into a temporary table,
    then one upsert and one delete. Figures identical to `_rollup_day_python` (a
    test compares them)."""
    leaf, params = _leaf_sql(day, now)
    # The depths as a constant series (not one per row) keep the planner's row
    # estimates close to the truth.
    max_depth = Organization.objects.aggregate(m=Max("depth"))["m"] or 0

    sums = {
        "accounts_total": _sum("accounts"),
        **{
            field: _sum("accounts", "k2", [status])
            for status, field in STATUS_FIELD.items()
        },
        "idle_now": _sum("findings", "k1", [FindingKind.IDLE]),
        "findings_open": _sum("findings"),
        **{f"findings_{s}": _sum("findings", "k2", [s]) for s in Severity.values},
        "sla_breaches": _sum(
            "findings", "k1", [FindingKind.SLA_BREACH, FindingKind.UNANSWERED_3M]
        ),
    }
    # The other figures are counts of the source of the same name.
    figures = [f"{sums.get(name) or _sum(name)} AS {name}" for name in ROLLUP_FIELDS]
    # Each group of a row's own organization is added to every ancestor: its path's
    # prefixes of 4, 8, ... characters (the organization itself included).
    query = f"""
        WITH leaf(source, path, k1, k2, n) AS ({leaf}),
        up AS (
            SELECT substr(l.path, 1, d.i * %s) AS path, l.source, l.k1, l.k2,
                   SUM(l.n)::bigint AS n
            FROM leaf l JOIN generate_series(1, %s) AS d(i)
              ON d.i * %s <= length(l.path)
            GROUP BY 1, 2, 3, 4
        ),
        figures AS (SELECT path, {", ".join(figures)} FROM up GROUP BY path),
        platforms AS (
            SELECT path, jsonb_object_agg(k1, statuses) AS by_platform
            FROM (
                SELECT path, k1, jsonb_object_agg(k2, n) AS statuses
                FROM up WHERE source = 'accounts' GROUP BY path, k1
            ) per_platform
            GROUP BY path
        ),
        kinds AS (
            SELECT path, jsonb_object_agg(k1, n) AS by_kind
            FROM (
                SELECT path, k1, SUM(n)::bigint AS n
                FROM up WHERE source = 'findings' GROUP BY path, k1
            ) per_kind
            GROUP BY path
        )
        SELECT o.id AS organization_id, o.path, o.depth,
               {", ".join(f"f.{name}" for name in ROLLUP_FIELDS)},
               COALESCE(p.by_platform, '{{}}'::jsonb) AS by_platform,
               COALESCE(k.by_kind, '{{}}'::jsonb) AS by_kind
        FROM figures f
        JOIN accounts_organization o ON o.path = f.path
        LEFT JOIN platforms p ON p.path = f.path
        LEFT JOIN kinds k ON k.path = f.path
    """
    columns = ", ".join([*ROLLUP_FIELDS, "by_platform", "by_kind"])
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {ROLLUP_TABLE}")
        # The groups of the whole tree (~1 million rows at national scale) are
        # summed in memory rather than in batches spilled to disk: more working
        # memory for this one statement, then the setting as it was.
        cursor.execute(
            "SELECT current_setting('work_mem'), set_config('work_mem', %s, true)",
            [ROLLUP_WORK_MEM],
        )
        work_mem = cursor.fetchone()[0]
        cursor.execute(
            f"CREATE TEMPORARY TABLE {ROLLUP_TABLE} ON COMMIT DROP AS {query}",
            [*params, STEP, max_depth, STEP],
        )
        written = cursor.rowcount
        cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])
        # Every row is written, unchanged ones too: `computed_at` is what the
        # dashboard shows as the time of its figures.
        cursor.execute(
            "INSERT INTO supervision_orgdailystat "
            f"(organization_id, path, depth, day, {columns}, computed_at) "
            f"SELECT organization_id, path, depth, %s, {columns}, %s FROM {ROLLUP_TABLE} "
            "ON CONFLICT (path, day) DO UPDATE SET "
            + ", ".join(
                f"{name} = EXCLUDED.{name}"
                for name in [
                    "organization_id",
                    "depth",
                    *ROLLUP_FIELDS,
                    "by_platform",
                    "by_kind",
                    "computed_at",
                ]
            ),
            [day, now],
        )
        cursor.execute(
            "DELETE FROM supervision_orgdailystat s WHERE s.day = %s AND NOT EXISTS "
            f"(SELECT 1 FROM {ROLLUP_TABLE} r WHERE r.path = s.path)",
            [day],
        )
        cursor.execute(f"DROP TABLE {ROLLUP_TABLE}")
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
