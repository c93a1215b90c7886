from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Organizations and people")

    def ready(self):
        from accounts.navigation import register_navigation
        from audit.labels import register_action_groups, register_action_labels
        from common import exports

        exports.register("organizations", "accounts.api.organizations_table")
        exports.register("users", "accounts.views.users.users_table")
        exports.register("memberships", "accounts.views.memberships_table")

        register_navigation()

        register_action_groups({
            "otp": _("Second factor"),
            "pii": _("Personal information"),
            "token": _("API tokens"),
        })
        register_action_labels({
            "organization.created": _("Organization created"),
            "organization.updated": _("Organization updated"),
            "user.created": _("User created"),
            "pii.phone_revealed": _("Phone number revealed"),
            "membership.granted": _("Role granted"),
            "membership.ended": _("Role ended"),
            "user.password_changed": _("Password changed"),
            "user.password_reset": _("Password reset"),
            "auth.signed_in": _("Signed in"),
            "auth.sign_in_failed": _("Sign-in failed"),
            "auth.signed_out": _("Signed out"),
            "auth.locked_out": _("Sign-in locked"),
            "auth.unlocked": _("Sign-in unlocked"),
            "user.deactivated": _("Sign-in deactivated"),
            "user.reactivated": _("Sign-in reactivated"),
            "token.issued": _("API token issued"),
            "token.revoked": _("API token revoked"),
            "otp.enrolled": _("Second factor set up"),
            "otp.verified": _("Second factor used"),
            "otp.failed": _("Second factor refused"),
            "otp.reset": _("Second factor reset"),
            "otp.rule_set": _("Second-factor rule changed"),
        })
        from accounts import security_events

        security_events.connect()
