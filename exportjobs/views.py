"""Pages of export jobs: my exports, one job (progress), its status and its file."""

from __future__ import annotations

import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from common import exports
from common.errors import ApplicationError
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
    return render(
        request,
        "exportjobs/export_list.html",
        {"jobs": jobs, "export_kind": "export_jobs"},
    )


@login_required
@require_GET
def list_export(request, kind: str):
    """A list page's export (the links of templates/includes/export_links.html):
    `kind` as registered in common/exports.py, the page's filters as parameters,
    `file_format` xlsx or csv. The kind's builder applies the user's scope; a
    refused scope answers 404 or 403 as the list would, a bad parameter returns to
    the list with the message."""
    if kind not in exports.kinds():
        raise Http404
    try:
        return exports.respond(
            request, kind, request.GET, request.GET.get("file_format", "xlsx")
        )
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        if exc.status == 403:
            raise PermissionDenied from exc
        messages.error(request, exc.message)
        back = request.headers.get("referer", "")
        if not url_has_allowed_host_and_scheme(
            back, {request.get_host()}, request.is_secure()
        ):
            back = "/"
        return redirect(back)


def jobs_table(user, params):
    """My export jobs (registered as the "export_jobs" export kind): a job is its
    user's alone, as on the page."""
    from django.utils.translation import gettext as _

    from common.exports import Column, Table
    from exportjobs.models import ExportState

    qs = ExportJob.objects.filter(user=user).order_by("-created_at")
    rows = qs.values_list(
        "created_at", "title", "file_format", "total", "done", "state",
        "finished_at", "expires_at",
    )
    return Table(
        title=_("My exports"),
        columns=[
            Column(_("Requested"), "datetime", width=20),
            Column(_("Export"), width=30),
            Column(_("Format")),
            Column(_("Rows"), "number"),
            Column(_("Written"), "number"),
            Column(_("State"), labels=dict(ExportState.choices)),
            Column(_("Finished"), "datetime", width=20),
            Column(_("Expires"), "datetime", width=20),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.count,
        organization=exports.scope_label(user),
    )


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
