"""The registry overview's roll-up (issue 9, item 3): RegistryFigures per subtree,
recomputed in one set-based pass; a large jurisdiction's dashboard sums one row per
root of its scope and gives the same figures as counting live."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from registry import selectors
from registry.models import MediaAccount, RegistryFigures
from registry.services.figures import figures_rollup
from tests.registry.ledger_factories import make_account
from tests.registry.test_dashboard import _world_with_accounts

pytestmark = pytest.mark.django_db


@pytest.fixture
def large(settings):
    """Every jurisdiction counts as large, so the overview may use the roll-up."""
    settings.COUNT_CACHE_MIN_ROWS = 1


def _comparable(data: dict) -> dict:
    out = {k: v for k, v in data.items() if k not in ("as_of", "cleanup")}
    out["cleanup"] = [a.pk for a in data["cleanup"]]
    out["by_platform"] = [(r["platform__code"], r["n"]) for r in data["by_platform"]]
    return out


def test_rollup_gives_the_live_figures(world, large):
    _world_with_accounts(world)
    figures_rollup()
    for user in (world.mine.users[Role.SUPERVISOR], world.other.users[Role.SUPERVISOR]):
        live = selectors._registry_overview(user)
        rolled = selectors.registry_overview(user)
        assert rolled["as_of"] is not None, "the roll-up answered"
        assert live["as_of"] is None
        assert _comparable(rolled) == _comparable(live)
        assert rolled["total"] > 0


def test_a_scope_of_several_roots_sums_each_root_once(world, large):
    """The national case (issue 9): a supervisor over several provinces, one of
    whose grants (a city) lies inside another (its province), gets the live figures
    from the roll-up: each root counted once, none missing."""
    from accounts.services import membership_grant

    _world_with_accounts(world)
    sup = world.mine.users[Role.SUPERVISOR]
    membership_grant(
        actor=None, user=sup, organization=world.other.province, role=Role.SUPERVISOR
    )
    membership_grant(
        actor=None, user=sup, organization=world.mine.city, role=Role.SUPERVISOR
    )
    now = timezone.now()
    figures_rollup(now=now)
    with time_machine.travel(now, tick=False):
        live = selectors._registry_overview(sup)
        rolled = selectors.registry_overview(sup)
    assert rolled["as_of"] is not None, "the roll-up answered"
    assert _comparable(rolled) == _comparable(live)
    assert rolled["total"] == MediaAccount.objects.count()


def test_rollup_answers_as_of_its_run(world, large):
    """Figures hold as of the run (`as_of`): an account that goes idle after it is
    counted at the next run, which is why a live count taken later may differ."""
    now = timezone.now()
    make_account(
        world.mine.county,
        "甲一将闲置",
        last_post_at=now - timedelta(days=15) + timedelta(minutes=1),
    )
    sup = world.mine.users[Role.SUPERVISOR]
    figures_rollup(now=now)
    with time_machine.travel(now + timedelta(minutes=2), tick=False):
        assert selectors._registry_overview(sup)["accounts"]["idle"] == 1
        assert selectors.registry_overview(sup)["accounts"]["idle"] == 0
        figures_rollup()
        assert selectors.registry_overview(sup)["accounts"]["idle"] == 1


def test_each_ancestor_holds_its_subtree(world):
    _world_with_accounts(world)
    figures_rollup()
    mine = world.mine
    rows = {f.path: f for f in RegistryFigures.objects.all()}
    # The county's own accounts plus its department's (make_account above: two on
    # the county, one on its department, the opening filing's account elsewhere).
    county = rows[mine.county.path]
    from registry.models import MediaAccount

    expected = MediaAccount.objects.filter(org_path__startswith=mine.county.path).count()
    assert county.total == expected
    province = rows[mine.province.path]
    assert province.total == MediaAccount.objects.filter(
        org_path__startswith=mine.province.path
    ).count()
    assert province.total > county.total
    # Another organization's accounts are not in this subtree.
    assert world.other.province.path not in mine.province.path
    assert rows[world.other.province.path].total >= 1


def test_stale_or_missing_figures_are_not_used(world, large):
    _world_with_accounts(world)
    sup = world.mine.users[Role.SUPERVISOR]
    assert selectors.registry_overview(sup)["as_of"] is None  # never rolled up
    figures_rollup(now=timezone.now() - timedelta(hours=2))
    assert selectors.registry_overview(sup)["as_of"] is None  # too old
    figures_rollup()
    assert selectors.registry_overview(sup)["as_of"] is not None


def test_small_jurisdictions_are_counted_live(world):
    _world_with_accounts(world)
    figures_rollup()
    # The default threshold (10,000 accounts) is far above the test data.
    assert selectors.registry_overview(world.mine.users[Role.SUPERVISOR])["as_of"] is None


def test_own_scope_is_counted_live(world, large):
    _world_with_accounts(world)
    figures_rollup()
    operator = world.mine.users[Role.OPERATOR]
    assert selectors.registry_overview(operator)["as_of"] is None


def test_a_new_account_shows_after_the_next_rollup(world, large):
    _world_with_accounts(world)
    sup = world.mine.users[Role.SUPERVISOR]
    figures_rollup()
    before = selectors.registry_overview(sup)["total"]
    make_account(world.mine.city_dept, "甲一新开")
    assert selectors.registry_overview(sup)["total"] == before
    figures_rollup()
    assert selectors.registry_overview(sup)["total"] == before + 1


def test_rollup_is_set_based(world):
    """The pass's query count does not grow with organizations or accounts."""
    _world_with_accounts(world)
    with CaptureQueriesContext(connection) as small:
        figures_rollup()
    for i in range(6):
        make_account(world.mine.county_dept, f"甲一批量{i}")
        make_account(world.other.city_dept, f"乙一批量{i}")
    with CaptureQueriesContext(connection) as big:
        figures_rollup()
    assert len(big.captured_queries) == len(small.captured_queries)


def test_dashboard_from_rollup_has_constant_queries(world, large):
    _world_with_accounts(world)
    sup = world.mine.users[Role.SUPERVISOR]
    client = Client()
    client.force_login(sup)
    figures_rollup()
    client.get("/registry/overview/")
    with CaptureQueriesContext(connection) as small:
        r = client.get("/registry/overview/")
    assert r.status_code == 200
    assert b"data-as-of" in r.content
    for i in range(10):
        make_account(world.mine.county, f"甲一更多{i}",
                     last_post_at=timezone.now() - timedelta(days=120))
    figures_rollup()
    with CaptureQueriesContext(connection) as big:
        client.get("/registry/overview/")
    assert len(big.captured_queries) == len(small.captured_queries)


def test_cleanup_list_reads_its_ordering_index(world):
    """The overview's clean-up list (the only live read beside the roll-up) can walk
    account_cleanup_order_idx in order and stop at 20 rows (EXPLAIN, sequential scans
    and sorts priced out as in tests/common/test_list_scale.py)."""
    if connection.vendor != "postgresql":
        reason = f"EXPLAIN checks need PostgreSQL (this run uses {connection.vendor})"
        print(reason)
        pytest.skip(reason)
    from django.db.models import F

    from registry.ledger import idle_q
    from registry.models import MediaAccount

    sup = world.mine.users[Role.SUPERVISOR]
    qs = (
        MediaAccount.objects.visible_to(sup)
        .filter(idle_q(kind="cleanup"))
        .order_by(F("last_post_at").asc(nulls_first=True), "id")[:20]
    )
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        for knob in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET LOCAL {knob} = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(r[0] for r in cursor.fetchall())
    assert "account_cleanup_order_idx" in plan, plan
