"""Repost directives: deadlines computed once at issue; the sweep marks due-soon and
overdue targets set-based, notifies, and is idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import time_machine

from accounts.models import Role
from common.errors import Conflict, PermissionDenied, ValidationFailed
from moderation.models import DirectiveTarget
from moderation.services import directives
from notifications.models import Notification
from tests.factories import make_user
from tests.moderation.factories import make_account

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def issue(ns, **kw):
    return directives.directive_issue(
        actor=ns.users[Role.SUPERVISOR], organization=ns.province, title="重大政策发布",
        source_url="https://www.zj.gov.cn/art/1.html", **kw)


def test_weibo_target_overdue_after_one_hour_not_before(world, run_sweep):
    ns = world.mine
    account = make_account(ns.city_dept, "weibo")
    account.operators.add(ns.users[Role.OPERATOR])
    issued = datetime(2025, 3, 3, 9, 0, tzinfo=SH)
    with time_machine.travel(issued, tick=False):
        directive = issue(ns)
    target = DirectiveTarget.objects.get(directive=directive, account=account)
    assert target.due_at == issued + timedelta(hours=1)
    assert target.warn_at == issued + timedelta(minutes=45)

    with time_machine.travel(issued + timedelta(minutes=59), tick=False):
        result = run_sweep()
    target.refresh_from_db()
    assert result == {"warned": 1, "overdue": 0}
    assert target.overdue_at is None and target.warned_at is not None
    assert Notification.objects.filter(kind="moderation.repost_due_soon",
                                       recipient=ns.users[Role.OPERATOR]).count() == 1

    with time_machine.travel(issued + timedelta(hours=1), tick=False):
        assert run_sweep() == {"warned": 0, "overdue": 0}  # due, not yet late

    with time_machine.travel(issued + timedelta(hours=1, seconds=1), tick=False):
        result = run_sweep()
        assert result == {"warned": 0, "overdue": 1}
        notes = Notification.objects.count()
        assert Notification.objects.filter(kind="moderation.repost_overdue",
                                           recipient=ns.users[Role.OPERATOR]).exists()
        assert Notification.objects.filter(kind="moderation.repost_overdue_supervisor",
                                           recipient=ns.users[Role.SUPERVISOR]).exists()
        # Idempotent: a second run changes nothing and notifies no one.
        assert run_sweep() == {"warned": 0, "overdue": 0}
        assert Notification.objects.count() == notes
    target.refresh_from_db()
    assert target.overdue_at == issued + timedelta(hours=1, seconds=1)


def test_confirmed_targets_are_never_marked(world, run_sweep):
    ns = world.mine
    make_account(ns.city_dept, "weibo")
    issued = datetime(2025, 3, 3, 9, 0, tzinfo=SH)
    with time_machine.travel(issued, tick=False):
        directive = issue(ns)
    target = directive.targets.get()
    with time_machine.travel(issued + timedelta(minutes=30), tick=False):
        directives.target_confirm(target=target, actor=ns.users[Role.OPERATOR],
                                  repost_url="https://weibo.com/123/abc")
        with pytest.raises(Conflict) as exc:
            directives.target_confirm(target=target, actor=ns.users[Role.OPERATOR],
                                      repost_url="https://weibo.com/123/def")
        assert exc.value.code == "already_confirmed"
    with time_machine.travel(issued + timedelta(hours=2), tick=False):
        assert run_sweep() == {"warned": 0, "overdue": 0}
    target.refresh_from_db()
    assert target.repost_url == "https://weibo.com/123/abc"


@pytest.mark.parametrize("issued,due", [
    # Before the National Day holiday: due at the end of the next working day.
    (datetime(2025, 9, 30, 10, 0, tzinfo=SH), datetime(2025, 10, 9, 23, 59, 59, tzinfo=SH)),
    # A Friday before the Spring Festival: the next working day is Sunday 26 January,
    # an adjusted working day.
    (datetime(2025, 1, 24, 16, 0, tzinfo=SH), datetime(2025, 1, 26, 23, 59, 59, tzinfo=SH)),
    # An ordinary Friday: Monday.
    (datetime(2025, 3, 7, 16, 0, tzinfo=SH), datetime(2025, 3, 10, 23, 59, 59, tzinfo=SH)),
])
def test_wechat_subscription_due_end_of_next_working_day(world, run_sweep, issued, due):
    assert issued.weekday() == 4 or issued.date().isoformat() == "2025-09-30"
    assert chinese_calendar.is_workday(due.date())
    ns = world.mine
    make_account(ns.city_dept, "wechat_subscription")
    with time_machine.travel(issued, tick=False):
        directive = issue(ns)
    target = directive.targets.get()
    assert target.due_at == due
    assert target.provisional is False
    with time_machine.travel(due, tick=False):
        assert run_sweep()["overdue"] == 0
    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        assert run_sweep()["overdue"] == 1


def test_selection_by_platform_and_organization(world):
    ns = world.mine
    weibo_city = make_account(ns.city_dept, "weibo")
    make_account(ns.city_dept, "douyin")
    weibo_county = make_account(ns.county_dept, "weibo")
    make_account(ns.county_dept, "weibo", status="suspended")
    make_account(world.other.city_dept, "weibo")
    everything = issue(ns)
    assert everything.target_count == 3
    only_weibo = issue(ns, platform_codes=["weibo"])
    assert set(only_weibo.targets.values_list("account_id", flat=True)) == {
        weibo_city.pk, weibo_county.pk}
    county = issue(ns, organization_ids=[ns.county.pk])
    assert set(county.targets.values_list("account_id", flat=True)) == {weibo_county.pk}
    douyin = only_weibo.targets.none()
    assert not douyin.exists()
    # Other platforms fall back to the configurable default (24 hours).
    t = everything.targets.get(platform__code="douyin")
    assert t.due_at - everything.issued_at == timedelta(hours=24)
    with pytest.raises(ValidationFailed):
        issue(ns, organization_ids=[world.other.city.pk])
    with pytest.raises(ValidationFailed):
        issue(ns, platform_codes=["nope"])


def test_only_supervisors_issue(world):
    ns = world.mine
    make_account(ns.city_dept, "weibo")
    with pytest.raises(PermissionDenied):
        directives.directive_issue(actor=ns.users[Role.OPERATOR], organization=ns.city_dept,
                                   title="x", source_url="https://a.gov.cn/")


def test_issue_is_set_based(world, django_assert_max_num_queries):
    ns = world.mine
    from registry.models import MediaAccount, Platform

    weibo = Platform.objects.get(code="weibo")
    MediaAccount.objects.bulk_create([
        MediaAccount(platform=weibo, display_name=f"号{i}", platform_account_id=f"bulk{i}",
                     organization=ns.city_dept, supervising_organization=ns.city,
                     org_path=ns.city_dept.path, region_code=ns.city_dept.region_code,
                     status="active")
        for i in range(300)
    ])
    with django_assert_max_num_queries(25):
        directive = issue(ns)
    assert directive.targets.count() == 300


def test_calendar_edit_recomputes_open_working_day_deadlines(world):
    """A holiday declared after issue moves open WeChat deadlines; Weibo's 1 hour and
    confirmed targets stay as they were."""
    from datetime import date

    from workcalendar.models import DayKind, SpecialDay
    from workcalendar.services import special_day_save

    ns = world.mine
    make_account(ns.city_dept, "wechat_subscription")
    confirmed_account = make_account(ns.city_dept, "wechat_subscription")
    make_account(ns.city_dept, "weibo")
    issued = datetime(2025, 3, 7, 16, 0, tzinfo=SH)  # Friday -> Monday 10 March
    with time_machine.travel(issued, tick=False):
        directive = issue(ns)
    confirmed = directive.targets.get(account=confirmed_account)
    with time_machine.travel(issued + timedelta(minutes=5), tick=False):
        directives.target_confirm(target=confirmed, actor=ns.users[Role.OPERATOR],
                                  repost_url="https://mp.weixin.qq.com/s/x")
    weibo_due = directive.targets.get(platform__code="weibo").due_at
    special_day_save(actor=None, day=SpecialDay(date=date(2025, 3, 10), region_code="",
                                                kind=DayKind.HOLIDAY, name="测试"))
    assert directives.directive_deadlines_recompute() == 1
    wechat = directive.targets.get(platform__code="wechat_subscription",
                                   confirmed_at__isnull=True)
    assert wechat.due_at == datetime(2025, 3, 11, 23, 59, 59, tzinfo=SH)
    confirmed.refresh_from_db()
    assert confirmed.due_at == datetime(2025, 3, 10, 23, 59, 59, tzinfo=SH)
    assert directive.targets.get(platform__code="weibo").due_at == weibo_due
    assert directives.directive_deadlines_recompute() == 0  # idempotent


def test_sweep_marks_and_the_follow_up_task_notifies_once(world, eager_celery,
                                                           django_capture_on_commit_callbacks):
    """The sweep only marks (stamping its run's marker); the notifications come from
    the task it sends after commit, keyed by the marker: a duplicate delivery or a
    re-run sends nothing twice."""
    ns = world.mine
    account = make_account(ns.city_dept, "weibo")
    account.operators.add(ns.users[Role.OPERATOR])
    issued = datetime(2025, 3, 3, 9, 0, tzinfo=SH)
    with time_machine.travel(issued, tick=False):
        issue(ns)
    late = issued + timedelta(hours=1, seconds=1)
    kinds = ("moderation.repost_overdue", "moderation.repost_overdue_supervisor",
             "moderation.repost_due_soon")
    with time_machine.travel(late, tick=False):
        with django_capture_on_commit_callbacks() as callbacks:
            assert directives.reposts_sweep(late) == {"warned": 0, "overdue": 1}
        assert len(callbacks) == 1
        assert not Notification.objects.filter(kind__in=kinds).exists()
        target = DirectiveTarget.objects.get()
        assert target.overdue_at == late  # the run's marker, set by the same UPDATE
        callbacks[0]()  # the task, run eagerly
        sent = set(Notification.objects.filter(kind__in=kinds)
                   .values_list("kind", "recipient_id"))
        # The operators of the account's organization (and its named operator), then
        # the supervisor who issued it.
        assert sent == {("moderation.repost_overdue", ns.users[Role.OPERATOR].pk),
                        ("moderation.repost_overdue", ns.users[Role.OUTSOURCED_OPERATOR].pk),
                        ("moderation.repost_overdue_supervisor", ns.users[Role.SUPERVISOR].pk)}
        callbacks[0]()  # a duplicate delivery
        assert directives.reposts_notify_marked(stamp=late.isoformat()) == 0
        assert Notification.objects.filter(kind__in=kinds).count() == 3
        # A run that marks nothing sends no task.
        with django_capture_on_commit_callbacks() as callbacks:
            assert directives.reposts_sweep(late + timedelta(minutes=1)) == {
                "warned": 0, "overdue": 0}
        assert callbacks == []


def test_notification_step_queries_do_not_grow_with_targets(world,
                                                            django_assert_max_num_queries):
    ns = world.mine
    for i in range(12):
        account = make_account(ns.city_dept if i % 2 else ns.county_dept, "weibo")
        account.operators.add(make_user(account.organization, Role.OPERATOR))
    issued = datetime(2025, 3, 3, 9, 0, tzinfo=SH)
    with time_machine.travel(issued, tick=False):
        issue(ns)
        issue(ns)
    late = issued + timedelta(hours=2)
    with time_machine.travel(late, tick=False):
        assert directives.reposts_sweep(late)["overdue"] == 24
        with django_assert_max_num_queries(16):
            sent = directives.reposts_notify_marked(stamp=late.isoformat())
    # 12 named operators + the department's operator + the county's, and the
    # supervisor who issued.
    assert sent == Notification.objects.filter(kind__startswith="moderation.repost_overdue",
                                               ).count() > 12
