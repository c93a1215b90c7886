from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "assessment"
    verbose_name = _("Assessment")

    def ready(self):
        from accounts.navigation import NavItem, add_nav_item
        from accounts.scoping import Domain

        add_nav_item(
            NavItem(
                "assessment",
                _("Assessment"),
                "assessment:index",
                Domain.BUSINESS,
                order=40,
            )
        )

        from audit.labels import register_action_labels

        register_action_labels(
            {
                "assessment.change_refused": _("Assessment change refused"),
                "assessment.rubric_create": _("Rubric created"),
                "assessment.rubric_update": _("Rubric edited"),
                "assessment.rubric_item_save": _("Rubric item saved"),
                "assessment.rubric_item_delete": _("Rubric item removed"),
                "assessment.rubric_activate": _("Rubric put in force"),
                "assessment.rubric_new_version": _("New rubric version"),
                "assessment.manual_entry_create": _("Manual assessment entry"),
                "assessment.manual_entry_withdraw": _(
                    "Manual assessment entry withdrawn"
                ),
                "assessment.run_request": _("Scores requested"),
                "assessment.run_compute": _("Scores computed"),
                "assessment.year_freeze": _("Annual assessment frozen"),
                "assessment.year_reopen": _("Annual assessment re-opened"),
                "assessment.export": _("Assessment exported"),
            }
        )
