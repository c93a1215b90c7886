"""API of the ledger (list, export, import, counterfeit check).

registry/api_urls.py mounts `router.urls` and `urlpatterns` (for plain views) under
/api/v1/."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

urlpatterns: list = []
