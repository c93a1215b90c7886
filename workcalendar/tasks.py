from celery import shared_task

from workcalendar.services import calendar_seed_from_package, recompute_open_deadlines


@shared_task(name="workcalendar.refresh_years", acks_late=True, time_limit=1800)
def refresh_years() -> dict:
    """Load any year the installed package knows and the database does not yet, then
    let every app recompute its open working-day deadlines."""
    inserted = calendar_seed_from_package()
    recomputed = recompute_open_deadlines()
    return {"days_inserted": inserted, "deadlines_recomputed": recomputed}
