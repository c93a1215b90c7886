"""The working-day calendar: holidays and adjusted working days, by year and region.

A year is *known* when a CalendarYear row exists for it (national: empty region
code). Days of an unknown year fall back to Monday-Friday, and any deadline computed
across such a day is marked provisional.
"""

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

region_validator = RegexValidator(
    r"^(\d{6})?$", _("Leave empty for the national calendar, or give a six-digit region code.")
)


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday (no work)")
    WORKDAY = "workday", _("Adjusted working day")


class CalendarYearSource(models.TextChoices):
    PACKAGE = "package", _("chinese-calendar package")
    MANUAL = "manual", _("Entered by an administrator")


class CalendarYear(models.Model):
    year = models.PositiveSmallIntegerField(_("year"))
    region_code = models.CharField(
        _("region code"), max_length=6, blank=True, default="", validators=[region_validator]
    )
    source = models.CharField(
        _("source"), max_length=16, choices=CalendarYearSource.choices, default="manual"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["-year", "region_code"]
        constraints = [
            models.UniqueConstraint(fields=["year", "region_code"], name="calendar_year_unique")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.region_code or _('national')}"


class SpecialDay(models.Model):
    date = models.DateField(_("date"))
    region_code = models.CharField(
        _("region code"),
        max_length=6,
        blank=True,
        default="",
        validators=[region_validator],
        help_text=_("Empty: national. A region's own holidays apply to it and everything below."),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("holiday or adjusted working day")
        verbose_name_plural = _("holidays and adjusted working days")
        ordering = ["date", "region_code"]
        constraints = [
            models.UniqueConstraint(fields=["date", "region_code"], name="special_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"
