"""Exports above EXPORT_SYNC_MAX_ROWS run as jobs: progress, download, audit, expiry,
and only their user sees them."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import openpyxl
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import AuditEvent
from exportjobs import services
from exportjobs.models import ExportJob, ExportState
from tests.registry.ledger_factories import make_account


@pytest.fixture
def eager(monkeypatch):
    from config.celery import app

    monkeypatch.setitem(app.conf, "CELERY_TASK_ALWAYS_EAGER", True)
    monkeypatch.setitem(app.conf, "CELERY_TASK_EAGER_PROPAGATES", True)
    return app


@pytest.fixture
def accounts(world):
    for i in range(7):
        make_account(world.mine.city_dept, f"=平安{i:02d}", followers=i)
    make_account(world.other.city_dept, "乙号", followers=1)
    return world


@pytest.mark.django_db(transaction=False)
def test_large_ledger_export_becomes_a_job_with_progress_and_download(
    accounts, settings, eager, django_capture_on_commit_callbacks, tmp_path
):
    settings.EXPORT_SYNC_MAX_ROWS = 5
    settings.MEDIA_ROOT = tmp_path
    world = accounts
    user = world.mine.users[Role.SUPERVISOR]
    client = Client()
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("registry:ledger_export", args=["xlsx"]))
    assert response.status_code == 302
    job = ExportJob.objects.get(user=user)
    assert response["Location"] == reverse("exports:detail", args=[job.pk])
    assert job.state == ExportState.DONE and job.total == 7 and job.done == 7
    assert job.file_name.endswith(".xlsx") and "_" in job.file_name
    assert job.file_name.startswith(world.mine.province.short_name or "甲省")
    assert os.path.exists(os.path.join(tmp_path, job.file_path))
    status = client.get(reverse("exports:status", args=[job.pk])).json()
    assert status["percent"] == 100 and status["download_url"]
    page = client.get(reverse("exports:detail", args=[job.pk])).content.decode()
    assert reverse("exports:download", args=[job.pk]) in page
    download = client.get(status["download_url"])
    assert download.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    sheet = book.worksheets[0]
    names = {row[10] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert names == {f"'=平安{i:02d}" for i in range(7)}  # neutralised, scoped
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    actions = list(
        AuditEvent.objects.filter(target_id=str(job.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["exportjobs.export_request", "exportjobs.export_download"]

    # Someone else, even in the same province, gets 404 for the job and its file.
    other = Client()
    other.force_login(world.mine.users[Role.AUDITOR])
    for name in ("detail", "status", "download"):
        assert other.get(reverse(f"exports:{name}", args=[job.pk])).status_code == 404

    # Expired: the file goes, the link 404s; purging twice is harmless.
    ExportJob.objects.filter(pk=job.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert client.get(status["download_url"]).status_code == 404
    assert services.export_jobs_purge() == 1
    assert services.export_jobs_purge() == 0
    job.refresh_from_db()
    assert job.state == ExportState.EXPIRED
    assert not os.path.exists(os.path.join(tmp_path, "exports", str(job.pk)))


@pytest.mark.django_db
def test_small_export_stays_in_the_request(accounts, settings):
    settings.EXPORT_SYNC_MAX_ROWS = 5000
    client = Client()
    client.force_login(accounts.mine.users[Role.SUPERVISOR])
    response = client.get(reverse("registry:ledger_export", args=["csv"]))
    assert response.status_code == 200
    assert not ExportJob.objects.exists()


@pytest.mark.django_db
def test_api_answers_202_with_the_job(accounts, settings, django_capture_on_commit_callbacks):
    settings.EXPORT_SYNC_MAX_ROWS = 3
    client = APIClient()
    client.force_authenticate(accounts.mine.users[Role.SUPERVISOR])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.get("/api/v1/ledger/export/?file_format=csv&sort=name")
    assert response.status_code == 202
    body = response.json()
    assert body["state"] == "queued" and body["total"] == 7
    assert body["status_url"].endswith("/status.json")
    assert len(callbacks) == 1  # queued after commit
    job = ExportJob.objects.get(pk=body["id"])
    assert job.params == {"file_format": ["csv"], "sort": ["name"]}
    # The worker runs it (twice is harmless: the second run finds it no longer queued).
    assert services.export_job_run(str(job.pk)).state == ExportState.DONE
    assert services.export_job_run(str(job.pk)) is None
    bad = client.get("/api/v1/ledger/export/?file_format=pdf")
    assert bad.status_code == 400 and "file_format" in bad.json()["fields"]


@pytest.mark.django_db
def test_a_failing_job_says_so(accounts, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    user = accounts.mine.users[Role.SUPERVISOR]
    job = ExportJob.objects.create(
        user=user, kind="ledger", params={"org": [str(accounts.other.city.pk)]},
        file_format="csv", total=1,
    )
    done = services.export_job_run(str(job.pk))
    assert done.state == ExportState.FAILED and done.error
    assert not os.path.exists(os.path.join(tmp_path, "exports", str(job.pk)))


def test_every_export_kind_is_registered():
    from common import exports

    assert {
        "ledger", "filings", "posts", "repost_targets", "organizations", "audit_events"
    } <= exports.kinds()
    assert settings.CELERY_TASK_ROUTES["exportjobs.run"] == {"queue": "exports"}
