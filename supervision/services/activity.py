"""Ingestion of activity (published posts) and daily metric snapshots.

Collectors push batches through the API (`/api/v1/activity/posts/`,
`/api/v1/activity/metrics/`); moderation's publication records and imports come the
same way. Each row is checked on its own and the batch answers with a per-row
report: `created`, `duplicate` (already known: merged, nothing written), `updated`
(a metric snapshot for a day already reported: its figures replaced) or `rejected`
with the field and the rule. Rejected rows write nothing; accepted rows are written
in one transaction (a crash writes nothing at all). Set-based: a fixed number of
queries per batch (accounts, known post ids, partitions, one multi-row insert, the
last-post update, the follower-jump check), whatever its size.

Metric snapshots come by the million (200,000 accounts a day, and backfills): on
PostgreSQL a batch is COPied into a temporary table and written with one
`INSERT ... SELECT ... ON CONFLICT`; the known days and the follower jumps are joins
against it. Elsewhere (SQLite in development) the same rows go through
`bulk_create`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from accounts.scoping import Action, acting_role
from audit.services import audit_record
from common.bulk import copy_rows
from common.errors import ValidationFailed
from registry.models import MediaAccount
from registry.services.activity import media_account_record_posts
from supervision import partitions
from supervision.models import (
    METRIC_FIELDS,
    AccountPost,
    FindingKind,
    FindingOrigin,
    MetricSnapshot,
    PostSource,
)

MAX_ROWS = 5000
EARLIEST = date(2010, 1, 1)
# Collectors' clocks differ a little; a post "from the future" beyond this is refused.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class Report:
    rows: list[dict] = field(default_factory=list)

    def add(self, index: int, status: str, errors: dict | None = None, **extra) -> None:
        row = {"row": index, "status": status}
        if errors:
            row["errors"] = {k: [str(m) for m in v] for k, v in errors.items()}
        row.update(extra)
        self.rows.append(row)

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r["status"] == status)

    def as_dict(self) -> dict:
        self.rows.sort(key=lambda r: r["row"])
        counts = Counter(r["status"] for r in self.rows)
        return {
            "received": len(self.rows),
            "created": counts["created"],
            "updated": counts["updated"],
            "duplicate": counts["duplicate"],
            "rejected": counts["rejected"],
            "rows": self.rows,
        }


def _check_batch(rows) -> list[dict]:
    if not isinstance(rows, list) or not rows:
        raise ValidationFailed(
            _("Send a non-empty list of rows."),
            fields={"rows": [_("A non-empty list is required.")]},
        )
    if len(rows) > MAX_ROWS:
        raise ValidationFailed(
            _("At most %(n)d rows per batch.") % {"n": MAX_ROWS},
            fields={"rows": [_("At most %(n)d rows per batch.") % {"n": MAX_ROWS}]},
        )
    return rows


@dataclass(slots=True)
class AccountRef:
    """What ingestion needs of an account. Read as plain values: a batch resolves
    up to 5,000 accounts and model instances cost most of its time."""

    pk: int
    organization_id: int
    org_path: str
    platform_id: int
    status: str


def _resolve_accounts(actor, rows: list) -> dict[int, AccountRef | None]:
    """Map each row index to its account (or None when unknown or out of scope).
    Rows name the account by `account` (our id) or by `platform` (code) and
    `platform_account_id`. Two queries. SECURITY: accounts outside the actor's
    change scope are "unknown", exactly like missing ones."""
    ids, natural = set(), set()
    for row in rows:
        if not isinstance(row, dict):
            continue
        value = row.get("account")
        if isinstance(value, int) and not isinstance(value, bool):
            ids.add(value)
        elif isinstance(value, str) and value.isdigit():
            ids.add(int(value))
        elif isinstance(row.get("platform"), str) and isinstance(
            row.get("platform_account_id"), str
        ):
            natural.add((row["platform"], row["platform_account_id"]))
    qs = MediaAccount.objects.all()
    if actor is not None:
        qs = qs.visible_to(actor, Action.CHANGE)
    if connection.vendor == "postgresql":
        # One array parameter: an IN list of 5,000 values is prepared value by value
        # by the ORM and parsed value by value by the server (twice the time).
        id_column = connection.ops.quote_name(MediaAccount._meta.db_table) + '."id"'
        cond = Q(
            RawSQL(
                f"{id_column} = ANY(%s::bigint[])",
                [sorted(ids)],
                output_field=BooleanField(),
            )
        )
    else:
        cond = Q(pk__in=ids)
    for code, pid in natural:
        cond |= Q(platform__code=code, platform_account_id=pid)
    # The platform's code (a join) only when some row names its account by it.
    code = "platform__code" if natural else "platform_id"
    found = (
        qs.filter(cond)
        .exclude(status="not_opened")
        .values_list(
            "id",
            "organization_id",
            "org_path",
            "platform_id",
            "status",
            code,
            "platform_account_id",
        )
        if (ids or natural)
        else []
    )
    by_id: dict[int, AccountRef] = {}
    by_natural: dict[tuple, AccountRef] = {}
    for pk, org_id, org_path, platform_id, status, code, platform_account_id in found:
        a = AccountRef(pk, org_id, org_path, platform_id, status)
        by_id[pk] = a
        # A released (cancelled) row and a live one can share the platform id: the
        # live one wins.
        key = (code, platform_account_id)
        if key not in by_natural or status != "cancelled":
            by_natural[key] = a
    result = {}
    for index, row in enumerate(rows):
        account = None
        if isinstance(row, dict):
            value = row.get("account")
            if isinstance(value, str) and value.isdigit():
                value = int(value)
            if isinstance(value, int) and not isinstance(value, bool):
                account = by_id.get(value)
            else:
                account = by_natural.get(
                    (row.get("platform"), row.get("platform_account_id"))
                )
        result[index] = account
    return result


def _when(value, now) -> tuple[datetime | None, str]:
    if not isinstance(value, str) or not value.strip():
        return None, _("Required: a date and time (ISO 8601).")
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        return None, _(
            "Not a date and time (ISO 8601, e.g. 2026-12-01T09:30:00+08:00)."
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if parsed > now + CLOCK_SKEW:
        return None, _("In the future.")
    if parsed.date() < EARLIEST:
        return None, _("Before 2010.")
    return parsed, ""


def _audit_batch(actor, action: str, accounts: list[AccountRef], summary: dict) -> None:
    first = MediaAccount.objects.select_related("organization").get(pk=accounts[0].pk)
    organization = first.organization
    role = acting_role(actor, Action.CHANGE, organization) if actor else ""
    audit_record(
        actor=actor,
        action=action,
        target=first,
        organization=organization,
        role=role,
        target_label=str(first.pk),
        after=summary,
    )


@transaction.atomic
def activity_ingest(*, actor, rows, source: str = PostSource.COLLECTOR) -> dict:
    """Record published posts. Idempotent on the platform's post id per account: a
    post already recorded (or repeated in the batch) is a `duplicate` and changes
    nothing. Moves the accounts' last post forward (registry). Returns the report."""
    rows = _check_batch(rows)
    if source not in PostSource.values:
        raise ValidationFailed(
            _("Unknown source."), fields={"source": [_("Unknown source.")]}
        )
    now = timezone.now()
    report = Report()
    accounts = _resolve_accounts(actor, rows)
    candidates: list[tuple[int, AccountRef, str, datetime, str]] = []
    for index, row in enumerate(rows):
        errors: dict[str, list] = {}
        if not isinstance(row, dict):
            report.add(index, "rejected", {"row": [_("Each row is an object.")]})
            continue
        account = accounts[index]
        if account is None:
            errors["account"] = [_("Unknown account (or not yours to report on).")]
        post_id = row.get("platform_post_id")
        post_id = (
            str(post_id).strip()
            if isinstance(post_id, str | int) and not isinstance(post_id, bool)
            else ""
        )
        if not post_id or len(post_id) > 128:
            errors["platform_post_id"] = [_("Required, at most 128 characters.")]
        published_at, problem = _when(row.get("published_at"), now)
        if problem:
            errors["published_at"] = [problem]
        url = row.get("url") or ""
        if (
            not isinstance(url, str)
            or len(url) > 500
            or (url and not url.startswith(("http://", "https://")))
        ):
            errors["url"] = [
                _("A web address (http:// or https://), at most 500 characters.")
            ]
        if errors:
            report.add(index, "rejected", errors)
            continue
        candidates.append((index, account, post_id, published_at, url))
    # Known ids: one query over the batch's accounts and post ids.
    known = set()
    if candidates:
        known = set(
            AccountPost.objects.filter(
                account_id__in={c[1].pk for c in candidates},
                platform_post_id__in={c[2] for c in candidates},
            ).values_list("account_id", "platform_post_id")
        )
    fresh, seen_in_batch = [], set()
    for index, account, post_id, published_at, url in candidates:
        key = (account.pk, post_id)
        if key in known or key in seen_in_batch:
            report.add(index, "duplicate", account=account.pk)
            continue
        seen_in_batch.add(key)
        fresh.append(
            AccountPost(
                account_id=account.pk,
                platform_id=account.platform_id,
                platform_post_id=post_id,
                org_path=account.org_path,
                published_at=published_at,
                url=url,
                source=source,
                recorded_at=now,
            )
        )
        report.add(index, "created", account=account.pk)
    if fresh:
        partitions.ensure_months(
            "supervision_accountpost",
            {timezone.localtime(p.published_at).date() for p in fresh},
        )
        AccountPost.objects.bulk_create(fresh, batch_size=2000, ignore_conflicts=True)
        latest: dict[int, datetime] = {}
        for post in fresh:
            if (
                post.account_id not in latest
                or post.published_at > latest[post.account_id]
            ):
                latest[post.account_id] = post.published_at
        media_account_record_posts(latest=latest)
        written = {c[1].pk: c[1] for c in candidates}
        _audit_batch(
            actor,
            "supervision.activity_ingest",
            [written[pk] for pk in sorted(latest)],
            {"created": len(fresh), "accounts": len(latest), "source": source},
        )
    return report.as_dict()


def _count(value) -> tuple[int | None, str]:
    if type(value) is int and 0 <= value <= 10**15:  # the common case, at once
        return value, ""
    if value is None or value == "":
        return 0, ""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None, _("A whole number of 0 or more.")
    try:
        number = int(value)
    except ValueError:
        return None, _("A whole number of 0 or more.")
    if number < 0:
        return None, _("Negative figures are not possible.")
    if number > 10**15:
        return None, _("Too large.")
    return number, ""


# (account, day) -> (row index, account, figures by METRIC_FIELDS)
Accepted = dict[tuple[int, date], tuple[int, AccountRef, dict]]
# (account, day, followers, followers the day before), for rises of at least
# SUPERVISION_FOLLOWER_JUMP_MIN
Rise = tuple[int, date, int, int]


@transaction.atomic
def metrics_ingest(*, actor, rows) -> dict:
    """Record daily metric snapshots (one per account and day; a repeated day
    replaces the figures: `updated`). A rise in followers over the previous day's
    snapshot above both SUPERVISION_FOLLOWER_JUMP_RATIO and _MIN raises a
    follower-jump finding for review (DOMAIN.md rule 7). Returns the report."""
    rows = _check_batch(rows)
    today = timezone.localdate()
    report = Report()
    accounts = _resolve_accounts(actor, rows)
    accepted: Accepted = {}
    for index, row in enumerate(rows):
        errors: dict[str, list] = {}
        if not isinstance(row, dict):
            report.add(index, "rejected", {"row": [_("Each row is an object.")]})
            continue
        account = accounts[index]
        if account is None:
            errors["account"] = [_("Unknown account (or not yours to report on).")]
        day = None
        raw_day = row.get("day")
        try:
            day = parse_date(raw_day) if isinstance(raw_day, str) else None
        except ValueError:
            day = None
        if day is None:
            errors["day"] = [_("Required: a date (YYYY-MM-DD).")]
        elif day > today:
            errors["day"] = [_("In the future.")]
        elif day < EARLIEST:
            errors["day"] = [_("Before 2010.")]
        figures = {}
        for name in METRIC_FIELDS:
            number, problem = _count(row.get(name))
            if problem:
                errors[name] = [problem]
            figures[name] = number
        if not errors and (account.pk, day) in accepted:
            errors["day"] = [_("This account and day appear twice in the batch.")]
        if errors:
            report.add(index, "rejected", errors)
            continue
        accepted[(account.pk, day)] = (index, account, figures)
    if not accepted:
        return report.as_dict()
    now = timezone.now()
    partitions.ensure_months("supervision_metricsnapshot", {k[1] for k in accepted})
    write = _snapshots_copy if connection.vendor == "postgresql" else _snapshots_orm
    existing, rises = write(accepted, now)
    for (account_id, day), (index, _account, _figures) in accepted.items():
        report.add(
            index,
            "updated" if (account_id, day) in existing else "created",
            account=account_id,
        )
    jumps = _follower_jumps(rises, accepted)
    _audit_batch(
        actor,
        "supervision.metrics_ingest",
        [accepted[min(accepted)][1]],
        {
            "snapshots": len(accepted),
            "accounts": len({k[0] for k in accepted}),
            "follower_jumps": jumps,
        },
    )
    return report.as_dict()


BATCH_TABLE = "supervision_metric_batch"


def _snapshots_copy(
    accepted: Accepted, now: datetime
) -> tuple[set[tuple[int, date]], list[Rise]]:
    """PostgreSQL: COPY the batch into a session-temporary table, then read the
    days already known, upsert, and find the rises, each one statement joining it.
    Returns the (account, day) pairs that existed before, and the rises."""
    metrics = ", ".join(METRIC_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {BATCH_TABLE} ("
            "account_id bigint NOT NULL, day date NOT NULL, "
            "org_path varchar(255) NOT NULL, "
            + ", ".join(f"{name} bigint NOT NULL" for name in METRIC_FIELDS)
            + ") ON COMMIT DELETE ROWS"
        )
        # Several batches can share one transaction (an import, the benchmark).
        cursor.execute(f"TRUNCATE {BATCH_TABLE}")
        copy_rows(
            BATCH_TABLE,
            ["account_id", "day", "org_path", *METRIC_FIELDS],
            (
                (account_id, day, account.org_path, *figures.values())
                for (account_id, day), (_i, account, figures) in accepted.items()
            ),
        )
        # The lookups below are LATERAL subqueries with LIMIT 1 (the key is unique
        # anyway) so that each batch row probes the snapshots' unique index: a
        # plain join is planned as a hash or merge join that reads the whole
        # month's partition (~120 ms instead of ~10 ms per batch). On a partitioned
        # table RETURNING cannot tell inserted from updated rows (no xmax), hence
        # the read before the upsert.
        cursor.execute(
            f"SELECT b.account_id, b.day FROM {BATCH_TABLE} b CROSS JOIN LATERAL "
            "(SELECT 1 FROM supervision_metricsnapshot s "
            "WHERE s.account_id = b.account_id AND s.day = b.day LIMIT 1) s"
        )
        existing = set(cursor.fetchall())
        cursor.execute(
            "INSERT INTO supervision_metricsnapshot "
            f"(account_id, day, org_path, {metrics}, recorded_at) "
            f"SELECT account_id, day, org_path, {metrics}, %s FROM {BATCH_TABLE} "
            "ON CONFLICT (account_id, day) DO UPDATE SET "
            + ", ".join(
                f"{name} = EXCLUDED.{name}" for name in (*METRIC_FIELDS, "recorded_at")
            ),
            [now],
        )
        # After the upsert: a day before that came in the same batch counts with
        # its new figures.
        cursor.execute(
            f"SELECT b.account_id, b.day, b.followers, p.followers FROM {BATCH_TABLE} b "
            "CROSS JOIN LATERAL (SELECT s.followers FROM supervision_metricsnapshot s "
            "WHERE s.account_id = b.account_id AND s.day = b.day - 1 LIMIT 1) p "
            "WHERE b.followers - p.followers >= %s",
            [settings.SUPERVISION_FOLLOWER_JUMP_MIN],
        )
        rises = cursor.fetchall()
    return existing, rises


def _snapshots_orm(
    accepted: Accepted, now: datetime
) -> tuple[set[tuple[int, date]], list[Rise]]:
    """Other databases: the same with the ORM (one read, one bulk upsert, one read of
    the days before)."""
    existing = set(
        MetricSnapshot.objects.filter(
            account_id__in={k[0] for k in accepted},
            day__in={k[1] for k in accepted},
        ).values_list("account_id", "day")
    )
    MetricSnapshot.objects.bulk_create(
        [
            MetricSnapshot(
                account_id=account_id,
                day=day,
                org_path=account.org_path,
                recorded_at=now,
                **figures,
            )
            for (account_id, day), (_i, account, figures) in accepted.items()
        ],
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["account", "day"],
        update_fields=[*METRIC_FIELDS, "recorded_at"],
    )
    cond = Q(pk__in=[])
    by_day = defaultdict(set)
    for account_id, day in accepted:
        by_day[day - timedelta(days=1)].add(account_id)
    for day, ids in by_day.items():
        cond |= Q(day=day, account_id__in=ids)
    before = {
        (a, d): f
        for a, d, f in MetricSnapshot.objects.filter(cond).values_list(
            "account_id", "day", "followers"
        )
    }
    minimum = settings.SUPERVISION_FOLLOWER_JUMP_MIN
    rises = []
    for (account_id, day), (_i, _account, figures) in accepted.items():
        prior = before.get((account_id, day - timedelta(days=1)))
        if prior is not None and figures["followers"] - prior >= minimum:
            rises.append((account_id, day, figures["followers"], prior))
    return existing, rises


def _follower_jumps(rises: list[Rise], accepted: Accepted) -> int:
    """Raise follower-jump findings (one bulk insert) for the rises above the ratio
    too. Returns how many."""
    from supervision.services.findings import raise_many

    ratio = settings.SUPERVISION_FOLLOWER_JUMP_RATIO
    raised = []
    # In the batch's order, as the rows came.
    for account_id, day, count, prior in sorted(
        rises, key=lambda r: accepted[(r[0], r[1])][0]
    ):
        rise = count - prior
        if rise > prior * ratio:
            account = accepted[(account_id, day)][1]
            raised.append(
                {
                    "subject_ref": account_id,
                    "account_id": account_id,
                    "organization_id": account.organization_id,
                    "org_path": account.org_path,
                    "evidence": {
                        "day": day.isoformat(),
                        "followers": count,
                        "before": prior,
                        "rise": rise,
                    },
                }
            )
    if raised:
        raise_many(
            kind=FindingKind.FOLLOWER_JUMP, origin=FindingOrigin.INGEST, rows=raised
        )
    return len(raised)
