"""An account's WeChat settings (callback and sending credentials) through the API,
the page and the admin: secrets are stored encrypted, never shown back, kept when
left blank; another organization's settings answer 404; every save is audited
without the secret."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from accounts.models import Role
from audit.models import AuditEvent
from inbox import crypto
from inbox.models import WeChatEndpoint
from inbox.services import wechat
from tests.inbox.factories import account_for

SECRET = "0123456789abcdef0123456789abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def accounts(world):
    mine, other = world.mine, world.other
    return (
        account_for(mine.city_dept, "wechat_service", supervising=mine.city),
        account_for(other.city_dept, "wechat_service", supervising=other.city),
    )


def _save(ns, account, **extra):
    return wechat.wechat_endpoint_save(
        actor=ns.users[Role.OPERATOR],
        account=account,
        app_id="wx5823bf96d3bd56c7",
        token="govtoken1",
        mode="plain",
        **extra,
    )


def test_api_creates_and_changes_settings_without_showing_secrets(world, accounts):
    mine_account, _theirs = accounts
    op = client_for(world.mine.users[Role.OPERATOR])
    r = op.post(
        "/api/v1/inbox/wechat-endpoints/",
        data=json.dumps(
            {
                "account": mine_account.pk,
                "app_id": "wx5823bf96d3bd56c7",
                "mode": "safe",
                "token": "govtoken1",
                "aes_key": AES_KEY,
                "app_secret": SECRET,
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["can_send"] and body["token_set"] and body["aes_key_set"]
    assert SECRET not in r.content.decode() and "govtoken1" not in r.content.decode()
    endpoint = WeChatEndpoint.objects.get()
    assert SECRET not in endpoint.app_secret_encrypted
    assert crypto.decrypt(endpoint.app_secret_encrypted) == SECRET
    # A change with the secrets left blank keeps them.
    r = op.patch(
        f"/api/v1/inbox/wechat-endpoints/{endpoint.pk}/",
        data=json.dumps({"app_id": "wx0000000000000001", "mode": "safe"}),
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    endpoint.refresh_from_db()
    assert endpoint.app_id == "wx0000000000000001"
    assert crypto.decrypt(endpoint.app_secret_encrypted) == SECRET
    assert crypto.decrypt(endpoint.token_encrypted) == "govtoken1"
    # A malformed secret is refused and changes nothing.
    r = op.patch(
        f"/api/v1/inbox/wechat-endpoints/{endpoint.pk}/",
        data=json.dumps({"app_id": "wx1", "app_secret": "short"}),
        content_type="application/json",
    )
    assert r.status_code == 400 and "app_secret" in r.json()["fields"]
    endpoint.refresh_from_db()
    assert endpoint.app_id == "wx0000000000000001"
    # Removing the secret stops sending.
    r = op.patch(
        f"/api/v1/inbox/wechat-endpoints/{endpoint.pk}/",
        data=json.dumps({"app_id": "wx0000000000000001", "remove_app_secret": True}),
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["can_send"] is False
    events = AuditEvent.objects.filter(action="inbox.wechat_endpoint_save")
    assert events.count() == 3
    assert all(SECRET not in json.dumps(e.after) for e in events)
    assert events.order_by("id").first().after["secrets_changed"] == [
        "token",
        "aes_key",
        "app_secret",
    ]


def test_another_organizations_settings_answer_404(world, accounts):
    mine_account, theirs = accounts
    foreign = _save(world.other, theirs, app_secret=SECRET)
    _save(world.mine, mine_account)
    for role in (Role.OPERATOR, Role.SUPERVISOR, Role.LIAISON):
        c = client_for(world.mine.users[role])
        url = f"/api/v1/inbox/wechat-endpoints/{foreign.pk}/"
        assert c.get(url).status_code == 404
        assert (
            c.patch(
                url,
                data=json.dumps({"app_id": "wxevil", "app_secret": "e" * 32}),
                content_type="application/json",
            ).status_code
            == 404
        )
        listed = c.get("/api/v1/inbox/wechat-endpoints/").json()["results"]
        assert foreign.pk not in [row["id"] for row in listed]
        # Creating settings for their account: 404 as well.
        r = c.post(
            "/api/v1/inbox/wechat-endpoints/",
            data=json.dumps(
                {
                    "account": theirs.pk,
                    "app_id": "wxevil",
                    "token": "eviltoken",
                    "mode": "plain",
                    "app_secret": "e" * 32,
                }
            ),
            content_type="application/json",
        )
        assert r.status_code == 404
        assert c.get(f"/inbox/wechat-settings/{theirs.pk}/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.app_id == "wx5823bf96d3bd56c7"
    assert crypto.decrypt(foreign.app_secret_encrypted) == SECRET
    # An auditor sees its own province's settings but may not change them.
    auditor = client_for(world.mine.users[Role.AUDITOR])
    mine_ep = WeChatEndpoint.objects.get(account=mine_account)
    assert (
        auditor.get(f"/api/v1/inbox/wechat-endpoints/{mine_ep.pk}/").status_code == 200
    )
    assert (
        auditor.patch(
            f"/api/v1/inbox/wechat-endpoints/{mine_ep.pk}/",
            data=json.dumps({"app_id": "wx1"}),
            content_type="application/json",
        ).status_code
        == 403
    )


def test_page_edits_settings_and_never_shows_the_secret(world, accounts):
    mine_account, theirs = accounts
    _save(world.other, theirs)
    op = client_for(world.mine.users[Role.OPERATOR])
    listing = op.get("/inbox/wechat-settings/").content.decode()
    assert mine_account.display_name in listing and theirs.display_name not in listing
    url = f"/inbox/wechat-settings/{mine_account.pk}/"
    r = op.post(
        url,
        {
            "app_id": "wx5823bf96d3bd56c7",
            "mode": "plain",
            "token": "govtoken1",
            "app_secret": SECRET,
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    endpoint = WeChatEndpoint.objects.get(account=mine_account)
    assert endpoint.can_send
    page = op.get(url).content.decode()
    assert SECRET not in page and "govtoken1" not in page
    assert f"/inbox/wechat/{endpoint.slug}/" in page


def test_admin_saves_through_the_service_for_business_staff_only(world, accounts):
    mine_account, theirs = accounts
    foreign = _save(world.other, theirs, app_secret=SECRET)
    operator = world.mine.users[Role.OPERATOR]
    operator.is_staff = True
    operator.save(update_fields=["is_staff"])
    c = client_for(operator)
    r = c.post(
        "/admin/inbox/wechatendpoint/add/",
        {
            "account": mine_account.pk,
            "app_id": "wx5823bf96d3bd56c7",
            "mode": "plain",
            "token": "govtoken1",
            "app_secret": SECRET,
        },
    )
    assert r.status_code == 302, re.findall(
        r"errorlist[^>]*>(.*?)</ul", r.content.decode(), re.S
    )
    endpoint = WeChatEndpoint.objects.get(account=mine_account)
    assert crypto.decrypt(endpoint.app_secret_encrypted) == SECRET
    assert (
        AuditEvent.objects.filter(
            action="inbox.wechat_endpoint_save", actor_id=operator.pk
        ).count()
        == 1
    )
    page = c.get(f"/admin/inbox/wechatendpoint/{endpoint.pk}/change/").content.decode()
    assert SECRET not in page
    assert c.get(f"/admin/inbox/wechatendpoint/{foreign.pk}/change/").status_code in (
        302,
        404,
    )
    # The system administrator (no business rights) sees no WeChat settings.
    sysadmin = client_for(world.mine.users[Role.SYSTEM_ADMIN])
    assert sysadmin.get("/admin/inbox/wechatendpoint/").status_code == 403
