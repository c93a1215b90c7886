"""Celery tasks of supervision (scheduled in config/schedule.py). Each takes ids or
stamps, re-fetches, and is safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import timezone


@shared_task(name="supervision.sweep_findings", acks_late=True, time_limit=600)
def sweep_findings(kinds: list[str] | None = None) -> dict:
    from supervision.services.sweeps import findings_sweep

    return findings_sweep(kinds=kinds)


@shared_task(name="supervision.notify_findings", acks_late=True)
def notify_findings(stamp: str) -> int:
    from supervision.services.findings import findings_notify_assigned

    return findings_notify_assigned(stamp=stamp)


@shared_task(name="supervision.rollup_today", acks_late=True, time_limit=600)
def rollup_today() -> int:
    from supervision.services.rollups import rollup_day

    return rollup_day()


@shared_task(name="supervision.rollup_chain", acks_late=True)
def rollup_chain_task(organization_id: int) -> int:
    from accounts.models import Organization
    from supervision.services.rollups import rollup_chain

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    return rollup_chain(organization)


@shared_task(name="supervision.partitions_ahead", acks_late=True)
def partitions_ahead() -> list[str]:
    from supervision.partitions import ensure_ahead

    return ensure_ahead(
        timezone.localdate(), settings.SUPERVISION_PARTITION_MONTHS_AHEAD
    )


@shared_task(name="supervision.sweep_orders", acks_late=True)
def sweep_orders() -> dict:
    from supervision.services.rectification import orders_sweep

    return orders_sweep()


@shared_task(name="supervision.notify_orders_overdue", acks_late=True)
def notify_orders_overdue(stamp: str) -> int:
    from supervision.services.rectification import orders_notify_overdue

    return orders_notify_overdue(stamp=stamp)
