"""Recomputing the registry's stored working-day deadlines when the calendar changes
(DOMAIN.md rule 35; DESIGN.md "Time"): open filings (due N working days after the
event, N from the filing policy) and open credential rotations (due N working days
after the role ended). Registered with workcalendar's deadline registry in
RegistryConfig.ready.

Set-based: one read of the open rows' distinct (start, region, policy) groups, the
working-day arithmetic once per group, and one UPDATE per group whose deadline
moved. Safe to run twice (the second run finds every deadline already right).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q

from accounts.models import Organization
from registry.models import Filing, FilingPolicy, FilingStatus, RotationTask
from workcalendar.calendar import END_OF_DAY, SHANGHAI, add_working_days


def _policy_days() -> dict[str, int]:
    """Filing policy days by organization path (one query; one row per override)."""
    return dict(FilingPolicy.objects.values_list("organization__path", "due_working_days"))


def _days_for(path: str, policies: dict[str, int]) -> int:
    step = Organization.steplen
    for depth in range(len(path) // step, 0, -1):
        days = policies.get(path[: depth * step])
        if days is not None:
            return days
    return int(settings.REGISTRY_FILING_DUE_WORKING_DAYS)


@transaction.atomic
def filing_deadlines_recompute() -> int:
    """Recompute the due date (and its provisional mark, and whether the filing was
    late) of every filing awaiting approval. Returns the filings changed."""
    open_ = Filing.objects.filter(status=FilingStatus.SUBMITTED)
    groups = list(
        open_.values_list("org_path", "event_date", "region_code", "due_at", "due_provisional")
        .order_by()
        .distinct()
    )
    if not groups:
        return 0
    policies = _policy_days()
    computed: dict[tuple, tuple[datetime, bool]] = {}
    changed = 0
    for path, event_date, region, due_at, provisional in groups:
        key = (_days_for(path, policies), event_date, region)
        if key not in computed:
            result = add_working_days(event_date, key[0], region)
            computed[key] = (
                datetime.combine(result.date, END_OF_DAY, tzinfo=SHANGHAI),
                result.provisional,
            )
        due, prov = computed[key]
        if due == due_at and prov == provisional:
            continue
        changed += open_.filter(
            org_path=path, event_date=event_date, region_code=region, due_at=due_at,
            due_provisional=provisional,
        ).update(
            due_at=due,
            due_provisional=prov,
            is_late=ExpressionWrapper(Q(submitted_at__gt=due), output_field=BooleanField()),
        )
    return changed


@transaction.atomic
def rotation_deadlines_recompute() -> int:
    """Recompute the due date and provisional mark of every open credential
    rotation from the day it opened. Returns the tasks changed."""
    open_ = RotationTask.objects.filter(done_at__isnull=True)
    rows = list(
        open_.values_list("opened_at", "account__region_code", "due_at", "due_provisional")
        .order_by()
        .distinct()
    )
    if not rows:
        return 0
    days = int(settings.REGISTRY_ROTATION_DUE_WORKING_DAYS)
    # Group by the local day the task opened: the deadline depends on nothing else.
    groups: dict[tuple, list] = {}
    for opened_at, region, due_at, provisional in rows:
        day = opened_at.astimezone(SHANGHAI).date()
        groups.setdefault((day, region, due_at, provisional), []).append(opened_at)
    computed: dict[tuple, tuple[datetime, bool]] = {}
    changed = 0
    for (day, region, due_at, provisional), opened in groups.items():
        if (day, region) not in computed:
            result = add_working_days(day, days, region)
            computed[(day, region)] = (
                datetime.combine(result.date, END_OF_DAY, tzinfo=SHANGHAI),
                result.provisional,
            )
        due, prov = computed[(day, region)]
        if due == due_at and prov == provisional:
            continue
        changed += open_.filter(
            opened_at__in=opened, account__region_code=region, due_at=due_at,
            due_provisional=provisional,
        ).update(due_at=due, due_provisional=prov)
    return changed
