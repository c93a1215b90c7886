from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Organizations and people")

    def ready(self):
        from accounts.navigation import register_navigation
        from audit.labels import register_action_labels

        register_navigation()

        register_action_labels({
            "organization.created": _("Organization created"),
            "organization.updated": _("Organization updated"),
            "user.created": _("User created"),
            "membership.granted": _("Role granted"),
            "membership.ended": _("Role ended"),
        })
