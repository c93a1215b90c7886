"""Each rule of issue 3 point 3 has a test here that fails when the rule is removed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import Role
from common.errors import ValidationFailed
from registry.models import Filing
from registry.services import filings, rules
from tests.factories import make_user
from tests.registry.helpers import active_account, file_open, platform


# -- one active account per organization per platform -----------------------------------
def test_second_account_on_a_platform_is_refused(world):
    active_account(world.mine, name="甲一公安", code="weibo")
    with pytest.raises(ValidationFailed) as exc:
        file_open(world.mine, name="甲一公安二", code="weibo")
    assert exc.value.code == rules.ONE_PER_PLATFORM
    assert "platform" in exc.value.fields
    # another platform is fine
    assert file_open(world.mine, name="甲一公安", code="douyin").pk


def test_two_pending_openings_on_one_platform_are_refused(world):
    file_open(world.mine, code="weibo")
    with pytest.raises(ValidationFailed) as exc:
        file_open(world.mine, code="weibo")
    assert exc.value.code == rules.ONE_PER_PLATFORM


def test_an_exemption_allows_a_second_account(world):
    active_account(world.mine, name="甲一公安", code="weibo")
    exemption = filings.exemption_grant(
        actor=world.mine.users[Role.SUPERVISOR], organization=world.mine.city_dept,
        platform=platform("weibo"), reason="交警支队另设服务号",
    )
    f = file_open(world.mine, name="甲一公安交警", code="weibo")
    assert f.exemption == exemption
    filings.filing_approve(filing=f, actor=world.mine.city_supervisor)


def test_exemptions_are_recorded_by_supervisors_only(world):
    from common.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        filings.exemption_grant(
            actor=world.mine.users[Role.OPERATOR], organization=world.mine.city_dept,
            platform=platform("weibo"), reason="x",
        )


# -- names ---------------------------------------------------------------------------------
def test_names_inconsistent_across_platforms_warn(world):
    active_account(world.mine, name="甲一公安", code="weibo")
    same = file_open(world.mine, name="甲一 公安", code="kuaishou")
    assert rules.NAME_INCONSISTENT not in [w["code"] for w in same.warnings]
    f = file_open(world.mine, name="甲一市警方发布", code="douyin")
    codes = [w["code"] for w in f.warnings]
    assert rules.NAME_INCONSISTENT in codes
    assert "甲一公安" in next(w["message"] for w in f.warnings if w["code"] == rules.NAME_INCONSISTENT)


def test_name_unrelated_to_organization_or_region_warns(world):
    f = file_open(world.mine, name="美食探店日记")
    assert rules.NAME_UNRELATED in [w["code"] for w in f.warnings]
    related = file_open(world.mine, name="平安甲一", code="douyin")  # shares the region's name
    assert rules.NAME_UNRELATED not in [w["code"] for w in related.warnings]


def test_warnings_do_not_block_and_are_shown_to_the_supervisor(world, client):
    f = file_open(world.mine, name="美食探店日记")
    assert Filing.objects.get(pk=f.pk).warnings
    client.force_login(world.mine.users[Role.SUPERVISOR])
    page = client.get(f"/registry/filings/{f.pk}/").content.decode()
    assert "美食探店日记" in page and 'id="filing-warnings"' in page


# -- operators --------------------------------------------------------------------------------
def test_city_level_needs_two_operators(world):
    with pytest.raises(ValidationFailed) as exc:
        file_open(world.mine, operators=[world.mine.users[Role.OPERATOR].pk])
    assert exc.value.code == rules.OPERATORS_BELOW_MINIMUM and "operators" in exc.value.fields


def test_county_level_needs_one_operator(world):
    county = world.mine.county_dept
    op = make_user(county, Role.OPERATOR)
    make_user(county, Role.PRINCIPAL_LEADER)  # who signs openings off (rule 8)
    f = filings.filing_submit_open(
        actor=op, organization=county, platform=platform("weibo"), platform_account_id="77001",
        display_name="甲一县教育", event_date=timezone.localdate(), operators=[op.pk],
    )
    assert f.pk
    with override_settings(REGISTRY_MIN_OPERATORS={"county": 2}):
        with pytest.raises(ValidationFailed) as exc:
            filings.filing_submit_open(
                actor=op, organization=county, platform=platform("douyin"),
                platform_account_id="77002", display_name="甲一县教育",
                event_date=timezone.localdate(), operators=[op.pk],
            )
        assert exc.value.code == rules.OPERATORS_BELOW_MINIMUM


def test_operators_must_be_operators_of_the_sponsoring_organization(world):
    stranger = world.mine.users[Role.LIAISON]  # a member, but not an operator
    with pytest.raises(ValidationFailed) as exc:
        file_open(world.mine, operators=[world.mine.users[Role.OPERATOR].pk, stranger.pk])
    assert exc.value.code == rules.OPERATOR_NOT_MEMBER


def test_outsourced_operator_needs_an_agreement_on_file(world):
    org = world.mine.city_dept
    future = timezone.localdate() + timedelta(days=10)
    newcomer = make_user(
        org, Role.OUTSOURCED_OPERATOR, agreement_signed_on=future, agreement_document="BM-X"
    )
    extra_op = make_user(org, Role.OPERATOR)
    with pytest.raises(ValidationFailed) as exc:
        file_open(world.mine, operators=[world.mine.users[Role.OPERATOR].pk, extra_op.pk, newcomer.pk])
    assert exc.value.code == rules.OUTSOURCED_WITHOUT_AGREEMENT
    # with the agreement on file (conftest's outsourced operator) the filing goes through
    assert file_open(world.mine).pk


# -- cancellation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "missing",
    ["announcement", "announced_on", "deregistered_on"],
)
def test_cancellation_needs_every_piece_of_evidence(world, missing):
    account = active_account(world.mine)
    today = timezone.localdate()
    evidence = {
        "announcement_url": "https://example.gov.cn/notice/9",
        "announced_on": today,
        "deregistered_on": today,
    }
    if missing == "announcement":
        evidence["announcement_url"] = ""
    else:
        evidence[missing] = None
    with pytest.raises(ValidationFailed) as exc:
        filings.filing_submit_cancel(
            actor=world.mine.users[Role.OPERATOR], account=account, event_date=today, **evidence
        )
    assert exc.value.code == rules.CANCEL_EVIDENCE_MISSING
    field = "announcement_url" if missing == "announcement" else missing
    assert field in exc.value.fields


def test_rule_report_collects_all_errors():
    report = rules.RuleReport()
    report.error("a", "x", "one")
    report.error("b", "y", "two")
    with pytest.raises(ValidationFailed) as exc:
        report.raise_if_errors()
    assert exc.value.code == "a" and set(exc.value.fields) == {"x", "y"}
