from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        from common.navigation import NavEntry, register

        register(
            NavEntry("audit", _("Audit trail"), "audit:event_list", "system",
                     domain="audit", order=30)
        )
