"""The whole-tree roll-up: on PostgreSQL one set-based statement, elsewhere one grouped
query per depth summed in Python. Both must write the same rows with the same
figures; this compares them on a small tree with something in every source."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from supervision.models import ROLLUP_FIELDS, OrgDailyStat
from supervision.services import rollups
from supervision.services.activity import activity_ingest
from tests.moderation.factories import make_post, submit
from tests.supervision.factories import idle_account, make_account

pytestmark = pytest.mark.django_db


def _rows(day) -> dict[str, dict]:
    return {
        row["path"]: row
        for row in OrgDailyStat.objects.filter(day=day).values(
            "organization_id", "path", "depth", *ROLLUP_FIELDS, "by_platform", "by_kind"
        )
    }


def test_set_based_rollup_equals_the_python_one(world, run_sweep):
    if connection.vendor != "postgresql":
        pytest.skip(
            "the set-based roll-up is PostgreSQL's; this database uses the other"
        )
    ns, other = world.mine, world.other
    idle_account(ns.city_dept, days=20)
    idle_account(ns.county_dept, days=30, code="douyin")
    idle_account(ns.county_dept, days=2, status="rectifying")
    make_account(ns.county_dept, status="suspended")
    make_account(ns.province, "douyin", status="cancelled")
    make_account(other.county_dept, "toutiao")
    make_account(other.city, status="pending")
    make_account(other.city, status="not_opened")
    run_sweep()
    submit(make_post(ns), ns)
    now = timezone.now()
    day = timezone.localdate(now)
    posted = make_account(ns.county_dept)
    activity_ingest(
        actor=None,
        rows=[
            {
                "account": posted.pk,
                "platform_post_id": f"p{i}",
                "published_at": now.isoformat(),
            }
            for i in range(3)
        ],
    )
    # A row of an organization with nothing left in it: both remove it.
    OrgDailyStat.objects.create(
        organization=other.office,
        path=other.office.path,
        depth=other.office.depth,
        day=day,
    )

    written_sql = rollups.rollup_day(day, now)
    by_sql = _rows(day)
    OrgDailyStat.objects.filter(day=day).delete()
    OrgDailyStat.objects.create(
        organization=other.office,
        path=other.office.path,
        depth=other.office.depth,
        day=day,
    )
    written_python = rollups._rollup_day_python(day, now)
    by_python = _rows(day)

    assert written_sql == written_python == len(by_sql)
    assert by_sql == by_python
    assert other.office.path not in by_sql
    province = by_sql[ns.province.path]
    assert province["accounts_total"] == 7
    assert province["accounts_cancelled"] == 1
    assert province["idle_now"] == 2
    assert province["findings_open"] > province["idle_now"]
    assert province["reviews_pending"] == 1
    assert province["posts_day"] == 3
    assert province["by_platform"]["douyin"] == {"active": 1, "cancelled": 1}
    assert by_sql[ns.county_dept.path]["accounts_total"] == 4
    assert by_sql[other.city.path]["accounts_total"] == 2
