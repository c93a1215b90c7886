from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        from audit.labels import register_action_labels
        from common.navigation import NavEntry, register

        register_action_labels(
            {
                "audit.trail_viewed": _("Audit trail viewed"),
                "audit.trail_exported": _("Audit trail exported"),
            }
        )
        register(
            NavEntry("audit", _("Audit trail"), "audit:event_list", "system",
                     domain="audit", order=30)
        )
