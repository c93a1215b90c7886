"""Workbench cards of the inbox (common.workbench): the messages the handler's
organizations must answer, and the supervisor's SLA breaches. One aggregate query
per provider, whatever the number of messages."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role
from common.workbench import STATE_DONE, STATE_OVERDUE, Card, register, state_for
from inbox import selectors
from inbox.models import OPEN_STATUSES


def _inbox(view: str) -> str:
    return f"{reverse('inbox:inbox')}?{urlencode({'view': view})}"


def messages_due(user) -> list[Card]:
    """Unanswered messages of the user's organizations (the inbox's "org" view): red
    when any is past its due time, amber when any falls due within 24 hours."""
    now = timezone.now()
    counts = (
        selectors.inbox_messages(user, view="org")
        .order_by()
        .aggregate(
            open=Count("pk"),
            breached=Count(
                "pk", filter=Q(due_at__lt=now) | Q(breached_at__isnull=False)
            ),
            soon=Count(
                "pk", filter=Q(due_at__gte=now, due_at__lt=now + selectors.DUE_SOON)
            ),
        )
    )
    parts = []
    if counts["breached"]:
        parts.append(
            ngettext("%(n)d past due", "%(n)d past due", counts["breached"])
            % {"n": counts["breached"]}
        )
    if counts["soon"]:
        parts.append(
            ngettext(
                "%(n)d due within 24 hours", "%(n)d due within 24 hours", counts["soon"]
            )
            % {"n": counts["soon"]}
        )
    return [
        Card(
            "messages_due",
            _("Messages to answer"),
            counts["open"],
            url=_inbox("org"),
            state=state_for(
                overdue=counts["breached"], due=counts["soon"], total=counts["open"]
            ),
            detail=_(", ").join(parts),
            order=15,
        )
    ]


def sla_breaches(user) -> list[Card]:
    """Messages in the supervisor's subtree whose reply time has passed unanswered."""
    n = (
        selectors.messages_for(user)
        .filter(breached_at__isnull=False, status__in=OPEN_STATUSES)
        .order_by()
        .count()
    )
    return [
        Card(
            "sla_breaches",
            _("Messages past their reply time"),
            n,
            url=_inbox("breached"),
            state=STATE_OVERDUE if n else STATE_DONE,
            order=37,
        )
    ]


def register_cards() -> None:
    register(
        "messages_due",
        provider=messages_due,
        roles={
            Role.OPERATOR,
            Role.OUTSOURCED_OPERATOR,
            Role.LIAISON,
            Role.DEPARTMENT_HEAD,
        },
        order=15,
    )
    register("sla_breaches", provider=sla_breaches, roles={Role.SUPERVISOR}, order=37)
