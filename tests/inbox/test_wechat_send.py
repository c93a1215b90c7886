"""Replies sent through the WeChat customer-service API (客服消息).

Only the HTTP edge is fake: `FakeWeChat` replaces requests' transport adapter, so
wechatpy, its access-token handling, the cache-backed session storage, the Celery
task and the services all run for real.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine
import urllib3
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from common.errors import Conflict
from inbox.models import Message, MessageEvent, Reply, Status
from inbox.services import handling, wechat
from inbox.services import wechat_send as ws
from inbox.tasks import wechat_reply_send
from notifications.models import Notification
from tests.inbox.factories import account_for, receive

APP_ID = "wx5823bf96d3bd56c7"
APP_SECRET = "0123456789abcdef0123456789abcdef"
TOKEN_URL = "/cgi-bin/token"
SEND_URL = "/cgi-bin/message/custom/send"


class FakeWeChat:
    """api.weixin.qq.com as requests sees it: scripted answers per path (the last
    one repeats), every request recorded."""

    def __init__(self):
        self.calls: list[tuple[str, dict, dict | None]] = []
        self.script: dict[str, list] = {
            TOKEN_URL: [{"access_token": "TOKEN-1", "expires_in": 7200}],
            SEND_URL: [{"errcode": 0, "errmsg": "ok"}],
        }
        self._tokens = 0

    def send(self, adapter, request, **kwargs):
        url = urlsplit(request.url)
        assert url.hostname == "api.weixin.qq.com", request.url
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = json.loads(request.body) if request.body else None
        self.calls.append((url.path, query, body))
        answers = self.script[url.path]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        if url.path == TOKEN_URL and answer == "fresh":
            self._tokens += 1
            answer = {"access_token": f"TOKEN-NEW-{self._tokens}", "expires_in": 7200}
        response = requests.Response()
        response.status_code = 200
        response._content = json.dumps(answer).encode()
        response.headers["Content-Type"] = "application/json"
        response.url, response.request = request.url, request
        return response

    def paths(self) -> list[str]:
        return [path for path, _q, _b in self.calls]


@pytest.fixture
def fake_wechat(monkeypatch):
    fake = FakeWeChat()
    monkeypatch.setattr(
        requests.adapters.HTTPAdapter,
        "send",
        lambda adapter, request, **kw: fake.send(adapter, request, **kw),
    )
    return fake


@pytest.fixture
def wechat_account(world):
    mine = world.mine
    account = account_for(mine.city_dept, "wechat_service", supervising=mine.city)
    wechat.wechat_endpoint_save(
        actor=mine.users[Role.OPERATOR],
        account=account,
        app_id=APP_ID,
        token="govmediatoken",
        mode="plain",
        app_secret=APP_SECRET,
    )
    return account


def _approved_reply(world, account, *, hours_ago=1, openid="oCitizen1") -> Reply:
    mine = world.mine
    message = receive(
        account,
        "请问社保卡怎么补办？",
        channel="wechat",
        openid=openid,
        at=timezone.now() - timezone.timedelta(hours=hours_ago),
    )
    return handling.reply_submit(
        message=message,
        actor=mine.users[Role.DEPARTMENT_HEAD],
        text="您好，请携带身份证到社保大厅补办。",
    )


def _publish(world, reply, capture):
    with capture(execute=True):
        return handling.reply_publish(
            reply=reply,
            actor=world.mine.users[Role.DEPARTMENT_HEAD],
            route=Reply.Route.WECHAT_API,
        )


def _queue(world, reply):
    """Queue the send; the test's transaction never commits, so the task is not
    sent and the test runs the send by hand."""
    return handling.reply_publish(
        reply=reply,
        actor=world.mine.users[Role.DEPARTMENT_HEAD],
        route=Reply.Route.WECHAT_API,
    )


def test_sent_once_even_if_the_task_runs_twice(
    world, wechat_account, fake_wechat, eager_celery, django_capture_on_commit_callbacks
):
    reply = _approved_reply(world, wechat_account)
    queued = _publish(world, reply, django_capture_on_commit_callbacks)
    assert queued.send_state == Reply.SendState.QUEUED and queued.send_key
    reply.refresh_from_db()
    message = Message.objects.get(pk=reply.message_id)
    assert reply.send_state == Reply.SendState.SENT
    assert (
        reply.state == Reply.State.PUBLISHED and reply.route == Reply.Route.WECHAT_API
    )
    assert message.status == Status.REPLIED and message.reply_route == "wechat_api"
    assert fake_wechat.paths() == [TOKEN_URL, SEND_URL]
    _path, query, body = fake_wechat.calls[1]
    assert query["access_token"] == "TOKEN-1"
    assert body == {
        "touser": "oCitizen1",
        "msgtype": "text",
        "text": {"content": "您好，请携带身份证到社保大厅补办。"},
    }
    # The task delivered again (acks_late, a retry, a second worker): nothing is sent.
    assert wechat_reply_send.apply(args=[reply.pk]).get() == "sent"
    assert ws.reply_send_run(reply_id=reply.pk) == "sent"
    assert fake_wechat.paths().count(SEND_URL) == 1
    kinds = list(
        MessageEvent.objects.filter(message=message).values_list("kind", flat=True)
    )
    assert kinds[-2:] == ["send_queued", "replied"] and kinds.count("replied") == 1
    actions = list(
        AuditEvent.objects.filter(
            target_type="inbox.message", target_id=str(message.pk)
        ).values_list("action", flat=True)
    )
    assert actions.count("inbox.reply_send_queue") == 1
    assert actions.count("inbox.reply_send") == 1
    sent = AuditEvent.objects.get(action="inbox.reply_send", target_id=str(message.pk))
    assert sent.actor_id is None  # the system sent it, at the head's request
    assert sent.after["requested_by"] == world.mine.users[Role.DEPARTMENT_HEAD].pk
    assert sent.after["route"] == "wechat_api"
    # A second reply on the same account uses the cached access token.
    other = _approved_reply(world, wechat_account, openid="oCitizen2")
    _publish(world, other, django_capture_on_commit_callbacks)
    assert fake_wechat.paths().count(TOKEN_URL) == 1
    assert fake_wechat.paths().count(SEND_URL) == 2


def test_a_reply_being_sent_is_not_taken_twice(world, wechat_account, fake_wechat):
    reply = _approved_reply(world, wechat_account)
    _queue(world, reply)
    Reply.objects.filter(pk=reply.pk).update(send_state=Reply.SendState.SENDING)
    assert ws.reply_send_run(reply_id=reply.pk) == "sending"
    assert fake_wechat.calls == []
    # While a send is in flight no other route answers the message.
    with pytest.raises(Conflict) as exc:
        handling.reply_publish(
            reply=reply,
            actor=world.mine.users[Role.DEPARTMENT_HEAD],
            route=Reply.Route.OTHER,
        )
    assert exc.value.code == "send_in_flight"


def test_expired_token_is_refreshed_once(world, wechat_account, fake_wechat):
    # A token in the shared cache that WeChat no longer accepts (another server
    # fetched a newer one, or it expired early).
    endpoint = wechat_account.wechat_endpoint
    ws.DjangoCacheStorage(ws.token_cache_prefix(endpoint)).set(
        f"{APP_ID}_access_token", "STALE", 7200
    )
    fake_wechat.script[TOKEN_URL] = ["fresh"]
    fake_wechat.script[SEND_URL] = [
        {"errcode": 40001, "errmsg": "invalid credential"},
        {"errcode": 0, "errmsg": "ok"},
    ]
    reply = _approved_reply(world, wechat_account)
    _queue(world, reply)
    assert ws.reply_send_run(reply_id=reply.pk) == "sent"
    sends = [q["access_token"] for p, q, _b in fake_wechat.calls if p == SEND_URL]
    assert sends == ["STALE", "TOKEN-NEW-1"]
    assert fake_wechat.paths().count(TOKEN_URL) == 1
    # The new token is what the next worker finds in the cache.
    assert (
        ws.DjangoCacheStorage(ws.token_cache_prefix(endpoint)).get(
            f"{APP_ID}_access_token"
        )
        == "TOKEN-NEW-1"
    )


def test_a_token_refused_twice_retries_later(world, wechat_account, fake_wechat):
    fake_wechat.script[TOKEN_URL] = ["fresh"]
    fake_wechat.script[SEND_URL] = [
        {"errcode": 42001, "errmsg": "access_token expired"}
    ]
    reply = _approved_reply(world, wechat_account)
    _queue(world, reply)
    with pytest.raises(ws.SendRetry) as exc:
        ws.reply_send_run(reply_id=reply.pk)
    assert exc.value.countdown == 30
    # One refresh only, then the task backs off; the reply waits for the retry.
    assert fake_wechat.paths() == [TOKEN_URL, SEND_URL, TOKEN_URL, SEND_URL]
    reply.refresh_from_db()
    assert (
        reply.send_state == Reply.SendState.QUEUED and reply.send_error_code == "token"
    )


@pytest.mark.parametrize(("errcode", "words"), [(45015, "48小时"), (48001, "权限")])
def test_permanent_error_is_recorded_and_shown_in_chinese(
    world, wechat_account, fake_wechat, errcode, words
):
    fake_wechat.script[SEND_URL] = [{"errcode": errcode, "errmsg": "platform says no"}]
    reply = _approved_reply(world, wechat_account)
    _queue(world, reply)
    assert ws.reply_send_run(reply_id=reply.pk) == "failed"
    reply.refresh_from_db()
    message = Message.objects.get(pk=reply.message_id)
    assert reply.send_state == Reply.SendState.FAILED
    assert reply.send_error_code == str(errcode) and reply.state == Reply.State.APPROVED
    assert message.status == Status.IN_PROGRESS and message.replied_at is None
    assert fake_wechat.paths().count(SEND_URL) == 1  # a permanent error is not retried
    event = MessageEvent.objects.get(message=message, kind="send_failed")
    assert event.data["code"] == str(errcode) and words in event.note
    assert (
        AuditEvent.objects.filter(
            action="inbox.reply_send_fail", target_id=str(message.pk)
        ).count()
        == 1
    )
    # The head who asked for the send (also the handler) is told once.
    told = Notification.objects.filter(kind="inbox.wechat_send_failed")
    assert list(told.values_list("recipient_id", flat=True)) == [
        world.mine.users[Role.DEPARTMENT_HEAD].pk
    ]
    # The handler sees it on the message page, in Chinese.
    head = Client()
    head.force_login(world.mine.users[Role.DEPARTMENT_HEAD])
    page = head.get(f"/inbox/{message.pk}/").content.decode()
    assert str(errcode) in page and words in page
    detail = head.get(f"/api/v1/inbox/messages/{message.pk}/").json()
    assert detail["replies"][0]["send_state"] == "failed"
    assert words in detail["replies"][0]["send_error_text"]
    # ... and records the answer given by another route (the existing path).
    handling.reply_publish(
        reply=reply,
        actor=world.mine.users[Role.DEPARTMENT_HEAD],
        route=Reply.Route.OTHER,
    )
    message.refresh_from_db()
    assert message.status == Status.REPLIED and message.reply_route == "other"


def test_window_closed_at_send_time_is_refused(world, wechat_account, fake_wechat):
    # Refused when publishing (the window closed 2 hours ago) ...
    late = _approved_reply(world, wechat_account, hours_ago=50)
    with pytest.raises(Conflict) as exc:
        handling.reply_publish(
            reply=late,
            actor=world.mine.users[Role.DEPARTMENT_HEAD],
            route=Reply.Route.WECHAT_API,
        )
    assert exc.value.code == "window_closed"
    # ... and when the window closes while the send waits in the queue.
    reply = _approved_reply(world, wechat_account, hours_ago=47, openid="oCitizen9")
    _queue(world, reply)
    with time_machine.travel(timezone.now() + timezone.timedelta(hours=2)):
        assert ws.reply_send_run(reply_id=reply.pk) == "failed"
    reply.refresh_from_db()
    assert reply.send_error_code == "window_closed"
    assert fake_wechat.calls == []
    assert Message.objects.get(pk=reply.message_id).status == Status.IN_PROGRESS


def test_network_errors_retry_with_backoff_then_fail(
    world, wechat_account, fake_wechat
):
    refused = requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(
            None, "/", reason=urllib3.exceptions.NewConnectionError(None, "refused")
        )
    )
    fake_wechat.script[SEND_URL] = [refused]
    reply = _approved_reply(world, wechat_account)
    _queue(world, reply)
    countdowns = []
    for attempt in range(ws.WECHAT_SEND_MAX_RETRIES):
        with pytest.raises(ws.SendRetry) as exc:
            ws.reply_send_run(reply_id=reply.pk, attempt=attempt)
        countdowns.append(exc.value.countdown)
    assert countdowns == [30, 60, 120, 240, 480]
    assert (
        ws.reply_send_run(reply_id=reply.pk, attempt=ws.WECHAT_SEND_MAX_RETRIES)
        == "failed"
    )
    reply.refresh_from_db()
    assert reply.send_error_code == "network" and reply.send_attempts == 6
    # Not sent: the handler may try the API again later.
    fake_wechat.script[SEND_URL] = [{"errcode": 0, "errmsg": "ok"}]
    handling.reply_publish(
        reply=reply,
        actor=world.mine.users[Role.DEPARTMENT_HEAD],
        route=Reply.Route.WECHAT_API,
    )
    assert ws.reply_send_run(reply_id=reply.pk) == "sent"


def test_a_read_timeout_is_never_resent(world, wechat_account, fake_wechat):
    fake_wechat.script[SEND_URL] = [requests.exceptions.ReadTimeout("read timed out")]
    reply = _approved_reply(world, wechat_account)
    _queue(world, reply)
    assert ws.reply_send_run(reply_id=reply.pk) == "failed"
    reply.refresh_from_db()
    assert reply.send_error_code == "unknown_result"
    with pytest.raises(Conflict) as exc:
        handling.reply_publish(
            reply=reply,
            actor=world.mine.users[Role.DEPARTMENT_HEAD],
            route=Reply.Route.WECHAT_API,
        )
    assert exc.value.code == "send_unknown"
    assert fake_wechat.paths().count(SEND_URL) == 1


def test_a_send_whose_worker_died_is_reaped(world, wechat_account, fake_wechat):
    reply = _approved_reply(world, wechat_account)
    _queue(world, reply)
    Reply.objects.filter(pk=reply.pk).update(
        send_state=Reply.SendState.SENDING, send_started_at=timezone.now()
    )
    assert ws.reap_stuck_sends() == 0  # still within its time limit
    later = timezone.now() + ws.STUCK_AFTER + timezone.timedelta(seconds=1)
    assert ws.reap_stuck_sends(now=later) == 1
    reply.refresh_from_db()
    assert reply.send_state == "failed" and reply.send_error_code == "unknown_result"
    assert ws.reap_stuck_sends(now=later) == 0


def test_a_send_whose_task_was_lost_is_queued_again(
    world, wechat_account, fake_wechat, eager_celery, django_capture_on_commit_callbacks
):
    reply = _approved_reply(world, wechat_account)
    _queue(world, reply)  # the task never reaches the broker (not committed here)
    with django_capture_on_commit_callbacks(execute=True):
        assert ws.reap_stuck_sends() == 0  # recently queued: its task may be waiting
    later = timezone.now() + ws.QUEUED_LOST_AFTER + timezone.timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert ws.reap_stuck_sends(now=later) == 1
    reply.refresh_from_db()
    assert reply.send_state == Reply.SendState.SENT
    assert fake_wechat.paths().count(SEND_URL) == 1


def test_an_account_without_app_secret_cannot_queue(world, fake_wechat):
    mine = world.mine
    account = account_for(mine.city_dept, "wechat_service", supervising=mine.city)
    wechat.wechat_endpoint_save(
        actor=mine.users[Role.OPERATOR],
        account=account,
        app_id=APP_ID,
        token="govmediatoken",
        mode="plain",
    )
    reply = _approved_reply(world, account)
    with pytest.raises(Conflict) as exc:
        handling.reply_publish(
            reply=reply,
            actor=mine.users[Role.DEPARTMENT_HEAD],
            route=Reply.Route.WECHAT_API,
        )
    assert exc.value.code == "wechat_not_configured"
    assert fake_wechat.calls == []


def test_the_token_cache_is_keyed_by_endpoint_and_secret(world, wechat_account):
    endpoint = wechat_account.wechat_endpoint
    before = ws.token_cache_prefix(endpoint)
    # Another organization's endpoint with the same AppID never shares the token.
    other = world.other
    foreign = account_for(other.city_dept, "wechat_service", supervising=other.city)
    theirs = wechat.wechat_endpoint_save(
        actor=other.users[Role.OPERATOR],
        account=foreign,
        app_id=APP_ID,
        token="othertoken",
        mode="plain",
        app_secret="f" * 32,
    )
    assert ws.token_cache_prefix(theirs) != before
    # A new secret starts with a new token.
    endpoint = wechat.wechat_endpoint_save(
        actor=world.mine.users[Role.OPERATOR],
        account=wechat_account,
        app_id=APP_ID,
        mode="plain",
        app_secret="a" * 32,
    )
    assert ws.token_cache_prefix(endpoint) != before
