"""Reads of a user's notifications."""

from __future__ import annotations

from notifications.models import Notification


def unread_count(user) -> int:
    """The user's unread notifications (one COUNT over the inbox index), cached on
    the user object for the rest of the request."""
    cached = getattr(user, "_unread_notifications", None)
    if cached is None:
        cached = Notification.objects.for_user(user).unread().count()
        user._unread_notifications = cached
    return cached
