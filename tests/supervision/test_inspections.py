"""Inspections: the seed reproduces the sample; automatic checks over the window;
manual veto findings fail an account; pass rates per platform and level."""

from __future__ import annotations

import pytest

from accounts.models import Role
from supervision.models import FindingKind
from supervision.services import findings, inspections
from tests.supervision.factories import idle_account

pytestmark = pytest.mark.django_db


def test_rerun_with_the_seed_picks_the_same_sample(world):
    ns = world.mine
    for i in range(30):
        idle_account(ns.city_dept if i % 2 else ns.county_dept, days=i % 20)
    supervisor = ns.users[Role.SUPERVISOR]
    first = inspections.inspection_start(
        actor=supervisor,
        organization=ns.province,
        title="一",
        sample_percent=30,
        seed=2026,
    )
    second = inspections.inspection_start(
        actor=supervisor,
        organization=ns.province,
        title="二",
        sample_percent=30,
        seed=2026,
    )
    other = inspections.inspection_start(
        actor=supervisor,
        organization=ns.province,
        title="三",
        sample_percent=30,
        seed=7,
    )
    picked = [
        set(i.items.values_list("account_id", flat=True))
        for i in (first, second, other)
    ]
    assert len(picked[0]) == 9 and first.population == 30
    assert picked[0] == picked[1]
    assert picked[0] != picked[2]


def test_auto_checks_manual_findings_and_pass_rates(world):
    ns = world.mine
    supervisor = ns.users[Role.SUPERVISOR]
    fresh = idle_account(ns.city_dept, days=2)
    stale = idle_account(ns.city_dept, days=16, code="douyin")
    flagged = idle_account(ns.county_dept, days=1)
    inspection = inspections.inspection_start(
        actor=supervisor,
        organization=ns.province,
        title="全量",
        sample_percent=100,
        seed=1,
    )
    items = {i.account_id: i for i in inspection.items.all()}
    assert items[stale.pk].auto_vetoes == [FindingKind.IDLE]
    assert items[fresh.pk].auto_vetoes == []
    findings.finding_raise_manual(
        actor=supervisor,
        kind=FindingKind.NO_INTERACTION,
        account=flagged,
        note="留言功能关闭",
        evidence_url="https://weibo.com/shot",
        inspection=inspection,
    )
    inspection = inspections.inspection_complete(
        inspection=inspection, actor=supervisor
    )
    results = dict(inspection.items.values_list("account_id", "passed"))
    assert results == {fresh.pk: True, stale.pk: False, flagged.pk: False}
    assert inspection.passed == 1 and inspection.pass_rate == 33.3
    rates = inspections.pass_rates(inspection)
    by_platform = {r["key"]: r for r in rates["platform"]}
    assert by_platform["douyin"]["rate"] == 0.0 and by_platform["weibo"]["passed"] == 1
    assert {r["key"] for r in rates["level"]} == {"city", "county"}
