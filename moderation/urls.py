"""Pages of moderation. Each sub-area keeps its own urls module, included here."""

from django.urls import path  # noqa: F401  (sub-area modules add include())

app_name = "moderation"

urlpatterns: list = []
