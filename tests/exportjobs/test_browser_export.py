"""Done when (issue 9): in the browser, a national supervisor exports the whole ledger,
sees the progress, and downloads the file. Debian's Chromium through Playwright.

The export is above EXPORT_SYNC_MAX_ROWS (lowered for the test), so it becomes a job;
the test plays the Celery worker (the queued job id is taken from .delay, the
progress callback's write and the run itself are the worker's code)."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from accounts import services as account_services
from accounts.models import Role
from exportjobs import services
from exportjobs.models import ExportJob
from tests.browser import browser_page  # noqa: F401  (fixture)
from tests.factories import PASSWORD, make_user
from tests.registry.ledger_factories import make_account

pytestmark = pytest.mark.browser


def test_national_supervisor_exports_the_whole_ledger(
    browser_page, live_server, world, settings, monkeypatch, tmp_path  # noqa: F811
):
    settings.EXPORT_SYNC_MAX_ROWS = 5
    settings.MEDIA_ROOT = tmp_path
    queued: list[str] = []
    monkeypatch.setattr(
        "exportjobs.tasks.export_run.delay", lambda job_id: queued.append(job_id)
    )
    # A supervisor over both provinces (every root of the tree): national scope.
    national = make_user(world.mine.province, Role.SUPERVISOR, username="national")
    account_services.membership_grant(
        actor=None, user=national, organization=world.other.province, role=Role.SUPERVISOR
    )
    for i in range(4):
        make_account(world.mine.city_dept, f"甲号{i}")
        make_account(world.other.county_dept, f"乙号{i}")

    page, base = browser_page, live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", national.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/registry/ledger/")
    page.click("#export-xlsx")
    page.wait_for_url(re.compile(r"/exports/[0-9a-f-]+/$"))
    assert page.locator("#export-progress progress").is_visible()
    assert len(queued) == 1
    job = ExportJob.objects.get(pk=queued[0])
    assert job.user_id == national.pk and job.total == 8

    # The worker reports progress; the page polls and shows it.
    ExportJob.objects.filter(pk=job.pk).update(state="running", done=3)
    expect(page.locator("#export-progress-text")).to_contain_text("3")
    assert "3" in page.locator("#export-progress-text").inner_text()
    # The worker finishes; the page reloads with the download link.
    ExportJob.objects.filter(pk=job.pk).update(state="queued")
    services.export_job_run(str(job.pk))
    link = page.locator("#export-download")
    link.wait_for()
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.startswith("全国_")
    assert download.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(open(download.path(), "rb").read()))
    names = {row[10] for row in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert names == {f"甲号{i}" for i in range(4)} | {f"乙号{i}" for i in range(4)}
