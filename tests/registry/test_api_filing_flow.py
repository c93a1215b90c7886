"""The Done-when flow through the API: an operator files a new account by pasting its
profile URL, the supervisor approves, the account is listed, its history shows both."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from accounts.models import Role
from registry.models import AccountStatus, Filing, FilingStatus
from tests.factories import token_for


def _client(user) -> Client:
    token = token_for(user)
    return Client(HTTP_AUTHORIZATION=f"Token {token}")


def test_file_approve_list_history(world):
    operator = _client(world.mine.users[Role.OPERATOR])
    supervisor = _client(world.mine.city_supervisor)

    parsed = operator.get("/api/v1/platforms/parse-url/", {"url": "https://weibo.com/u/3210987654?from=x"})
    assert parsed.status_code == 200
    assert parsed.json()["platform_code"] == "weibo" and parsed.json()["account_id"] == "3210987654"

    body = {
        "kind": "open",
        "organization": world.mine.city_dept.pk,
        "profile_url": "https://weibo.com/u/3210987654",
        "display_name": "甲一公安",
        "event_date": str(timezone.localdate()),
        "operators": [world.mine.users[Role.OPERATOR].pk, world.mine.users[Role.OUTSOURCED_OPERATOR].pk],
    }
    created = operator.post("/api/v1/filings/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    filing = created.json()
    assert filing["status"] == "submitted" and filing["after"]["platform_account_id"] == "3210987654"

    # the same account a second time: a clear 409 with a field error, not a 500
    again = operator.post("/api/v1/filings/", body, content_type="application/json")
    assert again.status_code == 409 and "platform_account_id" in again.json()["fields"]

    # rule 8: the unit's principal leader signs the opening off before the supervisor
    assert supervisor.get("/api/v1/filings/queue/").json()["results"] == []
    leader = _client(world.mine.users[Role.PRINCIPAL_LEADER])
    signed = leader.post(f"/api/v1/filings/{filing['id']}/sign-off/", {}, content_type="application/json")
    assert signed.status_code == 200 and signed.json()["leader_signoff"] == "approved"
    queue = supervisor.get("/api/v1/filings/queue/")
    assert [f["id"] for f in queue.json()["results"]] == [filing["id"]]
    # the operator cannot approve; another province's supervisor does not see it
    assert operator.post(f"/api/v1/filings/{filing['id']}/approve/").status_code == 403
    foreign = _client(world.other.users[Role.SUPERVISOR])
    assert foreign.post(f"/api/v1/filings/{filing['id']}/approve/").status_code == 404
    assert Filing.objects.get(pk=filing["id"]).status == FilingStatus.SUBMITTED

    approved = supervisor.post(f"/api/v1/filings/{filing['id']}/approve/", {}, content_type="application/json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    twice = supervisor.post(f"/api/v1/filings/{filing['id']}/approve/", {}, content_type="application/json")
    assert twice.status_code == 409

    listed = operator.get("/api/v1/media-accounts/", {"platform": "weibo", "status": "active"}).json()
    assert [a["display_name"] for a in listed["results"]] == ["甲一公安"]
    account_id = listed["results"][0]["id"]
    assert foreign.get(f"/api/v1/media-accounts/{account_id}/").status_code == 404

    history = supervisor.get(f"/api/v1/media-accounts/{account_id}/history/").json()
    actions = {e["action"] for e in history["events"]}
    assert {"filing.submitted", "filing.approved", "media_account.opened"} <= actions
    assert [f["status"] for f in history["filings"]] == ["approved"]


def test_bad_input_answers_400_per_field(world):
    operator = _client(world.mine.users[Role.OPERATOR])
    r = operator.get("/api/v1/platforms/parse-url/", {"url": "https://example.com/whatever"})
    assert r.status_code == 400 and "profile_url" in r.json()["fields"]
    r = operator.get("/api/v1/platforms/parse-url/", {"url": "https://weibo.com/u/3210987654", "platform": "douyin"})
    assert r.status_code == 400 and r.json()["code"] == "url_other_platform"
    r = operator.post(
        "/api/v1/filings/",
        {"kind": "open", "organization": world.mine.city_dept.pk, "profile_url": "not a url",
         "display_name": "x", "event_date": str(timezone.localdate())},
        content_type="application/json",
    )
    assert r.status_code == 400 and "profile_url" in r.json()["fields"]
    r = operator.post("/api/v1/filings/", {"kind": "nope"}, content_type="application/json")
    assert r.status_code == 400 and "kind" in r.json()["fields"]
    r = operator.post(
        "/api/v1/filings/", {"kind": "suspend", "event_date": str(timezone.localdate())},
        content_type="application/json",
    )
    assert r.status_code == 400 and "account" in r.json()["fields"]


def test_reject_through_the_api_needs_a_reason(world):
    operator = _client(world.mine.users[Role.OPERATOR])
    supervisor = _client(world.mine.city_supervisor)
    body = {
        "kind": "open", "organization": world.mine.city_dept.pk, "platform": "douyin",
        "platform_account_id": "gov_jy", "display_name": "甲一公安",
        "event_date": str(timezone.localdate()),
        "operators": [world.mine.users[Role.OPERATOR].pk, world.mine.users[Role.OUTSOURCED_OPERATOR].pk],
    }
    fid = operator.post("/api/v1/filings/", body, content_type="application/json").json()["id"]
    leader = _client(world.mine.users[Role.PRINCIPAL_LEADER])
    assert leader.post(f"/api/v1/filings/{fid}/sign-off/").status_code == 200
    r = supervisor.post(f"/api/v1/filings/{fid}/reject/", {}, content_type="application/json")
    assert r.status_code == 400 and "reason" in r.json()["fields"]
    r = supervisor.post(f"/api/v1/filings/{fid}/reject/", {"reason": "账号名称不规范"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    # the account was never opened and its platform id is free: the same body files again
    assert Filing.objects.get(pk=fid).account.status == AccountStatus.NOT_OPENED
    again = operator.post("/api/v1/filings/", body, content_type="application/json")
    assert again.status_code == 201 and again.json()["account"] != Filing.objects.get(pk=fid).account_id
