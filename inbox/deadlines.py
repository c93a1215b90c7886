"""SLA arithmetic: which policy applies, and a message's due times.

Every due time is computed when the message's clock starts (receipt, or a transfer
when the policy restarts the clock) and stored on the row (DESIGN.md "Time"):

- working-day targets end at 23:59:59 Asia/Shanghai on the Nth working day after
  the day the clock started (workcalendar.deadline_after, rule 35);
- clock-hour targets end N hours after the clock started;
- a pause (waiting on the citizen) moves each unmet due time by exactly the paused
  time: office hours on working days for working-day policies
  (workcalendar.add_working_seconds), wall-clock time for hour policies;
- an extension adds working days to the reply target (once, at most 15).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from accounts.models import Organization
from inbox.models import SlaPolicy, SlaUnit
from workcalendar.calendar import (
    add_working_seconds,
    deadline_after,
    deadlines_after,
    working_seconds_between,
)

MAX_EXTENSION_DAYS = 15
# Built-in defaults (rule 33) for a category without any policy row at all.
FALLBACK = {"unit": SlaUnit.WORKING_DAYS, "first_response": 1, "reply": 5,
            "warn_percent": 80, "sign_for_hours": 4, "transfer_restarts_clock": False}


@dataclass(frozen=True)
class Terms:
    """The SLA terms copied onto a message."""

    policy_id: int | None
    unit: str
    first_response: int
    reply: int
    warn_percent: int
    sign_for_hours: int = 4
    transfer_restarts_clock: bool = False


@dataclass(frozen=True)
class DueTimes:
    first_response_due_at: datetime
    reply_due_at: datetime
    provisional: bool


def ancestor_paths(path: str, steplen: int = Organization.steplen) -> list[str]:
    return [path[:i] for i in range(steplen, len(path) + 1, steplen)]


def _policy_candidates(paths: set[str], categories: set[str]):
    chains = {p for path in paths for p in ancestor_paths(path)}
    return list(SlaPolicy.objects.filter(
        Q(organization__isnull=True) | Q(organization__path__in=chains),
        category__in=categories | {""},
    ).select_related("organization"))


def _best(candidates, path: str, category: str) -> Terms:
    best, best_key = None, None
    for policy in candidates:
        if policy.category not in ("", category):
            continue
        org_path = policy.organization.path if policy.organization_id else ""
        if org_path and not path.startswith(org_path):
            continue
        # Explicit priority first, then the nearest organization, then the category
        # match over "any category".
        key = (policy.priority, len(org_path), policy.category == category)
        if best_key is None or key > best_key:
            best, best_key = policy, key
    if best is None:
        return Terms(None, FALLBACK["unit"], FALLBACK["first_response"], FALLBACK["reply"],
                     FALLBACK["warn_percent"])
    return Terms(best.pk, best.unit, best.first_response, best.reply, best.warn_percent,
                 best.sign_for_hours, best.transfer_restarts_clock)


def terms_for(supervising: Organization, category: str) -> Terms:
    """The policy in force for messages supervised by `supervising` (one query)."""
    return _best(_policy_candidates({supervising.path}, {category}), supervising.path,
                 category)


def terms_for_many(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], Terms]:
    """Terms per (supervising path, category), for all pairs in one query."""
    if not pairs:
        return {}
    candidates = _policy_candidates({p for p, _c in pairs}, {c for _p, c in pairs})
    return {pair: _best(candidates, pair[0], pair[1]) for pair in pairs}


def _shift(moment: datetime, paused_seconds: int, unit: str, region: str) -> datetime:
    if not paused_seconds:
        return moment
    if unit == SlaUnit.HOURS:
        return moment + timedelta(seconds=paused_seconds)
    return add_working_seconds(moment, paused_seconds, region)


def due_times(*, unit: str, first_response: int, reply: int, clock_started_at: datetime,
              region_code: str, paused_seconds: int = 0,
              extension_days: int = 0) -> DueTimes:
    provisional = False
    if unit == SlaUnit.HOURS:
        fr = clock_started_at + timedelta(hours=first_response)
        rp = clock_started_at + timedelta(hours=reply)
        if extension_days:
            extended = deadline_after(rp, extension_days, region_code)
            rp, provisional = extended.due_at, extended.provisional
    else:
        both = deadlines_after(clock_started_at, (first_response, reply + extension_days),
                               region_code)  # one walk of the calendar for the two
        a, b = both[first_response], both[reply + extension_days]
        fr, rp, provisional = a.due_at, b.due_at, a.provisional or b.provisional
    return DueTimes(_shift(fr, paused_seconds, unit, region_code),
                    _shift(rp, paused_seconds, unit, region_code), provisional)


def earliest_unmet(times: DueTimes, *, accepted: bool, replied: bool) -> datetime | None:
    pending = []
    if not accepted:
        pending.append(times.first_response_due_at)
    if not replied:
        pending.append(times.reply_due_at)
    return min(pending) if pending else None


def warn_time(clock_started_at: datetime, due_at: datetime | None,
              percent: int) -> datetime | None:
    """Warn when `percent` of the (wall-clock) time to the earliest due has passed."""
    if due_at is None:
        return None
    span = max(due_at - clock_started_at, timedelta(0))
    return clock_started_at + span * percent / 100


def paused_time(unit: str, since: datetime, until: datetime, region: str) -> int:
    """The paused time to add: office seconds for working-day policies, clock
    seconds for hour policies."""
    if unit == SlaUnit.HOURS:
        return max(0, int((until - since).total_seconds()))
    return working_seconds_between(since, until, region)

