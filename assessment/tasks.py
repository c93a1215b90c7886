"""Celery jobs of the assessment. Tasks take ids, re-read, and are safe to run twice."""

from celery import shared_task

from assessment.services.scoring import score_run_compute, score_runs_reap_lost


@shared_task(
    name="assessment.compute_run",
    acks_late=True,
    time_limit=900,
    soft_time_limit=840,
    ignore_result=True,
)
def compute_run(run_id: int) -> None:
    """Compute a score run (a province of 20,000 accounts for a year: bench/RESULTS.md).
    A run already done or frozen is left alone."""
    score_run_compute(run_id=run_id)


@shared_task(
    name="assessment.monthly_archive",
    acks_late=True,
    time_limit=3600,
    soft_time_limit=3500,
    ignore_result=True,
)
def monthly_archive() -> dict | None:
    """Daily; acts on the first working day of the month only (archives last month).
    Idempotent: unchanged content writes nothing."""
    from assessment.services.archives import archives_monthly_job

    return archives_monthly_job()


@shared_task(
    name="assessment.export_run",
    acks_late=True,
    time_limit=3600,
    soft_time_limit=3300,
    ignore_result=True,
)
def export_run(job_id: str) -> None:
    """Write an annual XLSX or PDF export job (assessment.jobs)."""
    from assessment.jobs import export_run_job

    export_run_job(job_id)


@shared_task(name="assessment.reap_lost_runs", acks_late=True, time_limit=120, ignore_result=True)
def reap_lost_runs() -> int:
    """Runs whose worker died (no heartbeat past the compute limit) become failed."""
    return score_runs_reap_lost()
