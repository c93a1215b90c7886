"""Workbench card of accounts (common.workbench): the security administrator's
locked-out sign-ins, each lifted on the person's page. One query."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.selectors import locked_out_q, users_visible
from common.workbench import STATE_DONE, STATE_DUE, Card, register


def locked_out(user) -> list[Card]:
    n = users_visible(user).filter(locked_out_q()).count()
    return [
        Card(
            "locked_out",
            _("Locked-out sign-ins"),
            n,
            url=reverse("accounts:user_list") + "?status=locked",
            state=STATE_DUE if n else STATE_DONE,
            order=10,
        )
    ]


def register_cards() -> None:
    register("locked_out", provider=locked_out, roles={Role.SECURITY_ADMIN}, order=10)
