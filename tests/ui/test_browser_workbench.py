"""Done-when, in a real browser, for operator, reviewer, supervisor and auditor: sign
in, the workbench shows the right count, one click reaches the filtered list, the item
is handled there, and back on the workbench the count has dropped."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from moderation.services.directives import directive_issue
from notifications.services import notify
from tests.browser import browser_page  # noqa: F401  (fixture)
from tests.factories import PASSWORD
from tests.moderation.factories import make_account, make_post, submit
from tests.registry.helpers import file_open

pytestmark = pytest.mark.browser


def sign_in(page, base, user):
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(f"{base}/")


def count(page, key) -> int:
    return int(page.locator(f"li[data-card={key}] .wb-count").inner_text())


def open_card(page, key):
    page.locator(f"li[data-card={key}] a").click()
    page.wait_for_load_state("load")


def test_each_role_goes_from_the_workbench_to_the_item_and_back(browser_page, live_server,  # noqa: F811
                                                                world):
    page, base, ns = browser_page, live_server.url, world.mine
    make_account(ns.city_dept, "weibo", name="甲一市公安微博")
    make_account(ns.city_dept, "douyin", name="甲一市公安抖音")
    directive_issue(actor=ns.users[Role.SUPERVISOR], organization=ns.province,
                    title="转发：防汛通知", source_url="https://www.gov.cn/a.html",
                    issued_at=timezone.now() - timedelta(days=2))
    submit(make_post(ns, title="待审稿件"), ns)
    file_open(ns, name="甲一新号", code="bilibili")
    notify(recipients=[ns.users[Role.AUDITOR]], organization=ns.province, kind="test",
           message="年度考核材料已生成", dedupe_key="wb-1")

    # Operator: two reposts to do, overdue (red); confirm one in the filtered list.
    sign_in(page, base, ns.users[Role.OPERATOR])
    assert count(page, "reposts") == 2
    assert "status-overdue" in page.locator("li[data-card=reposts]").get_attribute("class")
    open_card(page, "reposts")
    assert re.search(r"/moderation/directives/#to-repost$", page.url)
    rows = page.locator("#to-repost tbody tr")
    assert rows.count() == 2
    rows.first.locator("input[name=repost_url]").fill("https://weibo.com/1/repost")
    rows.first.locator("button[type=submit]").click()
    page.locator(".message.success").wait_for()
    page.goto(f"{base}/")
    assert count(page, "reposts") == 1

    # Reviewer (department head): one post waits; approve it from the queue.
    sign_in(page, base, ns.users[Role.DEPARTMENT_HEAD])
    assert count(page, "review_waiting") == 1
    open_card(page, "review_waiting")
    assert page.url.endswith("/moderation/queue/")
    page.locator("#queue a", has_text="待审稿件").click()
    page.click("#approve-button")
    page.locator("#review-steps li[data-role=department_head][data-status=approved]").wait_for()
    page.goto(f"{base}/")
    assert count(page, "review_waiting") == 0
    assert "status-done" in page.locator("li[data-card=review_waiting]").get_attribute("class")

    # Province supervisor: the directive it issued has one repost outstanding; the
    # city's filing is the city's to decide (分级备案), not the province's.
    sign_in(page, base, ns.users[Role.SUPERVISOR])
    assert count(page, "directives_issued") == 1
    assert count(page, "filings_to_decide") == 0

    # City supervisor: one filing to approve; approve it from the queue.
    sign_in(page, base, ns.city_supervisor)
    assert count(page, "filings_to_decide") == 1
    open_card(page, "filings_to_decide")
    assert page.url.endswith("/registry/filings/queue/")
    page.locator("#queue-table tbody tr").first.locator("a").first.click()
    page.wait_for_url(re.compile(r"/registry/filings/\d+/$"))
    page.click("#decide-form button[value=approve]")
    page.wait_for_selector("#filing-status .badge.ok")
    page.goto(f"{base}/")
    assert count(page, "filings_to_decide") == 0

    # Auditor: one unread notification (also on the bar); read it from the list.
    sign_in(page, base, ns.users[Role.AUDITOR])
    assert count(page, "notifications") == 1
    assert page.locator(".user-tools a[data-key=notifications] .nav-badge").inner_text() == "1"
    open_card(page, "notifications")
    assert page.url.endswith("/notifications/?unread=1")
    page.get_by_role("row", name=re.compile("年度考核材料已生成")).locator(
        "button[type=submit]").click()
    page.wait_for_load_state("load")
    page.goto(f"{base}/")
    assert count(page, "notifications") == 0
    assert page.locator(".user-tools a[data-key=notifications] .nav-badge").count() == 0


def test_the_cards_of_messages_rectification_findings_and_the_assessment(
        browser_page, live_server, world):  # noqa: F811
    """Issue 13, item 1, in the browser: the operator answers the rectification order
    its workbench counts, the supervisor dismisses one of the open findings it
    counts, and the auditor reaches the frozen year from its card."""
    from inbox.services.timers import inbox_sweep
    from supervision.services import findings, rectification
    from tests.assessment.test_freeze import YEAR, _frozen
    from tests.inbox.factories import receive

    page, base, ns = browser_page, live_server.url, world.mine
    supervisor = ns.users[Role.SUPERVISOR]
    ordered = make_account(ns.city_dept, "weibo", name="甲一市公安微博")
    other = make_account(ns.city_dept, "douyin", name="甲一市公安抖音")
    finding = findings.finding_raise_manual(
        actor=supervisor, kind="security_incident", account=ordered,
        note="泄露内部文件", severity="veto")
    rectification.order_issue(actor=supervisor, finding=finding,
                              requirement="删除并说明情况", days=10)
    loose = findings.finding_raise_manual(actor=supervisor, kind="other", account=other,
                                          note="简介不完整", severity="notice")
    receive(ordered, at=timezone.now() - timedelta(days=10))
    inbox_sweep(timezone.now())
    _frozen(ns)

    # Operator: one order to answer, two findings assigned, one message past due.
    sign_in(page, base, ns.users[Role.OPERATOR])
    assert count(page, "orders_to_answer") == 1
    assert count(page, "findings_assigned") == 2
    assert "status-overdue" in page.locator(
        "li[data-card=findings_assigned]").get_attribute("class")
    assert count(page, "messages_due") == 1
    open_card(page, "orders_to_answer")
    assert page.url.endswith("/supervision/orders/?status=to_answer")
    rows = page.locator("#orders tbody tr")
    assert rows.count() == 1
    rows.first.locator("a").first.click()
    page.fill("#id_text", "已删除相关内容，并提交情况说明。")
    page.fill("#id_evidence_url", "https://weibo.com/1/statement")
    page.click("#answer-button")
    page.locator(".message.success").wait_for()
    page.goto(f"{base}/")
    assert count(page, "orders_to_answer") == 0

    # Supervisor: two open findings (one veto: red), one SLA breach; dismiss one.
    sign_in(page, base, supervisor)
    assert count(page, "findings_open") == 2
    assert "status-overdue" in page.locator(
        "li[data-card=findings_open]").get_attribute("class")
    assert count(page, "sla_breaches") == 1
    open_card(page, "findings_open")
    assert page.url.endswith("/supervision/findings/?status=open")
    assert page.locator("#findings tbody tr").count() == 2
    page.locator(f"#findings tr[data-id='{loose.pk}'] a").first.click()
    dismiss = page.locator("form[action$='/close/']")
    dismiss.locator("input[name=note]").fill("已核实，简介已补全")
    dismiss.locator("button[type=submit]").click()
    page.locator(".message.success").wait_for()
    page.goto(f"{base}/")
    assert count(page, "findings_open") == 1

    # Auditor: one frozen year; the card opens the list of annual assessments.
    sign_in(page, base, ns.users[Role.AUDITOR])
    assert count(page, "assessment_years") == 1
    open_card(page, "assessment_years")
    assert page.url.endswith("/assessment/years/")
    assert page.locator("#freezes tbody tr", has_text=str(YEAR)).count() == 1
