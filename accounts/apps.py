from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Organizations and people")

    def ready(self):
        from audit.labels import register_action_labels

        register_action_labels({
            "organization.created": _("Organization created"),
            "organization.updated": _("Organization updated"),
            "user.created": _("User created"),
            "membership.granted": _("Role granted"),
            "membership.ended": _("Role ended"),
            "user.password_changed": _("Password changed"),
            "user.password_reset": _("Password reset"),
            "auth.signed_in": _("Signed in"),
            "auth.sign_in_failed": _("Sign-in failed"),
            "auth.signed_out": _("Signed out"),
            "auth.locked_out": _("Sign-in locked"),
            "auth.unlocked": _("Sign-in unlocked"),
        })
        from accounts import security_events

        security_events.connect()
