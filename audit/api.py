from rest_framework import serializers
from rest_framework.decorators import action

from accounts.api_base import ScopedReadOnlyViewSet
from audit.models import AuditEvent
from audit.views import event_export


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor_id",
            "actor_label",
            "role",
            "organization_id",
            "organization_label",
            "action",
            "target_type",
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

    @action(detail=False, methods=["get"])
    def export(self, request):
        return event_export(request._request)
