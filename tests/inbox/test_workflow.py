"""The handling workflow through the API: accept, transfer, sign for, reply with
approval, publish, rating, reopen, problem case; errors change nothing; the history
and the audit trail have every step; lists keep a constant query count."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from inbox import metrics
from inbox.models import Message, MessageEvent, Reply, Status
from tests.factories import make_user
from tests.inbox.factories import account_for, manual, receive


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def post(c, url, body=None):
    return c.post(url, data=json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def flow(world):
    mine = world.mine
    account = account_for(mine.city_dept, supervising=mine.city)
    message = receive(account, "投诉：小区门口占道经营，噪音扰民。", at=timezone.now())
    return mine, message


def test_transfer_reply_with_approval_rate_and_reopen(flow):
    mine, message = flow
    base = f"/api/v1/inbox/messages/{message.pk}"
    liaison = client_for(mine.users[Role.LIAISON])
    r = post(liaison, f"{base}/transfer/", {"to_organization": mine.county_dept.pk,
                                            "note": "属地管理"})
    assert r.status_code == 200, r.content
    assert r.json()["organization"] == mine.county_dept.pk
    # The liaison still sees it (it came to the city department), but no longer acts.
    assert liaison.get(f"{base}/").status_code == 200
    assert post(liaison, f"{base}/accept/").status_code == 403
    county_operator = make_user(mine.county_dept, Role.OPERATOR)
    county_head = make_user(mine.county_dept, Role.DEPARTMENT_HEAD)
    op = client_for(county_operator)
    assert post(op, f"{base}/sign-for/").status_code == 200
    assert post(op, f"{base}/sign-for/").status_code == 409
    r = post(op, f"{base}/reply/", {"text": "已责成执法队清理，感谢监督。"})
    assert r.status_code == 201
    reply = Reply.objects.get(message=message)
    assert reply.state == Reply.State.PENDING and reply.needs_approval
    assert post(op, f"/api/v1/inbox/replies/{reply.pk}/publish/").status_code == 409
    assert post(op, f"/api/v1/inbox/replies/{reply.pk}/approve/").status_code == 403
    head = client_for(county_head)
    assert post(head, f"/api/v1/inbox/replies/{reply.pk}/approve/").status_code == 200
    r = post(op, f"/api/v1/inbox/replies/{reply.pk}/publish/", {"route": "platform"})
    assert r.status_code == 200, r.content
    message.refresh_from_db()
    assert message.status == Status.REPLIED and message.replied_on_time
    # A reply to an answered message is refused and changes nothing.
    assert post(op, f"{base}/reply/", {"text": "再答一次"}).status_code == 409
    # The citizen's link: dissatisfied reopens the message with a new deadline.
    page = Client().post(f"/inbox/rate/{message.rating_token}/", {"rating": "dissatisfied"})
    assert page.status_code == 200
    message.refresh_from_db()
    assert message.status == Status.IN_PROGRESS and message.reopen_count == 1
    assert message.replied_at is None and message.due_at == message.reply_due_at
    kinds = list(MessageEvent.objects.filter(message=message).values_list("kind", flat=True))
    assert kinds == ["received", "transferred", "signed_for", "reply_drafted",
                     "reply_approved", "replied", "rated", "reopened"]
    actions = set(AuditEvent.objects.filter(target_type="inbox.message",
                                            target_id=str(message.pk))
                  .values_list("action", flat=True))
    assert {"inbox.message_transfer", "inbox.message_sign_for", "inbox.reply_submit",
            "inbox.reply_approve", "inbox.reply_publish", "inbox.message_rate"} <= actions
    figures = metrics.metrics_for(mine.province, timezone.localdate(), timezone.localdate())
    assert figures["received"] == 1 and figures["reopened"] == 1
    assert figures["reopen_rate"] == 100.0 and figures["satisfaction_rate"] == 0.0
    assert figures["below_floor"]


def test_wechat_window_rules_the_route(world):
    mine = world.mine
    account = account_for(mine.city_dept, "wechat_service", supervising=mine.city)
    old = timezone.now() - timezone.timedelta(hours=50)
    message = receive(account, "请问怎么办理？", at=old, channel="wechat", openid="oX")
    head = mine.users[Role.DEPARTMENT_HEAD]
    from common.errors import Conflict
    from inbox.services import handling

    reply = handling.reply_submit(message=message, actor=head, text="您好，请携带身份证办理。")
    assert reply.state == Reply.State.APPROVED  # the head needs no approval
    with pytest.raises(Conflict) as exc:
        handling.reply_publish(reply=reply, actor=head, route=Reply.Route.WECHAT_API)
    assert exc.value.code == "window_closed"
    assert "48" in handling.wechat_window_warning(message)
    handling.reply_publish(reply=reply, actor=head, route=Reply.Route.OTHER)
    message.refresh_from_db()
    assert message.status == Status.REPLIED and message.reply_route == "other"


def test_three_transfers_make_a_problem_case(world):
    mine = world.mine
    message = manual(mine.city_dept)
    liaison = mine.users[Role.LIAISON]
    from inbox.services import handling

    supervisor = mine.city_supervisor
    hops = [mine.county_dept, mine.city, mine.city_dept]
    for org in hops:
        handling.message_transfer(message=message, to_organization=org,
                                  actor=supervisor if org != mine.county_dept else liaison)
    message.refresh_from_db()
    assert message.transfer_count == 3 and message.problem_case_at is not None


def test_raw_payload_only_for_the_liaison_and_audited(flow):
    mine, message = flow
    url = f"/api/v1/inbox/messages/{message.pk}/raw/"
    assert client_for(mine.users[Role.OPERATOR]).get(url).status_code == 403
    assert client_for(mine.users[Role.SUPERVISOR]).get(url).status_code == 403
    assert client_for(mine.users[Role.LIAISON]).get(url).status_code == 200
    assert AuditEvent.objects.filter(action="inbox.raw_payload_read").count() == 1


def test_numbers_are_masked_for_roles_that_do_not_handle_them(world):
    mine = world.mine
    message = manual(mine.city_dept, "我的电话13812345678，身份证110101199003071234。")
    url = f"/api/v1/inbox/messages/{message.pk}/"
    handler_view = client_for(mine.users[Role.OPERATOR]).get(url).json()["text"]
    supervisor_view = client_for(mine.users[Role.SUPERVISOR]).get(url).json()["text"]
    assert "13812345678" in handler_view
    assert "13812345678" not in supervisor_view and "138****5678" in supervisor_view
    assert "110101********1234" in supervisor_view
    page = client_for(mine.users[Role.AUDITOR]).get(f"/inbox/{message.pk}/")
    assert "13812345678" not in page.content.decode()


def test_lists_keep_a_constant_query_count(world, django_assert_max_num_queries):
    mine = world.mine
    account = account_for(mine.city_dept, supervising=mine.city)
    supervisor = client_for(mine.users[Role.SUPERVISOR])
    for n in range(3):
        receive(account, f"请问{n}", at=timezone.now())
    with django_assert_max_num_queries(12) as few:
        assert supervisor.get("/api/v1/inbox/messages/").status_code == 200
    for n in range(30):
        receive(account, f"请问第{n}个问题", at=timezone.now())
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert supervisor.get("/api/v1/inbox/messages/").status_code == 200
    with django_assert_max_num_queries(20) as page_few:
        assert supervisor.get("/inbox/?view=all").status_code == 200
    receive(account, "再来一个", at=timezone.now())
    with django_assert_max_num_queries(len(page_few.captured_queries)):
        assert supervisor.get("/inbox/?view=all").status_code == 200
    for url in ("/inbox/routing/", "/inbox/sla/"):
        assert supervisor.get(url).status_code == 200


def test_manual_entry_and_bad_input(world):
    mine = world.mine
    op = client_for(mine.users[Role.OPERATOR])
    r = post(op, "/api/v1/inbox/messages/", {"channel": "hotline", "text": "路灯坏了"})
    assert r.status_code == 201, r.content
    r = post(op, "/api/v1/inbox/messages/", {"channel": "fax", "text": ""})
    assert r.status_code == 400 and "channel" in r.json()["fields"]
    auditor = client_for(mine.users[Role.AUDITOR])
    r = post(auditor, "/api/v1/inbox/messages/", {"channel": "fax"})
    assert r.status_code == 403  # permission before body validation
    assert Message.objects.count() == 1
