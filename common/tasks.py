"""Platform-level periodic tasks."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "govmedia:worker-heartbeat"


@shared_task(name="common.worker_heartbeat", acks_late=True, time_limit=30, ignore_result=True)
def worker_heartbeat() -> str:
    """Beat sends this every minute; the worker that runs it records the time, so
    /healthz can tell whether any worker consumes the queue (common.health)."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now
