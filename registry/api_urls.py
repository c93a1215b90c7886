"""API routes of registry (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from registry import api, api_ledger

router = SimpleRouter()
router.register("platforms", api.PlatformViewSet, basename="platform")
router.register("media-accounts", api.MediaAccountViewSet, basename="media-account")
router.register("filings", api.FilingViewSet, basename="filing")
router.register("account-exemptions", api.ExemptionViewSet, basename="account-exemption")
router.register("credential-custody", api.CredentialCustodyViewSet, basename="credential-custody")
router.register("rotation-tasks", api.RotationTaskViewSet, basename="rotation-task")

urlpatterns: list = [
    *router.urls,
    *api_ledger.router.urls,
    *api_ledger.urlpatterns,
]
