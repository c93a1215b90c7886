"""The registry's list pages as exports (common/exports.py kinds "rotations" and
"exemptions"): the pages' own selectors and filters (registry/views/), kept to what
the user may export. A user who may export nothing gets 404, as a list they cannot
see."""

from __future__ import annotations

from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scoping import Action, scope_for
from common import exports
from common.errors import NotFound
from common.exports import Column, Table
from registry import selectors


def _exporting(user) -> None:
    if scope_for(user, Action.EXPORT).is_empty:
        raise NotFound(_("Not found."))


def rotation_tasks(user, params):
    """The rotation page's rows: open tasks, or all with `show=all`."""
    qs = selectors.rotation_tasks_visible(user)
    if params.get("show", "open") != "all":
        qs = qs.open()
    return qs.order_by("due_at", "id")


def rotations_table(user, params):
    _exporting(user)
    qs = rotation_tasks(user, params).filter(
        pk__in=selectors.rotation_tasks_visible(user, Action.EXPORT).values("pk"))
    rows = qs.annotate(
        overdue=Case(
            When(Q(done_at__isnull=True, due_at__lt=timezone.now()), then=Value(True)),
            default=Value(False),
        )
    ).values_list(
        "account__display_name", "account__platform__name", "account__organization__name",
        "departed_user__display_name", "opened_at", "due_at", "due_provisional",
        "overdue", "done_at", "done_by__display_name",
    )
    return Table(
        title=_("Credential rotation"),
        columns=[
            Column(_("Account"), width=24),
            Column(_("Platform")),
            Column(_("Sponsoring organization"), width=30),
            Column(_("Person who left"), width=16),
            Column(_("Opened"), "datetime", width=20),
            Column(_("Due"), "datetime", width=20),
            Column(_("Provisional"), "bool"),
            Column(_("Overdue"), "bool"),
            Column(_("Done"), "datetime", width=20),
            Column(_("Done by"), width=16),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


def exemptions_table(user, params):
    _exporting(user)
    qs = selectors.exemptions_visible(user, Action.EXPORT).order_by("-granted_at")
    rows = qs.annotate(
        active=Case(When(revoked_at__isnull=True, then=Value(True)), default=Value(False))
    ).values_list(
        "organization__name", "platform__name", "reason", "granted_at",
        "granted_by__display_name", "active", "revoked_at",
    )
    return Table(
        title=_("Exemptions"),
        columns=[
            Column(_("Organization"), width=30),
            Column(_("Platform")),
            Column(_("Reason"), width=40),
            Column(_("Granted"), "datetime", width=20),
            Column(_("Granted by"), width=16),
            Column(_("Active"), "bool"),
            Column(_("Revoked"), "datetime", width=20),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )
