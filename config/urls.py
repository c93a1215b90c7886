from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from accounts import views as account_views
from audit.api import AuditEventViewSet
from common.health import healthz
from moderation import views as moderation_views
from notifications.api import NotificationViewSet

api_router = DefaultRouter()
api_router.register("audit-events", AuditEventViewSet, basename="audit-event")
api_router.register("notifications", NotificationViewSet, basename="notification")

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("registry.api_urls")),
    path("", include("moderation.api_urls")),
    path("", include("inbox.api_urls")),
    path("", include("supervision.api_urls")),
    path("", include("assessment.api_urls")),
    *api_router.urls,
]

urlpatterns = [
    # First: the collectors' endpoint carries the ingestion load (inbox/machine_urls.py).
    path("api/v1/", include("inbox.machine_urls")),
    path("", account_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("verify/", moderation_views.signoff_verify, name="signoff_verify"),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("exports/", include("exportjobs.urls")),
    path("notifications/", include("notifications.urls")),
    path("registry/", include("registry.urls")),
    path("moderation/", include("moderation.urls")),
    path("inbox/", include("inbox.urls")),
    path("supervision/", include("supervision.urls")),
    path("assessment/", include("assessment.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("captcha/", include("captcha.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

# JSON errors for the API when Django refuses a request before any view (oversized body,
# a URL no route matches).
handler400 = "common.views.bad_request"
handler404 = "common.views.page_not_found"
