"""In a real browser: a supervisor registers a collector, copies its token once,
the collector delivers with `Prefer: respond-async` (202), the drain makes the
message, the page counts the delivery, and deactivating the collector shuts its
token out."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from accounts.models import Role
from inbox.models import Message
from inbox.services import ingest
from tests.browser import browser_page  # noqa: F401  (fixture)
from tests.inbox.factories import account_for
from tests.inbox.test_browser_inbox import sign_in

pytestmark = pytest.mark.browser


def _deliver(base, token, account):
    body = json.dumps({"account": account.pk, "channel": "weibo_comment",
                       "platform_message_id": "wb-c-1", "text": "路灯坏了三天了，请尽快修理。",
                       "received_at": "2025-03-03T09:30:00+08:00", "citizen": "网友丁"})
    request = urllib.request.Request(
        f"{base}/api/v1/inbox/collect/", data=body.encode(),
        headers={"Authorization": f"Collector {token}", "Content-Type": "application/json",
                 "Prefer": "respond-async"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def test_a_supervisor_registers_a_collector_and_shuts_it_out(
        browser_page, live_server, world):  # noqa: F811
    page, base, ns = browser_page, live_server.url, world.mine
    account = account_for(ns.city_dept, supervising=ns.city)
    sign_in(page, base, ns.users[Role.SUPERVISOR])
    page.goto(f"{base}/inbox/collectors/")
    form = page.locator("#collector-new")
    form.locator("input[name=name]").fill("微博评论采集器")
    form.locator("button.primary").click()
    page.locator("#issued-token").wait_for()
    token = page.locator("#token").input_value()
    assert len(token) > 30 and token in page.locator("#issued-token pre").first.inner_text()

    status, accepted = _deliver(base, token, account)
    assert status == 202 and accepted["state"] == "queued"
    assert ingest.payloads_drain()["created"] == 1
    assert Message.objects.filter(platform_message_id="wb-c-1").count() == 1

    # The token is not shown again; the delivery is counted and listed, without its text.
    page.goto(f"{base}/inbox/collectors/")
    assert page.locator("#issued-token").count() == 0
    row = page.locator("#collectors tr[data-collector]").first
    assert row.locator("td[data-state=processed]").inner_text() == "1"
    listed = page.locator(f"#collector-deliveries tr[data-payload='{accepted['payload']}']")
    assert listed.get_attribute("data-state") == "processed"
    assert "路灯" not in page.content()

    row.locator("button[value=deactivate]").click()
    page.locator("#collectors .badge.off").wait_for()
    assert _deliver(base, token, account)[0] == 401
