"""Writes of export jobs (create, run, download, purge)."""

from __future__ import annotations

import logging
import os
import shutil
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import audit_record
from common.db import replica_reads
from exportjobs.models import ExportJob, ExportState

log = logging.getLogger(__name__)


def ttl() -> timedelta:
    return timedelta(hours=float(getattr(settings, "EXPORT_TTL_HOURS", 24)))


def export_dir(job: ExportJob) -> str:
    return os.path.join(settings.MEDIA_ROOT, "exports", str(job.pk))


def _organization_of(user):
    """The organization the export is taken in: the user's first active membership's."""
    from accounts.scoping import memberships_of

    memberships = sorted(memberships_of(user), key=lambda m: m.organization.path)
    return memberships[0].organization if memberships else None


@transaction.atomic
def export_job_create(
    *, user, kind, params, file_format, total, title, organization_name, actor
) -> ExportJob:
    """Record the job, audit it and queue it (after commit) on the exports queue."""
    from exportjobs.tasks import export_run

    job = ExportJob.objects.create(
        user=user,
        organization=_organization_of(user),
        kind=kind,
        title=title[:120],
        params=params,
        file_format=file_format,
        total=total,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    audit_record(
        actor=actor,
        action="exportjobs.export_request",
        target=job,
        organization=job.organization,
        platform_wide=job.organization is None,
        after={"kind": kind, "format": file_format, "rows": total, "params": params},
        target_label=f"{organization_name}_{title}"[:200],
    )
    transaction.on_commit(lambda: export_run.delay(str(job.pk)))
    return job


def export_job_run(job_id: str) -> ExportJob | None:
    """Write the file of a queued job with progress; safe to run twice (a job that is
    no longer queued is left alone)."""
    from common import exports

    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=job_id, state=ExportState.QUEUED).update(
        state=ExportState.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        return None
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    folder = export_dir(job)
    os.makedirs(folder, exist_ok=True)

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk, state=ExportState.RUNNING).update(
            done=done, heartbeat_at=timezone.now()
        )

    try:
        with (
            translation.override(job.language or settings.LANGUAGE_CODE),
            replica_reads(),
        ):
            table = exports.build(job.kind, job.user, job.params)
            name = exports.file_name(table, job.file_format)
            path = os.path.join(folder, name)
            count = exports.write_file(table, path + ".part", job.file_format, progress)
        os.replace(path + ".part", path)
    except Exception as exc:  # a failed job says so; the worker goes on
        log.exception("export job %s failed", job_id)
        shutil.rmtree(folder, ignore_errors=True)
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportState.FAILED,
            error=str(getattr(exc, "message", "")) or exc.__class__.__name__,
            finished_at=timezone.now(),
        )
        return ExportJob.objects.get(pk=job.pk)
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportState.DONE,
        done=count,
        total=count,
        file_name=name,
        file_path=os.path.relpath(path, settings.MEDIA_ROOT),
        size=os.path.getsize(path),
        finished_at=now,
        expires_at=now + ttl(),
    )
    return ExportJob.objects.get(pk=job.pk)


@transaction.atomic
def export_job_download(*, job: ExportJob, actor) -> str:
    """Audit a download and answer the file's absolute path."""
    audit_record(
        actor=actor,
        action="exportjobs.export_download",
        target=job,
        organization=job.organization,
        platform_wide=job.organization is None,
        after={"file": job.file_name, "rows": job.total, "size": job.size},
        target_label=job.file_name,
    )
    return os.path.join(settings.MEDIA_ROOT, job.file_path)


def export_jobs_reap_lost(now=None) -> int:
    """Running jobs whose heartbeat stopped (the worker was killed or lost) are marked
    failed with a clear error, and their partial files removed. Set-based, idempotent."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.JOB_HEARTBEAT_STALE_SECONDS)
    lost = list(
        ExportJob.objects.filter(state=ExportState.RUNNING)
        .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))
        .values_list("pk", flat=True)
    )
    if not lost:
        return 0
    ExportJob.objects.filter(pk__in=lost, state=ExportState.RUNNING).update(
        state=ExportState.FAILED,
        error=str(_("The worker stopped while writing this export; request it again.")),
        finished_at=now,
    )
    for pk in lost:
        shutil.rmtree(os.path.join(settings.MEDIA_ROOT, "exports", str(pk)), True)
    log.warning("export jobs lost (no heartbeat since %s): %s", cutoff, lost)
    return len(lost)


def export_jobs_requeue(now=None) -> int:
    """Jobs still queued minutes after their request (the broker was down when they
    were made, or their message was lost) are queued again. Returns how many."""
    from exportjobs.tasks import export_run

    now = now or timezone.now()
    waiting = list(
        ExportJob.objects.filter(
            state=ExportState.QUEUED, created_at__lt=now - timedelta(minutes=2)
        ).values_list("pk", flat=True)[:500]
    )
    from django.core.cache import cache

    sent = 0
    for pk in waiting:  # at most one message per job per 10 minutes; a run claims once
        if cache.add(f"exportjob-requeued:{pk}", 1, timeout=600):
            export_run.delay(str(pk))
            sent += 1
    return sent


def export_jobs_purge(now=None) -> int:
    """Remove the files of expired jobs and mark them expired (idempotent)."""
    now = now or timezone.now()
    expired = list(
        ExportJob.objects.filter(
            state=ExportState.DONE, expires_at__lte=now
        ).values_list("pk", flat=True)
    )
    stale = now - timedelta(days=2)
    failed = list(
        ExportJob.objects.filter(
            state__in=[ExportState.FAILED, ExportState.RUNNING], created_at__lt=stale
        ).values_list("pk", flat=True)
    )
    for pk in expired + failed:
        shutil.rmtree(os.path.join(settings.MEDIA_ROOT, "exports", str(pk)), True)
    ExportJob.objects.filter(pk__in=expired).update(
        state=ExportState.EXPIRED, file_path=""
    )
    ExportJob.objects.filter(pk__in=failed, state=ExportState.RUNNING).update(
        state=ExportState.FAILED, error="timeout"
    )
    return len(expired)
