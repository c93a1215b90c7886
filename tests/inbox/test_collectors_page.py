"""The collectors page: register a collector (its token shown once), deactivate,
reactivate, rotate the token, and the scope's deliveries without their bodies."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from audit.models import AuditEvent
from inbox.models import Channel, Collector, RawPayload
from inbox.services import ingest
from tests.inbox.factories import account_for

PAGE = "/inbox/collectors/"
COLLECT = "/api/v1/inbox/collect/"
SECRET_TEXT = "我家住在幸福路8号，电话13800138000"


def step_url(collector) -> str:
    return f"/inbox/collectors/{collector.pk}/"


@pytest.fixture
def mine(world):
    return world.mine


@pytest.fixture
def supervisor(client, mine):
    client.force_login(mine.users[Role.SUPERVISOR])
    return client


def issued_token(response) -> str:
    found = re.search(r'id="token" readonly value="([^"]+)"', response.content.decode())
    assert found, "the token is shown on the page"
    return found.group(1)


def deliver(token, account, pmid="wb-1", *, text="请问新生儿落户需要哪些材料？", prefer=False):
    # Stored for the drain (202) unless the messages are asked for in the answer.
    headers = {"HTTP_AUTHORIZATION": f"Collector {token}",
               "HTTP_PREFER": "respond-async" if prefer else "return=representation"}
    body = {"account": account.pk, "channel": Channel.WEIBO_COMMENT,
            "platform_message_id": pmid, "text": text,
            "received_at": "2025-03-03T09:30:00+08:00"}
    return Client(**headers).post(COLLECT, data=json.dumps(body, ensure_ascii=False),
                                  content_type="application/json")


def register(client, org, name="微博采集器"):
    return client.post(PAGE, {"organization": org.pk, "name": name})


def test_register_shows_the_token_once_and_it_works(supervisor, mine):
    account = account_for(mine.city_dept, supervising=mine.city)
    response = register(supervisor, mine.province)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = issued_token(response)
    page = response.content.decode()
    assert f'-H "Authorization: Collector {token}"' in page
    assert "Prefer: return=representation" in page and "/api/v1/inbox/collect/" in page
    collector = Collector.objects.get()
    assert collector.organization == mine.province and collector.name == "微博采集器"
    assert collector.token_hash == ingest.token_hash(token) and token not in repr(
        Collector.objects.values_list().get())
    assert deliver(token, account).status_code == 201
    queued = deliver(token, account, "wb-2", prefer=True)
    assert queued.status_code == 202 and queued.json()["status_url"].startswith(COLLECT)
    # Shown once: the page itself never shows it again.
    again = supervisor.get(PAGE)
    assert again.status_code == 200 and token not in again.content.decode()
    assert 'id="token"' not in again.content.decode()
    event = AuditEvent.objects.get(action="inbox.collector_create")
    assert event.target_id == str(collector.pk)
    assert token not in json.dumps(event.after, ensure_ascii=False)


def test_deactivate_then_the_token_answers_401_and_reactivate(supervisor, mine):
    account = account_for(mine.city_dept, supervising=mine.city)
    collector, token = ingest.collector_create(actor=mine.users[Role.SUPERVISOR],
                                               organization=mine.province, name="采集器")
    assert deliver(token, account).status_code == 201
    response = supervisor.post(step_url(collector), {"step": "deactivate"})
    assert response.status_code == 302
    collector.refresh_from_db()
    assert not collector.is_active
    assert deliver(token, account, "wb-2").status_code == 401
    assert AuditEvent.objects.filter(action="inbox.collector_deactivate").count() == 1
    supervisor.post(step_url(collector), {"step": "reactivate"})
    assert deliver(token, account, "wb-3").status_code == 201
    assert AuditEvent.objects.filter(action="inbox.collector_reactivate").count() == 1


def test_rotate_the_old_token_401_the_new_one_works(supervisor, mine):
    account = account_for(mine.city_dept, supervising=mine.city)
    collector, old = ingest.collector_create(actor=mine.users[Role.SUPERVISOR],
                                             organization=mine.province, name="采集器")
    response = supervisor.post(step_url(collector), {"step": "rotate"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    new = issued_token(response)
    assert new != old
    assert deliver(old, account).status_code == 401
    assert deliver(new, account).status_code == 201
    event = AuditEvent.objects.get(action="inbox.collector_token_rotate")
    assert old not in json.dumps(event.after) and new not in json.dumps(event.after)


def test_deliveries_show_states_and_never_the_body(supervisor, mine):
    account = account_for(mine.city_dept, supervising=mine.city)
    collector, token = ingest.collector_create(actor=mine.users[Role.SUPERVISOR],
                                               organization=mine.province, name="采集器")
    assert deliver(token, account, "p1", text=SECRET_TEXT).status_code == 201
    assert deliver(token, account, "p1", text=SECRET_TEXT).status_code == 200
    assert deliver(token, account, "", text=SECRET_TEXT).status_code == 400
    assert deliver(token, account, "q1", text=SECRET_TEXT, prefer=True).status_code == 202
    with CaptureQueriesContext(connection) as ctx:
        page = supervisor.get(PAGE).content.decode()
    assert SECRET_TEXT not in page and "13800138000" not in page
    # The bodies are not even read from the database.
    raw_table = RawPayload._meta.db_table
    assert not [q["sql"] for q in ctx.captured_queries
                if raw_table in q["sql"] and f'{raw_table}"."body"' in q["sql"]]
    shown = set(re.findall(r'<tr data-payload="\d+" data-state="(\w+)">', page))
    assert shown == {"processed", "duplicate", "rejected", "queued"}
    assert "platform_message_id" in page  # the rejected one's error names the field
    row = re.search(rf'<tr data-collector="{collector.pk}">.*?</tr>', page, re.S).group(0)
    for state in ("processed", "duplicate", "rejected", "queued"):
        assert f'<td data-state="{state}">1</td>' in row
    rejected = supervisor.get(PAGE, {"state": "rejected"}).content.decode()
    assert re.findall(r'<tr data-payload="\d+" data-state="(\w+)">', rejected) == [
        "rejected"]
    assert SECRET_TEXT not in rejected


def test_another_provinces_collector_answers_404(supervisor, world):
    other = world.other
    foreign, token = ingest.collector_create(actor=other.users[Role.SUPERVISOR],
                                             organization=other.province, name="外省采集器")
    for step in ("deactivate", "rotate", "reactivate"):
        assert supervisor.post(step_url(foreign), {"step": step}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.is_active and foreign.token_hash == ingest.token_hash(token)
    assert "外省采集器" not in supervisor.get(PAGE).content.decode()
    assert not AuditEvent.objects.filter(action__startswith="inbox.collector_").exclude(
        action="inbox.collector_create").exists()


def test_users_without_the_right_get_403_or_404(client, mine):
    collector, _token = ingest.collector_create(actor=mine.users[Role.SUPERVISOR],
                                                organization=mine.province, name="采集器")
    client.force_login(mine.users[Role.AUDITOR])  # sees the province, changes nothing
    assert client.get(PAGE).status_code == 200
    assert register(client, mine.province).status_code == 403
    assert client.post(step_url(collector), {"step": "deactivate"}).status_code == 403
    client.force_login(mine.users[Role.SYSTEM_ADMIN])  # no business data at all
    assert client.get(PAGE).status_code == 404
    assert client.post(step_url(collector), {"step": "rotate"}).status_code == 404
    collector.refresh_from_db()
    assert collector.is_active and Collector.objects.count() == 1


def test_bad_input_answers_400_names_the_field_and_creates_nothing(supervisor, world):
    mine = world.mine
    empty = register(supervisor, mine.province, name="  ")
    assert empty.status_code == 400
    assert 'data-field="name"' in empty.content.decode()
    assert "必填" in empty.content.decode()  # the user's language (zh-hans)
    outside = register(supervisor, world.other.province)
    assert outside.status_code == 400
    assert 'data-field="organization"' in outside.content.decode()
    too_long = register(supervisor, mine.province, name="采" * 81)
    assert too_long.status_code == 400 and 'data-field="name"' in too_long.content.decode()
    assert Collector.objects.count() == 0
    assert not AuditEvent.objects.filter(action="inbox.collector_create").exists()
    assert 'id="token"' not in empty.content.decode()


def test_page_queries_do_not_grow_with_the_collectors(supervisor, mine):
    account = account_for(mine.city_dept, supervising=mine.city)

    def add_collector(n):
        _c, token = ingest.collector_create(actor=mine.users[Role.SUPERVISOR],
                                            organization=mine.province, name=f"采集器{n}")
        deliver(token, account, f"m{n}")
        deliver(token, account, "", prefer=True)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert supervisor.get(PAGE).status_code == 200
        return len(ctx.captured_queries)

    add_collector(0)
    supervisor.get(PAGE)  # warm the per-session caches
    one = count()
    for n in range(1, 5):
        add_collector(n)
    assert count() == one


def test_nav_links_the_page_for_those_who_may_change(client, mine):
    client.force_login(mine.users[Role.SUPERVISOR])
    assert f'href="{PAGE}"' in client.get("/inbox/").content.decode()
    client.force_login(mine.users[Role.AUDITOR])
    assert f'href="{PAGE}"' not in client.get("/inbox/").content.decode()


def test_services_audit_and_check_the_right(mine, world):
    supervisor = mine.users[Role.SUPERVISOR]
    collector, token = ingest.collector_create(actor=supervisor,
                                               organization=mine.province, name="采集器")
    from common.errors import NotFound, PermissionDenied

    with pytest.raises(NotFound):
        ingest.collector_deactivate(actor=world.other.users[Role.SUPERVISOR],
                                    collector=collector)
    with pytest.raises(PermissionDenied):
        ingest.collector_token_rotate(actor=mine.users[Role.AUDITOR], collector=collector)
    assert ingest.collector_key(token) is not None
    ingest.collector_deactivate(actor=supervisor, collector=collector)
    ingest.collector_deactivate(actor=supervisor, collector=collector)  # no change
    assert ingest.collector_key(token) is None
    assert AuditEvent.objects.filter(action="inbox.collector_deactivate").count() == 1
    event = AuditEvent.objects.get(action="inbox.collector_deactivate")
    assert event.before == {"is_active": True} and event.after == {"is_active": False}
    assert RawPayload.objects.count() == 0
