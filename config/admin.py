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


class GovMediaAdminConfig(AdminConfig):
    default_site = "config.admin.GovMediaAdminSite"
