"""Message import uploads (issue 8, items 5 and 11): the request never parses the
file; past the bounds it is refused unkept; a broker outage answers 503 and keeps
it for the retry; the confirmation writes the checked rows without parsing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from kombu.exceptions import OperationalError

from accounts.models import Role
from bench.spreadsheet_guard import bomb
from inbox.models import Message
from inbox.tasks import messages_import_check

pytestmark = pytest.mark.django_db
CSV = "渠道,收到时间,内容\n热线转办,2025-03-03 09:30,请问办事大厅几点开门？\n".encode()


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def operator(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(world.mine.users[Role.OPERATOR])
    return client


@pytest.fixture
def parse_forbidden(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an upload was parsed in the request")

    for target in ("inbox.services.imports._check",
                   "inbox.services.imports.read_csv",
                   "inbox.services.imports.read_xlsx"):
        monkeypatch.setattr(target, refuse)


def kept(settings) -> list[str]:
    folder = settings.VAR_DIR / "inbox-imports"
    return sorted(p.stem for p in folder.glob("*.upload")) if folder.exists() else []


def post(client, world, data=CSV, name="m.csv"):
    return client.post("/inbox/import/", {"organization": world.mine.city_dept.pk,
                                          "file": SimpleUploadedFile(name, data)})


def test_the_request_only_queues_and_the_confirm_does_not_parse(
        world, operator, monkeypatch, parse_forbidden, settings):
    queued = []
    monkeypatch.setattr(messages_import_check, "apply_async",
                        lambda args=None, **kw: queued.append(args))
    response = post(operator, world)
    assert response.status_code == 302
    [(stage, user_id)] = queued
    assert kept(settings) == [stage]
    page = operator.get(response["Location"])
    assert page.status_code == 200 and page.context["report"] is None  # checking
    monkeypatch.undo()  # the worker: the parser is back
    messages_import_check(stage, user_id)
    assert operator.get(response["Location"]).context["report"].ok == 1
    # The confirmation writes the checked rows; the parser is forbidden again.
    for target in ("inbox.services.imports._check", "inbox.services.imports.read_csv"):
        monkeypatch.setattr(target, lambda *a, **k: pytest.fail("parsed on confirm"))
    done = operator.post("/inbox/import/", {"stage": stage})
    assert done.status_code == 302 and Message.objects.count() == 1
    assert kept(settings) == []


def test_past_the_bounds_refused_and_not_kept(world, operator, settings, monkeypatch):
    monkeypatch.setattr(messages_import_check, "apply_async",
                        lambda *a, **k: pytest.fail("queued"))
    response = post(operator, world, bomb(), "m.xlsx")
    assert response.status_code == 200
    assert "A1:CV20000" in response.content.decode()
    assert kept(settings) == []


def test_broker_down_answers_503_keeps_the_file_and_retries(
        world, operator, settings, monkeypatch):
    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr(messages_import_check, "apply_async", down)
    response = post(operator, world)
    assert response.status_code == 503
    assert "稍后" in response.content.decode()
    [stage] = kept(settings)
    assert f'name="retry" value="{stage}"' in response.content.decode()
    queued = []
    monkeypatch.setattr(messages_import_check, "apply_async",
                        lambda args=None, **kw: queued.append(args))
    assert operator.post("/inbox/import/", {"retry": stage}).status_code == 302
    assert operator.post("/inbox/import/", {"retry": stage}).status_code == 302
    assert len(queued) == 1 and queued[0][0] == stage


def test_the_check_task_has_time_limits():
    from django.conf import settings

    assert messages_import_check.soft_time_limit == settings.SPREADSHEET_TASK_SOFT_SECONDS
    assert messages_import_check.time_limit == settings.SPREADSHEET_TASK_HARD_SECONDS
