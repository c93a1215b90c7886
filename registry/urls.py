"""Pages of registry. Each sub-area keeps its own urls module, included here."""

from django.urls import path  # noqa: F401  (sub-area modules add include())

app_name = "registry"

urlpatterns: list = []
