"""Sending a reply through the WeChat customer-service API (客服消息,
`POST https://api.weixin.qq.com/cgi-bin/message/custom/send`), with wechatpy.

`handling.reply_publish(route=wechat_api)` queues the reply (send state `queued`,
a fresh `send_key`) and, on commit, the Celery task `inbox.wechat_reply_send` runs
`reply_send_run`:

1. *Claim* (one short transaction, rows locked): only a `queued` reply is taken;
   it becomes `sending`. A second delivery of the task, or a second task, finds it
   `sending` or `sent` and returns: a reply is sent at most once. If the 48-hour
   window has closed, or the account lost its AppSecret, the send fails here and
   nothing goes to WeChat.
2. *Call* WeChat outside any transaction (no row lock is held across the network).
3. *Record* (one transaction): sent -> the reply is published and the message
   replied (`handling.reply_published`), with the timeline event and the audit
   event; a permanent error -> `failed` with the code, a timeline event and an audit
   event, the message stays unanswered and the page shows why (inbox.wechat_errors);
   a transient error -> back to `queued` and the task retries with backoff.

Errors:
- access token refused (40001, 40014, 42001): the token is fetched again once and the
  call repeated at once (wechatpy's own auto-retry is off: it would loop);
- transient (a network error before any connection was made, an error while fetching
  the token, HTTP 5xx, -1 busy, 45009/45011 rate limits, a token refused twice):
  retried up to WECHAT_SEND_MAX_RETRIES with exponential backoff, then failed;
- a network error after the request may have left (read timeout, connection reset)
  is *not* retried: WeChat may have delivered the reply, and sending it twice would
  break "at most once"; it fails as `unknown_result` and the handler checks on the
  platform;
- anything else (45015 window expired, 48001 unauthorized, 43004 unfollowed, ...):
  failed at once.

The access token lives in Django's cache (shared by every worker: Redis in
production), through `DjangoCacheStorage`, a wechatpy session storage.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

import requests
import urllib3
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

from accounts.models import User
from audit.services import audit_record
from inbox import crypto
from inbox import wechat_errors as codes
from inbox.models import Message, MessageEvent, Reply, WeChatEndpoint
from inbox.services.handling import reply_published, send_later
from notifications.services import notify

WECHAT_SEND_MAX_RETRIES = 5
WECHAT_TIMEOUT = (5, 15)  # connect, read (seconds)
# The task's hard time limit; a reply still `sending` well after it was claimed
# belongs to an attempt that died (see reap_stuck_sends).
SEND_TIME_LIMIT = 60
STUCK_AFTER = timedelta(seconds=SEND_TIME_LIMIT * 3)
# Longer than the longest backoff (900 s) plus a send: a reply queued this long ago
# has no task waiting for it.
QUEUED_LOST_AFTER = timedelta(minutes=30)
# Cached tokens expire this long before WeChat's own expiry (7200 s).
TOKEN_MARGIN = 300

TOKEN_CODES = frozenset({40001, 40014, 42001})
TRANSIENT_CODES = frozenset({-1, 45009, 45011})
SendState = Reply.SendState


class DjangoCacheStorage(SessionStorage):
    """A wechatpy session storage in Django's cache, so every worker shares one
    access token per account (WeChat limits token fetches to 2,000 a day)."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def get(self, key, default=None):
        return cache.get(self.prefix + key, default)

    def set(self, key, value, ttl=None):
        if ttl is not None:
            ttl = max(int(ttl) - TOKEN_MARGIN, 1)
        cache.set(self.prefix + key, value, ttl)

    def delete(self, key):
        cache.delete(self.prefix + key)


def token_cache_prefix(endpoint: WeChatEndpoint) -> str:
    """SECURITY: the cache key carries the endpoint and a digest of its AppID and
    (encrypted) AppSecret. Another organization that enters the same AppID with a
    wrong secret never gets the owner's cached token, and a changed secret starts
    with a fresh token."""
    digest = hashlib.sha256(
        f"{endpoint.app_id}\0{endpoint.app_secret_encrypted}".encode()
    ).hexdigest()[:16]
    return f"inbox:wechat:{endpoint.pk}:{digest}:"


def client_for(endpoint: WeChatEndpoint) -> WeChatClient:
    return WeChatClient(
        endpoint.app_id,
        crypto.decrypt(endpoint.app_secret_encrypted),
        session=DjangoCacheStorage(token_cache_prefix(endpoint)),
        timeout=WECHAT_TIMEOUT,
        auto_retry=False,
    )


class SendRetry(Exception):
    """A transient failure: the task retries after `countdown` seconds."""

    def __init__(self, code: str, countdown: int):
        super().__init__(code)
        self.code, self.countdown = code, countdown


@dataclass
class _Outcome:
    state: str  # sent, failed, retry
    code: str = ""
    detail: str = ""


def backoff(attempt: int) -> int:
    """Seconds before retry number `attempt + 1`: 30, 60, 120, 240, 480."""
    return min(30 * 2**attempt, 900)


def _claim(reply_id: int) -> tuple[Reply, Message, WeChatEndpoint] | str:
    """Take a queued reply for sending (its own transaction). Returns the rows, or
    a word saying why nothing is to be sent."""
    with transaction.atomic():
        reply = Reply.objects.select_for_update().filter(pk=reply_id).first()
        if reply is None:
            return "gone"
        if reply.send_state != SendState.QUEUED:
            return reply.send_state or "not_queued"  # already taken: at most once
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=reply.message_id)
        )
        now = timezone.now()
        if (
            message.wechat_window_closes_at is None
            or now >= message.wechat_window_closes_at
        ):
            _fail(reply, message, codes.WINDOW_CLOSED, "", now)
            return "failed"
        endpoint = WeChatEndpoint.objects.filter(account_id=message.account_id).first()
        if endpoint is None or not endpoint.can_send or not message.citizen_openid:
            _fail(reply, message, codes.NOT_CONFIGURED, "", now)
            return "failed"
        reply.send_state, reply.send_started_at = SendState.SENDING, now
        reply.send_attempts += 1
        reply.save(update_fields=["send_state", "send_started_at", "send_attempts"])
        return reply, message, endpoint


def _never_reached(exc: requests.exceptions.RequestException) -> bool:
    """True when the request certainly did not reach WeChat (no connection was
    made), so sending again cannot deliver the reply twice."""
    if isinstance(
        exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError
    ):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def _call(endpoint: WeChatEndpoint, openid: str, text: str) -> _Outcome:
    """One send, with one token refresh when WeChat refuses the cached token."""
    client = client_for(endpoint)
    try:
        client.access_token  # noqa: B018  (fetched and cached when missing)
    except WeChatClientException as exc:
        return _token_fetch_failed(exc)
    except requests.exceptions.RequestException as exc:
        return _Outcome("retry", codes.NETWORK, str(exc)[:500])  # nothing was sent
    for refreshed in (False, True):
        try:
            client.message.send_text(openid, text)
            return _Outcome("sent")
        except requests.exceptions.RequestException as exc:
            if _never_reached(exc):
                return _Outcome("retry", codes.NETWORK, str(exc)[:500])
            return _Outcome("failed", codes.UNKNOWN_RESULT, str(exc)[:500])
        except WeChatClientException as exc:
            errcode, detail = exc.errcode, str(exc.errmsg or "")[:500]
            if errcode is None:  # an HTTP error status: WeChat did not take it
                return _Outcome("retry", codes.NETWORK, str(exc)[:500])
            if errcode in TOKEN_CODES:
                if refreshed:
                    return _Outcome("retry", codes.TOKEN, f"{errcode} {detail}")
                try:
                    client.fetch_access_token()
                except WeChatClientException as fetch_exc:
                    return _token_fetch_failed(fetch_exc)
                except requests.exceptions.RequestException as fetch_exc:
                    return _Outcome("retry", codes.NETWORK, str(fetch_exc)[:500])
                continue
            if errcode in TRANSIENT_CODES:
                return _Outcome("retry", str(errcode), detail)
            return _Outcome("failed", str(errcode), detail)
    raise AssertionError("unreachable")  # pragma: no cover


def _token_fetch_failed(exc: WeChatClientException) -> _Outcome:
    if exc.errcode is None or exc.errcode in TRANSIENT_CODES:
        code = codes.NETWORK if exc.errcode is None else str(exc.errcode)
        return _Outcome("retry", code, str(exc)[:500])
    return _Outcome("failed", str(exc.errcode), str(exc.errmsg or "")[:500])


def _fail(reply: Reply, message: Message, code: str, detail: str, now) -> None:
    """Record a permanent failure (caller holds both locks, in the transaction): the
    reply stays approved, the message unanswered; its timeline and the audit trail
    carry the code."""
    reply.send_state, reply.send_error_code, reply.send_error = (
        SendState.FAILED,
        code,
        detail[:500],
    )
    reply.save(update_fields=["send_state", "send_error_code", "send_error"])
    MessageEvent.objects.create(
        message=message,
        kind=MessageEvent.Kind.SEND_FAILED,
        note=codes.explain(code, detail),
        at=now,
        data={"reply": reply.pk, "code": code, "detail": detail},
    )
    audit_record(
        actor=None,
        action="inbox.reply_send_fail",
        target=message,
        organization=message.organization,
        target_label=f"#{message.pk}",
        after={
            "reply": reply.pk,
            "code": code,
            "detail": detail,
            "attempts": reply.send_attempts,
        },
    )
    # Told at once (same transaction): whoever asked for the send and the handler.
    recipients = {
        u.pk: u
        for u in User.objects.filter(
            pk__in=[reply.send_requested_by_id, message.handler_id], is_active=True
        )
    }
    notify(
        recipients=list(recipients.values()),
        organization=message.organization,
        kind="inbox.wechat_send_failed",
        message=_("A reply could not be sent through WeChat: see the message for why."),
        dedupe_key=f"inbox-wechat-failed:{reply.pk}:{reply.send_key}",
        url=reverse("inbox:message_detail", args=[message.pk]),
        target=message,
    )


def _record(reply_id: int, outcome: _Outcome, *, final: bool) -> str:
    with transaction.atomic():
        reply = Reply.objects.select_for_update().get(pk=reply_id)
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("organization")
            .get(pk=reply.message_id)
        )
        if reply.send_state != SendState.SENDING:
            return reply.send_state  # the reaper decided meanwhile
        now = timezone.now()
        if outcome.state == "sent":
            reply.send_state, reply.send_error_code, reply.send_error = (
                SendState.SENT,
                "",
                "",
            )
            reply.save(update_fields=["send_state", "send_error_code", "send_error"])
            # The system sent it (actor None); who asked for the send is recorded.
            reply_published(
                reply,
                message,
                actor=None,
                role="",
                now=now,
                audit_action="inbox.reply_send",
                extra={
                    "requested_by": reply.send_requested_by_id,
                    "attempts": reply.send_attempts,
                },
            )
            return "sent"
        if outcome.state == "retry" and not final:
            reply.send_state, reply.send_queued_at = SendState.QUEUED, now
            reply.send_error_code, reply.send_error = outcome.code, outcome.detail[:500]
            reply.save(
                update_fields=[
                    "send_state",
                    "send_queued_at",
                    "send_error_code",
                    "send_error",
                ]
            )
            return "retry"
        _fail(reply, message, outcome.code, outcome.detail, now)
        return "failed"


def reply_send_run(
    *, reply_id: int, attempt: int = 0, max_retries: int = WECHAT_SEND_MAX_RETRIES
) -> str:
    """The task's body. Returns what happened (sent, failed, gone, or the state the
    reply was already in); raises SendRetry for a transient failure with retries
    left."""
    claimed = _claim(reply_id)
    if isinstance(claimed, str):
        return claimed
    reply, message, endpoint = claimed
    outcome = _call(endpoint, message.citizen_openid, reply.text)
    result = _record(reply_id, outcome, final=attempt >= max_retries)
    if result == "retry":
        raise SendRetry(outcome.code, backoff(attempt))
    return result


def reap_stuck_sends(now=None) -> int:
    """Two kinds of lost sends, few rows, one transaction:

    - still `sending` long after the task's time limit: the attempt died (worker
      lost) after possibly reaching WeChat; it fails as `unknown_result`, never
      resent automatically;
    - still `queued` long after the last retry could have run: the task was lost
      (broker down when it was queued); it is queued again (the claim keeps it at
      most once, so a task that was only late does no harm).

    Returns the number of replies failed plus requeued."""
    now = now or timezone.now()
    done = 0
    lost = list(
        Reply.objects.filter(
            send_state=SendState.QUEUED, send_queued_at__lt=now - QUEUED_LOST_AFTER
        )
        .order_by("pk")
        .values_list("pk", "send_key")[:500]
    )
    for pk, key in lost:
        transaction.on_commit(lambda pk=pk, key=key: send_later(pk, str(key)))
        done += 1
    with transaction.atomic():
        stuck = list(
            Reply.objects.select_for_update(skip_locked=True)
            .filter(send_state=SendState.SENDING, send_started_at__lt=now - STUCK_AFTER)
            .order_by("pk")[:500]
        )
        for reply in stuck:
            message = (
                Message.objects.select_for_update(of=("self",))
                .select_related("organization")
                .get(pk=reply.message_id)
            )
            _fail(reply, message, codes.UNKNOWN_RESULT, "", now)
            done += 1
    return done
