"""Scheduled jobs of moderation (declared in config/schedule.py) and their
follow-ups. Tasks take plain values, re-read what they need and are safe to run
twice."""

from celery import shared_task

from moderation.services.directives import reposts_notify_marked, reposts_sweep
from moderation.services.review import post_approvals_expire


@shared_task(name="moderation.sweep_reposts", acks_late=True, time_limit=50,
             soft_time_limit=45, ignore_result=True)
def sweep_reposts() -> dict:
    """Mark repost targets due soon and overdue (the notifications follow in
    notify_reposts_marked, sent after commit). Safe to run twice."""
    return reposts_sweep()


@shared_task(name="moderation.notify_reposts_marked", acks_late=True, time_limit=120,
             soft_time_limit=100, ignore_result=True)
def notify_reposts_marked(stamp: str) -> int:
    """Notify the operators (and, for overdue targets, the supervisors) of the
    targets one sweep marked; `stamp` is that sweep's marker. A duplicate delivery
    inserts nothing (dedupe keys)."""
    return reposts_notify_marked(stamp=stamp)


@shared_task(name="moderation.expire_approvals", acks_late=True, time_limit=240,
             soft_time_limit=200, ignore_result=True)
def expire_approvals() -> int:
    """Posts whose scheduled publication time passed unpublished lose their
    approvals. Safe to run twice."""
    return post_approvals_expire()
