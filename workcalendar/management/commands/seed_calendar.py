from django.core.management.base import BaseCommand

from workcalendar.calendar import unknown_years
from workcalendar.services import calendar_seed_from_package


class Command(BaseCommand):
    help = "Load national holidays and adjusted working days from chinese-calendar (idempotent)."

    def handle(self, *args, **options):
        inserted = calendar_seed_from_package()
        self.stdout.write(f"{inserted} calendar days inserted.")
        from django.utils import timezone

        this_year = timezone.localdate().year
        missing = unknown_years([this_year, this_year + 1])
        for year in missing:
            self.stdout.write(
                self.style.WARNING(
                    f"No calendar data for {year}: deadlines there fall back to Monday-Friday "
                    "and are marked provisional. Enter the year's holidays in the admin."
                )
            )
