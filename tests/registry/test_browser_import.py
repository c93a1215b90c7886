"""Done when (issue 7): in the browser, a county operator imports a sheet of three
accounts; they appear as pending with opening filings; the county department's
principal leader signs them off (rule 8); the county supervisor (not the province) is
notified and approves them; they become active. Debian's Chromium through Playwright."""

from __future__ import annotations

import re

import openpyxl
import pytest

from accounts.models import Role
from notifications.models import Notification
from registry.models import AccountStatus, Filing, FilingStatus, MediaAccount
from tests.browser import browser_page  # noqa: F401  (fixture)
from tests.factories import PASSWORD, make_user
from tests.registry.test_import import HEADER

pytestmark = pytest.mark.browser

NAMES = ["甲一县教育", "甲一县教育抖音", "甲一县教育头条"]


def _sign_in(page, base, user):
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_county_operator_imports_county_supervisor_approves(  # noqa: PLR0915
    browser_page, live_server, world, settings, tmp_path, monkeypatch  # noqa: F811
):
    """DOMAIN rules 1 and 32: an operator's import creates pending accounts with
    opening filings; the supervising (county) level, not the province, is told and
    decides; on approval the accounts are active."""
    settings.VAR_DIR = tmp_path
    from config.celery import app

    # No worker in this test: the check runs as soon as it is queued.
    monkeypatch.setitem(app.conf, "CELERY_TASK_ALWAYS_EAGER", True)
    page, base = browser_page, live_server.url
    ns = world.mine
    county_supervisor = make_user(ns.county, Role.SUPERVISOR, username="甲-county-supervisor")
    operator = make_user(ns.county_dept, Role.OPERATOR, username="甲-county-operator")
    leader = make_user(ns.county_dept, Role.PRINCIPAL_LEADER, username="甲-county-leader")
    province = ns.users[Role.SUPERVISOR]

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for name, platform, account_id in zip(
        NAMES, ["微博", "抖音", "今日头条"], ["8800000001", "dy8800000002", "tt8800000003"],
        strict=True,
    ):
        sheet.append([ns.county_dept.name, platform, name, account_id, "", "机构", "已认证",
                      "正常", 100, "2026-01-05"])
    path = tmp_path / "county.xlsx"
    workbook.save(path)

    _sign_in(page, base, operator)
    page.goto(f"{base}/registry/ledger/import/")
    page.set_input_files("#id_file", str(path))
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(re.compile(r"/registry/ledger/import/[0-9a-f-]+/$"))
    page.locator("form[action$='/confirm/'] button[type=submit]").click()
    page.wait_for_selector(".message.success, .messages .success, [role=status]")
    page.screenshot(path=str(tmp_path / "after-import.png"))

    accounts = MediaAccount.objects.filter(organization=ns.county_dept)
    assert sorted(accounts.values_list("display_name", flat=True)) == sorted(NAMES)
    assert set(accounts.values_list("status", flat=True)) == {AccountStatus.PENDING}
    filings = Filing.objects.filter(account__in=accounts, status=FilingStatus.SUBMITTED)
    assert filings.count() == 3
    # The operator sees them pending in the ledger, with their opening filings.
    page.goto(f"{base}/registry/ledger/?status=pending")
    ledger = page.locator("main").inner_text()
    assert all(name in ledger for name in NAMES), ledger
    page.goto(f"{base}/registry/filings/")
    listed = page.locator("main").inner_text()
    assert all(f.number in listed for f in filings)

    # The department's principal leader signs the three openings off at once (rule 8);
    # no supervisor is told before that.
    assert not Notification.objects.filter(kind="registry.filing_submitted").exists()
    _sign_in(page, base, leader)
    assert page.locator("li[data-card=filings_to_sign] .wb-count").inner_text() == "3"
    page.goto(f"{base}/registry/filings/sign-off/")
    for box in page.locator("#signoff-table input[name=filing]").all():
        box.check()
    page.click("#sign-selected")
    page.wait_for_selector(".message.success")
    page.screenshot(path=str(tmp_path / "signed-off.png"))

    # Only the county's supervisor is told; the province is not.
    told = set(Notification.objects.filter(kind="registry.filing_submitted")
               .values_list("recipient", flat=True))
    assert told == {county_supervisor.pk}
    _sign_in(page, base, province)
    page.goto(f"{base}/registry/filings/queue/")
    assert not any(name in page.locator("main").inner_text() for name in NAMES)

    _sign_in(page, base, county_supervisor)
    page.goto(f"{base}/notifications/")
    assert "3" in page.locator("main").inner_text()
    for _ in range(3):
        page.goto(f"{base}/registry/filings/queue/")
        page.locator("#queue-table tbody tr a").first.click()
        page.wait_for_url(re.compile(r"/registry/filings/\d+/$"))
        page.click("#decide-form button[value=approve]")
        page.wait_for_selector("#filing-status .badge.ok")
    page.screenshot(path=str(tmp_path / "approved.png"))

    assert set(accounts.values_list("status", flat=True)) == {AccountStatus.ACTIVE}
    page.goto(f"{base}/registry/ledger/?status=active")
    ledger = page.locator("main").inner_text()
    assert all(name in ledger for name in NAMES)
