"""Scheduled jobs of moderation (declared in config/schedule.py)."""

from celery import shared_task

from moderation.services.directives import reposts_sweep


@shared_task(name="moderation.sweep_reposts", acks_late=True, time_limit=50,
             soft_time_limit=45, ignore_result=True)
def sweep_reposts() -> dict:
    """Mark repost targets due soon and overdue; notify. Safe to run twice."""
    return reposts_sweep()
