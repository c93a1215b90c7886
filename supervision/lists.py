"""Supervision's inspection and public-opinion event lists as exports
(common/exports.py kinds "inspections" and "opinion_events"): the pages' querysets
(supervision/views/), kept to what the user may export. A user who may export
nothing gets 404, as a list they cannot see."""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.scoping import Action, scope_for
from common import exports
from common.errors import NotFound
from common.exports import Column, Table
from supervision.models import (
    EventLevel,
    EventStatus,
    Inspection,
    InspectionStatus,
    OpinionEvent,
)


def inspections(user):
    """The inspection page's rows, newest first."""
    return Inspection.objects.visible_to(user).order_by("-started_at", "-id")


def opinion_events(user):
    """The event page's rows, the latest occurrence first."""
    return OpinionEvent.objects.visible_to(user).order_by("-occurred_at", "-id")


def _exporting(user, qs):
    if scope_for(user, Action.EXPORT).is_empty:
        raise NotFound(_("Not found."))
    return qs.filter(pk__in=qs.model.objects.visible_to(user, Action.EXPORT).values("pk"))


def inspections_table(user, params):
    qs = _exporting(user, inspections(user))
    rows = qs.values_list(
        "id", "title", "organization__name", exports.person("started_by"), "started_at",
        "window_start", "window_end", "sample_percent", "seed", "population", "sampled",
        "passed", "status", "completed_at",
    )

    def lines():
        for row in rows.iterator(chunk_size=2000):
            sampled, passed, status = row[10], row[11], row[12]
            rate = (round(100.0 * passed / sampled, 1)
                    if sampled and status == InspectionStatus.COMPLETED else None)
            yield [*row[:12], rate, *row[12:]]

    return Table(
        title=_("Inspections"),
        columns=[
            Column(_("ID"), "number"), Column(_("Title"), width=40),
            Column(_("Organization"), width=30), Column(_("Started by"), width=16),
            Column(_("Started at"), "datetime", width=20),
            Column(_("Window start"), "datetime", width=20),
            Column(_("Check time"), "datetime", width=20),
            Column(_("Sample (%)"), "number"), Column(_("Random seed"), "number"),
            Column(_("Accounts in scope"), "number"),
            Column(_("Accounts sampled"), "number"),
            Column(_("Accounts passed"), "number"), Column(_("Pass rate"), "number"),
            Column(_("Status"), labels=dict(InspectionStatus.choices)),
            Column(_("Completed at"), "datetime", width=20),
        ],
        rows=lines(),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )


def events_table(user, params):
    qs = _exporting(user, opinion_events(user))
    rows = qs.values_list(
        "id", "title", "level", "event_type", "organization__name", "occurred_at",
        "release_due_at", "released_at", "press_due_at", "press_held_at",
        "response_due_at", "responded_at", "status",
    )
    return Table(
        title=_("Public-opinion events"),
        columns=[
            Column(_("ID"), "number"), Column(_("Title"), width=40),
            Column(_("Level"), labels=dict(EventLevel.choices)),
            Column(_("Event type"), width=20),
            Column(_("Organization concerned"), width=30),
            Column(_("Occurred at"), "datetime", width=20),
            Column(_("First release due"), "datetime", width=20),
            Column(_("First release"), "datetime", width=20),
            Column(_("Press conference due"), "datetime", width=20),
            Column(_("Press conference held"), "datetime", width=20),
            Column(_("Response due"), "datetime", width=20),
            Column(_("Responded"), "datetime", width=20),
            Column(_("Status"), labels=dict(EventStatus.choices)),
        ],
        rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )
