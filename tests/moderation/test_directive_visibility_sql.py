"""directive_page's plain-SQL reads (PostgreSQL, issue 9) against the ORM's rule.

SECURITY: RepostDirective.objects.visible_to_sql must select exactly the directives
visible_to selects, user by user; the page built on it must hold the same rows, in
the same order, with the same counts, as the ORM reads (which SQLite uses)."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import Role
from accounts.scoping import forget
from moderation import selectors
from moderation.models import RepostDirective
from tests.factories import make_user
from tests.moderation.factories import make_account
from tests.moderation.test_directive_pages import ISSUED, issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(world):
    """Directives in both provinces, and people of every kind of scope."""
    ns, other = world.mine, world.other
    for org in (ns.city_dept, ns.county_dept, other.city_dept):
        make_account(org, "weibo")
    with time_machine.travel(ISSUED, tick=False):
        issue(ns)
        issue(ns, title="转发：县级专项通知", organization_ids=[ns.county.pk])
        issue(other, title="转发：乙省通知")
    # A directive issued at the city by its supervisor: the province sees it issued
    # in its subtree, the county's operator through its target.
    with time_machine.travel(ISSUED, tick=False):
        city_issued = issue(ns, title="转发：市级通知")
    RepostDirective.objects.filter(pk=city_issued.pk).update(
        organization=ns.city, org_path=ns.city.path)
    county_operator = make_user(ns.county_dept, Role.OPERATOR)
    two = make_user(ns.county_dept, Role.OPERATOR)  # and a supervisor of the other city
    services.membership_grant(actor=None, user=two, organization=other.city,
                              role=Role.SUPERVISOR)
    return {
        "province supervisor": ns.users[Role.SUPERVISOR],
        "city supervisor": ns.city_supervisor,
        "auditor": ns.users[Role.AUDITOR],
        "department operator": ns.users[Role.OPERATOR],
        "outsourced operator": ns.users[Role.OUTSOURCED_OPERATOR],
        "county operator": county_operator,
        "two memberships": two,
        "system administrator": ns.users[Role.SYSTEM_ADMIN],
        "no membership": make_user(ns.county_dept),
        "other supervisor": other.users[Role.SUPERVISOR],
    }


def _orm_ids(user) -> set[int]:
    return set(RepostDirective.objects.visible_to(user).values_list("pk", flat=True))


def test_the_sql_rule_selects_what_visible_to_selects(users):
    if connection.vendor != "postgresql":
        pytest.skip("visible_to_sql is PostgreSQL's (= ANY); SQLite pages through the ORM")
    seen_some = 0
    for name, user in users.items():
        forget(user)
        where, params = RepostDirective.objects.visible_to_sql(user, "d")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT d.id FROM moderation_repostdirective d WHERE {where}",
                           params)
            fast = {row[0] for row in cursor.fetchall()}
        assert fast == _orm_ids(user), name
        seen_some += bool(fast)
    assert seen_some >= 6  # the comparison is not between empty sets
    assert not _orm_ids(users["no membership"])
    assert not _orm_ids(users["system administrator"])


def test_the_sql_reads_answer_the_orm_reads(users):
    if connection.vendor != "postgresql":
        pytest.skip("the plain-SQL reads are PostgreSQL's; SQLite uses the ORM reads")
    for name, user in users.items():
        forget(user)
        for mine in (False, True):
            fast = selectors._DirectiveSql(user, mine, "default")
            orm = selectors._DirectiveOrm(user, mine, "default")
            assert fast.count() == orm.count(), (name, mine)
            for offset, limit in ((0, 30), (0, 1), (1, 2), (3, 30)):
                assert fast.page(offset, limit) == orm.page(offset, limit), (name, mine)
            pks = sorted(_orm_ids(user))
            assert fast.counted(pks) == orm.counted(pks), name


def test_the_page_holds_what_the_user_sees(users):
    """On both databases: the page's ids are visible_to's, own first then newest,
    with directive_list's counts."""
    for name, user in users.items():
        forget(user)
        listed = list(selectors.directive_list(user))
        page = selectors.directive_page(user, 1, per_page=100)
        assert {d.pk for d in page} == _orm_ids(user), name
        assert [d.pk for d in page] == [d.pk for d in listed], name
        assert [(d.own, d.targets_seen, d.confirmed, d.open_overdue) for d in page] == [
            (d.own, d.targets_seen, d.confirmed, d.open_overdue) for d in listed], name
        assert page.paginator.count == len(listed), name
        mine = selectors.directive_page(user, 1, per_page=100, mine=True)
        assert [d.pk for d in mine] == [d.pk for d in listed if d.issued_by_id == user.pk]


def test_no_directive_query_for_a_user_who_sees_nothing(users):
    for name in ("no membership", "system administrator"):
        user = users[name]
        forget(user)
        with CaptureQueriesContext(connection) as queries:
            page = selectors.directive_page(user, 3)
        assert (list(page), page.number, page.paginator.count) == ([], 1, 0), name
        assert len(queries) == 1, queries.captured_queries  # the memberships
