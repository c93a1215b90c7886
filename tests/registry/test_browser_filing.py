"""Done when: an operator files a new account in the browser, the supervisor approves
it, it appears in the accounts list (and the ledger, when present), and its history
shows both steps. Debian's Chromium through Playwright."""

from __future__ import annotations

import re

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from accounts.models import Role
from registry.models import AccountStatus, MediaAccount
from tests.browser import browser_page  # noqa: F401  (fixture)
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(page, base, user):
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_operator_files_supervisor_approves_history_shows_both(browser_page, live_server, world):  # noqa: F811
    page, base = browser_page, live_server.url
    operator, supervisor = world.mine.users[Role.OPERATOR], world.mine.city_supervisor

    _sign_in(page, base, operator)
    page.goto(f"{base}/registry/accounts/")
    main = page.locator("main")
    main.get_by_role("link", name="File a new account").or_(main.locator("a[href$='/registry/filings/new/']")).first.click()
    page.wait_for_url(re.compile(r"/registry/filings/new/$"))
    # Pasting the profile URL fills the platform and the account id.
    page.fill("#id_profile_url", "https://m.weibo.cn/u/5566778899?luicode=1")
    expect(page.locator("#id_platform_account_id")).to_have_value("5566778899")
    assert page.locator("#id_platform option:checked").inner_text() == "微博"
    # An address no platform knows gets a clear field error.
    page.fill("#id_profile_url", "https://example.com/nobody")
    page.wait_for_selector("#field-profile_url .field-error")
    page.fill("#id_profile_url", "https://m.weibo.cn/u/5566778899?luicode=1")
    expect(page.locator("#field-profile_url .field-error")).to_have_count(0)
    page.fill("#id_display_name", "甲一公安")
    page.check(f"input[name=operators][value='{operator.pk}']")
    page.check(f"input[name=operators][value='{world.mine.users[Role.OUTSOURCED_OPERATOR].pk}']")
    page.click("#filing-form button[type=submit]")
    page.wait_for_load_state()
    errors = page.locator(".field-error, .alert").all_inner_texts()
    assert not errors, errors
    page.wait_for_url(re.compile(r"/registry/filings/\d+/$"))
    number = page.locator("h1").inner_text()
    assert "330100-" in number
    filing_url = page.url

    # The unit's principal leader signs the opening off in the system (rule 8).
    _sign_in(page, base, world.mine.users[Role.PRINCIPAL_LEADER])
    page.goto(filing_url)
    assert page.locator("#leader-signoff").get_attribute("data-status") == "pending"
    page.click("#signoff-form button[value=approve]")
    page.wait_for_selector("#leader-signoff[data-status=approved]")

    _sign_in(page, base, supervisor)
    page.goto(f"{base}/registry/filings/queue/")
    row = page.locator("#queue-table tbody tr").first
    assert "甲一公安" in row.inner_text()
    row.locator("a").first.click()
    page.wait_for_url(re.compile(r"/registry/filings/\d+/$"))
    page.click("#decide-form button[value=approve]")
    page.wait_for_selector("#filing-status .badge.ok")

    account = MediaAccount.objects.get(platform_account_id="5566778899")
    assert account.status == AccountStatus.ACTIVE
    page.goto(f"{base}/registry/accounts/?q=甲一公安")
    assert "甲一公安" in page.locator("#account-table").inner_text()
    try:
        ledger = reverse("registry:ledger")
    except NoReverseMatch:
        ledger = None
    if ledger:
        page.goto(f"{base}{ledger}")
        assert "甲一公安" in page.locator("main").inner_text()

    page.goto(f"{base}/registry/accounts/{account.pk}/history/")
    # Actions show as labels; the codes stay as tooltips.
    for code in ("filing.submitted", "filing.leader_approved", "filing.approved",
                 "media_account.opened"):
        assert page.locator(f'#history-events [title="{code}"]').count() == 1, code
    assert "filing.submitted" not in page.locator("#history-events").inner_text()
    filings = page.locator("#history-filings").inner_text()
    assert operator.username in filings or str(operator) in filings
    assert str(supervisor) in filings
