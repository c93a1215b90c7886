"""Issue 8 item 11: a task taken by a dead worker is not run twice before it could
have finished (every task's hard limit is within the broker's visibility timeout), and
a long job whose worker dies is detected by its heartbeat and marked failed within
minutes, not left "running"."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Role
from exportjobs import services
from exportjobs.models import ExportJob, ExportState


def test_every_task_has_a_time_limit_within_the_visibility_timeout():
    from config.celery import app

    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert len(ours) >= 15
    for name, task in ours.items():
        limit = task.time_limit or app.conf.task_time_limit
        assert limit, f"{name} has no hard time limit"
        assert limit < settings.CELERY_VISIBILITY_TIMEOUT, name
    if settings.REDIS_URL:
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        assert options["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT


@pytest.mark.django_db
def test_a_lost_export_job_is_marked_failed_by_its_stopped_heartbeat(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    user = world.mine.users[Role.SUPERVISOR]
    now = timezone.now()
    lost = ExportJob.objects.create(user=user, kind="ledger", file_format="csv",
                                    state=ExportState.RUNNING, started_at=now - timedelta(hours=1),
                                    heartbeat_at=now - timedelta(minutes=6))
    os.makedirs(tmp_path / "exports" / str(lost.pk))
    alive = ExportJob.objects.create(user=user, kind="ledger", file_format="csv",
                                     state=ExportState.RUNNING, started_at=now - timedelta(hours=1),
                                     heartbeat_at=now - timedelta(minutes=1))
    assert services.export_jobs_reap_lost(now) == 1
    lost.refresh_from_db()
    alive.refresh_from_db()
    assert lost.state == ExportState.FAILED and lost.error and lost.finished_at == now
    assert not (tmp_path / "exports" / str(lost.pk)).exists()
    assert alive.state == ExportState.RUNNING
    assert services.export_jobs_reap_lost(now) == 0  # idempotent


@pytest.mark.django_db
def test_a_running_export_moves_its_heartbeat(world, settings, tmp_path, monkeypatch):
    from common import exports

    settings.MEDIA_ROOT = tmp_path
    job = ExportJob.objects.create(user=world.mine.users[Role.SUPERVISOR], kind="ledger",
                                   file_format="csv")
    seen = []
    real = exports.write_file

    def spy(table, path, file_format, progress):
        progress(1)
        seen.append(ExportJob.objects.get(pk=job.pk).heartbeat_at)
        return real(table, path, file_format, progress)

    monkeypatch.setattr(exports, "write_file", spy)
    before = timezone.now()
    assert services.export_job_run(str(job.pk)).state == ExportState.DONE
    assert seen and seen[0] >= before


@pytest.mark.django_db
def test_a_lost_score_run_is_marked_failed(world):
    from assessment.models import RunStatus, ScoreRun
    from assessment.services.scoring import RUN_LOST_AFTER_SECONDS, score_runs_reap_lost
    from tests.assessment.helpers import active_rubric

    ns = world.mine
    rubric = active_rubric(ns)
    now = timezone.now()

    def run(age_seconds):
        return ScoreRun.objects.create(
            organization=ns.province, org_path=ns.province.path, rubric=rubric,
            period_start=date(now.year, 1, 1), period_end=date(now.year, 1, 31),
            status=RunStatus.RUNNING, heartbeat_at=now - timedelta(seconds=age_seconds),
        )

    lost, alive = run(RUN_LOST_AFTER_SECONDS + 60), run(60)
    assert score_runs_reap_lost(now) == 1
    lost.refresh_from_db()
    alive.refresh_from_db()
    assert lost.status == RunStatus.FAILED and lost.error
    assert alive.status == RunStatus.RUNNING


@pytest.mark.django_db
def test_a_broker_outage_answers_503_not_500(world, monkeypatch):
    """Work that cannot be queued because the broker is down: 503 with a clear
    message, as JSON on the API and as a page in the browser."""
    from django.test import Client
    from kombu.exceptions import OperationalError
    from rest_framework.test import APIClient

    from common import exports

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(exports, "build", down)
    api = APIClient()
    api.force_authenticate(world.mine.users[Role.SUPERVISOR])
    response = api.get("/api/v1/ledger/export/?file_format=csv")
    assert response.status_code == 503
    assert response.json()["code"] == "broker_unavailable"
    page = Client()
    page.force_login(world.mine.users[Role.SUPERVISOR])
    response = page.get("/registry/ledger/export.csv")
    assert response.status_code == 503
    assert "503" in response.content.decode()


@pytest.mark.django_db
def test_export_jobs_left_queued_are_queued_again_once(world, monkeypatch):
    from exportjobs import tasks

    sent = []
    monkeypatch.setattr(tasks.export_run, "delay", lambda pk: sent.append(pk))
    user = world.mine.users[Role.SUPERVISOR]
    now = timezone.now()
    old = ExportJob.objects.create(user=user, kind="ledger", file_format="csv")
    ExportJob.objects.filter(pk=old.pk).update(created_at=now - timedelta(minutes=5))
    ExportJob.objects.create(user=user, kind="ledger", file_format="csv")  # just made
    assert services.export_jobs_requeue(now) == 1 and sent == [str(old.pk)]
    assert services.export_jobs_requeue(now) == 0  # not again within ten minutes
