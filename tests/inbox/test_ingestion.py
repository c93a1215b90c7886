"""Ingestion: the collector endpoint (single, batch, duplicates, bad input) and the
WeChat server callback in plain and safe (AES) mode, as the platform documents it."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from django.test import Client
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from accounts.models import Role
from inbox.models import Attachment, Channel, Message, RawPayload
from inbox.services import ingest, wechat
from tests.inbox.factories import account_for

URL = "/api/v1/inbox/collect/"


@pytest.fixture
def collector(world):
    mine = world.mine
    account = account_for(mine.city_dept, supervising=mine.city)
    _c, token = ingest.collector_create(actor=mine.users[Role.SUPERVISOR],
                                        organization=mine.province, name="微博采集器")
    client = Client(HTTP_AUTHORIZATION=f"Collector {token}")
    return mine, account, client


def item(account, pmid="wb-1", **extra):
    return {"account": account.pk, "channel": Channel.WEIBO_COMMENT,
            "platform_message_id": pmid, "text": "请问新生儿落户需要哪些材料？",
            "received_at": "2025-03-03T09:30:00+08:00", "citizen": "网友乙", **extra}


def post(client, body):
    """A delivery whose messages are made in the request (201 with their ids)."""
    return client.post(URL, data=json.dumps(body, ensure_ascii=False),
                       content_type="application/json", HTTP_PREFER="return=representation")


def test_single_message_and_its_duplicate(collector):
    _mine, account, client = collector
    first = post(client, item(account, attachments=[{"kind": "image",
                                                     "url": "https://wx.example/1.jpg"}]))
    assert first.status_code == 201, first.content
    assert first.json()["created"] == 1
    again = post(client, item(account))
    assert again.status_code == 200 and again.json() == {"created": 0, "duplicates": 1,
                                                         "ids": []}
    assert Message.objects.count() == 1
    message = Message.objects.get()
    assert message.original_text == message.text == "请问新生儿落户需要哪些材料？"
    assert message.raw_payload.state == RawPayload.State.PROCESSED
    assert Attachment.objects.filter(message=message).count() == 1
    assert RawPayload.objects.filter(state=RawPayload.State.DUPLICATE).count() == 1


def test_batch_with_a_repeat_inside(collector):
    _mine, account, client = collector
    body = {"messages": [item(account, "b1"), item(account, "b2"), item(account, "b1")]}
    response = post(client, body)
    assert response.status_code == 201
    assert response.json()["created"] == 2 and response.json()["duplicates"] == 1
    assert post(client, body).json()["created"] == 0
    assert Message.objects.count() == 2


def test_bad_input_answers_400_names_the_field_and_keeps_the_payload(collector):
    _mine, account, client = collector
    bad = {"messages": [item(account, "ok"), item(account, "", text="")]}
    response = post(client, bad)
    assert response.status_code == 400
    fields = response.json()["fields"]
    assert "messages[1].platform_message_id" in fields and "messages[1].text" in fields
    assert Message.objects.count() == 0  # nothing of the batch was stored
    kept = RawPayload.objects.get(state=RawPayload.State.REJECTED)
    assert "messages[1].text" in kept.error
    too_many = {"messages": [item(account, f"n{i}") for i in range(501)]}
    assert post(client, too_many).status_code == 400
    assert client.post(URL, data="{not json", content_type="application/json"
                       ).status_code == 400
    assert post(client, item(account, received_at="yesterday")).status_code == 400


def test_collector_token_and_scope(world, collector):
    _mine, account, client = collector
    assert Client().post(URL, data="{}", content_type="application/json").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Collector nope").post(
        URL, data="{}", content_type="application/json").status_code == 401
    foreign = account_for(world.other.city_dept)
    response = post(client, item(foreign))
    assert response.status_code == 400 and "account" in response.json()["fields"]
    assert Message.objects.count() == 0


# --- WeChat -----------------------------------------------------------------------------
TOKEN = "govmediatoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
APP_ID = "wx5823bf96d3bd56c7"
# The text message of the platform's documentation (接收普通消息 / 文本消息).
DOC_XML = """<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[oFromUser123]]></FromUserName>
  <CreateTime>1741000000</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content><![CDATA[请问公积金提取需要多久？]]></Content>
  <MsgId>23456789012345678</MsgId>
</xml>"""


def _signature(timestamp, nonce):
    signer = WeChatSigner()
    signer.add_data(TOKEN, timestamp, nonce)
    return signer.signature


@pytest.fixture
def endpoint(world):
    mine = world.mine
    account = account_for(mine.city_dept, "wechat_service", supervising=mine.city)

    def make(mode):
        return wechat.wechat_endpoint_save(actor=mine.users[Role.OPERATOR], account=account,
                                           app_id=APP_ID, token=TOKEN, aes_key=AES_KEY,
                                           mode=mode)

    return make


def _plain_request(xml, *, bad=False):
    timestamp, nonce = str(int(time.time())), "1320562132"
    sig = _signature(timestamp, nonce)
    query = {"signature": "0" * 40 if bad else sig, "timestamp": timestamp, "nonce": nonce,
             "openid": "oFromUser123"}
    return urlencode(query), xml.encode()


def _safe_request(xml):
    """The safe-mode body as the platform sends it: the message encrypted into
    <Encrypt>, msg_signature over token, timestamp, nonce and the ciphertext."""
    timestamp, nonce = str(int(time.time())), "1320562132"
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    envelope = crypto.encrypt_message(xml, nonce, timestamp)
    from xml.etree import ElementTree

    tree = ElementTree.fromstring(envelope)
    encrypted = tree.find("Encrypt").text
    msg_signature = tree.find("MsgSignature").text
    body = (f"<xml><ToUserName><![CDATA[toUser]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
    query = {"signature": _signature(timestamp, nonce), "timestamp": timestamp,
             "nonce": nonce, "openid": "oFromUser123", "encrypt_type": "aes",
             "msg_signature": msg_signature}
    return urlencode(query), body.encode()


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_wechat_callback_becomes_one_message_even_twice(
        endpoint, mode, eager_celery, django_capture_on_commit_callbacks):
    ep = endpoint(mode)
    url = f"/inbox/wechat/{ep.slug}/"
    build = _plain_request if mode == "plain" else _safe_request
    for _n in range(2):  # WeChat retries: the same message twice
        query, body = build(DOC_XML)
        with django_capture_on_commit_callbacks(execute=True):
            response = Client().post(f"{url}?{query}", data=body, content_type="text/xml")
        assert response.status_code == 200 and response.content == b"success"
    message = Message.objects.get()
    assert message.channel == Channel.WECHAT
    assert message.platform_message_id == "23456789012345678"
    assert message.original_text == "请问公积金提取需要多久？"
    assert message.citizen_openid == "oFromUser123"
    assert message.wechat_window_closes_at is not None
    assert RawPayload.objects.filter(source="wechat").count() == 2


def test_a_wechat_callback_whose_task_was_lost_is_made_by_the_drain(
        endpoint, monkeypatch, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from inbox import tasks

    def broker_down(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(tasks.process_raw_payload, "delay", broker_down)
    ep = endpoint("safe")
    query, body = _safe_request(DOC_XML)
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(f"/inbox/wechat/{ep.slug}/?{query}", data=body,
                                 content_type="text/xml")
    # The platform still hears "success": the payload is on record.
    assert response.status_code == 200 and response.content == b"success"
    raw = RawPayload.objects.get(source="wechat")
    assert raw.state == RawPayload.State.RECEIVED and Message.objects.count() == 0
    assert ingest.payloads_drain()["wechat"] == 0  # too recent: its task may still run
    RawPayload.objects.filter(pk=raw.pk).update(
        received_at=timezone.now() - timedelta(minutes=5))
    assert ingest.payloads_drain()["wechat"] == 1
    assert Message.objects.get().platform_message_id == "23456789012345678"
    assert ingest.payloads_drain()["wechat"] == 0  # processed: not again


def test_wechat_bad_signature_is_403_and_stores_nothing(endpoint):
    ep = endpoint("plain")
    query, body = _plain_request(DOC_XML, bad=True)
    response = Client().post(f"/inbox/wechat/{ep.slug}/?{query}", data=body,
                             content_type="text/xml")
    assert response.status_code == 403
    assert RawPayload.objects.count() == 0 and Message.objects.count() == 0


def test_wechat_url_check_and_malformed_xml(endpoint):
    ep = endpoint("plain")
    query, _body = _plain_request("")
    check = Client().get(f"/inbox/wechat/{ep.slug}/?{query}&echostr=hello123")
    assert check.status_code == 200 and check.content == b"hello123"
    query, _body = _plain_request("")
    response = Client().post(f"/inbox/wechat/{ep.slug}/?{query}", data=b"<xml><oops",
                             content_type="text/xml")
    assert response.status_code == 400
    assert RawPayload.objects.get().state == RawPayload.State.REJECTED


def test_the_secrets_are_stored_encrypted(endpoint):
    ep = endpoint("safe")
    assert TOKEN not in ep.token_encrypted and AES_KEY not in ep.aes_key_encrypted
    from inbox import crypto

    assert crypto.decrypt(ep.token_encrypted) == TOKEN


def test_a_batch_gets_one_rating_token_each_and_its_defaults(collector):
    """Batches are written as multi-row INSERTs (common.bulk.insert_many): callable
    defaults such as the rating token are drawn per message, constant ones (status,
    counters, JSON) are the model's, and the batch costs a fixed number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _mine, account, client = collector
    body = {"messages": [item(account, pmid=f"wb-batch-{n}") for n in range(40)]}
    with CaptureQueriesContext(connection) as small:
        assert post(client, body).status_code == 201
    body = {"messages": [item(account, pmid=f"wb-more-{n}") for n in range(120)]}
    with CaptureQueriesContext(connection) as large:
        assert post(client, body).status_code == 201
    if connection.vendor == "postgresql":
        # (SQLite's bulk_create splits by its bound-parameter limit instead.)
        assert len(large.captured_queries) == len(small.captured_queries)
    messages = list(Message.objects.all())
    assert len(messages) == 160
    assert len({m.rating_token for m in messages}) == 160
    default = Message(organization=account.organization)
    for m in messages:
        assert m.status == default.status
        assert m.reopen_count == 0 and m.transfer_count == 0
        assert m.events.filter(kind="received").count() == 1


def test_the_duplicate_check_of_a_full_batch_can_use_the_unique_index(collector):
    """The check for messages seen before reads the unique index (account, platform
    id), whatever the batch's size. The index is partial (platform id not empty):
    PostgreSQL proves a partial index's condition from an `IN` list of at most 100
    values only, so a batch of 500 scanned every message of its accounts (10 ms for
    an account with 20,000 messages, growing with each). The query names the
    condition itself. On every database: it finds exactly the messages seen before and
    its SQL names the condition; on PostgreSQL the plan reads the index."""
    from django.db import connection

    _mine, account, client = collector
    assert post(client, {"messages": [item(account, f"wb-{n}") for n in (3, 7)]}
                ).status_code == 201
    for size in (50, 500):
        query = ingest.known_messages([(account.pk, f"wb-{n}") for n in range(size)])
        assert sorted(query) == [(account.pk, "wb-3"), (account.pk, "wb-7")]
        sql, params = query.query.sql_with_params()
        assert '"platform_message_id" = %s)' in sql and "" in params  # NOT (... = '')
        if connection.vendor != "postgresql":
            continue  # SQLite's unique index has no condition to prove
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("SET LOCAL enable_seqscan = on")
        assert "inbox_message_platform_id" in plan, (size, plan)


# --- accepted now, made by the drain (Prefer: respond-async) -------------------------------
def post_async(client, body):
    return client.post(URL, data=json.dumps(body, ensure_ascii=False),
                       content_type="application/json", HTTP_PREFER="respond-async")


def test_async_delivery_is_queued_answered_202_and_drained_once(
        collector, django_capture_on_commit_callbacks, monkeypatch):
    from django.conf import settings
    from django.core.cache import cache

    from inbox import tasks

    _mine, account, client = collector
    asked = []
    monkeypatch.setattr(tasks.drain_payloads, "apply_async",
                        lambda countdown: asked.append(countdown))
    cache.delete(ingest.DRAIN_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        first = post_async(client, {"messages": [item(account, "q1"), item(account, "q2")]})
        second = post_async(client, item(account, "q1"))  # a repeat, queued as well
    assert first.status_code == 202, first.content
    assert first["Preference-Applied"] == "respond-async"
    body = first.json()
    assert body["accepted"] == 2 and body["state"] == "queued"
    assert first["Location"] == body["status_url"] == f"{URL}{body['payload']}/"
    assert second.status_code == 202
    # Two deliveries within the debounce second: one drain, scheduled for its end.
    assert asked == [settings.INBOX_DRAIN_DEBOUNCE_SECONDS + ingest.DRAIN_MARGIN]
    assert Message.objects.count() == 0  # nothing made in the request
    assert client.get(body["status_url"]).json()["state"] == "queued"

    totals = ingest.payloads_drain()
    assert totals == {"payloads": 2, "created": 2, "duplicates": 1, "rejected": 0,
                      "wechat": 0}
    assert Message.objects.count() == 2
    status = client.get(body["status_url"]).json()
    assert status["state"] == "processed" and status["created"] == 2
    assert sorted(status["ids"]) == sorted(Message.objects.values_list("pk", flat=True))
    assert client.get(second.json()["status_url"]).json()["state"] == "duplicate"
    # A second drain finds nothing; each delivery has its audit event.
    assert ingest.payloads_drain()["payloads"] == 0
    from audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="inbox.messages_receive").count() == 1


def test_by_default_a_delivery_is_stored_first_and_answered_202(collector):
    """Without a preference the delivery is stored and answered 202 (the messages are
    the drain's work); `Prefer: return=representation` makes them in the request."""
    _mine, account, client = collector
    plain = client.post(URL, data=json.dumps(item(account, "d1"), ensure_ascii=False),
                        content_type="application/json")
    assert plain.status_code == 202, plain.content
    assert plain.json()["state"] == "queued" and Message.objects.count() == 0
    made = post(client, item(account, "d2"))
    assert made.status_code == 201 and made["Preference-Applied"] == "return=representation"
    assert Message.objects.count() == 1
    both = client.post(URL, data=json.dumps(item(account, "d3"), ensure_ascii=False),
                       content_type="application/json",
                       HTTP_PREFER="respond-async, return=representation")
    assert both.status_code == 202  # asked for both: answered at once
    assert ingest.payloads_drain()["created"] == 2
    assert set(Message.objects.values_list("platform_message_id", flat=True)) == {
        "d1", "d2", "d3"}


def test_async_bad_input_is_refused_at_once_and_kept(collector):
    _mine, account, client = collector
    response = post_async(client, {"messages": [item(account, "ok"), item(account, "",
                                                                          text="")]})
    assert response.status_code == 400
    assert "messages[1].text" in response.json()["fields"]
    kept = RawPayload.objects.get()
    assert kept.state == RawPayload.State.REJECTED and "messages[1].text" in kept.error
    assert ingest.payloads_drain()["payloads"] == 0


def test_async_happy_path_is_one_statement_and_refusals_say_why(
        world, collector, django_assert_num_queries):
    """On PostgreSQL a valid async delivery is checked and stored by one statement
    (token, accounts, INSERT); SQLite takes the ordinary three. Whatever is refused
    falls back to the ordinary checks: 401 for a token that is unknown or
    deactivated (nothing stored), 400 naming the account outside the collector's
    subtree (the body kept as rejected)."""
    from django.db import connection

    mine, account, client = collector
    statements = 1 if connection.vendor == "postgresql" else 3
    with django_assert_num_queries(statements):
        accepted = post_async(client, item(account, "one-statement"))
    assert accepted.status_code == 202, accepted.content
    kept = RawPayload.objects.get(pk=accepted.json()["payload"])
    assert kept.state == RawPayload.State.QUEUED and kept.org_path == mine.province.path
    assert kept.meta == {"collector": ingest.Collector.objects.get().pk, "count": 1}
    assert json.loads(kept.body)["platform_message_id"] == "one-statement"

    foreign = account_for(world.other.city_dept)
    refused = post_async(client, {"messages": [item(account, "in"), item(foreign, "out")]})
    assert refused.status_code == 400 and "messages[1].account" in refused.json()["fields"]
    rejected = RawPayload.objects.exclude(pk=kept.pk).get()
    assert rejected.state == RawPayload.State.REJECTED and "messages[1].account" in rejected.error

    unknown = Client(HTTP_AUTHORIZATION="Collector nope")
    assert post_async(unknown, item(account, "x")).status_code == 401
    ingest.collector_deactivate(actor=mine.users[Role.SUPERVISOR],
                                collector=ingest.Collector.objects.get())
    assert post_async(client, item(account, "after")).status_code == 401
    assert RawPayload.objects.count() == 2  # the two refusals stored nothing more


def test_drain_rejects_a_delivery_whose_account_left_and_makes_the_rest(world, collector):
    mine, account, client = collector
    other = account_for(mine.city_dept, supervising=mine.city)
    gone = post_async(client, item(other, "g1")).json()
    kept = post_async(client, item(account, "k1")).json()
    # The account moved out of the collector's subtree after the delivery was accepted.
    from registry.models import MediaAccount

    MediaAccount.objects.filter(pk=other.pk).update(org_path=world.other.city_dept.path)
    totals = ingest.payloads_drain()
    assert totals["created"] == 1 and totals["rejected"] == 1
    assert RawPayload.objects.get(pk=gone["payload"]).state == RawPayload.State.REJECTED
    assert "account" in RawPayload.objects.get(pk=gone["payload"]).error
    assert RawPayload.objects.get(pk=kept["payload"]).state == RawPayload.State.PROCESSED


def test_drain_claims_by_message_count_and_runs_a_fixed_number_of_queries(
        collector, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _mine, account, client = collector

    def drain_of(size, tag):
        for n in range(3):
            post_async(client, {"messages": [item(account, f"{tag}{n}-{i}")
                                             for i in range(size)]})
        with CaptureQueriesContext(connection) as ctx:
            totals = ingest.payloads_drain()
        assert totals["payloads"] == 3 and totals["created"] == 3 * size
        return len(ctx.captured_queries)

    # The same statements for 3 messages as for 15: nothing per message or delivery.
    assert drain_of(1, "a") == drain_of(5, "b")
    # Claimed by message count: 10 per pass takes 3 deliveries of 3 each time.
    for n in range(6):
        post_async(client, {"messages": [item(account, f"c{n}-{i}") for i in range(3)]})
    with CaptureQueriesContext(connection) as ctx:
        totals = ingest.payloads_drain(limit=10)
    assert totals["payloads"] == 6 and totals["created"] == 18
    passes = [q for q in ctx.captured_queries
              if q["sql"].startswith('UPDATE "inbox_rawpayload"') and "processed" in q["sql"]]
    assert len(passes) == 2


def test_status_of_another_collectors_delivery_is_404(world, collector):
    mine, account, client = collector
    accepted = post_async(client, item(account, "s1")).json()
    _c, token = ingest.collector_create(actor=mine.users[Role.SUPERVISOR],
                                        organization=mine.province, name="第二采集器")
    stranger = Client(HTTP_AUTHORIZATION=f"Collector {token}")
    assert stranger.get(accepted["status_url"]).status_code == 404
    assert Client().get(accepted["status_url"]).status_code == 401
    assert client.get(f"{URL}999999/").status_code == 404


def test_the_drain_makes_left_over_wechat_callbacks_together_and_rejects_a_bad_one(
        endpoint, monkeypatch, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from inbox import tasks

    monkeypatch.setattr(tasks.process_raw_payload, "delay", lambda *a: None)  # lost
    ep = endpoint("plain")
    for n in range(3):
        query, body = _plain_request(DOC_XML.replace("23456789012345678", f"9000{n}"))
        with django_capture_on_commit_callbacks(execute=True):
            Client().post(f"/inbox/wechat/{ep.slug}/?{query}", data=body,
                          content_type="text/xml")
    bad = RawPayload.objects.filter(source="wechat").order_by("pk").last()
    RawPayload.objects.filter(pk=bad.pk).update(meta={**bad.meta, "xml": "<xml><oops"})
    RawPayload.objects.filter(source="wechat").update(
        received_at=timezone.now() - timedelta(minutes=5))
    assert ingest.payloads_drain()["wechat"] == 3
    assert Message.objects.count() == 2
    bad.refresh_from_db()
    assert bad.state == RawPayload.State.REJECTED and "processing failed" in bad.error
    assert ingest.payloads_drain()["wechat"] == 0


def test_a_drain_with_more_than_one_transaction_asks_for_one_helper(collector, monkeypatch):
    """A backlog larger than one transaction is shared: the drain asks for one more
    drain at once (another worker process takes the next deliveries, skipping what
    this one holds); a backlog of one transaction asks for none."""
    from inbox import tasks

    _mine, account, client = collector
    asked = []
    monkeypatch.setattr(tasks.drain_payloads, "apply_async", lambda **kw: asked.append(kw))
    for n in range(4):
        post_async(client, {"messages": [item(account, f"h{n}-{i}") for i in range(3)]})
    assert ingest.payloads_drain(limit=20)["created"] == 12
    assert asked == []
    for n in range(4):
        post_async(client, {"messages": [item(account, f"k{n}-{i}") for i in range(3)]})
    assert ingest.payloads_drain(limit=5)["created"] == 12
    assert asked == [{}]  # one helper, now (no countdown)
    for n in range(4):
        post_async(client, {"messages": [item(account, f"m{n}-{i}") for i in range(3)]})
    assert ingest.payloads_drain(limit=5, helpers=False)["created"] == 12
    assert asked == [{}]
