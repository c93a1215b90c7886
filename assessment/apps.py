from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "assessment"
    verbose_name = _("Assessment")

    def ready(self):
        from accounts.models import Role
        from assessment import lists
        from assessment.workbench import register_cards

        register_cards()
        lists.register()
        from common.navigation import NavEntry, register

        # In the oversight menu of supervisors and auditors; operators reach their
        # organization's scores, circular parts and archives from those pages' links.
        overseers = frozenset({Role.SUPERVISOR, Role.AUDITOR})

        register(
            NavEntry(
                "assessment_runs",
                _("Scores"),
                "assessment:index",
                "oversight",
                order=50,
                roles=overseers,
            ),
            NavEntry(
                "assessment_rubrics",
                _("Rubrics"),
                "assessment:rubric_list",
                "oversight",
                order=51,
                roles=overseers,
            ),
            NavEntry(
                "assessment_circulars",
                _("Monthly circulars"),
                "assessment:circular_list",
                "oversight",
                order=52,
                roles=overseers,
            ),
            NavEntry(
                "assessment_years",
                _("Annual assessment"),
                "assessment:freeze_list",
                "oversight",
                order=53,
                roles=overseers,
            ),
            NavEntry(
                "assessment_archives",
                _("Monthly archives"),
                "assessment:archive_list",
                "oversight",
                order=54,
                roles=overseers,
            ),
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
                "assessment.circular_generate": _("Circular generated"),
                "assessment.circular_transition": _("Circular reviewed or published"),
                "assessment.archive_create": _("Monthly archive created"),
            }
        )
