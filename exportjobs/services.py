"""Writes of export jobs (create, run, download, purge)."""

from __future__ import annotations

import logging
import os
import shutil
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

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

    claimed = ExportJob.objects.filter(pk=job_id, state=ExportState.QUEUED).update(
        state=ExportState.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    folder = export_dir(job)
    os.makedirs(folder, exist_ok=True)

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(done=done)

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
