"""Periodic jobs of the registry (declared in config/schedule.py)."""

from celery import shared_task


@shared_task(name="registry.escalate_overdue_filings", acks_late=True, time_limit=600)
def escalate_overdue_filings() -> int:
    """Filings awaiting approval past their due date escalate one level up
    (registry.services.routing; set-based, idempotent)."""
    from registry.services.routing import filings_escalate_overdue

    return filings_escalate_overdue()


@shared_task(name="registry.custody_upkeep", acks_late=True, time_limit=900)
def custody_upkeep() -> int:
    """Accounts without a credential holder, with an outsourced holder, or with a
    rotation past due: tell each organization and its supervising level, once a day
    (registry.services.staffing)."""
    from registry.services.staffing import custody_upkeep_sweep

    return custody_upkeep_sweep()


@shared_task(name="registry.figures_rollup", acks_late=True, time_limit=600)
def figures_rollup() -> int:
    """The registry overview's figures for every subtree (registry.services.figures;
    set-based, one pass, safe to run twice)."""
    from registry.services.figures import figures_rollup as rollup

    return rollup()
