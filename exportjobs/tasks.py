"""Celery tasks of export jobs: export jobs (queue "exports")."""

from __future__ import annotations

from celery import shared_task

from exportjobs import services


@shared_task(
    name="exportjobs.run",
    acks_late=True,
    time_limit=3600,
    soft_time_limit=3300,
)
def export_run(job_id: str) -> dict | None:
    job = services.export_job_run(job_id)
    if job is None:
        return None
    return {"id": str(job.pk), "state": job.state, "rows": job.done}


@shared_task(name="exportjobs.purge", acks_late=True, time_limit=300)
def export_purge() -> int:
    return services.export_jobs_purge()


@shared_task(name="exportjobs.reap_lost", acks_late=True, time_limit=120, ignore_result=True)
def export_reap_lost() -> int:
    """Lost running jobs become failed; jobs left queued are queued again."""
    services.export_jobs_requeue()
    return services.export_jobs_reap_lost()
