"""Done-when, in a real browser: a message arrives through the collector API, the
liaison transfers it, the department signs for it and replies, the department head
approves, the reply is published, the citizen rates it dissatisfied from the reply
link, the message reopens, and the supervisor's SLA overview moves."""

from __future__ import annotations

import json
import urllib.request

import pytest

from accounts.models import Role
from inbox.models import Message, Status
from inbox.services import ingest
from tests.browser import browser_page  # noqa: F401  (fixture)
from tests.factories import PASSWORD, make_user
from tests.inbox.factories import account_for

pytestmark = pytest.mark.browser


def sign_in(page, base, user):
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_inbox_flow_in_browser(browser_page, live_server, world, tmp_path):  # noqa: F811
    page, base, ns = browser_page, live_server.url, world.mine
    account = account_for(ns.city_dept, supervising=ns.city)
    _c, token = ingest.collector_create(actor=ns.users[Role.SUPERVISOR],
                                        organization=ns.province, name="采集器")
    county_operator = make_user(ns.county_dept, Role.OPERATOR)
    county_head = make_user(ns.county_dept, Role.DEPARTMENT_HEAD)

    # The supervisor's overview before: nothing received.
    sign_in(page, base, ns.users[Role.SUPERVISOR])
    page.goto(f"{base}/inbox/sla/?org={ns.province.pk}")
    assert page.inner_text("#kpi-received") == "0"

    # A collector delivers the message.
    body = json.dumps({"account": account.pk, "channel": "weibo_comment",
                       "platform_message_id": "wb-9001",
                       "text": "学校门口上下学时段交通拥堵，建议调整放学时间。",
                       "received_at": "2025-03-03T09:30:00+08:00", "citizen": "网友丙"})
    request = urllib.request.Request(f"{base}/api/v1/inbox/collect/", data=body.encode(),
                                     headers={"Authorization": f"Collector {token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 202  # stored; the worker's drain makes the message
    assert ingest.payloads_drain()["created"] == 1
    message = Message.objects.get(platform_message_id="wb-9001")

    # The liaison finds it on the routing board and transfers it to the county.
    sign_in(page, base, ns.users[Role.LIAISON])
    page.goto(f"{base}/inbox/routing/")
    page.click(f"#lane-new li[data-message='{message.pk}'] a")
    page.select_option("#transfer-to", str(ns.county_dept.pk))
    page.click("#transfer")
    assert ns.county_dept.name in page.inner_text("#handling-org")
    page.screenshot(path=str(tmp_path / "message.png"), full_page=True)

    # The county department signs for it and drafts a reply.
    sign_in(page, base, county_operator)
    page.goto(f"{base}/inbox/{message.pk}/")
    page.click("#sign-for")
    page.fill("#reply-text", "已与教育部门沟通，将错峰放学并增派警力疏导。")
    page.click("#submit-reply")
    page.locator("#replies").wait_for()
    assert "待审批" in page.inner_text("#replies")

    # The department head approves; the operator publishes.
    sign_in(page, base, county_head)
    page.goto(f"{base}/inbox/{message.pk}/")
    page.click("#replies button.approve")
    page.locator("#replies button.publish").wait_for()
    sign_in(page, base, county_operator)
    page.goto(f"{base}/inbox/{message.pk}/")
    page.click("#replies button.publish")
    page.locator("#status").wait_for()
    assert page.inner_text("#status") == "已答复"

    # The citizen rates it from the reply link: dissatisfied reopens it.
    page.context.clear_cookies()
    page.goto(f"{base}/inbox/rate/{message.rating_token}/")
    page.check("input[value=dissatisfied]")
    page.click("form button[type=submit]")
    page.locator("#thanks").wait_for()
    message.refresh_from_db()
    assert message.status == Status.IN_PROGRESS and message.reopen_count == 1

    # The supervisor's overview moved.
    sign_in(page, base, ns.users[Role.SUPERVISOR])
    page.goto(f"{base}/inbox/sla/?org={ns.province.pk}&from=2025-03-01&to=2025-03-31")
    assert page.inner_text("#kpi-received") == "1"
    assert page.inner_text("#kpi-reopen") == "100.0%"
    assert page.inner_text("#kpi-satisfaction") == "0.0%"
    page.screenshot(path=str(tmp_path / "sla.png"), full_page=True)
