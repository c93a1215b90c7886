from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from common.navigation import NavEntry, register
        from notifications.selectors import unread_count

        # In the user tools beside the avatar, with the unread count (one query).
        register(
            NavEntry("notifications", _("Notifications"), "notifications:list", None,
                     domain="directory", placement="tools", badge=unread_count, order=0)
        )

        from notifications.workbench import register_cards

        register_cards()

        from common import exports

        exports.register("notifications", "notifications.views.notifications_table")
