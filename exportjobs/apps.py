from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportJobsConfig(AppConfig):
    """Export jobs: exports above EXPORT_SYNC_MAX_ROWS, written by Celery (the
    writer itself is common/exports.py)."""

    name = "exportjobs"
    verbose_name = _("Exports")

    def ready(self):
        from audit.labels import register_action_labels
        from exportjobs.workbench import register_cards

        register_cards()
        from common import exports

        exports.register("export_jobs", "exportjobs.views.jobs_table")
        from common.navigation import NavEntry, register

        register(
            NavEntry(
                "exports", _("My exports"), "exports:list", None, action="export",
                placement="tools", order=90,
            )
        )

        register_action_labels(
            {
                "exportjobs.export_request": _("Large export requested"),
                "exportjobs.export_download": _("Export downloaded"),
            }
        )
