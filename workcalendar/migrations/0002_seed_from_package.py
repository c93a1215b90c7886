from django.db import migrations


def seed(apps, schema_editor):
    import chinese_calendar

    SpecialDay = apps.get_model("workcalendar", "SpecialDay")
    CalendarYear = apps.get_model("workcalendar", "CalendarYear")
    rows = [
        SpecialDay(date=d, region_code="", kind="holiday", name=str(n)[:60])
        for d, n in chinese_calendar.holidays.items()
    ] + [
        SpecialDay(date=d, region_code="", kind="workday", name=str(n)[:60])
        for d, n in chinese_calendar.workdays.items()
    ]
    SpecialDay.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    CalendarYear.objects.bulk_create(
        [CalendarYear(year=y, region_code="", source="package") for y in sorted(years)],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("workcalendar", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
