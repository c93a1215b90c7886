"""The dashboard reads the roll-up: its figures equal the raw counts, the level
below drills down, a user with several roots sees them summed, and the query count
does not grow with the number of accounts and findings."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from supervision.models import Finding
from supervision.selectors import dashboard
from supervision.services.rollups import rollup_day
from tests.factories import make_user
from tests.supervision.factories import idle_account, make_account

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_figures_match_raw_counts_and_drill_down(world, run_sweep):
    ns = world.mine
    idle_account(ns.city_dept, days=20)
    idle_account(ns.county_dept, days=30)
    make_account(ns.county_dept, status="suspended")
    run_sweep()
    rollup_day()
    data = dashboard(ns.users[Role.SUPERVISOR])
    mine = Finding.objects.filter(status="open", org_path__startswith=ns.province.path)
    assert data["organization"] == ns.province
    assert data["figures"]["idle_now"] == 2
    assert data["figures"]["findings_open"] == mine.count()
    assert data["figures"]["accounts_total"] == 3
    assert data["figures"]["accounts_suspended"] == 1
    city_row = next(c for c in data["children"] if c["organization"] == ns.city)
    assert city_row["figures"]["idle_now"] == 2
    county = dashboard(ns.users[Role.SUPERVISOR], ns.county.pk)
    assert county["figures"]["idle_now"] == 1
    assert [o.pk for o in county["breadcrumb"]] == [
        ns.province.pk,
        ns.city.pk,
        ns.county.pk,
    ]


def test_a_supervisor_of_two_provinces_sees_both_summed(world, run_sweep):
    idle_account(world.mine.city_dept, days=20)
    idle_account(world.other.city_dept, days=20)
    run_sweep()
    rollup_day()
    national = make_user(world.mine.province, Role.SUPERVISOR)
    from accounts import services

    services.membership_grant(
        actor=None,
        user=national,
        organization=world.other.province,
        role=Role.SUPERVISOR,
    )
    data = dashboard(national)
    assert data["organization"] is None
    assert data["figures"]["idle_now"] == 2
    assert {c["organization"].pk for c in data["children"]} == {
        world.mine.province.pk,
        world.other.province.pk,
    }
    assert data["trend"][-1]["figures"]["idle_now"] == 2


def test_query_count_does_not_grow_with_rows(world, run_sweep):
    ns = world.mine
    client = Client()
    client.force_login(ns.users[Role.SUPERVISOR])
    idle_account(ns.city_dept, days=20)
    run_sweep()
    rollup_day()
    small_page = _queries(client, "/supervision/")
    small_api = _queries(client, "/api/v1/supervision-dashboard/")
    for i in range(12):
        idle_account(
            ns.county_dept if i % 2 else ns.city_dept,
            days=16 + i,
            code="douyin" if i % 3 else "weibo",
        )
    run_sweep()
    rollup_day()
    assert _queries(client, "/supervision/") == small_page
    assert _queries(client, "/api/v1/supervision-dashboard/") == small_api
    assert dashboard(ns.users[Role.SUPERVISOR])["figures"]["idle_now"] == 13


def test_finding_list_query_count_is_constant(world, run_sweep):
    ns = world.mine
    client = Client()
    client.force_login(ns.users[Role.SUPERVISOR])
    idle_account(ns.city_dept, days=20)
    run_sweep()
    few = _queries(client, "/supervision/findings/")
    few_api = _queries(client, "/api/v1/findings/")
    for _i in range(10):
        idle_account(ns.county_dept, days=40)
    run_sweep()
    assert _queries(client, "/supervision/findings/") == few
    assert _queries(client, "/api/v1/findings/") == few_api
