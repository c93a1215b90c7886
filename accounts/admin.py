"""Admin views of organizations and people: read-only here, because every change goes
through the services (and their audit events); the pages and API call those."""

from django.contrib import admin

from accounts.models import Membership, Organization, User


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "level", "region_code", "depth", "is_active")
    list_filter = ("kind", "level", "is_active")
    search_fields = ("name", "region_code")

    def get_queryset(self, request):
        return Organization.objects.visible_to(request.user)


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ("username", "display_name", "is_active", "last_login")
    search_fields = ("username", "display_name")
    exclude = ("password",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        # People holding a role somewhere the administrator's directory scope reaches.
        visible = Organization.objects.visible_to(request.user)
        return qs.filter(memberships__organization__in=visible).distinct()


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "role", "organization", "is_active", "started_on", "ended_on")
    list_filter = ("role", "is_active")

    def get_queryset(self, request):
        return Membership.objects.visible_to(request.user).select_related("user", "organization")
