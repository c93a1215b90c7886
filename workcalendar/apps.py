from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkcalendarConfig(AppConfig):
    name = "workcalendar"
    verbose_name = _("Working-day calendar")
