from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Account registry")

    def ready(self):
        from accounts.models import Role
        from accounts.navigation import NavItem, add_nav_item
        from accounts.scoping import Action, Domain
        from accounts.services import on_membership_ended
        from registry.services.custody import rotation_open_for_membership

        on_membership_ended(rotation_open_for_membership)
        add_nav_item(
            NavItem(
                "registry_dashboard", _("Registry overview"), "registry:dashboard",
                Domain.BUSINESS, roles=frozenset({Role.SUPERVISOR, Role.AUDITOR}), order=19,
            )
        )
        add_nav_item(
            NavItem("registry_accounts", _("Accounts"), "registry:account_list", Domain.BUSINESS, order=20)
        )
        add_nav_item(
            NavItem(
                "registry_filings", _("Filings"), "registry:filing_list", Domain.BUSINESS,
                action=Action.CHANGE, order=21,
            )
        )
        add_nav_item(
            NavItem(
                "registry_queue", _("Approval queue"), "registry:filing_queue", Domain.BUSINESS,
                action=Action.CHANGE, roles=frozenset({Role.SUPERVISOR}), order=22,
            )
        )
        # The ledger sub-area: its menu items, and its Celery tasks (autodiscovery
        # only imports tasks.py).
        from registry import ledger, tasks_ledger  # noqa: F401

        ledger.register_navigation()
