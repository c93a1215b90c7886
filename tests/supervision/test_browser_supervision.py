"""Done-when, in a real browser: the supervisor opens the dashboard, drills down to
a county, opens an idle finding and issues a rectification order; the operator
answers with evidence; the supervisor closes it; the dashboard figure moves."""

from __future__ import annotations

import re

import pytest

from accounts.models import Role
from supervision.models import Finding, FindingKind, RectificationOrder
from supervision.services.rollups import rollup_day
from supervision.services.sweeps import findings_sweep
from tests.browser import browser_page  # noqa: F401  (fixture)
from tests.factories import PASSWORD
from tests.supervision.factories import idle_account, staff

pytestmark = pytest.mark.browser


def sign_in(page, base, user):
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(f"{base}/")


def figure(page, key: str) -> int:
    return int(page.locator(f"#figures [data-key={key}] .value").inner_text())


def test_supervision_flow_in_browser(browser_page, live_server, world, eager_celery):  # noqa: F811
    page, base, ns = browser_page, live_server.url, world.mine
    account = idle_account(ns.city_dept, days=20, name="甲一市公安微博")
    staff(account, ns)
    findings_sweep()
    rollup_day()
    finding = Finding.objects.get(kind=FindingKind.IDLE, account=account)
    supervisor, operator = ns.users[Role.SUPERVISOR], ns.users[Role.OPERATOR]

    sign_in(page, base, supervisor)
    page.goto(f"{base}/supervision/")
    assert figure(page, "idle_now") == 1
    assert figure(page, "orders_open") == 0
    open_before = figure(page, "findings_open")
    # Drill down: province -> city -> county.
    page.locator(f"#children tr[data-org='{ns.city.pk}'] a").click()
    page.wait_for_url(re.compile(rf"organization={ns.city.pk}$"))
    page.locator(f"#children tr[data-org='{ns.county.pk}'] a").click()
    page.wait_for_url(re.compile(rf"organization={ns.county.pk}$"))
    assert ns.county.name in page.locator("h1").inner_text()
    assert "<svg" in page.content()

    # The idle finding, and an order from it.
    page.goto(f"{base}/supervision/findings/?kind=idle")
    page.locator(f"#findings tr[data-id='{finding.pk}'] a").first.click()
    page.fill("#id_requirement", "恢复更新并说明原因。")
    page.click("#issue-order")
    page.wait_for_url(re.compile(r"/supervision/orders/\d+/$"))
    order = RectificationOrder.objects.get(finding=finding)
    page.goto(f"{base}/supervision/")
    assert figure(page, "orders_open") == 1

    # The operator answers with evidence (a link).
    sign_in(page, base, operator)
    page.goto(f"{base}/supervision/orders/{order.pk}/")
    page.fill("#id_text", "已恢复日常更新，安排专人值守。")
    page.fill("#id_evidence_url", "https://weibo.com/123456/latest")
    page.click("#answer-button")
    page.locator("#order-status[data-status=answered]").wait_for()

    # The supervisor verifies and closes it; the dashboard moves back.
    sign_in(page, base, supervisor)
    page.goto(f"{base}/supervision/orders/{order.pk}/")
    assert "https://weibo.com/123456/latest" in page.locator("#answers").inner_text()
    page.click("#close-button")
    page.locator("#order-status[data-status=closed]").wait_for()
    page.goto(f"{base}/supervision/")
    assert figure(page, "orders_open") == 0
    assert figure(page, "findings_open") == open_before - 1
    assert figure(page, "idle_now") == 0
