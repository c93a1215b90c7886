"""API routes of moderation (mounted under /api/v1/)."""

urlpatterns: list = []
