"""Collector API: posts and metric snapshots, with a per-row report. Unknown (or
foreign) accounts, future dates, negative figures and duplicated ids are rejected
or merged; a failed row writes nothing; a repeated batch is harmless."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import AuditEvent
from registry.models import MediaAccount
from supervision.models import AccountPost, Finding, FindingKind, MetricSnapshot
from tests.supervision.factories import idle_account, make_account

pytestmark = pytest.mark.django_db
POSTS, METRICS = "/api/v1/activity/posts/", "/api/v1/activity/metrics/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_posts_report_per_row_and_are_idempotent(world):
    ns, now = world.mine, timezone.now()
    account = idle_account(ns.city_dept, days=30, now=now)
    foreign = make_account(world.other.city_dept)
    when = (now - timedelta(hours=2)).isoformat()
    rows = [
        {
            "account": account.pk,
            "platform_post_id": "A1",
            "published_at": when,
            "url": "https://weibo.com/1/A1",
        },
        {
            "account": account.pk,
            "platform_post_id": "A1",
            "published_at": when,
        },  # repeated
        {"account": foreign.pk, "platform_post_id": "F1", "published_at": when},
        {
            "account": account.pk,
            "platform_post_id": "A2",
            "published_at": (now + timedelta(days=1)).isoformat(),
        },
        {"account": account.pk, "platform_post_id": "", "published_at": "yesterday"},
        {
            "platform": "weibo",
            "platform_account_id": account.platform_account_id,
            "platform_post_id": "A3",
            "published_at": (now - timedelta(hours=1)).isoformat(),
        },
    ]
    client = api(ns.users[Role.OPERATOR])
    response = client.post(POSTS, {"rows": rows}, format="json")
    assert response.status_code == 200, response.content
    report = response.json()
    assert [r["status"] for r in report["rows"]] == [
        "created",
        "duplicate",
        "rejected",
        "rejected",
        "rejected",
        "created",
    ]
    assert "account" in report["rows"][2]["errors"]
    assert report["rows"][3]["errors"]["published_at"]
    assert set(report["rows"][4]["errors"]) == {"platform_post_id", "published_at"}
    assert AccountPost.objects.filter(account=account).count() == 2
    assert not AccountPost.objects.filter(account=foreign).exists()
    account.refresh_from_db()
    assert abs((account.last_post_at - (now - timedelta(hours=1))).total_seconds()) < 1
    # The same batch again: nothing new, last post unchanged.
    again = client.post(POSTS, {"rows": rows}, format="json").json()
    assert again["created"] == 0 and again["duplicate"] == 3
    assert AccountPost.objects.filter(account=account).count() == 2
    assert AuditEvent.objects.filter(action="supervision.activity_ingest").count() == 1


def test_old_post_never_moves_last_post_backwards(world):
    ns, now = world.mine, timezone.now()
    account = idle_account(ns.city_dept, days=1, now=now)
    before = account.last_post_at
    api(ns.users[Role.OPERATOR]).post(
        POSTS,
        {
            "rows": [
                {
                    "account": account.pk,
                    "platform_post_id": "old",
                    "published_at": (now - timedelta(days=200)).isoformat(),
                }
            ]
        },
        format="json",
    )
    account.refresh_from_db()
    assert account.last_post_at == before
    assert AccountPost.objects.filter(account=account, platform_post_id="old").exists()


def test_all_rows_rejected_is_400_and_writes_nothing(world):
    ns = world.mine
    response = api(ns.users[Role.OPERATOR]).post(
        POSTS,
        {
            "rows": [
                {
                    "account": 999999,
                    "platform_post_id": "x",
                    "published_at": "2026-01-01T00:00:00",
                }
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["rows"][0]["errors"]["account"]
    assert AccountPost.objects.count() == 0


@pytest.mark.parametrize("body", [{}, {"rows": []}, {"rows": "x"}])
def test_malformed_batches_are_refused_clearly(world, body):
    response = api(world.mine.users[Role.OPERATOR]).post(POSTS, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "rows" in response.json()["fields"]


def test_rows_that_are_not_objects_are_rejected_row_by_row(world):
    response = api(world.mine.users[Role.OPERATOR]).post(
        POSTS, {"rows": [1, "a"]}, format="json"
    )
    assert response.status_code == 400
    assert [r["status"] for r in response.json()["rows"]] == ["rejected", "rejected"]


def test_read_only_and_foreign_users_cannot_report(world):
    ns = world.mine
    account = make_account(ns.city_dept)
    rows = {
        "rows": [
            {
                "account": account.pk,
                "platform_post_id": "z",
                "published_at": timezone.now().isoformat(),
            }
        ]
    }
    assert (
        api(ns.users[Role.AUDITOR]).post(POSTS, rows, format="json").status_code == 403
    )
    assert (
        api(ns.users[Role.AUDIT_ADMIN]).post(POSTS, rows, format="json").status_code
        == 404
    )
    foreign = api(world.other.users[Role.SUPERVISOR]).post(POSTS, rows, format="json")
    assert foreign.status_code == 400
    assert not AccountPost.objects.exists()


def test_metrics_merge_reject_and_flag_follower_jumps(world):
    ns = world.mine
    account = make_account(ns.city_dept)
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    client = api(ns.users[Role.OPERATOR])
    first = client.post(
        METRICS,
        {
            "rows": [
                {
                    "account": account.pk,
                    "day": yesterday.isoformat(),
                    "followers": 10000,
                    "posts": 3,
                },
            ]
        },
        format="json",
    ).json()
    assert first["created"] == 1
    second = client.post(
        METRICS,
        {
            "rows": [
                {
                    "account": account.pk,
                    "day": today.isoformat(),
                    "followers": 30000,
                    "reads": 50,
                },
                {
                    "account": account.pk,
                    "day": yesterday.isoformat(),
                    "followers": 10001,
                },
                {"account": account.pk, "day": today.isoformat(), "followers": 1},
                {"account": account.pk, "day": (today + timedelta(days=1)).isoformat()},
                {"account": account.pk, "day": yesterday.isoformat(), "likes": -5},
                {"account": account.pk, "day": "2026-13-40"},
            ]
        },
        format="json",
    ).json()
    assert [r["status"] for r in second["rows"]] == [
        "created",
        "updated",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert second["rows"][4]["errors"]["likes"]
    assert MetricSnapshot.objects.get(account=account, day=yesterday).followers == 10001
    jump = Finding.objects.get(kind=FindingKind.FOLLOWER_JUMP, account=account)
    assert jump.evidence["rise"] == 19999 and jump.severity == "notice"
    assert MediaAccount.objects.filter(pk=account.pk).exists()


def test_read_only_users_get_403_before_their_body_is_validated(world):
    ns = world.mine
    auditor = api(ns.users[Role.AUDITOR])
    operator = api(ns.users[Role.OPERATOR])
    for url in ["/api/v1/findings/", "/api/v1/rectification-orders/",
                "/api/v1/opinion-events/", "/api/v1/inspections/"]:
        assert auditor.post(url, {"organization": ns.city.pk}, format="json").status_code == 403
        assert operator.post(url, {"organization": ns.city_dept.pk},
                             format="json").status_code == 403
        assert auditor.post(url, {"organization": world.other.city.pk},
                            format="json").status_code == 404
    supervisor = api(ns.users[Role.SUPERVISOR])
    bad = supervisor.post("/api/v1/rectification-orders/", {"organization": ns.city.pk},
                          format="json")
    assert bad.status_code == 400 and "requirement" in bad.json()["fields"]
