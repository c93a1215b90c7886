"""The registry's list pages as exports (common/exports.py kinds "accounts",
"filing_queue", "signoff_queue", "rotations" and "exemptions"): the pages' own selectors and filters (registry/views/), kept to what
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
from registry.models import (
    AccountCategory,
    AccountStatus,
    FilingKind,
    MediaAccount,
    VerificationStatus,
)


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
        exports.person("departed_user"), "opened_at", "due_at", "due_provisional",
        "overdue", "done_at", exports.person("done_by"),
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
        exports.person("granted_by"), "active", "revoked_at",
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


def account_filters(params) -> dict:
    """The account list's filters (status, platform, text), checked."""
    status = params.get("status", "")
    return {
        "status": status if status in AccountStatus.values else "",
        "platform": params.get("platform", ""),
        "text": params.get("q", "").strip()[:60],
    }


def accounts_table(user, params):
    """The account list with its filters (the "accounts" export kind); the ledger
    (kind "ledger") is the full register with every column."""
    _exporting(user)
    qs = selectors.account_search(user, **account_filters(params)).filter(
        pk__in=MediaAccount.objects.visible_to(user, Action.EXPORT).values("pk"))
    rows = qs.values_list(
        "display_name", "platform__name", "platform_account_id", "organization__name",
        "category", "verification", "status", "opened_on", "last_post_at", "followers",
    )
    return Table(
        title=_("Accounts"),
        columns=[
            Column(_("Account"), width=24),
            Column(_("Platform")),
            Column(_("Platform account id"), width=20),
            Column(_("Sponsoring organization"), width=30),
            Column(_("Category"), labels=dict(AccountCategory.choices)),
            Column(_("Real-name verification"), labels=dict(VerificationStatus.choices)),
            Column(_("Status"), labels=dict(AccountStatus.choices)),
            Column(_("Opened on"), "date"),
            Column(_("Last post"), "datetime", width=20),
            Column(_("Followers"), "number"),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


def filing_queue_table(user, params):
    """The supervisor's approval queue, oldest first (the "filing_queue" kind); a
    user with no queue gets 404, as the page."""
    if not selectors.supervised_paths(user):
        raise NotFound(_("Not found."))
    _exporting(user)
    qs = selectors.filing_queue(user).filter(
        pk__in=selectors.filings_visible(user, Action.EXPORT).values("pk"))
    rows = qs.values_list(
        "number", "kind", "account__display_name", "account__platform__name",
        "organization__name", "event_date", "submitted_at", "due_at", "is_late",
    )
    return Table(
        title=_("Approval queue"),
        columns=[
            Column(_("Filing number"), width=20),
            Column(_("Kind"), labels=dict(FilingKind.choices)),
            Column(_("Account"), width=24),
            Column(_("Platform")),
            Column(_("Sponsoring organization"), width=30),
            Column(_("Date of the event"), "date"),
            Column(_("Filed"), "datetime", width=20),
            Column(_("Due"), "datetime", width=20),
            Column(_("Late"), "bool"),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


def signoff_queue_table(user, params):
    """The principal leader's sign-off queue, oldest first (the "signoff_queue"
    kind): registry.services.signoff.signoff_queue decides, as for the page, kept to
    what the user may export."""
    from registry.services import signoff

    _exporting(user)
    qs = signoff.signoff_queue(user).filter(
        pk__in=selectors.filings_visible(user, Action.EXPORT).values("pk"))
    rows = qs.values_list(
        "number", "kind", "account__display_name", "account__platform__name",
        "organization__name", "submitted_at", exports.person("submitted_by"), "due_at",
        "is_late",
    )
    return Table(
        title=_("Filings to sign off"),
        columns=[
            Column(_("Filing number"), width=20),
            Column(_("Kind"), labels=dict(FilingKind.choices)),
            Column(_("Account"), width=24),
            Column(_("Platform")),
            Column(_("Sponsoring organization"), width=30),
            Column(_("Filed"), "datetime", width=20),
            Column(_("Filed by"), width=16),
            Column(_("Due"), "datetime", width=20),
            Column(_("Late"), "bool"),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )
