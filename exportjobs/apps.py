from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportJobsConfig(AppConfig):
    """Export jobs: exports above EXPORT_SYNC_MAX_ROWS, written by Celery (the
    writer itself is common/exports.py)."""

    name = "exportjobs"
    verbose_name = _("Exports")

    def ready(self):
        from accounts.navigation import NavItem, add_nav_item
        from accounts.scoping import Action, Domain
        from audit.labels import register_action_labels

        add_nav_item(
            NavItem(
                "exports", _("My exports"), "exports:list", Domain.BUSINESS,
                action=Action.EXPORT, order=98,
            )
        )

        register_action_labels(
            {
                "exportjobs.export_request": _("Large export requested"),
                "exportjobs.export_download": _("Export downloaded"),
            }
        )
