"""Long exports of the annual assessment as export jobs: the platform's one mechanism
(exportjobs: the job row, its progress, the expiring download, the purge, the audit of
each download). The annual workbook and the PDF reports are not single tables, so
their file is written by our writer (assessment.exports) in our task, which fills the
same job row the way exportjobs' own runner does."""

from __future__ import annotations

import logging
import os
import shutil

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessment.models import AssessmentFreeze, FreezeStatus
from assessment.services.common import ASSESSORS  # noqa: F401  (documented policy)
from audit.services import audit_record
from common.errors import Conflict

log = logging.getLogger(__name__)
KINDS = {"xlsx": "assessment_annual_xlsx", "pdf": "assessment_org_pdf"}


def available() -> bool:
    return apps.is_installed("exportjobs")


def export_request(*, freeze: AssessmentFreeze, kind: str, organization, actor):
    """Queue the annual XLSX (kind "xlsx") or one organization's PDF ("pdf") of a frozen
    year. The caller checked the export right (scoping); a year that is not frozen is
    refused."""
    if freeze.status != FreezeStatus.FROZEN:
        raise Conflict(
            _("This year is not frozen: freeze it before exporting."),
            code="year_not_frozen",
        )
    if not available():
        raise Conflict(
            _("Exports are not available on this installation yet."),
            code="exports_unavailable",
        )
    from exportjobs.models import ExportJob

    from assessment.tasks import export_run

    with transaction.atomic():
        title = (
            _("Annual assessment %(year)s") % {"year": freeze.year}
            if kind == "xlsx"
            else _("Annual report %(year)s") % {"year": freeze.year}
        )
        job = ExportJob.objects.create(
            user=actor,
            organization=organization,
            kind=KINDS[kind],
            title=title[:120],
            params={"freeze": freeze.pk, "organization": organization.pk},
            file_format=kind,
            total=freeze.run.account_count,
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
        audit_record(
            actor=actor,
            action="assessment.export",
            target=freeze,
            organization=organization,
            after={
                "kind": kind,
                "job": str(job.pk),
                "checksum": freeze.checksum,
                "organization": organization.pk,
            },
        )
        transaction.on_commit(lambda: export_run.delay(str(job.pk)))
    return job


def export_run_job(job_id: str):
    """Write the file of a queued assessment export job with progress; safe to run
    twice (a job no longer queued is left alone)."""
    from exportjobs.models import ExportJob, ExportState
    from exportjobs.services import export_dir, ttl

    from accounts.models import Organization
    from assessment.exports import write_annual_xlsx, write_org_pdf

    claimed = ExportJob.objects.filter(pk=job_id, state=ExportState.QUEUED).update(
        state=ExportState.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    job = ExportJob.objects.get(pk=job_id)
    folder = export_dir(job)
    os.makedirs(folder, exist_ok=True)
    try:
        freeze = AssessmentFreeze.objects.select_related(
            "run", "organization", "frozen_by"
        ).get(pk=job.params["freeze"])
        org = Organization.objects.get(pk=job.params["organization"])
        name = f"{org.name}_{job.title}_{freeze.checksum[:8]}.{job.file_format}"
        path = os.path.join(folder, name)
        with translation.override(job.language or settings.LANGUAGE_CODE):
            if job.file_format == "xlsx":

                def progress(percent: int) -> None:
                    ExportJob.objects.filter(pk=job.pk).update(
                        done=int(job.total * percent / 100)
                    )

                write_annual_xlsx(freeze, path + ".part", progress)
            else:
                write_org_pdf(freeze, org, path + ".part")
        os.replace(path + ".part", path)
    except Exception as exc:  # the job says it failed; the worker goes on
        log.exception("assessment export %s failed", job_id)
        shutil.rmtree(folder, ignore_errors=True)
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportState.FAILED,
            error=exc.__class__.__name__,
            finished_at=timezone.now(),
        )
        return ExportJob.objects.get(pk=job.pk)
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        state=ExportState.DONE,
        done=job.total,
        file_name=name,
        file_path=os.path.relpath(path, settings.MEDIA_ROOT),
        size=os.path.getsize(path),
        finished_at=now,
        expires_at=now + ttl(),
    )
    return ExportJob.objects.get(pk=job.pk)
