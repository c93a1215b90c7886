"""Working-day arithmetic in Asia/Shanghai on the database-backed calendar.

Rule (DOMAIN.md 35): "within N working days of receipt" ends at 23:59:59 Asia/Shanghai
on the Nth working day after the day of receipt. Regional holidays apply to a region
and everything below it (a county's code starts with its city's and province's
significant digits).

Each public function reads the calendar rows of the window it walks in one query;
there is no process cache to go stale when an administrator edits a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from workcalendar.models import CalendarYear, DayKind, SpecialDay

SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)


@dataclass(frozen=True)
class WorkdayResult:
    date: date
    provisional: bool


@dataclass(frozen=True)
class Deadline:
    due_at: datetime
    provisional: bool


def region_chain(region_code: str) -> list[str]:
    """The region and the regions above it whose own holidays apply: national first."""
    codes = [""]
    if region_code:
        for significant in (2, 4, 6):
            code = region_code[:significant].ljust(6, "0")
            if code not in codes:
                codes.append(code)
    return codes


class _Window:
    """Special days and known years for a date range, loaded in two queries."""

    def __init__(self, start: date, end: date, region_code: str):
        self.start, self.end = start, end
        chain = region_chain(region_code)
        rows = SpecialDay.objects.filter(
            date__gte=start, date__lte=end, region_code__in=chain
        ).values_list("date", "region_code", "kind")
        # The most specific region wins over the national entry for the same day.
        rank = {code: i for i, code in enumerate(chain)}
        best: dict[date, tuple[int, str]] = {}
        for day, code, kind in rows:
            if day not in best or rank[code] > best[day][0]:
                best[day] = (rank[code], kind)
        self.kinds = {day: kind for day, (_r, kind) in best.items()}
        self.known_years = set(
            CalendarYear.objects.filter(
                region_code="", year__gte=start.year, year__lte=end.year
            ).values_list("year", flat=True)
        )

    def is_working(self, day: date) -> bool:
        kind = self.kinds.get(day)
        if kind == DayKind.HOLIDAY:
            return False
        if kind == DayKind.WORKDAY:
            return True
        return day.weekday() < 5

    def is_known(self, day: date) -> bool:
        return day.year in self.known_years


def _window_for(start: date, n: int, region_code: str) -> _Window:
    # N working days never take more than N*7/5 days plus the longest holiday run.
    span = (n * 7) // 5 + 31
    return _Window(start, start + timedelta(days=span), region_code)


def is_working_day(day: date, region_code: str = "") -> bool:
    return _Window(day, day, region_code).is_working(day)


def year_is_known(year: int) -> bool:
    return CalendarYear.objects.filter(year=year, region_code="").exists()


def add_working_days(start: date, n: int, region_code: str = "") -> WorkdayResult:
    """The Nth working day after `start` (n >= 1); `start` itself for n == 0."""
    return add_working_days_many(start, [n], region_code)[n]


def add_working_days_many(start: date, ns, region_code: str = "") -> dict[int, WorkdayResult]:
    """`add_working_days` for several N at once: one walk over one window (two
    queries, where each N read its own)."""
    wanted = set(ns)
    if any(n < 0 for n in wanted):
        raise ValueError("n must be >= 0")
    results = {0: WorkdayResult(start, False)} if 0 in wanted else {}
    top = max(wanted, default=0)
    if top == 0:
        return results
    window = _window_for(start, top, region_code)
    day, counted, provisional = start, 0, False
    while counted < top:
        day += timedelta(days=1)
        if day > window.end:  # pathological calendars: keep walking in a new window
            window = _window_for(day, top - counted, region_code)
        provisional = provisional or not window.is_known(day)
        if window.is_working(day):
            counted += 1
            if counted in wanted:
                results[counted] = WorkdayResult(day, provisional)
    return results


def to_local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("aware datetimes only")
    return moment.astimezone(SHANGHAI)


def deadline_after(received_at: datetime, n: int, region_code: str = "") -> Deadline:
    """End of a working-day deadline: 23:59:59 Asia/Shanghai on the Nth working day
    after the day of receipt."""
    return deadlines_after(received_at, [n], region_code)[n]


def deadlines_after(received_at: datetime, ns, region_code: str = "") -> dict[int, Deadline]:
    """`deadline_after` for several N from the same receipt, in one walk."""
    local_day = to_local(received_at).date()
    return {n: Deadline(datetime.combine(r.date, END_OF_DAY, tzinfo=SHANGHAI), r.provisional)
            for n, r in add_working_days_many(local_day, ns, region_code).items()}


def _office_hours() -> list[tuple[time, time]]:
    spans = []
    for begin, end in settings.WORKCALENDAR_OFFICE_HOURS:
        spans.append((time.fromisoformat(begin), time.fromisoformat(end)))
    return spans


def working_seconds_between(start: datetime, end: datetime, region_code: str = "") -> int:
    """Seconds of office hours on working days between two instants (0 if end <= start)."""
    if end <= start:
        return 0
    a, b = to_local(start), to_local(end)
    window = _Window(a.date(), b.date(), region_code)
    spans = _office_hours()
    total = 0.0
    day = a.date()
    while day <= b.date():
        if window.is_working(day):
            for begin, finish in spans:
                lo = max(a, datetime.combine(day, begin, tzinfo=SHANGHAI))
                hi = min(b, datetime.combine(day, finish, tzinfo=SHANGHAI))
                if hi > lo:
                    total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return int(total)


def working_hours_between(start: datetime, end: datetime, region_code: str = "") -> float:
    return working_seconds_between(start, end, region_code) / 3600


def unknown_years(years: list[int]) -> list[int]:
    known = set(
        CalendarYear.objects.filter(region_code="", year__in=years).values_list("year", flat=True)
    )
    return [y for y in years if y not in known]



def add_working_seconds(start: datetime, seconds: int, region_code: str = "") -> datetime:
    """The instant when `seconds` of office hours on working days have passed after
    `start` (for moving a deadline by a paused working time). When the time runs
    out exactly at the end of a working day's office hours, the result is that day's
    23:59:59: the rest of the day still counts as that working day, like the end of
    a working-day deadline."""
    if seconds <= 0:
        return start
    a = to_local(start)
    spans = _office_hours()
    # Office hours per working day bound the walk: seconds / daily hours working days.
    daily = sum((datetime.combine(a.date(), e) - datetime.combine(a.date(), b)).seconds
                for b, e in spans) or 1
    window = _window_for(a.date(), seconds // daily + 2, region_code)
    left, day = float(seconds), a.date()
    while True:
        if day > window.end:
            window = _window_for(day, int(left // daily) + 2, region_code)
        if window.is_working(day):
            for begin, finish in spans:
                lo = max(a, datetime.combine(day, begin, tzinfo=SHANGHAI))
                hi = datetime.combine(day, finish, tzinfo=SHANGHAI)
                if hi <= lo:
                    continue
                available = (hi - lo).total_seconds()
                if available >= left:
                    moment = lo + timedelta(seconds=left)
                    if moment == datetime.combine(day, spans[-1][1], tzinfo=SHANGHAI):
                        return datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI)
                    return moment
                left -= available
        day += timedelta(days=1)
