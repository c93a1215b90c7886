"""/healthz reports whether a worker has consumed the queue recently."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.test import Client
from django.utils import timezone

from common.tasks import worker_heartbeat


def test_healthz_reports_a_missing_and_a_live_worker(db):
    body = Client().get("/healthz").json()
    assert body["worker"]["ok"] is False and body["status"] == "degraded"
    worker_heartbeat()
    body = Client().get("/healthz").json()
    assert body["worker"]["ok"] is True
    assert body["status"] == ("ok" if body["broker"]["ok"] else "degraded")
    with time_machine.travel(timezone.now() + timedelta(minutes=4)):
        body = Client().get("/healthz").json()
    assert body["worker"]["ok"] is False and body["status"] == "degraded"


def test_the_visibility_timeout_outlasts_the_longest_task():
    import pytest

    import config.settings as project

    if not project.REDIS_URL:
        reason = "REDIS_URL unset: the filesystem broker has no visibility timeout"
        print(reason)
        pytest.skip(reason)
    assert project.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > 3600
