"""Celery jobs of the assessment. Tasks take ids, re-read, and are safe to run twice."""

from celery import shared_task

from assessment.services.scoring import score_run_compute


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
