"""Working-day arithmetic (DOMAIN.md rule 35) on the database-backed calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from audit.models import AuditEvent
from workcalendar.calendar import (
    add_working_days,
    add_working_days_many,
    deadline_after,
    deadlines_after,
    is_working_day,
    unknown_years,
    working_seconds_between,
)
from workcalendar.models import CalendarYear, DayKind, SpecialDay
from workcalendar.services import special_day_save

SH = ZoneInfo("Asia/Shanghai")
HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
KNOWN_DATES = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 10, 31))


def received(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=SH)


@pytest.mark.parametrize(
    "day,due",
    [
        (date(2025, 1, 27), date(2025, 2, 5)),  # Spring Festival
        (date(2025, 9, 30), date(2025, 10, 9)),  # National Day + Mid-Autumn
        (date(2025, 2, 7), date(2025, 2, 8)),  # a Saturday that is a working day
        (date(2025, 4, 30), date(2025, 5, 6)),  # Labour Day
    ],
)
def test_worked_examples_of_rule_35(db, day, due):
    deadline = deadline_after(received(day), 1)
    assert deadline.due_at == datetime(
        due.year, due.month, due.day, 23, 59, 59, tzinfo=SH
    )
    assert deadline.provisional is False


def test_receipt_late_at_night_utc_counts_from_the_shanghai_day(db):
    # 16:30 UTC on Friday 7 February is 00:30 on Saturday 8 February in Shanghai (a
    # working Saturday), so one working day later is Monday the 10th.
    late = datetime(2025, 2, 7, 16, 30, tzinfo=UTC)
    assert deadline_after(late, 1).due_at == datetime(
        2025, 2, 10, 23, 59, 59, tzinfo=SH
    )
    early = datetime(2025, 2, 7, 15, 59, 59, tzinfo=UTC)  # 23:59:59 on the 7th
    assert deadline_after(early, 1).due_at == datetime(
        2025, 2, 8, 23, 59, 59, tzinfo=SH
    )


def test_naive_datetimes_are_refused(db):
    with pytest.raises(ValueError):
        deadline_after(datetime(2025, 2, 7, 10, 0), 1)


@HYPOTHESIS
@given(start=KNOWN_DATES, n=st.integers(min_value=0, max_value=25))
def test_properties_against_the_package_calendar(db, start, n):
    result = add_working_days(start, n)
    if n == 0:
        assert result.date == start
        return
    # An independent oracle: the chinese-calendar package the data was seeded from.
    assert chinese_calendar.is_workday(result.date)
    assert is_working_day(result.date)
    days = [start + timedelta(days=i) for i in range(1, (result.date - start).days + 1)]
    assert sum(chinese_calendar.is_workday(d) for d in days) == n
    assert add_working_days(start, n + 1).date > result.date


@HYPOTHESIS
@given(
    start=KNOWN_DATES,
    a=st.integers(min_value=0, max_value=15),
    b=st.integers(min_value=0, max_value=15),
)
def test_adding_in_two_steps_is_adding_once(db, start, a, b):
    first = add_working_days(start, a)
    whole = add_working_days(start, a + b)
    assume(not whole.provisional)
    assert add_working_days(first.date, b).date == whole.date


@HYPOTHESIS
@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
    ns=st.lists(st.integers(min_value=0, max_value=25), min_size=1, max_size=4),
)
def test_several_n_in_one_walk_are_each_n_alone(db, start, ns):
    """One walk for several N gives what each N gives alone, provisional flag
    included (2027 has no data here: a walk into it is provisional)."""
    many = add_working_days_many(start, ns)
    assert set(many) == set(ns)
    for n in ns:
        assert many[n] == add_working_days(start, n)


def test_two_deadlines_read_the_calendar_once(db, django_assert_num_queries):
    at = received(date(2025, 1, 24))  # the Friday before the Spring Festival
    with django_assert_num_queries(2):
        both = deadlines_after(at, [1, 5])
    assert both[1] == deadline_after(at, 1) and both[5] == deadline_after(at, 5)
    assert both[5].due_at.date() == date(2025, 2, 7)


def test_negative_n_is_refused(db):
    with pytest.raises(ValueError):
        add_working_days(date(2025, 1, 2), -1)


def test_year_without_data_falls_back_to_monday_to_friday_and_is_provisional(db):
    assert unknown_years([2026, 2027]) == [2027]
    # 1 January 2027 will surely be a holiday, but nobody has entered it yet.
    result = add_working_days(date(2026, 12, 31), 1)
    assert result == type(result)(date(2027, 1, 1), True)
    friday = add_working_days(date(2027, 3, 5), 1)
    assert friday.date == date(2027, 3, 8) and friday.provisional
    assert deadline_after(received(date(2026, 12, 29)), 1).provisional is False
    assert deadline_after(received(date(2026, 12, 30)), 3).provisional is True
    # Once the year is declared complete, its deadlines are no longer provisional.
    CalendarYear.objects.create(year=2027, region_code="")
    assert add_working_days(date(2027, 3, 5), 1).provisional is False


def test_regional_holiday_applies_to_the_region_and_below(db):
    special_day_save(
        actor=None,
        day=SpecialDay(
            date=date(2025, 3, 12), region_code="540000", kind=DayKind.HOLIDAY
        ),
    )
    wednesday = date(2025, 3, 12)
    assert not is_working_day(wednesday, "540000")
    assert not is_working_day(wednesday, "540102")  # a district of Lhasa
    assert is_working_day(wednesday, "330000")
    assert is_working_day(wednesday, "")
    def due(region):
        return deadline_after(received(date(2025, 3, 11)), 1, region).due_at.date()

    assert due("540102") == date(2025, 3, 13)
    assert due("330000") == date(2025, 3, 12)


def test_regional_working_day_overrides_a_national_holiday(db):
    special_day_save(
        actor=None,
        day=SpecialDay(
            date=date(2025, 5, 2), region_code="540100", kind=DayKind.WORKDAY
        ),
    )
    assert is_working_day(date(2025, 5, 2), "540102")
    assert not is_working_day(date(2025, 5, 2), "540000")


def test_an_edit_changes_deadlines_at_once_and_is_audited(db):
    before = deadline_after(received(date(2026, 3, 9)), 1)
    assert before.due_at.date() == date(2026, 3, 10)
    day = special_day_save(
        actor=None,
        day=SpecialDay(date=date(2026, 3, 10), kind=DayKind.HOLIDAY, name="temporary"),
    )
    assert deadline_after(received(date(2026, 3, 9)), 1).due_at.date() == date(
        2026, 3, 11
    )
    event = AuditEvent.objects.get(action="calendar.day_saved", target_id=str(day.pk))
    assert event.organization_path == "" and event.before is None
    assert event.after["date"] == "2026-03-10" and event.after["kind"] == "holiday"


def test_invalid_region_code_is_refused(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        special_day_save(
            actor=None,
            day=SpecialDay(
                date=date(2026, 3, 10), region_code="54", kind=DayKind.HOLIDAY
            ),
        )
    assert not SpecialDay.objects.filter(region_code="54").exists()


# --- office hours ----------------------------------------------------------------------
def at(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def test_working_seconds_across_a_weekend(db):
    # Friday 16:00 -> Monday 09:30: 1.5 h on Friday, 1 h on Monday.
    assert working_seconds_between(at(2025, 3, 14, 16), at(2025, 3, 17, 9, 30)) == 9000


def test_working_seconds_across_a_holiday(db):
    # 30 April 17:00 -> 6 May 09:00: half an hour on each side of Labour Day.
    assert working_seconds_between(at(2025, 4, 30, 17), at(2025, 5, 6, 9)) == 3600


def test_working_seconds_count_a_working_saturday_and_skip_lunch(db):
    # Friday 7 Feb 17:00 -> Monday 10 Feb 09:00: 0.5 h + a full working Saturday (7 h)
    # + 0.5 h.
    assert working_seconds_between(at(2025, 2, 7, 17), at(2025, 2, 10, 9)) == 8 * 3600
    assert working_seconds_between(at(2025, 3, 14, 11), at(2025, 3, 14, 15)) == 2 * 3600
    assert working_seconds_between(at(2025, 3, 14, 15), at(2025, 3, 14, 11)) == 0


def test_office_hours_come_from_settings(db, settings):
    settings.WORKCALENDAR_OFFICE_HOURS = [("09:00", "17:00")]
    assert working_seconds_between(at(2025, 3, 14, 8), at(2025, 3, 14, 20)) == 8 * 3600
