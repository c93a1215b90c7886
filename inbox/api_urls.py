"""API routes of the inbox (mounted under /api/v1/; the collectors' endpoint is in
inbox/machine_urls.py, matched before every other route)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from inbox import api

router = SimpleRouter()
router.register("inbox/messages", api.MessageViewSet, basename="inbox-message")
router.register("inbox/replies", api.ReplyViewSet, basename="inbox-reply")
router.register("inbox/sla-policies", api.SlaPolicyViewSet, basename="inbox-sla-policy")
router.register("inbox/issue-slips", api.IssueSlipViewSet, basename="inbox-issue-slip")
router.register("inbox/duty-roster", api.DutyAssignmentViewSet, basename="inbox-duty")
router.register("inbox/wechat-endpoints", api.WeChatEndpointViewSet,
                basename="inbox-wechat-endpoint")
router.register("inbox/duty-logs", api.DutyLogViewSet, basename="inbox-duty-log")

urlpatterns = [
    path("inbox/metrics/", api.metrics_view, name="inbox-metrics"),
    *router.urls,
]
