"""Workbench card of export jobs (common.workbench): the user's large exports ready
to download, and those still being written. One query."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role
from common.workbench import STATE_DONE, STATE_DUE, STATE_OVERDUE, Card, register
from exportjobs.models import ExportJob, ExportState


def my_exports(user) -> list[Card]:
    now = timezone.now()
    counts = (
        ExportJob.objects.filter(user=user)
        .order_by()
        .aggregate(
            ready=Count(
                "pk",
                filter=Q(state=ExportState.DONE)
                & (Q(expires_at__isnull=True) | Q(expires_at__gt=now)),
            ),
            running=Count(
                "pk", filter=Q(state__in=[ExportState.QUEUED, ExportState.RUNNING])
            ),
            failed=Count("pk", filter=Q(state=ExportState.FAILED)),
        )
    )
    parts = []
    if counts["running"]:
        parts.append(
            ngettext("%(n)d being written", "%(n)d being written", counts["running"])
            % {"n": counts["running"]}
        )
    if counts["failed"]:
        parts.append(
            ngettext("%(n)d failed", "%(n)d failed", counts["failed"])
            % {"n": counts["failed"]}
        )
    if counts["failed"]:
        state = STATE_OVERDUE
    elif counts["ready"] or counts["running"]:
        state = STATE_DUE
    else:
        state = STATE_DONE
    return [
        Card(
            "exports",
            _("Exports ready to download"),
            counts["ready"],
            url=reverse("exports:list"),
            state=state,
            detail=_(", ").join(parts),
            order=25,
        )
    ]


def register_cards() -> None:
    register(
        "exports", provider=my_exports, roles={Role.AUDITOR, Role.AUDIT_ADMIN}, order=25
    )
