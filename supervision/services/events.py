"""Public-opinion events and emergencies: register with timers computed once from
the event time, record when each timer was met, close; emergency plans per event
type; the sweep's detector for silence past a timer."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization
from audit.services import audit_record
from common.errors import Conflict, ValidationFailed
from supervision import policy
from supervision.models import (
    EmergencyPlan,
    EventLevel,
    EventStatus,
    FindingKind,
    OpinionEvent,
)
from supervision.services.findings import require_supervisor_over

TIMERS = {
    "release": ("release_due_at", "released_at"),
    "press": ("press_due_at", "press_held_at"),
    "response": ("response_due_at", "responded_at"),
}
# The finding's subject: one per event and timer (event id * 4 + timer number).
TIMER_NUMBER = {"release": 1, "press": 2, "response": 3}


def _plan_for(organization: Organization, event_type: str) -> EmergencyPlan | None:
    """The plan of the nearest organization up the tree for this event type."""
    if not event_type:
        return None
    steplen = Organization.steplen
    paths = [
        organization.path[:i]
        for i in range(steplen, len(organization.path) + 1, steplen)
    ]
    return (
        EmergencyPlan.objects.filter(org_path__in=paths, event_type=event_type)
        .order_by("-org_path")
        .first()
    )


@transaction.atomic
def event_register(
    *,
    actor,
    organization: Organization,
    title: str,
    level: str,
    occurred_at: datetime,
    event_type: str = "",
    description: str = "",
) -> OpinionEvent:
    errors = {}
    if not (title or "").strip():
        errors["title"] = [_("Required.")]
    if level not in EventLevel.values:
        errors["level"] = [_("Choose a level.")]
    if occurred_at is None:
        errors["occurred_at"] = [_("Required.")]
    elif occurred_at > timezone.now() + timedelta(minutes=5):
        errors["occurred_at"] = [_("In the future.")]
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), fields=errors)
    role = require_supervisor_over(actor, organization)
    major = level == EventLevel.MAJOR_EMERGENCY
    event = OpinionEvent(
        organization=organization,
        org_path=organization.path,
        title=title.strip()[:200],
        level=level,
        event_type=(event_type or "").strip()[:100],
        description=(description or "").strip(),
        occurred_at=occurred_at,
        release_due_at=occurred_at + timedelta(hours=policy.EVENT_RELEASE_HOURS)
        if major
        else None,
        press_due_at=occurred_at + timedelta(hours=policy.EVENT_PRESS_HOURS)
        if major
        else None,
        response_due_at=occurred_at + timedelta(hours=policy.EVENT_RESPONSE_HOURS),
        registered_by=actor,
    )
    event.plan = _plan_for(organization, event.event_type)
    event.save()
    audit_record(
        actor=actor,
        action="supervision.event_register",
        target=event,
        organization=organization,
        role=role,
        after={"level": level, "occurred_at": occurred_at, "plan": event.plan_id},
    )
    return event


@transaction.atomic
def event_record_timer(
    *, event: OpinionEvent, actor, timer: str, at: datetime | None = None
) -> OpinionEvent:
    """Record that the first release, the press conference or the response
    happened (by an operator of the organization or a supervisor)."""
    from accounts.scoping import Action, require

    event = (
        OpinionEvent.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=event.pk)
    )
    role = require(actor, Action.CHANGE, event.organization)
    if timer not in TIMERS:
        raise ValidationFailed(
            _("Unknown timer."), fields={"timer": [_("Unknown timer.")]}
        )
    due_field, done_field = TIMERS[timer]
    if getattr(event, due_field) is None:
        raise ValidationFailed(
            _("This event has no such timer."),
            fields={"timer": [_("This event has no such timer.")]},
        )
    if getattr(event, done_field) is not None:
        raise Conflict(_("Already recorded."), code="timer_done")
    at = at or timezone.now()
    if at > timezone.now() + timedelta(minutes=5) or at < event.occurred_at:
        raise ValidationFailed(
            _("The time must lie between the event and now."),
            fields={"at": [_("Between the event and now.")]},
        )
    setattr(event, done_field, at)
    event.save(update_fields=[done_field])
    audit_record(
        actor=actor,
        action="supervision.event_timer",
        target=event,
        organization=event.organization,
        role=role,
        after={"timer": timer, "at": at, "late": at > getattr(event, due_field)},
    )
    return event


@transaction.atomic
def event_close(*, event: OpinionEvent, actor) -> OpinionEvent:
    event = (
        OpinionEvent.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=event.pk)
    )
    role = require_supervisor_over(actor, event.organization)
    if event.status == EventStatus.CLOSED:
        raise Conflict(_("This event is already closed."), code="event_closed")
    event.status = EventStatus.CLOSED
    event.closed_at = timezone.now()
    event.save(update_fields=["status", "closed_at"])
    audit_record(
        actor=actor,
        action="supervision.event_close",
        target=event,
        organization=event.organization,
        role=role,
        after={"status": event.status},
    )
    return event


@transaction.atomic
def plan_save(
    *,
    actor,
    organization: Organization,
    event_type: str,
    process: str,
    channel: str,
    time_limit_hours: int,
    wording: str = "",
) -> EmergencyPlan:
    errors = {}
    for name, value in (
        ("event_type", event_type),
        ("process", process),
        ("channel", channel),
    ):
        if not (value or "").strip():
            errors[name] = [_("Required.")]
    if not isinstance(time_limit_hours, int) or not 1 <= time_limit_hours <= 720:
        errors["time_limit_hours"] = [_("Between 1 and 720 hours.")]
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), fields=errors)
    role = require_supervisor_over(actor, organization)
    plan, created = EmergencyPlan.objects.update_or_create(
        organization=organization,
        event_type=event_type.strip()[:100],
        defaults={
            "org_path": organization.path,
            "process": process.strip(),
            "channel": channel.strip()[:200],
            "time_limit_hours": time_limit_hours,
            "wording": (wording or "").strip(),
        },
    )
    audit_record(
        actor=actor,
        action="supervision.plan_save",
        target=plan,
        organization=organization,
        role=role,
        after={"event_type": plan.event_type, "created": created},
    )
    return plan


def silence_sweep(now: datetime) -> dict:
    """Open events with a timer past due and not met raise one event-silence finding
    per (event, timer), for the organization concerned; met timers and closed
    events close theirs. Events are few (open ones, dozens): two reads, then the
    same set-based writes as the other detectors."""
    from supervision.models import CloseReason, Finding, FindingOrigin, FindingStatus
    from supervision.services.findings import raise_many

    seen = {}
    open_events = OpinionEvent.objects.filter(status=EventStatus.OPEN).filter(
        Q(release_due_at__lt=now, released_at__isnull=True)
        | Q(press_due_at__lt=now, press_held_at__isnull=True)
        | Q(response_due_at__lt=now, responded_at__isnull=True)
    )
    for event in open_events:
        for timer, (due_field, done_field) in TIMERS.items():
            due = getattr(event, due_field)
            if due is not None and due < now and getattr(event, done_field) is None:
                seen[event.pk * 4 + TIMER_NUMBER[timer]] = {
                    "subject_ref": event.pk * 4 + TIMER_NUMBER[timer],
                    "account_id": None,
                    "organization_id": event.organization_id,
                    "org_path": event.org_path,
                    "evidence": {
                        "event": event.pk,
                        "title": event.title,
                        "timer": timer,
                        "due_at": due.isoformat(),
                    },
                }
    open_ = Finding.objects.filter(
        kind=FindingKind.EVENT_SILENCE, status=FindingStatus.OPEN
    )
    have = set(open_.values_list("subject_ref", flat=True))
    refreshed = open_.filter(subject_ref__in=list(seen)).update(last_seen_at=now)
    closed = open_.exclude(subject_ref__in=list(seen)).update(
        status=FindingStatus.CLOSED, closed_at=now, close_reason=CloseReason.NOT_SEEN
    )
    opened = raise_many(
        kind=FindingKind.EVENT_SILENCE,
        origin=FindingOrigin.SWEEP,
        rows=[row for ref, row in seen.items() if ref not in have],
        now=now,
    )
    return {"opened": opened, "refreshed": refreshed, "closed": closed}
