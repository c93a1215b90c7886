"""Admin: platforms are data a system administrator edits (audited through
registry.services.accounts.platform_save); everything else is read-only here,
since accounts and filings change only through their services."""

from django.contrib import admin, messages

from accounts.models import Role
from accounts.scoping import roles_of
from common.errors import ApplicationError
from registry.models import (
    AccountExemption,
    CredentialCustody,
    Filing,
    MediaAccount,
    Platform,
    RotationTask,
)
from registry.services.accounts import platform_save


def _is_system_admin(request) -> bool:
    return request.user.is_superuser or Role.SYSTEM_ADMIN in roles_of(request.user)


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "name_en", "sort_order", "is_active"]
    list_editable = []
    search_fields = ["name", "code"]

    def has_view_permission(self, request, obj=None):
        return _is_system_admin(request)

    def has_module_permission(self, request):
        return _is_system_admin(request)

    def has_add_permission(self, request):
        return _is_system_admin(request)

    def has_change_permission(self, request, obj=None):
        return _is_system_admin(request)

    def has_delete_permission(self, request, obj=None):
        return False  # accounts refer to platforms; deactivate instead

    def save_model(self, request, obj, form, change):
        try:
            platform_save(actor=request.user, platform=obj)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            raise


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MediaAccount)
class MediaAccountAdmin(ReadOnlyAdmin):
    list_display = ["display_name", "platform", "platform_account_id", "organization", "status"]
    list_filter = ["status", "platform", "category"]
    search_fields = ["display_name", "platform_account_id"]
    list_select_related = ["platform", "organization"]


@admin.register(Filing)
class FilingAdmin(ReadOnlyAdmin):
    list_display = ["number", "kind", "status", "account", "organization", "submitted_at", "is_late"]
    list_filter = ["kind", "status", "is_late"]
    search_fields = ["number"]
    list_select_related = ["account__platform", "organization"]


@admin.register(AccountExemption)
class AccountExemptionAdmin(ReadOnlyAdmin):
    list_display = ["organization", "platform", "granted_by", "granted_at", "revoked_at"]


@admin.register(CredentialCustody)
class CredentialCustodyAdmin(ReadOnlyAdmin):
    list_display = ["account", "holder", "last_changed_on"]


@admin.register(RotationTask)
class RotationTaskAdmin(ReadOnlyAdmin):
    list_display = ["account", "departed_user", "due_at", "done_at"]
