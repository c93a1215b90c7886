"""Django permissions from roles: the admin asks `user.has_perm(...)`, this answers
from accounts.scoping.ROLE_ADMIN_PERMISSIONS (one table, beside the scoping policy)."""

from accounts.scoping import admin_permissions


class RolePermissionBackend:
    """Grants permissions only; never authenticates anyone."""

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        return None

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous:
            return set()
        return set(admin_permissions(user_obj))

    def has_perm(self, user_obj, perm, obj=None):
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label):
        prefix = f"{app_label}."
        return any(p.startswith(prefix) for p in self.get_all_permissions(user_obj))
