"""Workbench cards of the registry (common.workbench): each provider runs one
aggregate query, whatever the number of accounts, filings or tasks."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role
from accounts.scoping import Action
from common.workbench import STATE_DONE, STATE_OVERDUE, Card, register, state_for
from registry.ledger import filing_overdue_q, idle_q
from registry.models import MediaAccount, RotationTask
from registry.selectors import activity_thresholds_of_user, filing_queue


def _overdue_detail(overdue: int) -> str:
    if not overdue:
        return ""
    return ngettext("%(n)d overdue", "%(n)d overdue", overdue) % {"n": overdue}


def filings_to_decide(user) -> list[Card]:
    now = timezone.now()
    totals = filing_queue(user).order_by().aggregate(
        open=Count("pk"), late=Count("pk", filter=Q(due_at__lt=now) | Q(is_late=True))
    )
    return [
        Card(
            "filings_to_decide", _("Filings to approve"), totals["open"],
            url=reverse("registry:filing_queue"),
            state=state_for(overdue=totals["late"], total=totals["open"]),
            detail=_overdue_detail(totals["late"]),
        )
    ]


def filings_to_sign(user) -> list[Card]:
    """The principal leader's openings and closures to sign off (rule 8)."""
    from registry.services.signoff import signoff_queue

    now = timezone.now()
    totals = signoff_queue(user).order_by().aggregate(
        open=Count("pk"), late=Count("pk", filter=Q(due_at__lt=now))
    )
    return [
        Card(
            "filings_to_sign", _("Filings to sign off"), totals["open"],
            url=reverse("registry:signoff_queue"),
            state=state_for(overdue=totals["late"], total=totals["open"]),
            detail=_overdue_detail(totals["late"]),
        )
    ]


def rotations_open(user) -> list[Card]:
    now = timezone.now()
    totals = (
        RotationTask.objects.visible_to(user, Action.CHANGE)
        .filter(done_at__isnull=True)
        .order_by()
        .aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))
    )
    return [
        Card(
            "rotations", _("Credential rotations"), totals["open"],
            url=reverse("registry:rotation_list"),
            state=state_for(overdue=totals["overdue"], total=totals["open"]),
            detail=_overdue_detail(totals["overdue"]),
        )
    ]


def accounts_needing_attention(user) -> list[Card]:
    """Idle accounts and accounts whose filing is overdue, in the user's jurisdiction."""
    # Each account under its own organization's idle policy (ActivityPolicy); the
    # detail names the threshold at the top of the user's jurisdiction.
    days = activity_thresholds_of_user(user).idle_days
    totals = (
        MediaAccount.objects.visible_to(user, Action.VIEW)
        .order_by()
        .aggregate(idle=Count("pk", filter=idle_q()),
                   filing_overdue=Count("pk", filter=filing_overdue_q()))
    )
    ledger = reverse("registry:ledger")
    return [
        Card(
            "idle_accounts", _("Idle accounts"), totals["idle"],
            url=f"{ledger}?{urlencode({'idle': 'true'})}",
            state=STATE_OVERDUE if totals["idle"] else STATE_DONE,
            detail=_("no post for more than %(days)d days") % {"days": days},
        ),
        Card(
            "filing_overdue", _("Accounts with an overdue filing"), totals["filing_overdue"],
            url=f"{ledger}?{urlencode({'filing_overdue': 'true'})}",
            state=STATE_OVERDUE if totals["filing_overdue"] else STATE_DONE,
        ),
    ]


def register_cards() -> None:
    register("filings_to_decide", provider=filings_to_decide, roles={Role.SUPERVISOR},
             order=10)
    register("filings_to_sign", provider=filings_to_sign, roles={Role.PRINCIPAL_LEADER},
             order=12)
    register("rotations", provider=rotations_open,
             roles={Role.OPERATOR, Role.DEPARTMENT_HEAD, Role.LIAISON}, order=60)
    register("accounts_attention", provider=accounts_needing_attention,
             roles={Role.SUPERVISOR, Role.AUDITOR}, order=40)



