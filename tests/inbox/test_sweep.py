"""The timer sweep: set-based, marks once, idempotent, office hours for alerts."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Role
from inbox.models import Message, MessageEvent
from inbox.services import timers
from notifications.models import Notification
from tests.inbox.factories import account_for, receive

SH = ZoneInfo("Asia/Shanghai")


def local(*args):
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def messages(world):
    mine = world.mine
    account = account_for(mine.city_dept, supervising=mine.city)
    return mine, [receive(account, f"请问第{n}件事怎么办？", at=local(2025, 3, 3, 9, n))
                  for n in range(3)]


def test_breach_is_marked_once_and_the_follow_up_notifies(
        messages, eager_celery, django_capture_on_commit_callbacks):
    mine, rows = messages
    now = local(2025, 3, 5, 10, 0)  # first response (1 working day) missed
    with django_capture_on_commit_callbacks(execute=True):
        counts = timers.inbox_sweep(now)
    assert counts["breached"] == 3
    assert counts["escalated_liaison"] == 3  # office hours on a working day
    assert set(Message.objects.values_list("breached_at", flat=True)) == {now}
    assert MessageEvent.objects.filter(kind=MessageEvent.Kind.BREACHED).count() == 3
    liaison = mine.users[Role.LIAISON]
    assert Notification.objects.filter(recipient=liaison,
                                       kind="inbox.escalated_liaison").count() == 1
    # A second run, also with the follow-up delivered again, changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        again = timers.inbox_sweep(now + timedelta(minutes=1))
    assert again["breached"] == 0 and again["escalated_liaison"] == 0
    assert timers.sweep_notify(stamp=now.isoformat()) == 0
    assert MessageEvent.objects.filter(kind=MessageEvent.Kind.BREACHED).count() == 3


def test_alerts_wait_for_office_hours_but_breaches_do_not(messages):
    _mine, _rows = messages
    night = local(2025, 3, 4, 22, 0)  # after hours: due at 23:59:59 today
    counts = timers.inbox_sweep(night)
    assert counts["warned"] == 0  # working-day policy: the warning waits
    morning = local(2025, 3, 5, 8, 45)
    counts = timers.inbox_sweep(morning)
    assert counts["breached"] == 3 and counts["warned"] == 0  # breached, not warned
    assert counts["escalated_liaison"] == 3


def test_supervisor_escalation_after_a_day(messages):
    _mine, _rows = messages
    first = local(2025, 3, 5, 9, 0)
    timers.inbox_sweep(first)
    assert timers.inbox_sweep(first + timedelta(hours=2))["escalated_supervisor"] == 0
    later = timers.inbox_sweep(local(2025, 3, 6, 9, 30))
    assert later["escalated_supervisor"] == 3


def test_three_months_unanswered_is_flagged_once(messages):
    _mine, rows = messages
    counts = timers.inbox_sweep(local(2025, 6, 4, 9, 0))
    assert counts["stale"] == 3
    assert timers.inbox_sweep(local(2025, 6, 4, 9, 1))["stale"] == 0


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_mark_each_row_once(world):
    """Two runs racing: the advisory lock lets one in; the other skips."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        reason = "the advisory lock is PostgreSQL's (SQLite serializes writers)"
        print(reason)
        pytest.skip(reason)
    account = account_for(world.mine.city_dept, supervising=world.mine.city)
    for n in range(5):
        receive(account, "请问怎么办？", at=local(2025, 3, 3, 9, n))
    results, barrier = [], threading.Barrier(2)

    def run():
        from django.db import connection as conn

        barrier.wait()
        results.append(timers.inbox_sweep(local(2025, 3, 5, 10, 0)))
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    breached = sum(r.get("breached", 0) for r in results)
    assert breached == 5
    assert Message.objects.filter(breached_at__isnull=False).count() == 5
