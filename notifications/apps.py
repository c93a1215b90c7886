from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from accounts.models import Role
        from accounts.navigation import NavItem, add_nav_item
        from accounts.scoping import Domain

        add_nav_item(
            NavItem(
                "notifications", _("Notifications"), "notifications:list", Domain.DIRECTORY,
                order=98, roles=frozenset(Role),
            )
        )
