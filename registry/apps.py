from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Account registry")

    def ready(self):
        from accounts.models import Role
        from accounts.services import on_membership_ended
        from common.navigation import NavEntry, register
        from registry.services.custody import rotation_open_for_membership

        on_membership_ended(rotation_open_for_membership)
        # After the rotation hook, which still reads the operators of the accounts.
        from registry.services.staffing import operators_remove_for_membership

        on_membership_ended(operators_remove_for_membership)

        from registry.services.deadlines import (
            filing_deadlines_recompute,
            rotation_deadlines_recompute,
        )
        from workcalendar.services import register_deadline_kind

        register_deadline_kind(
            "registry.filing", recompute=filing_deadlines_recompute,
            label=_("Filing deadlines"),
        )
        register_deadline_kind(
            "registry.rotation", recompute=rotation_deadlines_recompute,
            label=_("Credential rotation deadlines"),
        )
        from common import exports

        exports.register("ledger", "registry.services.ledger_export.build_table")
        exports.register("filings", "registry.api.filings_table")
        exports.register("accounts", "registry.lists.accounts_table")
        exports.register("filing_queue", "registry.lists.filing_queue_table")
        exports.register("signoff_queue", "registry.lists.signoff_queue_table")
        exports.register("counterfeit_check",
                         "registry.views.ledger.counterfeit_check_table")
        exports.register("rotations", "registry.lists.rotations_table")
        exports.register("exemptions", "registry.lists.exemptions_table")
        register(
            NavEntry("registry_dashboard", _("Registry overview"), "registry:dashboard",
                     "registry", roles=frozenset({Role.SUPERVISOR, Role.AUDITOR}), order=10),
            NavEntry("registry_accounts", _("Accounts"), "registry:account_list",
                     "registry", order=12),
            NavEntry("rotations", _("Credential rotations"), "registry:rotation_list",
                     "registry", action="change", order=40),
            NavEntry("registry_filings", _("Filings"), "registry:filing_list", "filings",
                     action="change", order=10),
            NavEntry("registry_filing_new", _("New filing"), "registry:filing_new",
                     "filings", action="change", order=5),
            NavEntry("registry_queue", _("Filings to approve"), "registry:filing_queue",
                     "filings", action="change", roles=frozenset({Role.SUPERVISOR}),
                     order=20),
            NavEntry("registry_signoff", _("Filings to sign off"), "registry:signoff_queue",
                     "filings", roles=frozenset({Role.PRINCIPAL_LEADER}), order=22),
            NavEntry("exemptions", _("Exemptions"), "registry:exemption_list", "filings",
                     roles=frozenset({Role.SUPERVISOR, Role.AUDITOR}), order=30),
        )
        # The ledger sub-area: its menu items, and its Celery tasks (autodiscovery
        # only imports tasks.py).
        from registry import ledger, tasks_ledger  # noqa: F401

        ledger.register_navigation()

        from registry.workbench import register_cards

        register_cards()

        from audit.labels import register_action_groups, register_action_labels

        register_action_groups({
            "custody": _("Credential custody"),
            "credential_rotation": _("Credential rotation"),
            "exemption": _("Exemptions"),
        })

        register_action_labels({
            "platform.created": _("Platform created"),
            "custody.viewed": _("Credential custody viewed"),
            "platform.updated": _("Platform updated"),
            "filing.submitted": _("Filing submitted"),
            "filing.approved": _("Filing approved"),
            "filing.rejected": _("Filing rejected"),
            "filing.withdrawn": _("Filing withdrawn"),
            "filing.leader_approved": _("Filing signed off by the principal leader"),
            "filing.leader_refused": _("Filing refused by the principal leader"),
            "filing.escalated": _("Filing escalated to the level above"),
            "media_account.operator_removed": _("Operator removed (role ended)"),
            "media_account.recorded": _("Account recorded"),
            "media_account.imported": _("Account imported"),
            "media_account.seeded": _("Account created (demo data)"),
            "media_account.opened": _("Account opened"),
            "media_account.changed": _("Account changed"),
            "media_account.suspended": _("Account suspended"),
            "media_account.cancelled": _("Account cancelled"),
            "media_account.not_opened": _("Account not opened"),
            "exemption.granted": _("Exemption granted"),
            "exemption.revoked": _("Exemption revoked"),
            "credential_custody.set": _("Credential custody recorded"),
            "credential_rotation.opened": _("Credential rotation opened"),
            "credential_rotation.done": _("Credential rotation completed"),
        })
