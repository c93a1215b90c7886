from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts import api, api_tokens

router = DefaultRouter()
router.register("organizations", api.OrganizationViewSet, basename="organization")
router.register("memberships", api.MembershipViewSet, basename="membership")

urlpatterns = [
    path("auth/token/", api.ObtainTokenView.as_view(), name="auth-token"),
    path("auth/tokens/", api_tokens.TokenListView.as_view(), name="auth-tokens"),
    path("auth/tokens/revoke/", api_tokens.TokenRevokeView.as_view(), name="auth-tokens-revoke"),
    path(
        "auth/tokens/revoke-user/",
        api_tokens.UserTokensRevokeView.as_view(),
        name="auth-tokens-revoke-user",
    ),
    path("me/", api.MeView.as_view(), name="me"),
    *router.urls,
]
