"""API routes of registry (mounted under /api/v1/)."""

from django.urls import path  # noqa: F401

from registry import api_ledger

urlpatterns: list = [
    *api_ledger.router.urls,
    *api_ledger.urlpatterns,
]
