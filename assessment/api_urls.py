"""API routes of the assessment (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from assessment import api

router = SimpleRouter()
router.register("assessment-rubrics", api.RubricViewSet, basename="assessment-rubric")
router.register("score-runs", api.ScoreRunViewSet, basename="score-run")
router.register("account-scores", api.AccountScoreViewSet, basename="account-score")
router.register("org-scores", api.OrgScoreViewSet, basename="org-score")
router.register("manual-entries", api.ManualEntryViewSet, basename="manual-entry")

router.register("assessment-years", api.FreezeViewSet, basename="assessment-year")
router.register("circulars", api.CircularViewSet, basename="circular")
router.register("circular-parts", api.CircularPartViewSet, basename="circular-part")
router.register(
    "monthly-archives", api.MonthlyArchiveViewSet, basename="monthly-archive"
)

urlpatterns = [
    path(
        "communication-indices/",
        api.communication_indices_view,
        name="communication-indices",
    ),
    *router.urls,
]
