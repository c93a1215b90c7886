"""The Django admin of the platform: open to superusers and to the three separated
administrator roles (what each may see there comes from accounts.scoping)."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class GovMediaAdminSite(admin.AdminSite):
    site_header = _("Government new-media governance: administration")
    site_title = _("Administration")

    def has_permission(self, request):
        from accounts.scoping import ADMIN_ROLES, roles_of

        user = request.user
        if not user.is_active or not user.is_authenticated:
            return False
        # SECURITY: the admin always needs the second factor (MLPS 2.0 level 3);
        # is_verified comes from django_otp's OTPMiddleware.
        if not getattr(user, "is_verified", lambda: False)():
            return False
        return user.is_superuser or user.is_staff or bool(roles_of(user) & ADMIN_ROLES)


# Third-party apps name themselves in English only ("Axes", "Otp_Totp"); the admin
# shows these names instead, in the reader's language. Set once when the apps are
# ready (the models' Meta is not ours to edit).
THIRD_PARTY_APP_NAMES = {
    "axes": _("Sign-in protection"),
    "knox": _("API tokens"),
    "otp_totp": _("Second factor: authenticator apps"),
    "otp_static": _("Second factor: recovery codes"),
    "captcha": _("Captcha"),
}
THIRD_PARTY_MODEL_NAMES = {
    "axes.accessattempt": (_("sign-in attempt"), _("sign-in attempts")),
    "axes.accesslog": (_("sign-in record"), _("sign-in records")),
    "axes.accessfailurelog": (_("failed sign-in"), _("failed sign-ins")),
    "knox.authtoken": (_("API token"), _("API tokens")),
    "otp_totp.totpdevice": (_("authenticator app"), _("authenticator apps")),
    "otp_static.staticdevice": (_("recovery code set"), _("recovery code sets")),
    "otp_static.statictoken": (_("recovery code"), _("recovery codes")),
    "captcha.captchastore": (_("captcha challenge"), _("captcha challenges")),
}


def name_third_party_apps() -> None:
    from django.apps import apps

    for label, name in THIRD_PARTY_APP_NAMES.items():
        try:
            apps.get_app_config(label).verbose_name = name
        except LookupError:
            continue
    for label, (singular, plural) in THIRD_PARTY_MODEL_NAMES.items():
        try:
            meta = apps.get_model(label)._meta
        except LookupError:
            continue
        meta.verbose_name, meta.verbose_name_plural = singular, plural


class GovMediaAdminConfig(AdminConfig):
    default_site = "config.admin.GovMediaAdminSite"

    def ready(self):
        super().ready()
        name_third_party_apps()
