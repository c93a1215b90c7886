"""The directives' stored completion counters (issue 9, item 4): kept by the
confirmation and by the sweep in their own transactions, equal to a count of the
targets, and read by the directive list instead of counting targets."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from moderation import selectors
from moderation.models import DirectiveTarget, RepostDirective
from moderation.services import directives
from tests.moderation.factories import make_account

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
ISSUED = datetime(2025, 3, 3, 9, 0, tzinfo=SH)


def _issue(ns):
    return directives.directive_issue(
        actor=ns.users[Role.SUPERVISOR], organization=ns.province, title="重大政策发布",
        source_url="https://www.zj.gov.cn/art/1.html")


def _counted(directive) -> tuple[int, int, int, int]:
    targets = DirectiveTarget.objects.filter(directive=directive)
    return (
        targets.count(),
        targets.filter(confirmed_at__isnull=False).count(),
        sum(1 for t in targets if t.confirmed_at and t.confirmed_at > t.due_at),
        targets.filter(confirmed_at__isnull=True, overdue_at__isnull=False).count(),
    )


def _stored(directive) -> tuple[int, int, int, int]:
    d = RepostDirective.objects.get(pk=directive.pk)
    return (d.target_count, d.confirmed_count, d.late_count, d.overdue_count)


def _confirm(ns, target, n):
    directives.target_confirm(target=target, actor=ns.users[Role.OPERATOR],
                              repost_url=f"https://weibo.com/123/{n}")


def test_counters_follow_confirmations_and_the_sweep(world, run_sweep):
    ns = world.mine
    for _ in range(4):
        make_account(ns.city_dept, "weibo")
    with time_machine.travel(ISSUED, tick=False):
        directive = _issue(ns)
    targets = list(directive.targets.order_by("id"))
    assert _stored(directive) == (4, 0, 0, 0)

    with time_machine.travel(ISSUED + timedelta(minutes=30), tick=False):
        _confirm(ns, targets[0], 0)
    assert _stored(directive) == (4, 1, 0, 0) == _counted(directive)

    with time_machine.travel(ISSUED + timedelta(hours=2), tick=False):
        assert run_sweep()["overdue"] == 3
        assert _stored(directive) == (4, 1, 0, 3) == _counted(directive)
        run_sweep()  # idempotent
        assert _stored(directive) == (4, 1, 0, 3)

    with time_machine.travel(ISSUED + timedelta(hours=3), tick=False):
        _confirm(ns, targets[1], 1)  # late: confirmed after its deadline
    assert _stored(directive) == (4, 2, 1, 2) == _counted(directive)


def test_a_refused_confirmation_leaves_the_counters(world):
    ns = world.mine
    make_account(ns.city_dept, "weibo")
    with time_machine.travel(ISSUED, tick=False):
        directive = _issue(ns)
    target = directive.targets.get()
    with pytest.raises(Exception):  # noqa: B017 - any refusal: the URL is not Weibo's
        directives.target_confirm(target=target, actor=ns.users[Role.OPERATOR],
                                  repost_url="https://www.douyin.com/video/1")
    assert _stored(directive) == (1, 0, 0, 0)


def test_directive_page_reads_the_counters_not_the_targets(world, run_sweep):
    ns = world.mine
    sup = ns.users[Role.SUPERVISOR]
    make_account(ns.city_dept, "weibo")
    with time_machine.travel(ISSUED, tick=False):
        small = _issue(ns)
    with CaptureQueriesContext(connection) as few:
        page = selectors.directive_page(sup, 1)
    for _ in range(8):
        make_account(ns.county_dept, "weibo")
    with time_machine.travel(ISSUED, tick=False):
        big = _issue(ns)
    with time_machine.travel(ISSUED + timedelta(hours=2), tick=False):
        run_sweep()
    with CaptureQueriesContext(connection) as many:
        page = selectors.directive_page(sup, 1)
    assert len(many.captured_queries) == len(few.captured_queries)
    # The only count over targets is the one for directives issued outside the
    # user's subtrees, and here there are none: no target is counted.
    grouped = [q["sql"] for q in many.captured_queries
               if "moderation_directivetarget" in q["sql"] and "GROUP BY" in q["sql"]]
    assert grouped == []
    shown = {d.pk: (d.targets_seen, d.confirmed, d.open_overdue) for d in page}
    with time_machine.travel(ISSUED + timedelta(hours=2), tick=False):
        live = {d.pk: (d.targets_seen, d.confirmed, d.open_overdue)
                for d in selectors.directive_list(sup)}
    assert shown[big.pk] == live[big.pk] == (9, 0, 9)
    assert shown[small.pk] == live[small.pk]


def test_refresh_repairs_counters_written_outside_the_services(world):
    ns = world.mine
    make_account(ns.city_dept, "weibo")
    make_account(ns.city_dept, "weibo")
    with time_machine.travel(ISSUED, tick=False):
        directive = _issue(ns)
    RepostDirective.objects.filter(pk=directive.pk).update(
        confirmed_count=7, overdue_count=5, late_count=3)
    directives.directive_counters_refresh([directive.pk])
    assert _stored(directive) == _counted(directive) == (2, 0, 0, 0)


def test_reach_holds_each_target_organization_and_its_ancestors(world):
    from moderation.models import DirectiveReach

    ns = world.mine
    make_account(ns.county_dept, "weibo")
    with time_machine.travel(ISSUED, tick=False):
        directive = _issue(ns)
    reach = set(DirectiveReach.objects.filter(directive=directive)
                .values_list("path", flat=True))
    path = ns.county_dept.path
    assert reach == {path[:k] for k in range(4, len(path) + 1, 4)}
    # Seen through the reach by a supervisor of a subtree below the issuer, not by
    # another organization's.
    city_sup = ns.users[Role.SUPERVISOR]
    assert RepostDirective.objects.visible_to(city_sup).filter(pk=directive.pk).exists()
    other = world.other.users[Role.SUPERVISOR]
    assert not RepostDirective.objects.visible_to(other).filter(pk=directive.pk).exists()
    # Rebuilding adds nothing.
    assert directives.directive_reach_build([directive.pk]) == len(reach)
    assert DirectiveReach.objects.filter(directive=directive).count() == len(reach)


def test_progress_api_pages_the_organizations(world):
    from rest_framework.test import APIClient

    ns = world.mine
    for org in (ns.city_dept, ns.county_dept, ns.county):
        make_account(org, "weibo")
    with time_machine.travel(ISSUED, tick=False):
        directive = _issue(ns)
    api = APIClient()
    api.force_authenticate(ns.users[Role.SUPERVISOR])
    url = f"/api/v1/repost-directives/{directive.pk}/progress/"
    whole = api.get(url).json()
    assert whole["count"] == 3 and len(whole["organizations"]) == 3
    first = api.get(url, {"page_size": 2}).json()
    second = api.get(url, {"page_size": 2, "page": 2}).json()
    assert [o["name"] for o in first["organizations"] + second["organizations"]] == [
        o["name"] for o in whole["organizations"]]
    assert first["total"] == second["total"] == 3  # totals over every target
    assert api.get(url, {"page": 9}).json()["organizations"] == []
    for bad in ({"page_size": 501}, {"page_size": 0}, {"page": "x"}):
        r = api.get(url, bad)
        assert r.status_code == 400, bad
        assert set(r.json()["fields"]) <= {"page", "page_size"}
