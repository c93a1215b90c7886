"""List endpoints and pages keep a constant number of queries (3 rows vs 30)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import OrgKind, Role
from registry.models import Platform
from registry.services import filings, signoff
from tests.factories import make_org, make_user

URLS = [
    "/api/v1/media-accounts/",
    "/api/v1/filings/",
    "/api/v1/filings/queue/",
    "/api/v1/platforms/",
    "/api/v1/rotation-tasks/",
    "/registry/accounts/",
    "/registry/filings/",
    "/registry/filings/queue/",
]


def _fill(world, start: int, n: int) -> None:
    """n pending accounts (with their filings), each in its own department."""
    platform = Platform.objects.get(code="weibo")
    for i in range(start, start + n):
        dept = make_org(world.mine.city, f"甲一市第{i}局", kind=OrgKind.DEPARTMENT)
        ops = [make_user(dept, Role.OPERATOR).pk, make_user(dept, Role.OPERATOR).pk]
        leader = make_user(dept, Role.PRINCIPAL_LEADER)
        filing = filings.filing_submit_open(
            actor=make_user(dept, Role.OPERATOR), organization=dept, platform=platform,
            platform_account_id=f"q{i}", display_name=f"甲一{i}", event_date=timezone.localdate(),
            operators=ops,
        )
        signoff.filing_leader_approve(filing=filing, actor=leader)


@pytest.mark.parametrize("url", URLS)
def test_constant_queries(world, django_assert_max_num_queries, url):
    client = Client()
    client.force_login(world.mine.users[Role.SUPERVISOR])
    _fill(world, 0, 3)
    client.get(url)  # warm per-process caches (content types, sessions)
    with django_assert_max_num_queries(30) as small:
        assert client.get(url).status_code == 200
    _fill(world, 3, 27)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200
