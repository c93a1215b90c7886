"""Thresholds the supervision sweeps apply, in one place.

The idle and clean-up thresholds are the registry's per-organization activity
policies (registry.ActivityPolicy, inherited down the tree; national defaults in
settings REGISTRY_IDLE_DAYS / REGISTRY_CLEANUP_DAYS), read by the sweeps through
registry.selectors.activity_stale_q. Supervision adds how many days before an account
goes idle it is warned (SUPERVISION_IDLE_WARN_AHEAD_DAYS, 3 by default), applied to
each account's own idle threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class IdlePolicy:
    warn_ahead_days: int


def idle_policy() -> IdlePolicy:
    return IdlePolicy(
        warn_ahead_days=max(int(settings.SUPERVISION_IDLE_WARN_AHEAD_DAYS), 0),
    )


def rectification_days(organization=None) -> int:
    """Days a rectification order gives (DOMAIN.md rule 34: default 10)."""
    return settings.SUPERVISION_RECTIFICATION_DAYS


def inspection_window_days() -> int:
    return settings.SUPERVISION_INSPECTION_WINDOW_DAYS


# Hours from the event time (DOMAIN.md rule 33). A major emergency has all three
# timers; other events only the response timer.
EVENT_RELEASE_HOURS = 5
EVENT_PRESS_HOURS = 24
EVENT_RESPONSE_HOURS = 48
