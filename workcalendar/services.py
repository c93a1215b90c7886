"""Changes to the calendar. Each writes an audit event and tells the apps that keep
working-day deadlines to recompute them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from audit.services import audit_record
from workcalendar.models import CalendarYear, CalendarYearSource, DayKind, SpecialDay


@dataclass(frozen=True)
class DeadlineKind:
    """One kind of stored working-day deadline (filings, credential rotations,
    repost directive targets, citizen messages...). `recompute` recomputes every
    *open* deadline of the kind from the calendar as it is now, set-based (a fixed
    number of queries per distinct start/region, never one per row), refreshes the
    kind's provisional mark (a deadline counted over a year without calendar data),
    is safe to run twice, and returns how many rows changed."""

    name: str
    recompute: Callable[[], int]
    label: str = ""


# The one registry of deadline kinds (DESIGN.md "the deadline registry"). Apps
# register theirs in AppConfig.ready; a calendar edit or a newly loaded year
# recomputes all of them in one pass (`recompute_open_deadlines`).
_KINDS: dict[str, DeadlineKind] = {}


def register_deadline_kind(name: str, *, recompute: Callable[[], int], label: str = "") -> None:
    """Register (or replace, on a re-run of `ready()`) how to recompute the open
    deadlines of one kind, named `<app>.<thing>` (e.g. "registry.filing")."""
    _KINDS[name] = DeadlineKind(name=name, recompute=recompute, label=str(label))


def register_recomputer(fn: Callable[[], int]) -> None:
    """Older spelling of `register_deadline_kind`, named after the function."""
    register_deadline_kind(f"{fn.__module__}.{fn.__qualname__}", recompute=fn)


def deadline_kinds() -> list[DeadlineKind]:
    return sorted(_KINDS.values(), key=lambda kind: kind.name)


def recompute_deadlines_by_kind() -> dict[str, int]:
    """Recompute every registered kind; rows changed per kind."""
    return {kind.name: kind.recompute() for kind in deadline_kinds()}


def recompute_open_deadlines() -> int:
    return sum(recompute_deadlines_by_kind().values())


def _package_days() -> tuple[dict, dict, set[int]]:
    import chinese_calendar

    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return chinese_calendar.holidays, chinese_calendar.workdays, years


def calendar_seed_from_package(*, years: set[int] | None = None) -> int:
    """Insert the national holidays and adjusted working days the chinese-calendar
    package knows. Idempotent: days already present (including manual edits) are
    left as they are. Returns the number of days inserted."""
    holidays, workdays, known = _package_days()
    wanted = known if years is None else known & years
    existing = set(
        SpecialDay.objects.filter(region_code="", date__year__in=wanted).values_list(
            "date", flat=True
        )
    )
    rows = [
        SpecialDay(date=d, region_code="", kind=DayKind.HOLIDAY, name=str(name)[:60])
        for d, name in holidays.items()
        if d.year in wanted and d not in existing
    ] + [
        SpecialDay(date=d, region_code="", kind=DayKind.WORKDAY, name=str(name)[:60])
        for d, name in workdays.items()
        if d.year in wanted and d not in existing
    ]
    with transaction.atomic():
        SpecialDay.objects.bulk_create(rows, ignore_conflicts=True)
        have = set(
            CalendarYear.objects.filter(region_code="", year__in=wanted).values_list(
                "year", flat=True
            )
        )
        CalendarYear.objects.bulk_create(
            [
                CalendarYear(year=y, region_code="", source=CalendarYearSource.PACKAGE)
                for y in sorted(wanted - have)
            ],
            ignore_conflicts=True,
        )
    return len(rows)


def _day_state(day: SpecialDay | None) -> dict | None:
    if day is None:
        return None
    return {"date": day.date, "region_code": day.region_code, "kind": day.kind, "name": day.name}


@transaction.atomic
def special_day_save(*, actor, day: SpecialDay, before: SpecialDay | None = None) -> SpecialDay:
    """Create or change one holiday/adjusted working day (admin edits)."""
    day.full_clean()
    day.save()
    audit_record(
        actor=actor,
        action="calendar.day_saved",
        target=day,
        before=_day_state(before),
        after=_day_state(day),
        platform_wide=True,
    )
    transaction.on_commit(_schedule_recompute)
    return day


@transaction.atomic
def special_day_delete(*, actor, day: SpecialDay) -> None:
    state = _day_state(day)
    audit_record(
        actor=actor,
        action="calendar.day_deleted",
        target=day,
        before=state,
        after=None,
        platform_wide=True,
    )
    day.delete()
    transaction.on_commit(_schedule_recompute)


@transaction.atomic
def calendar_year_save(*, actor, year: CalendarYear, before: CalendarYear | None = None):
    """Declare a year's calendar complete (its holidays entered), or change its note."""
    year.full_clean()
    year.save()
    audit_record(
        actor=actor,
        action="calendar.year_saved",
        target=year,
        before=None if before is None else {"year": before.year, "note": before.note},
        after={"year": year.year, "region_code": year.region_code, "note": year.note},
        platform_wide=True,
    )
    transaction.on_commit(_schedule_recompute)
    return year


def _schedule_recompute() -> None:
    from workcalendar.tasks import refresh_years

    refresh_years.delay()
