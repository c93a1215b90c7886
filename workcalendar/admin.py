from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from workcalendar.calendar import unknown_years
from workcalendar.models import CalendarYear, SpecialDay
from workcalendar.services import (
    calendar_year_save,
    special_day_delete,
    special_day_save,
)


def _warn_unknown_years(request) -> None:
    this_year = timezone.localdate().year
    for year in unknown_years([this_year, this_year + 1]):
        messages.warning(
            request,
            _(
                "No calendar data for %(year)s: deadlines in %(year)s fall back to "
                "Monday-Friday and are marked provisional. Enter the State Council's "
                "holidays and adjusted working days for %(year)s, then add the year below "
                "to mark it complete."
            )
            % {"year": year},
        )


@admin.register(SpecialDay)
class SpecialDayAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "name", "region_code")
    list_filter = ("kind", "region_code")
    date_hierarchy = "date"
    search_fields = ("name", "region_code")

    def changelist_view(self, request, extra_context=None):
        _warn_unknown_years(request)
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        before = SpecialDay.objects.filter(pk=obj.pk).first() if change else None
        special_day_save(actor=request.user, day=obj, before=before)

    def delete_model(self, request, obj):
        special_day_delete(actor=request.user, day=obj)

    def delete_queryset(self, request, queryset):
        for day in queryset:
            special_day_delete(actor=request.user, day=day)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "region_code", "source", "note", "updated_at")
    list_filter = ("source",)
    description = gettext_lazy("A year listed here is complete; other years are provisional.")

    def changelist_view(self, request, extra_context=None):
        _warn_unknown_years(request)
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        before = CalendarYear.objects.filter(pk=obj.pk).first() if change else None
        calendar_year_save(actor=request.user, year=obj, before=before)

    def has_delete_permission(self, request, obj=None):
        return False
