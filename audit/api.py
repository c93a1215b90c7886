from rest_framework import serializers
from rest_framework.decorators import action

from accounts.api_base import ScopedReadOnlyViewSet
from audit.labels import action_label, actor_display, target_type_label
from audit.models import AuditEvent
from audit.views import event_export, record_trail_read


class AuditEventSerializer(serializers.ModelSerializer):
    """Stored codes plus their labels in the caller's language (Accept-Language)."""

    action_display = serializers.SerializerMethodField()
    target_type_display = serializers.SerializerMethodField()
    actor_display = serializers.SerializerMethodField()

    def get_action_display(self, obj) -> str:
        return action_label(obj.action)

    def get_target_type_display(self, obj) -> str:
        return target_type_label(obj.target_type)

    def get_actor_display(self, obj) -> str:
        return actor_display(obj)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor_id",
            "actor_label",
            "actor_display",
            "role",
            "organization_id",
            "organization_label",
            "action",
            "action_display",
            "target_type",
            "target_type_display",
            "target_id",
            "target_label",
            "before",
            "after",
            "ip",
            "prev_hash",
            "hash",
        ]


class AuditEventViewSet(ScopedReadOnlyViewSet):
    """The audit trail, for audit administrators (read-only; events never change)."""

    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    filterset_fields = ["action", "target_type", "target_id", "actor_id", "organization_id"]
    ordering = ["-id"]

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        record_trail_read(request, channel="api")
        return response

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        record_trail_read(request, channel="api", event=response.data["id"])
        return response

    @action(detail=False, methods=["get"])
    def export(self, request):
        return event_export(request._request)
