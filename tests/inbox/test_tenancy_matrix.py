"""Tenant isolation of every inbox endpoint, for all 12 roles in two placements,
through the declarative harness of tests/tenancy.py. Endpoints that need a role on
top of scope (approving replies, setting SLA policies, reading raw payloads) are
checked in test_workflow and below."""

from __future__ import annotations

import itertools
import json

import pytest

from accounts.models import Role
from accounts.scoping import Domain
from inbox.models import Message, Reply, SlaPolicy, SlaUnit
from inbox.services import handling, timers
from tests import tenancy
from tests.accounts.test_tenancy_matrix import _context
from tests.factories import make_user
from tests.inbox.factories import manual

_n = itertools.count(1)


def _message(org):
    if org is None:
        return None
    return manual(org, f"矩阵留言{next(_n)}：请问如何办理？")


def _reply(org):
    if org is None:
        return None
    message = _message(org)
    return handling.reply_submit(message=message, actor=make_user(org, Role.OPERATOR),
                                 text="矩阵答复。")


def _policy(org):
    if org is None:
        return None
    return SlaPolicy.objects.create(organization=org, category="", priority=next(_n),
                                    unit=SlaUnit.WORKING_DAYS, first_response=1, reply=3)


ROWS = {
    "inbox_message": tenancy.Rows(Domain.BUSINESS, make=_message, universe=lambda: {
        str(pk): p for pk, p in Message.objects.values_list("pk", "org_path")}),
    "inbox_reply": tenancy.Rows(Domain.BUSINESS, make=_reply, universe=lambda: {
        str(pk): p for pk, p in Reply.objects.values_list("pk", "message__org_path")}),
    "inbox_sla_policy": tenancy.Rows(Domain.BUSINESS, make=_policy, universe=lambda: {
        str(pk): p for pk, p in SlaPolicy.objects.filter(organization__isnull=False)
        .values_list("pk", "organization__path")}),
}


def _own_policies(client, response):
    keys: set[str] = set()
    while True:
        body = response.json()
        keys |= {str(i["id"]) for i in body["results"] if i["organization"] is not None}
        if not body.get("next"):
            return keys
        response = client.get(body["next"])


E = tenancy.Endpoint
ENDPOINTS = [
    tenancy.api_list("api inbox messages list", "inbox_message",
                     "/api/v1/inbox/messages/?page_size=200"),
    tenancy.api_read("api inbox messages retrieve", "inbox_message",
                     "/api/v1/inbox/messages/{pk}/"),
    E("api inbox messages export", "inbox_message", tenancy.EXPORT,
      "/api/v1/inbox/messages/export/", extract=tenancy.csv_column(0)),
    E("api inbox messages accept", "inbox_message", tenancy.CHANGE,
      "/api/v1/inbox/messages/{pk}/accept/", method="post", data=lambda row, ctx: {}),
    E("api inbox messages classify", "inbox_message", tenancy.CHANGE,
      "/api/v1/inbox/messages/{pk}/classify/", method="post",
      data=lambda row, ctx: {"category": "inquiry"}),
    E("api inbox messages create", "inbox_message", tenancy.CREATE,
      "/api/v1/inbox/messages/", method="post",
      data=lambda org, ctx: {"organization": org.pk, "channel": "hotline",
                             "text": "矩阵热线。"}, ok=201),
    E("page inbox", "inbox_message", tenancy.LIST, "/inbox/?view=all", via="page",
      extract=tenancy.page_context("page")),
    E("page inbox message", "inbox_message", tenancy.READ, "/inbox/{pk}/", via="page"),
    tenancy.api_list("api inbox replies list", "inbox_reply",
                     "/api/v1/inbox/replies/?page_size=200"),
    tenancy.api_read("api inbox replies retrieve", "inbox_reply",
                     "/api/v1/inbox/replies/{pk}/"),
    E("api inbox sla-policies list", "inbox_sla_policy", tenancy.LIST,
      "/api/v1/inbox/sla-policies/?page_size=200", extract=_own_policies),
    tenancy.api_read("api inbox sla-policies retrieve", "inbox_sla_policy",
                     "/api/v1/inbox/sla-policies/{pk}/"),
]


def _path_of(row):
    if isinstance(row, Message):
        return row.org_path
    if isinstance(row, Reply):
        return row.message.org_path
    return _original_path_of(row)


_original_path_of = tenancy._path_of


@pytest.mark.parametrize("placement", ["standard", "city"])
@pytest.mark.parametrize("role", list(Role))
def test_inbox_isolation_matrix(world, role, placement, monkeypatch):
    for name, rows in ROWS.items():
        monkeypatch.setitem(tenancy.ROWS, name, rows)
    monkeypatch.setattr(tenancy, "_path_of", _path_of)
    ctx = _context(world, role, placement)
    problems: list[str] = []
    for endpoint in ENDPOINTS:
        problems += tenancy.check_endpoint(ctx, endpoint)
    assert not problems, f"{role} ({placement}):\n" + "\n".join(problems)


def test_every_inbox_row_kind_is_listed_and_read():
    kinds: dict[str, set[str]] = {}
    for endpoint in ENDPOINTS:
        kinds.setdefault(endpoint.rows, set()).add(f"{endpoint.via}:{endpoint.kind}")
    for rows in ROWS:
        assert {"api:list", "api:read"} <= kinds[rows], rows


@pytest.mark.parametrize("role", list(Role))
def test_role_gated_sla_policy_create_and_overview(world, role):
    """Only a supervisor sets SLA policies, in their scope; the SLA overview of
    another province answers 404."""
    from django.db import transaction

    ctx = _context(world, role, "standard")
    for target, org in ctx.targets.items():
        with transaction.atomic():
            r = ctx.client.post("/api/v1/inbox/sla-policies/", data=json.dumps({
                "organization": org.pk, "unit": "working_days", "first_response": 1,
                "reply": 4, "priority": 50}), content_type="application/json")
            transaction.set_rollback(True)
        visible = tenancy.may(role, ctx.at, tenancy.V, Domain.BUSINESS, org.path)
        changeable = tenancy.may(role, ctx.at, tenancy.C, Domain.BUSINESS, org.path)
        if not visible:
            want = 404
        elif not changeable or role != Role.SUPERVISOR:
            want = 403
        else:
            want = 201
        assert r.status_code == want, (role, target, r.status_code, r.content[:200])
        page = ctx.client.get(f"/inbox/sla/?org={org.pk}")
        assert page.status_code == (200 if visible else 404), (role, target)


def test_sla_policy_for_an_org_recomputes_its_open_messages(world, django_capture_on_commit_callbacks):
    from tests.inbox.factories import account_for, receive
    from tests.inbox.test_deadlines import end_of, local

    mine = world.mine
    account = account_for(mine.city_dept, supervising=mine.city)
    message = receive(account, "请问如何办理？", at=local(2025, 3, 3, 9, 0))
    assert message.reply_due_at == end_of(2025, 3, 10)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        timers.sla_policy_save(actor=mine.city_supervisor, organization=mine.city,
                               category="", unit=SlaUnit.WORKING_DAYS, first_response=1,
                               reply=3, priority=5)
    assert callbacks
    timers.sla_terms_reapply(organization=mine.city)
    message.refresh_from_db()
    assert message.sla_reply == 3 and message.reply_due_at == end_of(2025, 3, 6)
