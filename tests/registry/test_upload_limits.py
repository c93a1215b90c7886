"""Ledger import uploads (issue 8, items 5 and 11): no upload is parsed inside a web
request; the bounds are refused before the file is kept; a broker outage answers
503 with the file kept for a retry; the task parses under memory and time limits."""

from __future__ import annotations

import io

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.urls import reverse
from django.utils import translation
from kombu.exceptions import OperationalError

from accounts.models import Role
from bench.spreadsheet_guard import bomb
from registry.services import ledger_import
from registry.tasks_ledger import ledger_import_check
from tests.registry.test_import import _var_dir, api, xlsx  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Messages are matched in English (the tasks run outside any request)."""
    with translation.override("en"):
        yield


@pytest.fixture
def queued(monkeypatch):
    """The broker, recorded: the task is published, not run (no worker here)."""
    calls = []

    def publish(args=None, **kwargs):
        calls.append(args)

    monkeypatch.setattr(ledger_import_check, "apply_async", publish)
    return calls


@pytest.fixture
def broker_down(monkeypatch):
    def publish(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr(ledger_import_check, "apply_async", publish)


@pytest.fixture
def parse_forbidden(monkeypatch):
    """Every parser of uploaded spreadsheets raises: a request that parses fails."""

    def refuse(*args, **kwargs):
        raise AssertionError("an upload was parsed in the request")

    for target in (
        "registry.services.ledger_import.read_xlsx",
        "registry.services.ledger_import.read_csv",
        "common.spreadsheets.xlsx_rows",
        "openpyxl.load_workbook",
    ):
        monkeypatch.setattr(target, refuse)


def good_file() -> io.BytesIO:
    file = io.BytesIO(xlsx([["某单位", "微博", "某账号", "1234567890"]]))
    file.name = "ledger.xlsx"
    return file


def kept_files(settings) -> list:
    return sorted(p.name for p in (settings.VAR_DIR / "imports").glob("*.upload"))


@pytest.fixture
def supervisor(world, client):
    user = world.mine.users[Role.SUPERVISOR]
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user


def test_the_page_only_queues_the_check(supervisor, client, queued, parse_forbidden):
    """Small files used to be checked inside the request; now every file is queued."""
    response = client.post(reverse("registry:ledger_import"), {"file": good_file()})
    assert response.status_code == 302
    [args] = queued
    assert args[1] == supervisor.pk
    assert ledger_import.stage_load(args[0], supervisor)["state"] == "queued"


def test_the_api_only_queues_the_check(supervisor, queued, parse_forbidden):
    response = api(supervisor).post(
        "/api/v1/ledger-import/", {"file": good_file()}, format="multipart"
    )
    assert response.status_code == 202, response.content
    assert response.json()["state"] == "queued"
    assert len(queued) == 1


def test_a_file_past_the_bounds_is_refused_and_not_kept(supervisor, settings, queued):
    file = io.BytesIO(bomb())
    file.name = "bomb.xlsx"
    response = api(supervisor).post(
        "/api/v1/ledger-import/", {"file": file}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "spreadsheet_refused"
    assert "A1:CV20000" in response.json()["fields"]["file"][0]
    assert queued == [] and kept_files(settings) == []


def test_broker_down_answers_503_and_keeps_the_file(
    supervisor, client, settings, monkeypatch, broker_down
):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    response = client.post(reverse("registry:ledger_import"), {"file": good_file()})
    assert response.status_code == 503
    assert "稍后" in response.content.decode()  # the Chinese message, with a retry
    [kept] = kept_files(settings)
    stage_id = kept.removesuffix(".upload")
    stage = ledger_import.stage_load(stage_id, supervisor)
    assert stage["state"] == "queued" and stage["queue_failed"]
    retry = reverse("registry:ledger_import_retry", args=[stage_id])
    assert retry in response.content.decode()

    calls = []
    monkeypatch.setattr(
        ledger_import_check,
        "apply_async",
        lambda args=None, **kwargs: calls.append(args),
    )
    assert client.post(retry).status_code == 302
    assert calls == [(stage_id, supervisor.pk)]
    assert not ledger_import.stage_load(stage_id, supervisor)["queue_failed"]
    # Queued once: a second retry does not check the file twice.
    assert client.post(retry).status_code == 302
    assert len(calls) == 1


def test_broker_down_in_the_api(supervisor, settings, broker_down):
    response = api(supervisor).post(
        "/api/v1/ledger-import/", {"file": good_file()}, format="multipart"
    )
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "broker_unavailable"
    assert kept_files(settings) == [f"{body['id']}.upload"]


def test_the_task_parses_under_a_memory_limit(supervisor, settings, monkeypatch):
    """A parse that grows past SPREADSHEET_PARSE_MEMORY_MB is stopped and reported,
    instead of growing the worker until the kernel kills it."""
    settings.SPREADSHEET_PARSE_MEMORY_MB = 64

    def greedy(data):
        return bytearray(400 * 1024 * 1024)

    monkeypatch.setattr(ledger_import, "read_xlsx", greedy)
    stage = ledger_import.import_stage(
        user=supervisor, filename="a.xlsx", data=good_file().getvalue()
    )
    ledger_import_check(stage["id"], supervisor.pk)
    stage = ledger_import.stage_load(stage["id"], supervisor)
    assert stage["state"] == "checked"
    assert "64 MB" in stage["file_errors"][0]


def test_the_task_has_time_limits_and_reports_running_out(
    supervisor, settings, monkeypatch
):
    assert ledger_import_check.soft_time_limit == settings.SPREADSHEET_TASK_SOFT_SECONDS
    assert ledger_import_check.time_limit == settings.SPREADSHEET_TASK_HARD_SECONDS
    assert ledger_import_check.soft_time_limit < ledger_import_check.time_limit

    def slow(data):
        raise SoftTimeLimitExceeded

    monkeypatch.setattr(ledger_import, "read_xlsx", slow)
    stage = ledger_import.import_stage(
        user=supervisor, filename="a.xlsx", data=good_file().getvalue()
    )
    ledger_import_check(stage["id"], supervisor.pk)
    stage = ledger_import.stage_load(stage["id"], supervisor)
    assert stage["state"] == "failed"
    assert "seconds" in stage["file_errors"][0]


def test_the_task_checks_the_bounds_again(supervisor, settings):
    """A file kept before a limit was lowered is refused by the task, unparsed."""
    stage = ledger_import.import_stage(
        user=supervisor, filename="a.xlsx", data=good_file().getvalue()
    )
    settings.SPREADSHEET_MAX_CELLS = 10
    ledger_import_check(stage["id"], supervisor.pk)
    stage = ledger_import.stage_load(stage["id"], supervisor)
    # The dimension's message (the reader's own bound would not name the range).
    assert "(A1:J2)" in stage["file_errors"][0]


def test_the_counterfeit_list_upload_is_bounded(supervisor, client):
    """Out of bounds: refused at upload, before anything is kept or queued."""
    file = io.BytesIO(bomb())
    file.name = "names.xlsx"
    response = client.post(reverse("registry:counterfeit"), {"file": file})
    assert response.status_code == 400
    assert "A1:CV20000" in response.content.decode()


def test_an_uploaded_counterfeit_list_is_checked_in_a_task(
    supervisor, client, world, parse_forbidden, monkeypatch
):
    """Issue 8 item 5: the request keeps the list and queues its check; the page shows
    "checking" until the task has run, then the results; the API answers 202 with a
    status route; nobody else sees the result."""
    from rest_framework.test import APIClient

    from registry import counterfeit
    from registry.tasks_ledger import counterfeit_file_check

    sent = []
    monkeypatch.setattr(counterfeit_file_check, "apply_async",
                        lambda args=None, **kw: sent.append(args))
    file = io.BytesIO("平安甲一\n甲一发布\n".encode())
    file.name = "names.csv"
    response = client.post(reverse("registry:counterfeit"), {"file": file})
    assert response.status_code == 302
    result_id = sent[0][0]
    assert response["Location"] == reverse("registry:counterfeit_result", args=[result_id])
    page = client.get(response["Location"]).content.decode()
    assert 'id="counterfeit-progress"' in page and 'http-equiv="refresh"' in page
    monkeypatch.undo()  # the worker may parse
    counterfeit.upload_check_run(user=supervisor, result_id=result_id)
    page = client.get(response["Location"]).content.decode()
    assert 'id="counterfeit-progress"' not in page and "平安甲一" in page

    api = APIClient()
    api.force_authenticate(supervisor)
    monkeypatch.setattr(counterfeit_file_check, "apply_async",
                        lambda args=None, **kw: sent.append(args))
    file = io.BytesIO("平安甲一\n".encode())
    file.name = "names.csv"
    queued = api.post("/api/v1/counterfeit-check/", {"file": file}, format="multipart")
    assert queued.status_code == 202, queued.content
    status_url = queued.json()["status_url"]
    assert api.get(status_url).json()["state"] == "queued"
    counterfeit.upload_check_run(user=supervisor, result_id=queued.json()["id"])
    done = api.get(status_url).json()
    assert done["state"] == "done" and done["checked"] == 1
    other = APIClient()
    other.force_authenticate(world.other.users[Role.SUPERVISOR])
    assert other.get(status_url).status_code == 404
