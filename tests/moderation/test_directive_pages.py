"""Repost directive pages: an operator sees the directives that target their
organization's accounts (issued higher up the tree), with only their own targets;
no one else does. The completion table names its two lateness columns apart."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from moderation import selectors
from moderation.services import directives
from tests.factories import make_user
from tests.moderation.factories import make_account

pytestmark = pytest.mark.django_db
ISSUED = datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def issue(ns, title="转发：重大政策发布", **kw):
    return directives.directive_issue(
        actor=ns.users[Role.SUPERVISOR], organization=ns.province, title=title,
        source_url="https://www.gov.cn/zhengce/1.html", **kw)


@pytest.fixture
def setup(world):
    ns = world.mine
    ns.city_account = make_account(ns.city_dept, "weibo")
    ns.county_account = make_account(ns.county_dept, "weibo")
    ns.county_operator = make_user(ns.county_dept, Role.OPERATOR)
    with time_machine.travel(ISSUED, tick=False):
        ns.both = issue(ns)
        ns.county_only = issue(ns, title="转发：县级专项通知", organization_ids=[ns.county.pk])
    return ns


def test_operator_sees_directives_targeting_their_accounts_only(setup, world):
    ns = setup
    operator = ns.users[Role.OPERATOR]  # in the city department
    listed = {d.pk: d for d in selectors.directive_list(operator)}
    assert set(listed) == {ns.both.pk}
    # Counts cover the operator's own targets, not the whole directive.
    assert ns.both.target_count == 2 and listed[ns.both.pk].targets_seen == 1
    assert set(d.pk for d in selectors.directive_list(ns.county_operator)) == {
        ns.both.pk, ns.county_only.pk}
    # The issuing scope still sees everything it issued.
    supervisor = {d.pk: d for d in selectors.directive_list(ns.users[Role.SUPERVISOR])}
    assert supervisor[ns.both.pk].targets_seen == 2
    # Another province's operator sees none of it.
    assert not selectors.directive_list(world.other.users[Role.OPERATOR]).exists()


def test_directive_pages_for_the_operator(setup, client, world):
    ns = setup
    client.force_login(ns.users[Role.OPERATOR])
    target = ns.both.targets.get(account=ns.city_account)
    county_target = ns.both.targets.get(account=ns.county_account)

    page = client.get("/moderation/directives/").content.decode()
    table = page[page.index('id="directives"'):]
    assert "转发：重大政策发布" in table and "No directives" not in table
    assert "转发：县级专项通知" not in page
    assert f"/moderation/targets/{target.pk}/confirm/" in page

    detail = client.get(f"/moderation/directives/{ns.both.pk}/")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert f"/moderation/targets/{target.pk}/confirm/" in body
    assert f"/moderation/targets/{county_target.pk}/confirm/" not in body
    assert ns.city_dept.name in body and ns.county_dept.name not in body
    assert client.get(f"/moderation/directives/{ns.county_only.pk}/").status_code == 404

    progress = client.get(f"/api/v1/repost-directives/{ns.both.pk}/progress/").json()
    assert [o["name"] for o in progress["organizations"]] == [ns.city_dept.name]
    api = client.get("/api/v1/repost-directives/").json()
    assert [d["id"] for d in api["results"]] == [ns.both.pk]

    # Confirming from the page lands back on the directive page (it used to 404).
    response = client.post(f"/moderation/targets/{target.pk}/confirm/",
                           {"repost_url": "https://weibo.com/1/AbCd"}, follow=True)
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.confirmed_at is not None
    # Changing stays with the targeted organization: the county target is not
    # the city operator's to confirm, and the directive is not theirs to change.
    assert client.post(f"/moderation/targets/{county_target.pk}/confirm/",
                       {"repost_url": "https://weibo.com/1/x"}).status_code == 404

    client.force_login(world.other.users[Role.OPERATOR])
    assert client.get(f"/moderation/directives/{ns.both.pk}/").status_code == 404
    assert "转发：重大政策发布" not in client.get("/moderation/directives/").content.decode()
    assert client.get(f"/api/v1/repost-directives/{ns.both.pk}/").status_code == 404


def test_directive_list_query_count_does_not_grow(setup, client):
    ns = setup
    client.force_login(ns.county_operator)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/moderation/directives/").status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(4):
        make_account(ns.county_dept, "weibo")
        issue(ns, title=f"转发{i}")
    assert count() == before


def _cells(html: str, table_id: str) -> tuple[list[str], list[list[str]]]:
    table = html[html.index(f'id="{table_id}"'):]
    table = table[:table.index("</table>")]
    keys = re.findall(r'<th data-key="(\w+)"', table)
    rows = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", r, re.S)]
            for r in re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1], re.S)]
    return keys, rows


def _rows(html: str, table_id: str) -> list[dict]:
    table = html[html.index(f'id="{table_id}"'):]
    table = table[:table.index("</tbody>")].split("</thead>")[1]
    return [
        {"org": org, "cells": [re.sub(r"<[^>]+>", "", c).strip()
                               for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]}
        for org, body in re.findall(r'<tr data-org="(\d+)"[^>]*>(.*?)</tr>', table, re.S)
    ]


def test_completion_rolls_up_by_organization_drills_down_and_sorts(setup, client, world):
    ns = setup
    target = ns.both.targets.get(account=ns.city_account)
    later = ISSUED + timedelta(hours=2)  # Weibo: 1 hour
    url = f"/moderation/directives/{ns.both.pk}/"
    with time_machine.travel(later, tick=False):
        directives.target_confirm(target=target, actor=ns.users[Role.OPERATOR],
                                  repost_url="https://weibo.com/1/late")
        client.force_login(ns.users[Role.SUPERVISOR])
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        # One level below the issuer: the city, with its whole subtree's counts.
        rows = _rows(html, "directive-progress")
        assert [r["org"] for r in rows] == [str(ns.city.pk)]
        assert rows[0]["cells"][2:5] == ["1 / 2", "1", "1"]  # confirmed, late, overdue
        assert ">Confirmed late</th>" in html and "Open and overdue" in html
        assert f'href="?at={ns.city.pk}"' in html  # drillable
        assert "directive-levels" in html  # subtotals by level
        # Drill into the city: its department and its county, sortable by overdue.
        html = client.get(f"{url}?at={ns.city.pk}&sort=overdue").content.decode()
        rows = _rows(html, "directive-progress")
        assert [r["org"] for r in rows] == [str(ns.county.pk), str(ns.city_dept.pk)]
        html = client.get(f"{url}?at={ns.city.pk}&sort=name").content.decode()
        assert [r["org"] for r in _rows(html, "directive-progress")] == [
            str(ns.city_dept.pk), str(ns.county.pk)]
        # The fragment the page polls keeps the level; open targets keep it polling.
        fragment = client.get(f"{url}?at={ns.city.pk}&fragment=progress").content.decode()
        assert 'data-closed="0"' in fragment and "<html" not in fragment
        # Outside the directive's tree: 404; another province's supervisor: 404.
        assert client.get(f"{url}?at={world.other.city.pk}").status_code == 404
    client.force_login(world.other.users[Role.SUPERVISOR])
    assert client.get(f"{url}?at={ns.city.pk}").status_code == 404


def test_only_operators_of_an_account_confirm_its_repost(setup):
    from common.errors import PermissionDenied

    ns = setup
    target = ns.both.targets.get(account=ns.city_account)
    for role in (Role.DEPARTMENT_HEAD, Role.LIAISON):
        with pytest.raises(PermissionDenied) as err:
            directives.target_confirm(target=target, actor=ns.users[role],
                                      repost_url="https://weibo.com/1/x")
        assert err.value.code == "not_operator"
    target.refresh_from_db()
    assert target.confirmed_at is None
    # A named operator of the account confirms even without the operator role.
    ns.city_account.operators.add(ns.users[Role.LIAISON])
    directives.target_confirm(target=target, actor=ns.users[Role.LIAISON],
                              repost_url="https://weibo.com/1/x")


def test_to_repost_lists_only_accounts_the_user_operates(setup, client):
    ns = setup
    client.force_login(ns.users[Role.DEPARTMENT_HEAD])  # same department, not an operator
    page = client.get("/moderation/directives/").content.decode()
    assert 'id="to-repost"' not in page and "/confirm/" not in page
    client.force_login(ns.users[Role.OPERATOR])
    page = client.get("/moderation/directives/").content.decode()
    assert 'id="to-repost"' in page


def test_directive_page_counts_match_the_list_in_a_fixed_number_of_queries(
    setup, world, run_sweep
):
    """directive_page (ids first, issue 9) answers the list's counts for the page;
    overdue is what the sweep marked (the stored counters' definition)."""
    ns = setup
    run_sweep()
    users = [ns.users[Role.OPERATOR], ns.county_operator, ns.users[Role.SUPERVISOR],
             ns.city_supervisor]
    for user in users:
        expected = {d.pk: (d.targets_seen, d.confirmed, d.open_overdue)
                    for d in selectors.directive_list(user)}
        page = selectors.directive_page(user, 1)
        assert {d.pk: (d.targets_seen, d.confirmed, d.open_overdue)
                for d in page} == expected, user
        assert [d.pk for d in page] == sorted(expected, reverse=True)
    supervisor = ns.users[Role.SUPERVISOR]
    with CaptureQueriesContext(connection) as few:
        list(selectors.directive_page(supervisor, 1))
    for i in range(5):
        issue(ns, title=f"转发：第{i}号")
    with CaptureQueriesContext(connection) as more:
        assert len(selectors.directive_page(supervisor, 1).object_list) == 7
    assert len(more) == len(few)


def test_directive_page_numbers_out_of_range(setup):
    """The ids and the total come in one query; a page past the end or below 1
    answers the last page and a word for a number the first, as get_page does."""
    supervisor = setup.users[Role.SUPERVISOR]
    newest_first = [setup.county_only.pk, setup.both.pk]
    first = selectors.directive_page(supervisor, 1, per_page=1)
    assert [d.pk for d in first] == newest_first[:1]
    assert (first.number, first.paginator.count, first.paginator.num_pages) == (1, 2, 2)
    assert first.has_next()
    for number, expected in ((2, 2), (9, 2), (0, 2), (-3, 2), ("x", 1), (None, 1)):
        page = selectors.directive_page(supervisor, number, per_page=1)
        assert page.number == expected, number
        assert [d.pk for d in page] == newest_first[expected - 1 : expected], number
        assert page.paginator.count == 2
