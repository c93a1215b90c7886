"""The assessment's list pages as tables: sortable columns (common.listing) and the
exports of the lists themselves (common/exports.py kinds "annual_assessments",
"monthly_archives", "circulars", "score_runs", "rubrics", "manual_entries"). The
frozen year's own workbook and PDFs are
assessment/exports.py."""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.scoping import Action, scope_for
from assessment import selectors
from assessment.models import (
    AssessmentFreeze,
    Circular,
    CircularStatus,
    FreezeStatus,
    ManualEntry,
    MonthlyArchive,
    Rubric,
    RubricStatus,
    RunStatus,
    ScoreRun,
)
from common import exports
from common.errors import NotFound
from common.exports import Column, Table

FREEZE_SORTS = {
    "organization": ("org_path", "-year", "-version"),
    "year": ("year", "org_path", "version"),
    "frozen_at": ("frozen_at", "id"),
}
ARCHIVE_SORTS = {
    "month": ("month", "org_path", "version"),
    "organization": ("org_path", "-month", "-version"),
    "size": ("size", "id"),
}
CIRCULAR_SORTS = {
    "month": ("month", "org_path"),
    "organization": ("org_path", "-month"),
    "status": ("status", "-month"),
}


def _exporting(user):
    if scope_for(user, Action.EXPORT).is_empty:
        raise NotFound(_("Not found."))


def freezes_table(user, params):
    _exporting(user)
    qs = selectors.freeze_list(user).filter(
        pk__in=AssessmentFreeze.objects.visible_to(user, Action.EXPORT).values("pk")
    )
    rows = qs.values_list(
        "organization__name",
        "year",
        "version",
        "status",
        "frozen_at",
        "reopened_at",
        "reopen_reason",
        "checksum",
    )
    return Table(
        title=_("Annual assessments"),
        columns=[
            Column(_("Organization"), width=30),
            Column(_("Year"), "number"),
            Column(_("Version"), "number"),
            Column(_("Status"), labels=dict(FreezeStatus.choices)),
            Column(_("Frozen at"), "datetime", width=20),
            Column(_("Re-opened at"), "datetime", width=20),
            Column(_("Reason for re-opening"), width=30),
            Column(_("Checksum (SHA-256)"), width=66),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


def archives_table(user, params):
    _exporting(user)
    qs = selectors.archive_list(user).filter(
        pk__in=MonthlyArchive.objects.visible_to(user, Action.EXPORT).values("pk")
    )
    rows = qs.values_list(
        "month", "organization__name", "version", "size", "checksum", "created_at"
    )
    return Table(
        title=_("Monthly archives"),
        columns=[
            Column(_("Month"), "date"),
            Column(_("Organization"), width=30),
            Column(_("Version"), "number"),
            Column(_("Size (bytes)"), "number"),
            Column(_("Checksum (SHA-256)"), width=66),
            Column(_("Created at"), "datetime", width=20),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


def circulars_table(user, params):
    _exporting(user)
    qs = selectors.circular_list(user).filter(
        pk__in=Circular.objects.visible_to(user, Action.EXPORT).values("pk")
    )
    rows = qs.values_list(
        "month",
        "organization__name",
        "title",
        "status",
        "created_at",
        "reviewed_at",
        "published_at",
    )
    return Table(
        title=_("Monthly circulars"),
        columns=[
            Column(_("Month"), "date"),
            Column(_("Organization"), width=30),
            Column(_("Title"), width=40),
            Column(_("Status"), labels=dict(CircularStatus.choices)),
            Column(_("Created at"), "datetime", width=20),
            Column(_("Reviewed at"), "datetime", width=20),
            Column(_("Published at"), "datetime", width=20),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


def runs_table(user, params):
    """The score runs of the assessment's front page (selectors.run_list)."""
    _exporting(user)
    qs = selectors.run_list(user).filter(
        pk__in=ScoreRun.objects.visible_to(user, Action.EXPORT).values("pk")
    )
    rows = qs.values_list(
        "id",
        "organization__name",
        "period_start",
        "period_end",
        "rubric__name",
        "rubric__year",
        "rubric__version",
        "account_count",
        "status",
        "frozen",
        exports.person("requested_by"),
        "created_at",
        "finished_at",
    )

    def lines():
        for row in rows.iterator(chunk_size=2000):
            rubric = f"{row[4]} ({row[5]} v{row[6]})"
            yield [*row[:4], rubric, *row[7:]]

    return Table(
        title=_("Score runs"),
        columns=[
            Column(_("ID"), "number"),
            Column(_("Organization"), width=30),
            Column(_("From"), "date"),
            Column(_("To"), "date"),
            Column(_("Rubric"), width=30),
            Column(_("Accounts"), "number"),
            Column(_("Status"), labels=dict(RunStatus.choices)),
            Column(_("Frozen"), "bool"),
            Column(_("Requested by"), width=16),
            Column(_("Requested"), "datetime", width=20),
            Column(_("Finished"), "datetime", width=20),
        ],
        rows=lines(),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


def rubrics_table(user, params):
    """The rubrics page's rows (selectors.rubric_list)."""
    _exporting(user)
    qs = selectors.rubric_list(user).filter(
        pk__in=Rubric.objects.visible_to(user, Action.EXPORT).values("pk")
    )
    rows = qs.values_list(
        "year",
        "version",
        "name",
        "organization__name",
        "status",
        "pass_mark",
        "bonus_threshold",
        "bonus_cap",
    )
    return Table(
        title=_("Rubrics"),
        columns=[
            Column(_("Year"), "number"),
            Column(_("Version"), "number"),
            Column(_("Name"), width=30),
            Column(_("Organization"), width=30),
            Column(_("Status"), labels=dict(RubricStatus.choices)),
            Column(_("Pass mark"), "number"),
            Column(_("Bonus threshold"), "number"),
            Column(_("Maximum bonus"), "number"),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


def manual_entries_table(user, params):
    """The manual entries page's rows (selectors.manual_entries)."""
    _exporting(user)
    qs = selectors.manual_entries(user).filter(
        pk__in=ManualEntry.objects.visible_to(user, Action.EXPORT).values("pk")
    )
    rows = qs.values_list(
        "occurred_on",
        "item__name",
        "account__display_name",
        "account__platform__name",
        "account__organization__name",
        "points",
        "evidence",
        "evidence_url",
        exports.person("entered_by"),
        "entered_at",
        "withdrawn_at",
    )
    return Table(
        title=_("Manual entries"),
        columns=[
            Column(_("Date"), "date"),
            Column(_("Item"), width=30),
            Column(_("Account"), width=24),
            Column(_("Platform")),
            Column(_("Sponsoring organization"), width=30),
            Column(_("Points"), "number"),
            Column(_("Evidence"), width=40),
            Column(_("Evidence link"), width=30),
            Column(_("Entered by"), width=16),
            Column(_("Entered at"), "datetime", width=20),
            Column(_("Withdrawn at"), "datetime", width=20),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


# By the list's name in the URL: (its export kind, the list page's URL name).
KINDS = {
    "years": ("annual_assessments", "assessment:freeze_list"),
    "archives": ("monthly_archives", "assessment:archive_list"),
    "circulars": ("circulars", "assessment:circular_list"),
}


def register() -> None:
    exports.register("annual_assessments", freezes_table)
    exports.register("monthly_archives", archives_table)
    exports.register("circulars", circulars_table)
    exports.register("score_runs", runs_table)
    exports.register("rubrics", rubrics_table)
    exports.register("manual_entries", manual_entries_table)
