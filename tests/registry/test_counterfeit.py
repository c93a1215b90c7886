"""Counterfeit check: imitations ranked by likeness, cancelled accounts reported,
registered ones recognised, other provinces never compared."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from registry import counterfeit
from registry.models import AccountStatus
from tests.registry.ledger_factories import make_account


@pytest.fixture(autouse=True)
def _private_cache(settings):
    # The default file cache is shared with other test runs on this machine.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }


def check(user, *lines):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    response = client.post(
        "/api/v1/counterfeit-check/", {"candidates": list(lines)}, format="json"
    )
    assert response.status_code == 200, response.content
    return {
        r["name"] or r["url"]: r for r in response.json()["results"]
    }, response.json()["results"]


@pytest.fixture
def registry_world(world):
    mine = world.mine
    make_account(mine.city_dept, "平安云岭", platform_account_id="1000000001")
    make_account(
        mine.county_dept, "甲一教育发布", platform="douyin", platform_account_id="edu01"
    )
    make_account(
        mine.city,
        "甲一旧号",
        status=AccountStatus.CANCELLED,
        platform_account_id="1000000009",
    )
    make_account(world.other.city_dept, "乙省专号", platform_account_id="2000000001")
    return world


@pytest.mark.django_db
class TestCounterfeit:
    def test_pinyin_twin_ranks_above_unrelated(self, registry_world):
        user = registry_world.mine.users[Role.SUPERVISOR]
        by_name, ranked = check(user, "今日天气", "平安云玲", "平安云岭发布厅")
        twin = by_name["平安云玲"]
        assert twin["kind"] == "imitation" and twin["likeness"] >= 95
        assert twin["account"]["name"] == "平安云岭"
        assert "pinyin" in " ".join(twin["reasons"])
        similar = by_name["平安云岭发布厅"]
        assert similar["kind"] == "imitation" and similar["likeness"] < twin["likeness"]
        unrelated = by_name["今日天气"]
        assert not unrelated["is_finding"]
        order = [r["name"] for r in ranked]
        assert (
            order.index("平安云玲")
            < order.index("平安云岭发布厅")
            < order.index("今日天气")
        )

    def test_cancelled_account_is_reported(self, registry_world):
        user = registry_world.mine.users[Role.SUPERVISOR]
        by_name, _ranked = check(user, "甲一旧号", "https://weibo.com/u/1000000009")
        assert by_name["甲一旧号"]["kind"] == "cancelled"
        by_url = by_name["https://weibo.com/u/1000000009"]
        assert by_url["kind"] == "cancelled" and by_url["account"]["name"] == "甲一旧号"

    def test_registered_url_is_not_a_finding(self, registry_world):
        user = registry_world.mine.users[Role.SUPERVISOR]
        _by_name, ranked = check(user, "平安云岭 https://weibo.com/u/1000000001")
        assert ranked[0]["kind"] == "registered"
        # The same name on an unregistered platform account is an imitation.
        _by_name, ranked = check(user, "平安云岭 https://weibo.com/u/1999999999")
        assert ranked[0]["kind"] == "imitation" and ranked[0]["likeness"] == 100

    def test_organization_name_marks_unfiled(self, registry_world):
        user = registry_world.mine.users[Role.SUPERVISOR]
        by_name, _ranked = check(user, "甲一县美食")
        assert by_name["甲一县美食"]["kind"] == "unfiled"
        assert by_name["甲一县美食"]["organization"] == registry_world.mine.county.name

    def test_other_province_is_not_compared(self, registry_world):
        user = registry_world.mine.users[Role.SUPERVISOR]
        by_name, _ranked = check(user, "乙省专号")
        assert by_name["乙省专号"]["account"] is None or (
            by_name["乙省专号"]["account"]["name"] != "乙省专号"
        )
        assert by_name["乙省专号"]["kind"] != "registered"

    def test_index_is_rebuilt_after_changes(self, registry_world):
        user = registry_world.mine.users[Role.SUPERVISOR]
        by_name, _r = check(user, "甲一新号")
        assert by_name["甲一新号"]["kind"] != "registered"
        make_account(registry_world.mine.city, "甲一新号")
        by_name, _r = check(user, "甲一新号")
        assert by_name["甲一新号"]["kind"] == "registered"

    def test_page_and_csv(self, registry_world, client):
        user = registry_world.mine.users[Role.SUPERVISOR]
        client.force_login(user)
        response = client.post(
            reverse("registry:counterfeit"), {"candidates": "平安云玲\n今日天气"}
        )
        assert response.status_code == 200
        assert "平安云玲" in response.content.decode()
        result_id = response.context["result_id"]
        export = client.get(reverse("registry:counterfeit_export", args=[result_id]))
        text = b"".join(export.streaming_content).decode("utf-8")
        assert text.startswith("\ufeff") and "平安云玲" in text
        assert (
            client.post(reverse("registry:counterfeit"), {"candidates": ""}).status_code
            == 400
        )

    def test_parse_candidates(self):
        found = counterfeit.parse_candidates(
            "名称\n平安云玲, https://weibo.com/u/1\n\nhttps://x.cn/a\n"
        )
        assert [(c.name, c.url) for c in found] == [
            ("平安云玲", "https://weibo.com/u/1"),
            ("", "https://x.cn/a"),
        ]
