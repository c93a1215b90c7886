"""The deadline arithmetic on the 2025 calendar (DOMAIN.md rules 33 and 35): due
times at receipt, pauses, transfers, extensions, recomputation."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import Role
from common.errors import Conflict, ValidationFailed
from inbox.models import Category, Message, SlaUnit, Status
from inbox.services import handling, timers
from tests.inbox.factories import account_for, receive
from workcalendar.calendar import working_seconds_between

SH = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def end_of(y, m, d) -> datetime:
    return local(y, m, d, 23, 59, 59)


@pytest.fixture
def setting(world):
    mine = world.mine
    account = account_for(mine.city_dept, supervising=mine.city)
    return mine, account


def test_inquiry_on_the_friday_before_spring_festival(setting):
    """Received Friday 2025-01-24: Sunday 26 January is an adjusted working day,
    28 January - 4 February the holiday, Saturday 8 February a working day again.
    An inquiry (5 working days) is due on 7 February, a complaint (7) on 10
    February; the first response (1 working day) on Sunday 26 January."""
    mine, account = setting
    inquiry = receive(account, "请问春节后社保卡什么时候可以办理？", at=local(2025, 1, 24, 16, 0))
    assert inquiry.suggested_category == Category.INQUIRY
    assert inquiry.first_response_due_at == end_of(2025, 1, 26)
    assert inquiry.reply_due_at == end_of(2025, 2, 7)
    assert inquiry.due_at == end_of(2025, 1, 26)
    complaint = receive(account, "投诉：窗口工作人员态度差，推诿不办。", at=local(2025, 1, 24, 16, 0))
    assert complaint.suggested_category == Category.COMPLAINT
    assert complaint.reply_due_at == end_of(2025, 2, 10)


def test_domain_examples_of_one_working_day(setting):
    _mine, account = setting
    cases = [((2025, 1, 27), (2025, 2, 5)), ((2025, 9, 30), (2025, 10, 9)),
             ((2025, 2, 7), (2025, 2, 8)), ((2025, 4, 30), (2025, 5, 6))]
    for (y, m, d), due in cases:
        message = receive(account, "你好", at=local(y, m, d, 10, 0))
        assert message.first_response_due_at == end_of(*due), (y, m, d)


def test_a_pause_moves_the_due_time_by_exactly_the_paused_working_time(setting):
    mine, account = setting
    handler = mine.users[Role.OPERATOR]
    message = receive(account, "请问如何办理？", at=local(2025, 3, 3, 9, 0))
    with time_machine.travel(local(2025, 3, 3, 10, 0), tick=False):
        handling.message_accept(message=message, actor=handler)
    message.refresh_from_db()
    before = message.reply_due_at
    assert before == end_of(2025, 3, 10)
    with time_machine.travel(local(2025, 3, 4, 14, 0), tick=False):
        handling.message_pause(message=message, actor=handler, note="等待补充材料")
    message.refresh_from_db()
    assert message.status == Status.WAITING and message.due_at is None
    with time_machine.travel(local(2025, 3, 5, 14, 0), tick=False):
        handling.message_resume(message=message, actor=handler)
    message.refresh_from_db()
    paused = 7 * 3600  # Tue 14:00-17:30 and Wed 08:30-12:00
    assert message.paused_seconds == paused
    assert working_seconds_between(before, message.reply_due_at) == paused
    # One whole working day of office hours: the deadline moves one working day.
    assert message.reply_due_at == end_of(2025, 3, 11)
    assert message.due_at == message.reply_due_at


def test_a_part_day_pause_lands_inside_office_hours(setting):
    mine, account = setting
    handler = mine.users[Role.OPERATOR]
    message = receive(account, "请问如何办理？", at=local(2025, 3, 3, 9, 0))
    with time_machine.travel(local(2025, 3, 3, 10, 0), tick=False):
        handling.message_accept(message=message, actor=handler)
    with time_machine.travel(local(2025, 3, 4, 9, 0), tick=False):
        handling.message_pause(message=message, actor=handler)
    with time_machine.travel(local(2025, 3, 4, 11, 0), tick=False):
        handling.message_resume(message=message, actor=handler)
    message.refresh_from_db()
    assert message.paused_seconds == 2 * 3600
    assert message.reply_due_at == local(2025, 3, 11, 10, 30)


@pytest.mark.parametrize("restarts", [False, True])
def test_a_transfer_restarts_the_clock_only_when_the_policy_says_so(setting, restarts):
    mine, account = setting
    timers.sla_policy_save(actor=mine.users[Role.SUPERVISOR], organization=mine.province,
                           category="", unit=SlaUnit.WORKING_DAYS, first_response=1,
                           reply=5, priority=10, transfer_restarts_clock=restarts)
    message = receive(account, "你好，咨询一个问题", at=local(2025, 3, 3, 9, 0))
    assert message.reply_due_at == end_of(2025, 3, 10)
    with time_machine.travel(local(2025, 3, 5, 10, 0), tick=False):
        handling.message_transfer(message=message, to_organization=mine.county_dept,
                                  actor=mine.users[Role.LIAISON], note="属县教育局职责")
    message.refresh_from_db()
    assert message.organization == mine.county_dept
    assert message.transfer_count == 1
    expected = end_of(2025, 3, 12) if restarts else end_of(2025, 3, 10)
    assert message.reply_due_at == expected
    # Sign-for within 4 working hours of the transfer: 10:00 + 2h (to 12:00) + 2h.
    assert message.sign_for_due_at == local(2025, 3, 5, 16, 0)


def test_the_one_extension(setting):
    mine, account = setting
    handler = mine.users[Role.OPERATOR]
    message = receive(account, "请问如何办理？", at=local(2025, 3, 3, 9, 0))
    with time_machine.travel(local(2025, 3, 3, 10, 0), tick=False):
        handling.message_accept(message=message, actor=handler)
        with pytest.raises(ValidationFailed):
            handling.message_extend(message=message, actor=handler, days=16,
                                    interim_text="正在核实")
        handling.message_extend(message=message, actor=handler, days=10,
                                interim_text="正在核实，请耐心等待。")
        with pytest.raises(Conflict) as second:
            handling.message_extend(message=message, actor=handler, days=2,
                                    interim_text="再延")
    assert second.value.code == "already_extended"
    message.refresh_from_db()
    assert message.extension_days == 10
    assert message.reply_due_at == end_of(2025, 3, 24)  # 15 working days


def test_a_transfer_outside_the_tree_is_refused_and_changes_nothing(world, setting):
    mine, account = setting
    message = receive(account, "你好", at=local(2025, 3, 3, 9, 0))
    with pytest.raises(ValidationFailed) as exc:
        handling.message_transfer(message=message, to_organization=world.other.city_dept,
                                  actor=mine.users[Role.LIAISON])
    assert exc.value.code == "outside_tree"
    with pytest.raises(ValidationFailed):
        # the city's supervisor tree does not hold the province office
        handling.message_transfer(message=message, to_organization=mine.office,
                                  actor=mine.users[Role.LIAISON])
    message.refresh_from_db()
    assert message.organization == mine.city_dept and message.transfer_count == 0


def test_calendar_change_recomputes_open_messages(setting):
    from datetime import date

    from workcalendar.models import DayKind, SpecialDay
    from workcalendar.services import recompute_open_deadlines, special_day_save

    _mine, account = setting
    a = receive(account, "请问如何办理？", at=local(2025, 3, 3, 9, 0))
    b = receive(account, "请问怎么办？", at=local(2025, 3, 3, 15, 0))
    assert a.reply_due_at == end_of(2025, 3, 10)
    special_day_save(actor=None, day=SpecialDay(date=date(2025, 3, 5), region_code="",
                                                kind=DayKind.HOLIDAY, name="测试假日"))
    changed = recompute_open_deadlines()
    assert changed >= 2
    for message in (a, b):
        message.refresh_from_db()
        assert message.reply_due_at == end_of(2025, 3, 11)
        assert message.first_response_due_at == end_of(2025, 3, 4)
    # Running it again changes nothing.
    assert Message.objects.filter(pk__in=[a.pk, b.pk]).count() == 2
    assert timers.message_deadlines_recompute() == 0
