"""Pages of export jobs: my exports, one job (progress), its status and its file."""

from __future__ import annotations

import os

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from common import exports
from exportjobs import services
from exportjobs.models import ExportJob


def _job_of(request, job_id) -> ExportJob:
    # A job is its user's alone: anyone else gets 404, as if it did not exist.
    job = ExportJob.objects.filter(pk=job_id, user=request.user).first()
    if job is None:
        raise Http404
    return job


@login_required
@require_GET
def job_list(request):
    jobs = list(
        ExportJob.objects.filter(user=request.user).order_by("-created_at")[:50]
    )
    return render(request, "exportjobs/export_list.html", {"jobs": jobs})


@login_required
@require_GET
def job_detail(request, job_id):
    return render(
        request, "exportjobs/export_detail.html", {"job": _job_of(request, job_id)}
    )


@login_required
@require_GET
def job_status(request, job_id):
    return JsonResponse(exports.job_json(_job_of(request, job_id)))


@login_required
@require_GET
def job_download(request, job_id):
    job = _job_of(request, job_id)
    if not job.downloadable:
        raise Http404
    path = services.export_job_download(job=job, actor=request.user)
    if not os.path.exists(path):
        raise Http404
    return FileResponse(
        open(path, "rb"),  # noqa: SIM115  (FileResponse closes it)
        as_attachment=True,
        filename=job.file_name,
        content_type=exports.CONTENT_TYPES.get(job.file_format),
    )
