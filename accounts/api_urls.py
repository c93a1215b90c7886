from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts import api

router = DefaultRouter()
router.register("organizations", api.OrganizationViewSet, basename="organization")
router.register("memberships", api.MembershipViewSet, basename="membership")

urlpatterns = [
    path("auth/token/", api.ObtainTokenView.as_view(), name="auth-token"),
    path("me/", api.MeView.as_view(), name="me"),
    *router.urls,
]
