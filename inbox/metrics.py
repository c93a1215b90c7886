"""Metrics as 12345 circulars report them, per organization subtree and period, in
one aggregate query (and one per drill-down level, grouped by the child's path).

Definitions (messages received in the period, within the subtree):
- on-time sign-for rate: transferred messages signed for by `sign_for_due_at`,
  of those transferred;
- reply rate: valid messages (not "not accepted") answered at least once;
- on-time resolution rate: answered messages whose (last) reply was on time;
- satisfaction rate: satisfied + basically satisfied, of those rated; below the
  floor (INBOX_SATISFACTION_FLOOR, 85%) the organization is named;
- reopen rate: answered messages reopened at least once;
- median first response: office hours from receipt to acceptance;
- unanswered past 3 months: valid messages without a reply 3 months after receipt.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q
from django.db.models.functions import Substr
from django.utils import timezone

from accounts.models import Organization
from inbox.models import OPEN_STATUSES, Category, Message, Satisfaction
from workcalendar.calendar import SHANGHAI


class Median(Aggregate):
    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _aggregates(now) -> dict:
    valid = ~Q(category=Category.NOT_ACCEPTED)
    aggs = {
        "received": Count("id"),
        "valid": Count("id", filter=valid),
        "transferred": Count("id", filter=Q(sign_for_due_at__isnull=False)),
        "signed_on_time": Count("id", filter=Q(signed_for_at__lte=F("sign_for_due_at"))),
        "replied": Count("id", filter=valid & Q(first_replied_at__isnull=False)),
        "replied_on_time": Count("id", filter=Q(replied_on_time=True)),
        "rated": Count("id", filter=~Q(satisfaction="")),
        "satisfied": Count("id", filter=Q(satisfaction__in=[Satisfaction.SATISFIED,
                                                            Satisfaction.BASIC])),
        "reopened": Count("id", filter=Q(reopen_count__gt=0)),
        "breached_open": Count("id", filter=Q(breached_at__isnull=False,
                                              status__in=OPEN_STATUSES)),
        "stale": Count("id", filter=valid & Q(replied_at__isnull=True, stale_at__lt=now)),
        "problem_cases": Count("id", filter=Q(problem_case_at__isnull=False)),
    }
    if connection.vendor == "postgresql":
        aggs["median_first_response_s"] = Median("first_response_seconds")
    return aggs


def _rate(num: int, den: int) -> float | None:
    return round(100.0 * num / den, 1) if den else None


def _finish(row: dict) -> dict:
    row = dict(row)
    row["sign_for_rate"] = _rate(row["signed_on_time"], row["transferred"])
    row["reply_rate"] = _rate(row["replied"], row["valid"])
    row["on_time_rate"] = _rate(row["replied_on_time"], row["replied"])
    row["satisfaction_rate"] = _rate(row["satisfied"], row["rated"])
    row["reopen_rate"] = _rate(row["reopened"], row["replied"])
    median = row.get("median_first_response_s")
    row["median_first_response_hours"] = None if median is None else round(median / 3600, 1)
    floor = settings.INBOX_SATISFACTION_FLOOR
    row["below_floor"] = row["satisfaction_rate"] is not None and (
        row["satisfaction_rate"] < floor)
    return row


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in Asia/Shanghai."""
    return (datetime.combine(start, time(0), tzinfo=SHANGHAI),
            datetime.combine(end + timedelta(days=1), time(0), tzinfo=SHANGHAI))


def _base(organization: Organization, start: date, end: date):
    lo, hi = period_bounds(start, end)
    return Message.objects.filter(org_path__startswith=organization.path,
                                  received_at__gte=lo, received_at__lt=hi)


def metrics_for(organization: Organization, start: date, end: date) -> dict:
    """The figures of `organization`'s subtree (one query). Callers checked the
    organization is visible to the user."""
    return _finish(_base(organization, start, end).aggregate(**_aggregates(timezone.now())))


def metrics_by_child(organization: Organization, start: date, end: date) -> list[dict]:
    """The figures of each child organization's subtree (plus the organization's
    own messages), for the drill-down: one grouped query and one for the names."""
    length = len(organization.path) + Organization.steplen
    rows = (_base(organization, start, end)
            .annotate(branch=Substr("org_path", 1, length))
            .values("branch").order_by("branch")
            .annotate(**_aggregates(timezone.now())))
    names = dict(Organization.objects.filter(
        path__in=[r["branch"] for r in rows] + [organization.path])
        .values_list("path", "name"))
    ids = dict(Organization.objects.filter(path__in=names).values_list("path", "pk"))
    result = []
    for row in rows:
        branch = row.pop("branch")
        own = branch == organization.path or len(branch) < length
        # Messages handled by the organization itself group under its own path.
        key = organization.path if own else branch
        result.append({**_finish(row), "organization_id": ids.get(key),
                       "name": names.get(key, key), "own": own})
    return result
