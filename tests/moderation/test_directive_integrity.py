"""Repost directives reach the accounts below the issuer; a confirmation must be on
the target's platform; collectors' reports of a directed repost reconcile against
the target; a cancelled account that posts again is its own finding."""

from __future__ import annotations

import pytest

from accounts.models import Role
from common.errors import ValidationFailed
from moderation.models import DirectiveTarget, Flag, FlagKind, MatchStatus
from moderation.services import directives
from moderation.services.publication import published_post_report
from tests.moderation.factories import make_account

pytestmark = pytest.mark.django_db

SOURCE = "https://www.zj.gov.cn/art/2026/1.html"


def issue(ns):
    return directives.directive_issue(
        actor=ns.users[Role.SUPERVISOR], organization=ns.province, title="全省防汛重要通知",
        source_url=SOURCE)


def test_a_directive_targets_the_accounts_below_not_the_issuers_own(world):
    """DOMAIN rule 15: subordinate accounts repost the provincial item; the issuing
    organization's own account published it and is no target."""
    ns = world.mine
    own = make_account(ns.province, "weibo")
    below = make_account(ns.city_dept, "weibo")
    directive = issue(ns)
    assert set(directive.targets.values_list("account_id", flat=True)) == {below.pk}
    assert not DirectiveTarget.objects.filter(account=own).exists()


def test_a_confirmation_url_must_be_on_the_target_accounts_platform(world):
    """DOMAIN rule 15: a Weibo repost is confirmed with a Weibo address; another
    platform's address is refused naming the field, and nothing is written."""
    ns = world.mine
    make_account(ns.city_dept, "weibo")
    target = issue(ns).targets.get()
    with pytest.raises(ValidationFailed) as exc:
        directives.target_confirm(target=target, actor=ns.users[Role.OPERATOR],
                                  repost_url="https://www.douyin.com/video/123")
    assert exc.value.code == "url_other_platform"
    assert "repost_url" in exc.value.fields
    target.refresh_from_db()
    assert target.confirmed_at is None and target.repost_url == ""
    directives.target_confirm(target=target, actor=ns.users[Role.OPERATOR],
                              repost_url="https://m.weibo.cn/status/4999")
    target.refresh_from_db()
    assert target.confirmed_at is not None


def test_a_collector_report_of_a_directed_repost_is_reconciled_not_flagged(world):
    """DOMAIN rule 15: the repost a directive ordered is no "published without
    approval": it is matched to the directive target (and confirms it)."""
    ns = world.mine
    account = make_account(ns.city_dept, "weibo")
    target = issue(ns).targets.get()
    row, created = published_post_report(
        actor=ns.users[Role.OPERATOR], account=account, platform_post_id="R-1",
        text=f"//@浙江发布: 全省防汛重要通知 {SOURCE}", url="https://weibo.com/123/R1")
    assert created
    assert row.match_status == MatchStatus.DIRECTED_REPOST
    assert row.directive_target_id == target.pk
    assert not Flag.objects.exists()
    target.refresh_from_db()
    assert target.confirmed_at is not None
    assert target.repost_url == "https://weibo.com/123/R1"


def test_an_undirected_unapproved_post_is_still_flagged(world):
    """DOMAIN rule 10: a post matching neither an approved revision nor a directive
    stays "published without approval"."""
    ns = world.mine
    account = make_account(ns.city_dept, "weibo")
    issue(ns)
    published_post_report(actor=ns.users[Role.OPERATOR], account=account,
                          platform_post_id="U-1", text="周末去哪儿玩？推荐几个好地方")
    assert Flag.objects.get().kind == FlagKind.UNAPPROVED_PUBLICATION


def test_a_cancelled_account_that_posts_again_raises_its_own_flag(world):
    """DOMAIN rule 32: a cancelled account that posts again is a finding of its own
    kind, not an unapproved publication."""
    ns = world.mine
    account = make_account(ns.city_dept, "weibo", status="cancelled")
    published_post_report(actor=ns.users[Role.SUPERVISOR], account=account,
                          platform_post_id="C-1", text="我们又回来了")
    flag = Flag.objects.get()
    assert flag.kind == FlagKind.CANCELLED_ACCOUNT_POSTED
