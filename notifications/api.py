from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api_base import ScopedReadOnlyViewSet
from notifications.models import Notification
from notifications.services import notification_mark_read


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "message", "url", "target_type", "target_id", "created_at", "read_at"]


class NotificationViewSet(ScopedReadOnlyViewSet):
    """The caller's own notifications. (Owned by the user, not an organization, so
    the scoping here is "recipient = me"; nobody reads another person's.)"""

    serializer_class = NotificationSerializer
    filterset_fields = ["kind"]

    queryset = Notification.objects.all()

    def narrow_queryset(self, queryset):
        if self.request.query_params.get("unread") == "1":
            queryset = queryset.unread()
        return queryset

    @extend_schema(
        request=inline_serializer("NotificationsRead", {
            "ids": serializers.ListField(child=serializers.IntegerField(), required=False)}),
        responses=inline_serializer("NotificationsMarked", {"marked": serializers.IntegerField()}),
        summary="Mark notifications read (all, or the given ids)")
    @action(detail=False, methods=["post"])
    def read(self, request):
        ids = request.data.get("ids") if isinstance(request.data, dict) else None
        if ids is not None and (
            not isinstance(ids, list) or not all(isinstance(i, int) for i in ids)
        ):
            from django.utils.translation import gettext as _

            from common.errors import ValidationFailed

            raise ValidationFailed(_("ids must be a list of numbers."), fields={"ids": [_("Enter a list of numbers.")]})
        return Response({"marked": notification_mark_read(user=request.user, ids=ids)})
