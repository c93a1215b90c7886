from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkcalendarConfig(AppConfig):
    name = "workcalendar"
    verbose_name = _("Working-day calendar")

    def ready(self):
        from audit.labels import register_action_groups, register_action_labels

        register_action_groups({"calendar": _("Working-day calendar")})

        register_action_labels({
            "calendar.day_saved": _("Calendar day saved"),
            "calendar.day_deleted": _("Calendar day deleted"),
            "calendar.year_saved": _("Calendar year saved"),
        })
