"""Periodic jobs of the registry (declared in config/schedule.py)."""

from celery import shared_task


@shared_task(name="registry.escalate_overdue_filings", acks_late=True, time_limit=600)
def escalate_overdue_filings() -> int:
    """Filings awaiting approval past their due date escalate one level up
    (registry.services.routing; set-based, idempotent)."""
    from registry.services.routing import filings_escalate_overdue

    return filings_escalate_overdue()
