from django.contrib import admin

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: events are written by services and never changed or deleted."""

    list_display = ("occurred_at", "actor_label", "role", "organization_label", "action", "target_label")
    list_filter = ("action", "target_type")
    search_fields = ("actor_label", "target_label", "action")

    def get_queryset(self, request):
        return AuditEvent.objects.visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
