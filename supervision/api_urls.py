"""API routes of supervision (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from supervision import api

router = SimpleRouter()
router.register("activity/posts", api.AccountPostViewSet, basename="activity-post")
router.register(
    "activity/metrics", api.MetricSnapshotViewSet, basename="metric-snapshot"
)
router.register("findings", api.FindingViewSet, basename="finding")
router.register(
    "rectification-orders", api.OrderViewSet, basename="rectification-order"
)
router.register("summons-interviews", api.SummonsViewSet, basename="summons-interview")
router.register("inspections", api.InspectionViewSet, basename="inspection")
router.register("opinion-events", api.EventViewSet, basename="opinion-event")
router.register("emergency-plans", api.PlanViewSet, basename="emergency-plan")

urlpatterns = [
    path(
        "supervision-dashboard/",
        api.DashboardView.as_view(),
        name="supervision-dashboard",
    ),
    *router.urls,
]
