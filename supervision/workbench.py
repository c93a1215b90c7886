"""Workbench cards of supervision (common.workbench): what the organization must
answer (operators and their heads) and what the supervisor watches (open findings,
overdue rectification orders). Each provider runs one aggregate query per table,
whatever the number of rows."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role
from accounts.scoping import Action
from common.workbench import (
    STATE_DONE,
    STATE_DUE,
    STATE_OVERDUE,
    Card,
    register,
    state_for,
)
from supervision.models import (
    ORDER_TO_ANSWER_STATUSES,
    Finding,
    FindingStatus,
    OrderStatus,
    RectificationOrder,
    Severity,
)


def _url(name: str, **query) -> str:
    return f"{reverse(name)}?{urlencode(query)}" if query else reverse(name)


def _n_overdue(n: int) -> str:
    return ngettext("%(n)d overdue", "%(n)d overdue", n) % {"n": n} if n else ""


def _n_veto(n: int) -> str:
    return ngettext("%(n)d veto-level", "%(n)d veto-level", n) % {"n": n} if n else ""


def to_answer(user) -> list[Card]:
    """The organization's rectification orders awaiting its answer (issued or sent
    back) and the findings assigned to it (交办), for the people who act on them."""
    now = timezone.now()
    orders = (
        RectificationOrder.objects.visible_to(user, Action.CHANGE)
        .filter(status__in=ORDER_TO_ANSWER_STATUSES)
        .order_by()
        .aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))
    )
    findings = (
        Finding.objects.visible_to(user, Action.CHANGE)
        .filter(status=FindingStatus.OPEN)
        .order_by()
        .aggregate(open=Count("pk"), veto=Count("pk", filter=Q(severity=Severity.VETO)))
    )
    return [
        Card(
            "orders_to_answer",
            _("Rectification orders to answer"),
            orders["open"],
            url=_url("supervision:order_list", status="to_answer"),
            state=state_for(overdue=orders["overdue"], total=orders["open"]),
            detail=_n_overdue(orders["overdue"]),
            order=40,
        ),
        Card(
            "findings_assigned",
            _("Findings assigned to us"),
            findings["open"],
            url=_url("supervision:finding_list", status=FindingStatus.OPEN),
            state=STATE_OVERDUE
            if findings["veto"]
            else (STATE_DUE if findings["open"] else STATE_DONE),
            detail=_n_veto(findings["veto"]),
            order=41,
        ),
    ]


def supervisor_watch(user) -> list[Card]:
    """Open findings and overdue rectification orders in the supervisor's subtree."""
    now = timezone.now()
    findings = (
        Finding.objects.visible_to(user)
        .filter(status=FindingStatus.OPEN)
        .order_by()
        .aggregate(open=Count("pk"), veto=Count("pk", filter=Q(severity=Severity.VETO)))
    )
    orders = (
        RectificationOrder.objects.visible_to(user)
        .exclude(status=OrderStatus.CLOSED)
        .order_by()
        .aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))
    )
    return [
        Card(
            "findings_open",
            _("Open findings"),
            findings["open"],
            url=_url("supervision:finding_list", status=FindingStatus.OPEN),
            state=STATE_OVERDUE
            if findings["veto"]
            else (STATE_DUE if findings["open"] else STATE_DONE),
            detail=_n_veto(findings["veto"]),
            order=36,
        ),
        Card(
            "orders_overdue",
            _("Rectification orders overdue"),
            orders["overdue"],
            url=_url("supervision:order_list", status="open", overdue="1"),
            state=STATE_OVERDUE if orders["overdue"] else STATE_DONE,
            detail=ngettext("%(n)d open in all", "%(n)d open in all", orders["open"])
            % {"n": orders["open"]},
            order=38,
        ),
    ]


def register_cards() -> None:
    register(
        "supervision_to_answer",
        provider=to_answer,
        roles={Role.OPERATOR, Role.DEPARTMENT_HEAD, Role.LIAISON},
        order=40,
    )
    register(
        "supervision_watch",
        provider=supervisor_watch,
        roles={Role.SUPERVISOR},
        order=36,
    )
