"""The workbench card of notifications: the unread count, for every role."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Role
from common.workbench import STATE_DONE, STATE_DUE, Card, register
from notifications.selectors import unread_count


def unread(user) -> list[Card]:
    n = unread_count(user)
    return [Card("notifications", _("Unread notifications"), n,
                 url=reverse("notifications:list") + "?unread=1",
                 state=STATE_DUE if n else STATE_DONE, order=90)]


def register_cards() -> None:
    register("notifications", provider=unread, roles=set(Role.values), order=90)
