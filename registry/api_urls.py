"""API routes of registry (mounted under /api/v1/)."""

urlpatterns: list = []
