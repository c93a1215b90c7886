"""The registry dashboard: counts of the user's jurisdiction, each a link into the
ledger that lists the same accounts; constant query count."""

from __future__ import annotations

import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Membership, Role
from common.navigation import entries_for
from registry.models import AccountStatus
from tests.registry.helpers import active_account, file_open
from tests.registry.ledger_factories import make_account


def _page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _cell(html: str, attr: str, value: str) -> tuple[str, int]:
    """(link, number) of the dashboard row `<tr data-attr="value">`."""
    row = re.search(rf'<tr data-{attr}="{value}">(.*?)</tr>', html, re.S)
    assert row, (attr, value)
    link = re.findall(r'<a href="([^"]+)">(\d+)</a>', row.group(1))[-1]
    return link[0].replace("&amp;", "&"), int(link[1])


def _ledger_count(user, link: str) -> int:
    """How many accounts the ledger API lists for the page link's filters."""
    query = link.split("?", 1)[1] if "?" in link else ""
    client = APIClient()
    client.force_authenticate(user)
    r = client.get(f"/api/v1/ledger/?{query}")
    assert r.status_code == 200, r.content
    return r.json()["count"]


def _world_with_accounts(world):
    now = timezone.now()
    mine = world.mine
    make_account(mine.city_dept, "甲一活跃", last_post_at=now - timedelta(days=1))
    make_account(mine.county_dept, "甲一二十天", platform="douyin",
                 last_post_at=now - timedelta(days=20))
    make_account(mine.county, "甲一百日", platform="douyin",
                 last_post_at=now - timedelta(days=100))
    # Never posted: idle counts from its opening date (DOMAIN rules 23, 31).
    make_account(mine.county, "甲一从未发布", platform="wechat_subscription",
                 opened_on=timezone.localdate() - timedelta(days=200))
    make_account(mine.city, "甲一注销", status=AccountStatus.CANCELLED,
                 last_post_at=now - timedelta(days=400))
    file_open(mine, code="toutiao", event_date=timezone.localdate() - timedelta(days=40))
    rotated = active_account(mine, code="kuaishou")
    rotated.last_post_at = now
    rotated.save(update_fields=["last_post_at"])
    m = Membership.objects.get(
        user=mine.users[Role.OUTSOURCED_OPERATOR], role=Role.OUTSOURCED_OPERATOR
    )
    account_services.membership_end(actor=None, membership=m)
    make_account(world.other.city_dept, "乙一百日", last_post_at=now - timedelta(days=100))


def test_dashboard_counts_and_links(world):
    _world_with_accounts(world)
    sup = world.mine.users[Role.SUPERVISOR]
    r = _page(sup).get("/registry/overview/")
    assert r.status_code == 200
    html = r.content.decode()

    expected_status = {"active": 5, "pending": 1, "cancelled": 1, "suspended": 0}
    for status, n in expected_status.items():
        link, shown = _cell(html, "status", status)
        assert shown == n, status
        assert _ledger_count(sup, link) == n, status
    expected_platform = {"weibo": 2, "douyin": 2, "wechat_subscription": 1, "toutiao": 1,
                         "kuaishou": 1}
    for code, n in expected_platform.items():
        link, shown = _cell(html, "platform", code)
        assert shown == n and _ledger_count(sup, link) == n, code
    assert 'data-platform="bilibili"' not in html

    # idle: 20 days, 100 days, never posted; clean-up (>90): 100 days and never
    for key, n in {"idle": 3, "cleanup": 2, "filing_overdue": 1}.items():
        link, shown = _cell(html, "key", key)
        assert shown == n, key
        assert _ledger_count(sup, link) == n, key
    assert _cell(html, "key", "pending")[1] == 1
    assert _cell(html, "key", "late")[1] == 1
    assert _cell(html, "key", "rotations")[1] == 2  # 甲一活跃 is not run by them
    cleanup = re.search(r'<table class="table" id="cleanup">(.*?)</table>', html, re.S).group(1)
    assert "甲一百日" in cleanup and "甲一从未发布" in cleanup
    assert "甲一二十天" not in cleanup and "乙一百日" not in html


def test_dashboard_follows_the_scope(world):
    _world_with_accounts(world)
    other = _page(world.other.users[Role.SUPERVISOR]).get("/registry/overview/").content.decode()
    assert _cell(other, "status", "active")[1] == 1
    assert _cell(other, "key", "cleanup")[1] == 1 and "乙一百日" in other
    # nobody without business data gets the page; supervisors and auditors see the menu item
    assert _page(world.mine.users[Role.SYSTEM_ADMIN]).get("/registry/overview/").status_code == 404
    keys = lambda user: {entry.key for entry in entries_for(user)}  # noqa: E731
    assert "registry_dashboard" in keys(world.mine.users[Role.SUPERVISOR])
    assert "registry_dashboard" in keys(world.mine.users[Role.AUDITOR])
    assert "registry_dashboard" not in keys(world.mine.users[Role.OPERATOR])


def test_dashboard_query_count_is_constant(world, django_assert_max_num_queries):
    now = timezone.now()
    client = _page(world.mine.users[Role.SUPERVISOR])

    def fill(start, n):
        for i in range(start, start + n):
            make_account(world.mine.county, f"甲一县号{i}",
                         last_post_at=now - timedelta(days=i * 5) if i % 3 else None)

    fill(0, 3)
    file_open(world.mine)
    client.get("/registry/overview/")  # warm caches (sessions, the overdue cut-off)
    with django_assert_max_num_queries(30) as small:
        assert client.get("/registry/overview/").status_code == 200
    fill(3, 27)
    for code in ("douyin", "toutiao", "kuaishou"):
        file_open(world.mine, code=code)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get("/registry/overview/").status_code == 200
