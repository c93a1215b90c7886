"""The REST API: the whole review flow, collector reports, directives, tenant
isolation on every endpoint, constant query counts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import Role
from moderation.models import Flag, FlagKind, Importance, TermKind
from notifications.models import Notification
from tests.common.upload_samples import png_bytes
from tests.moderation.factories import (
    SOFT,
    approve_all,
    make_account,
    make_dictionary,
    make_post,
    submit,
)

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_api_flow_important_post_with_soft_hit(world):
    ns = world.mine
    make_dictionary(ns, TermKind.COMMON_ERROR, [("国务院办公室", "国务院办公厅", SOFT)])
    account = make_account(ns.city_dept, "weibo")
    op = client_for(ns.users[Role.OPERATOR])

    live = op.post("/api/v1/posts/precheck/", {"text": "转发国务院办公室通知", "account_ids": [account.pk]},
                   format="json")
    assert live.status_code == 200, live.content
    hit, = live.json()["hits"]
    assert (hit["kind"], hit["severity"], hit["start"], hit["suggestion"]) == (
        "common_error", "soft", 2, "国务院办公厅")

    r = op.post("/api/v1/posts/", {"title": "重要通知", "text": "转发国务院办公室通知",
                                   "importance": "important", "account_ids": [account.pk]},
                format="json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    r = op.post(f"/api/v1/posts/{pk}/submit/", {}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "override_required"
    r = op.post(f"/api/v1/posts/{pk}/submit/",
                {"overrides": {"common_error:国务院办公室": "原文标题如此"}}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["overrides"][0]["reason"] == "原文标题如此"

    # Out of order through the API: a clear 409, nothing changes.
    leader = client_for(ns.users[Role.LEADER_IN_CHARGE])
    r = leader.post(f"/api/v1/posts/{pk}/approve/", {"step": "leader_in_charge"}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "out_of_order"
    # Self-approval through the API: 403.
    r = op.post(f"/api/v1/posts/{pk}/approve/", {}, format="json")
    assert r.status_code == 403

    for role in (Role.DEPARTMENT_HEAD, Role.LEADER_IN_CHARGE, Role.CONFIDENTIALITY_REVIEWER):
        reviewer = client_for(ns.users[role])
        queue = reviewer.get("/api/v1/posts/queue/").json()["results"]
        assert [p["id"] for p in queue] == [pk]
        r = reviewer.post(f"/api/v1/posts/{pk}/approve/", {"step": role.value, "revision": 1},
                          format="json")
        assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "approved" and body["signoff"]["number"]

    r = op.post(f"/api/v1/posts/{pk}/publish/",
                {"account": account.pk, "url": "https://weibo.com/123/Abc"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "published"
    r = op.post(f"/api/v1/posts/{pk}/publish/",
                {"account": account.pk, "url": "https://weibo.com/123/Abc"}, format="json")
    assert r.status_code == 409

    pdf = op.get(f"/api/v1/posts/{pk}/signoff/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    detail = op.get(f"/api/v1/posts/{pk}/").json()
    assert [(s["role"], s["status"]) for s in detail["steps"]] == [
        ("department_head", "approved"), ("leader_in_charge", "approved"),
        ("confidentiality_reviewer", "approved")]
    assert all(s["decided_by_name"] and s["decided_at"] for s in detail["steps"])
    # The person's name, never an object's repr (which leaked a memory address).
    assert all(" at 0x" not in s["decided_by_name"] for s in detail["steps"])
    assert detail["steps"][0]["decided_by_name"] == str(ns.users[Role.DEPARTMENT_HEAD])

    # The collector reports the same text: matched, no flag.
    collector = client_for(ns.users[Role.SUPERVISOR])
    r = collector.post("/api/v1/published-posts/", {
        "account": account.pk, "platform_post_id": "Abc", "text": "转发国务院办公室通知 ",
        "url": "https://weibo.com/123/Abc"}, format="json")
    assert r.status_code == 201 and r.json()["match_status"] == "matched"
    assert not Flag.objects.exists()


def test_unapproved_publication_reported_is_flagged(world):
    ns = world.mine
    account = make_account(ns.city_dept, "weibo", supervising=ns.province)
    collector = client_for(ns.users[Role.SUPERVISOR])
    payload = {"account": account.pk, "platform_post_id": "X1", "text": "未经审核的内容"}
    r = collector.post("/api/v1/published-posts/", payload, format="json")
    assert r.status_code == 201 and r.json()["match_status"] == "unmatched"
    flag = Flag.objects.get()
    assert flag.kind == FlagKind.UNAPPROVED_PUBLICATION
    assert Notification.objects.filter(recipient=ns.users[Role.SUPERVISOR],
                                       kind="moderation.unapproved_publication").exists()
    # Idempotent by platform + platform post id.
    r = collector.post("/api/v1/published-posts/", payload, format="json")
    assert r.status_code == 200
    assert Flag.objects.count() == 1
    r = collector.get("/api/v1/flags/?open=1")
    assert [f["id"] for f in r.json()["results"]] == [flag.pk]
    r = collector.post(f"/api/v1/flags/{flag.pk}/resolve/", {"resolution": "已删除并约谈"},
                       format="json")
    assert r.status_code == 200 and r.json()["resolved_at"]


def test_published_text_differing_from_approved_is_flagged(world):
    ns = world.mine
    account = make_account(ns.city_dept, "weibo", supervising=ns.province)
    text = "今天召开全县安全生产工作会议，部署下一阶段的重点任务和工作安排。"
    approve_all(submit(make_post(ns, account=account, text=text), ns), ns)
    collector = client_for(ns.users[Role.SUPERVISOR])
    r = collector.post("/api/v1/published-posts/", {
        "account": account.pk, "platform_post_id": "D1",
        "text": text.replace("重点任务", "重大任务")}, format="json")
    assert r.json()["match_status"] == "differs"
    assert Flag.objects.get().kind == FlagKind.TEXT_DIFFERS


def test_bad_input_is_400_with_fields(world):
    ns = world.mine
    account = make_account(ns.city_dept)
    foreign = make_account(world.other.city_dept)
    op = client_for(ns.users[Role.OPERATOR])
    r = op.post("/api/v1/posts/", {"text": "x", "account_ids": [foreign.pk]}, format="json")
    assert r.status_code == 400 and "account_ids" in r.json()["fields"]
    r = op.post("/api/v1/posts/", {"text": "x", "account_ids": [999999]}, format="json")
    assert r.status_code == 400
    r = op.post("/api/v1/posts/", {"text": "x" * 20001, "account_ids": [account.pk]},
                format="json")
    assert r.status_code == 400 and "text" in r.json()["fields"]
    r = op.post("/api/v1/posts/", {"text": "x", "account_ids": "nope"}, format="json")
    assert r.status_code == 400
    pk = op.post("/api/v1/posts/", {"text": "x", "account_ids": [account.pk]},
                 format="json").json()["id"]
    from django.test import override_settings

    with override_settings(MODERATION_MAX_ATTACHMENT_BYTES=10):
        r = op.post(f"/api/v1/posts/{pk}/attachments/",
                    {"file": SimpleUploadedFile("a.png", png_bytes())}, format="multipart")
    assert r.status_code == 400 and r.json()["code"] == "upload_too_large"
    r = op.post(f"/api/v1/posts/{pk}/attachments/",
                {"file": SimpleUploadedFile("a.png", png_bytes())}, format="multipart")
    assert r.status_code == 201
    attachment = r.json()["attachments"][0]
    assert attachment["name"] == "a.png" and r.json()["revision"] == 2
    assert attachment["content_type"] == "image/png"
    assert attachment["download_url"] == f"/moderation/posts/{pk}/attachments/{attachment['id']}/"


def test_edit_through_api_restarts_review_and_diff(world):
    ns = world.mine
    post = approve_all(submit(make_post(ns, text="第一版正文。"), ns), ns)
    op = client_for(ns.users[Role.OPERATOR])
    r = op.patch(f"/api/v1/posts/{post.pk}/", {"text": "第二版正文。"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "draft" and r.json()["revision"] == 2
    diff = op.get(f"/api/v1/posts/{post.pk}/diff/?from=1&to=2").json()
    assert "<del>一</del><ins>二</ins>" in diff["html"]


def test_directive_api_confirm_and_progress(world):
    ns = world.mine
    account = make_account(ns.city_dept, "weibo")
    sup = client_for(ns.users[Role.SUPERVISOR])
    r = sup.post("/api/v1/repost-directives/", {"title": "转发", "source_url": "https://www.gov.cn/x",
                                                "platforms": ["weibo"]}, format="json")
    assert r.status_code == 201, r.content
    directive_id = r.json()["id"]
    op = client_for(ns.users[Role.OPERATOR])
    target, = op.get(f"/api/v1/directive-targets/?directive={directive_id}").json()["results"]
    assert target["account"] == account.pk
    r = op.post(f"/api/v1/directive-targets/{target['id']}/confirm/",
                {"repost_url": "https://weibo.com/1/2"}, format="json")
    assert r.status_code == 200
    r = op.post(f"/api/v1/directive-targets/{target['id']}/confirm/",
                {"repost_url": "https://weibo.com/1/2"}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "already_confirmed"
    progress = sup.get(f"/api/v1/repost-directives/{directive_id}/progress/").json()
    assert (progress["total"], progress["confirmed"]) == (1, 1)
    assert progress["organizations"][0]["name"] == ns.city_dept.name


def test_tenant_isolation_every_endpoint(world):
    """The other province sees none of it: lists are empty, objects answer 404."""
    ns = world.mine
    account = make_account(ns.city_dept, "weibo", supervising=ns.province)
    post = approve_all(submit(make_post(ns, account=account), ns), ns)
    dictionary = make_dictionary(ns, TermKind.SENSITIVE, [("词", "", SOFT)])
    sup = client_for(ns.users[Role.SUPERVISOR])
    directive_id = sup.post("/api/v1/repost-directives/", {
        "title": "t", "source_url": "https://www.gov.cn/x"}, format="json").json()["id"]
    sup.post("/api/v1/published-posts/", {"account": account.pk, "platform_post_id": "Z",
                                          "text": "未审"}, format="json")
    flag = Flag.objects.get()
    from moderation.models import DirectiveTarget, PublishedPost

    target = DirectiveTarget.objects.get(directive_id=directive_id)
    published = PublishedPost.objects.get()
    for role in (Role.SUPERVISOR, Role.OPERATOR, Role.DEPARTMENT_HEAD, Role.AUDITOR):
        other = client_for(world.other.users[role])
        for url in ["/api/v1/posts/", "/api/v1/posts/queue/", "/api/v1/dictionaries/",
                    "/api/v1/published-posts/", "/api/v1/flags/", "/api/v1/repost-directives/",
                    "/api/v1/directive-targets/"]:
            r = other.get(url)
            assert r.status_code == 200 and r.json()["results"] == [], (role, url)
        for url in [f"/api/v1/posts/{post.pk}/", f"/api/v1/posts/{post.pk}/diff/",
                    f"/api/v1/posts/{post.pk}/signoff/", f"/api/v1/dictionaries/{dictionary.pk}/",
                    f"/api/v1/dictionaries/{dictionary.pk}/terms/",
                    f"/api/v1/published-posts/{published.pk}/", f"/api/v1/flags/{flag.pk}/",
                    f"/api/v1/repost-directives/{directive_id}/",
                    f"/api/v1/repost-directives/{directive_id}/progress/",
                    f"/api/v1/directive-targets/{target.pk}/"]:
            assert other.get(url).status_code == 404, (role, url)
        for url, body in [
            (f"/api/v1/posts/{post.pk}/approve/", {}),
            (f"/api/v1/posts/{post.pk}/reject/", {"comment": "x"}),
            (f"/api/v1/posts/{post.pk}/submit/", {}),
            (f"/api/v1/posts/{post.pk}/publish/", {"account": account.pk, "url": "https://a.b/"}),
            (f"/api/v1/flags/{flag.pk}/resolve/", {"resolution": "x"}),
            (f"/api/v1/directive-targets/{target.pk}/confirm/", {"repost_url": "https://a.b/"}),
            (f"/api/v1/dictionaries/{dictionary.pk}/terms/add/", {"term": "x"}),
        ]:
            assert other.post(url, body, format="json").status_code == 404, (role, url)
        assert other.patch(f"/api/v1/posts/{post.pk}/", {"text": "x"},
                           format="json").status_code == 404
        # Reporting on another province's account: answered like a missing one.
        r = other.post("/api/v1/published-posts/", {"account": account.pk,
                                                    "platform_post_id": "Q", "text": "x"},
                       format="json")
        assert r.status_code == 404
    assert Flag.objects.count() == 1


def _queue_posts(ns, n):
    for _ in range(n):
        submit(make_post(ns, importance=Importance.IMPORTANT), ns)


def test_constant_queries_queue_and_post_list(world, django_assert_num_queries):
    ns = world.mine
    head = client_for(ns.users[Role.DEPARTMENT_HEAD])
    op = client_for(ns.users[Role.OPERATOR])
    _queue_posts(ns, 2)
    counts = {}
    for label, c, url in [("queue", head, "/api/v1/posts/queue/"),
                          ("list", op, "/api/v1/posts/?mine=1")]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        c.get(url)  # warm the per-user membership cache, as every later call has it
        with CaptureQueriesContext(connection) as ctx:
            assert len(c.get(url).json()["results"]) == 2
        counts[label] = len(ctx.captured_queries)
    _queue_posts(ns, 6)
    with django_assert_num_queries(counts["queue"]):
        assert len(head.get("/api/v1/posts/queue/").json()["results"]) == 8
    with django_assert_num_queries(counts["list"]):
        assert len(op.get("/api/v1/posts/?mine=1").json()["results"]) == 8


def test_constant_queries_pages(world, client, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ns = world.mine
    _queue_posts(ns, 2)
    counts = {}
    for role, url in [(Role.DEPARTMENT_HEAD, "/moderation/queue/"),
                      (Role.OPERATOR, "/moderation/posts/")]:
        client.force_login(ns.users[role])
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        counts[url] = (role, len(ctx.captured_queries))
    _queue_posts(ns, 5)
    for url, (role, n) in counts.items():
        client.force_login(ns.users[role])
        with django_assert_num_queries(n):
            assert client.get(url).status_code == 200


def test_pages_render_for_each_role(world, client):
    ns = world.mine
    account = make_account(ns.city_dept, "weibo", supervising=ns.province)
    post = approve_all(submit(make_post(ns, account=account), ns), ns)
    client.force_login(ns.users[Role.SUPERVISOR])
    r = client.post("/moderation/directives/new/", {"title": "转发", "source_url": "https://www.gov.cn/a"})
    assert r.status_code == 302
    for role in (Role.OPERATOR, Role.DEPARTMENT_HEAD, Role.SUPERVISOR):
        client.force_login(ns.users[role])
        for url in ["/moderation/posts/", f"/moderation/posts/{post.pk}/", "/moderation/queue/",
                    "/moderation/directives/", "/moderation/flags/",
                    f"/moderation/posts/{post.pk}/signoff.pdf"]:
            assert client.get(url).status_code == 200, (role, url)
    client.force_login(ns.users[Role.OPERATOR])
    assert client.get("/moderation/posts/new/").status_code == 200
    client.force_login(world.other.users[Role.SUPERVISOR])
    assert client.get(f"/moderation/posts/{post.pk}/").status_code == 404
    assert client.get(f"/moderation/posts/{post.pk}/signoff.pdf").status_code == 404


def test_correction_links_to_original(world):
    ns = world.mine
    account = make_account(ns.city_dept, "weibo")
    original = approve_all(submit(make_post(ns, account=account), ns), ns)
    op = client_for(ns.users[Role.OPERATOR])
    r = op.post("/api/v1/posts/", {"text": "更正：昨日发布的会议时间有误，特此更正并致歉。",
                                   "kind": "correction", "corrects": original.pk,
                                   "account_ids": [account.pk]}, format="json")
    assert r.status_code == 201, r.content
    assert (r.json()["kind"], r.json()["corrects"]) == ("correction", original.pk)
    r = op.post("/api/v1/posts/", {"text": "致歉", "kind": "apology",
                                   "account_ids": [account.pk]}, format="json")
    assert r.status_code == 400 and "corrects" in r.json()["fields"]


def test_precheck_endpoint_is_scoped(world):
    ns = world.mine
    op = client_for(world.other.users[Role.OPERATOR])
    r = op.post("/api/v1/posts/precheck/", {"text": "x", "organization": ns.city_dept.pk},
                format="json")
    assert r.status_code == 404  # another jurisdiction answers like a missing one


def test_a_pending_step_has_no_decider_name():
    """A step nobody decided yet answers null, not the repr of None's __str__ (which
    leaked an object address)."""
    from moderation.models import PostRevision, ReviewStep
    from moderation.serializers import StepSerializer

    step = ReviewStep(revision=PostRevision(number=1), round=1, order=1, role="department_head")
    assert StepSerializer(step).data["decided_by_name"] is None
