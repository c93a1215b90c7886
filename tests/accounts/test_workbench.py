"""The home workbench (common/workbench.py): cards per role with the right counts,
each linking to its filtered list, in a query count that does not grow with rows."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from accounts.models import Role
from common import workbench
from moderation.services.directives import directive_issue
from tests.moderation.factories import make_account, make_post, submit


def cards(user) -> dict:
    return {c.key: c for c in workbench.cards_for(user)}


def _page(user):
    client = Client()
    client.force_login(user)
    return client


def _fill(ns, n):
    for _ in range(n):
        make_post(ns)  # a draft by the operator
    for _ in range(n):
        submit(make_post(ns), ns)  # waiting for the department head
    make_account(ns.city_dept)
    directive_issue(actor=ns.users[Role.SUPERVISOR], organization=ns.province,
                    title="转发", source_url="https://example.cn/a",
                    issued_at=timezone.now() - timedelta(days=3))


def test_cards_per_role_count_what_waits(world):
    ns = world.mine
    _fill(ns, 2)
    op = cards(ns.users[Role.OPERATOR])
    assert op["drafts"].count == 2 and op["drafts"].url.endswith("?mine=1&status=draft")
    assert op["in_review"].count == 2
    targets = op["reposts"].count
    assert targets >= 1 and op["reposts"].state == "overdue"
    assert "review_waiting" not in op
    head = cards(ns.users[Role.DEPARTMENT_HEAD])
    assert head["review_waiting"].count == 2 and head["review_waiting"].url == "/moderation/queue/"
    sup = cards(ns.users[Role.SUPERVISOR])
    assert sup["directives_issued"].count == targets
    assert sup["directives_issued"].state == "overdue"
    assert {"filings_to_decide", "idle_accounts", "flags"} <= set(sup)
    assert "drafts" not in sup
    # the foreign province's people see none of it
    other = cards(world.other.users[Role.OPERATOR])
    assert other["drafts"].count == 0 and other["reposts"].count == 0
    assert cards(world.other.users[Role.SUPERVISOR])["directives_issued"].count == 0
    # every role lands on a workbench with at least the notifications card
    for role in Role:
        assert "notifications" in cards(ns.users[role]), role


def test_home_renders_cards_with_links(world):
    ns = world.mine
    _fill(ns, 1)
    html = _page(ns.users[Role.OPERATOR]).get("/").content.decode()
    assert 'data-card="drafts"' in html and "/moderation/posts/?mine=1&amp;status=draft" in html
    assert "wb-card status-overdue" in html


def test_home_query_count_is_constant(world, django_assert_num_queries):
    ns = world.mine
    users = [ns.users[r] for r in (Role.OPERATOR, Role.DEPARTMENT_HEAD, Role.SUPERVISOR,
                                   Role.AUDITOR)]
    _fill(ns, 1)
    counts = {}
    for user in users:
        client = _page(user)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        # Warm the per-process caches (the working-day calendar, the activity
        # policies) first: the count must not depend on the data, whatever ran before.
        assert client.get("/").status_code == 200
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == 200
        counts[user.pk] = len(ctx)
    _fill(ns, 5)
    for user in users:
        client = _page(user)
        with django_assert_num_queries(counts[user.pk]):
            assert client.get("/").status_code == 200
