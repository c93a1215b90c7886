"""Thresholds the supervision sweeps apply, in one place.

Defaults come from settings (SUPERVISION_*). Per-organization idle policies
(inherited down the tree) are kept by the registry (issue 7); until they exist the
sweeps use these national defaults for every account.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class IdlePolicy:
    idle_days: int
    warn_days: int
    cleanup_days: int


def idle_policy() -> IdlePolicy:
    return IdlePolicy(
        idle_days=settings.SUPERVISION_IDLE_DAYS,
        warn_days=settings.SUPERVISION_IDLE_WARN_DAYS,
        cleanup_days=settings.SUPERVISION_CLEANUP_DAYS,
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
