"""The timers: the once-a-minute sweep, and the recomputation of stored due times
after a calendar or SLA-policy change.

The sweep is a handful of set-based UPDATEs over partial indexes (only unmarked rows
are in them), each stamping the rows it marks with this run's `now`; a follow-up
task (after commit) writes the timeline events and the notifications for exactly
the rows carrying that stamp. Safe to run twice, also at once: an advisory lock
lets one run in, and a marked row is never marked again.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Membership, Organization, Role, User
from audit.services import audit_record
from inbox.deadlines import due_times, earliest_unmet, terms_for_many
from inbox.models import (
    OPEN_STATUSES,
    Category,
    IssueSlip,
    Message,
    MessageEvent,
    SlaPolicy,
    SlaUnit,
)
from notifications.services import notify
from workcalendar.calendar import SHANGHAI, _office_hours, is_working_day, to_local

SWEEP_LOCK_KEY = 0x696E6278  # "inbx"


def _sweep_lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite serializes writers (IMMEDIATE transactions)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SWEEP_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def in_office_hours(now: datetime) -> bool:
    local = to_local(now)
    if not is_working_day(local.date()):
        return False
    return any(b <= local.time() < e for b, e in _office_hours())


def _mark(now: datetime) -> dict[str, int]:
    """The set-based UPDATEs. Alerts (warnings, escalations) wait for office hours
    unless the message's policy counts clock hours; breaches are marked at once."""
    alerts = Q() if in_office_hours(now) else Q(sla_unit=SlaUnit.HOURS)
    escalate_after = timedelta(hours=settings.INBOX_ESCALATE_SUPERVISOR_AFTER_HOURS)
    m = Message.objects
    counts = {
        "breached": m.filter(breached_at__isnull=True, due_at__isnull=False,
                             due_at__lt=now).update(breached_at=now),
        "warned": m.filter(alerts, warned_at__isnull=True, warn_at__isnull=False,
                           warn_at__lte=now, breached_at__isnull=True,
                           due_at__isnull=False).update(warned_at=now),
        "escalated_liaison": m.filter(alerts, breached_at__isnull=False,
                                      escalated_supervisor_at__isnull=True,
                                      escalated_liaison_at__isnull=True,
                                      due_at__isnull=False).update(escalated_liaison_at=now),
        "escalated_supervisor": m.filter(
            alerts, breached_at__isnull=False, escalated_supervisor_at__isnull=True,
            escalated_liaison_at__lte=now - escalate_after,
            due_at__isnull=False).update(escalated_supervisor_at=now),
        "sign_for_overdue": m.filter(signed_for_at__isnull=True,
                                     sign_for_escalated_at__isnull=True,
                                     sign_for_due_at__lt=now).update(sign_for_escalated_at=now),
        "stale": m.filter(stale_flagged_at__isnull=True, replied_at__isnull=True,
                          stale_at__lt=now).exclude(category=Category.NOT_ACCEPTED)
        .update(stale_flagged_at=now),
        "slips_overdue": IssueSlip.objects.filter(answered_at__isnull=True,
                                                  overdue_at__isnull=True,
                                                  due_at__lt=now).update(overdue_at=now),
    }
    return counts


def inbox_sweep(now: datetime | None = None) -> dict:
    """Mark due-soon, breached, escalated, sign-for-overdue and 3-month-stale
    messages and overdue issue slips; the follow-up task notifies."""
    now = now or timezone.now()
    with transaction.atomic():
        if not _sweep_lock():
            return {"skipped": True}
        counts = _mark(now)
        if any(counts.values()):
            stamp = now.isoformat()
            transaction.on_commit(lambda: _send_follow_up(stamp))
    return counts


def _send_follow_up(stamp: str) -> None:
    from inbox.tasks import sweep_follow_up

    sweep_follow_up.delay(stamp)


def _users(q_members: Q, extra_user_ids=None) -> list[User]:
    members = Membership.objects.active().filter(q_members).values("user_id")
    cond = Q(pk__in=members)
    if extra_user_ids is not None:
        cond |= Q(pk__in=extra_user_ids)
    return list(User.objects.filter(cond, is_active=True).only("id", "email"))


# (stamp field, timeline event kind or "", who is told, message)
_FOLLOW_UPS = [
    ("warned_at", MessageEvent.Kind.WARNED, "handlers",
     gettext_lazy("Messages in your inbox are due soon.")),
    ("breached_at", MessageEvent.Kind.BREACHED, "handlers",
     gettext_lazy("Messages in your inbox missed their deadline.")),
    ("escalated_liaison_at", "", "liaisons",
     gettext_lazy("Messages of your organization missed their deadline: route or chase them.")),
    ("escalated_supervisor_at", "", "supervisors",
     gettext_lazy("Messages under your supervision are overdue since a day or more.")),
    ("sign_for_escalated_at", "", "liaisons_supervisors",
     gettext_lazy("Transferred messages were not signed for in time.")),
    ("stale_flagged_at", "", "supervisors",
     gettext_lazy("Messages unanswered for more than 3 months (a veto-level finding).")),
]


@transaction.atomic
def sweep_notify(*, stamp: str) -> int:
    """The sweep's follow-up for the rows stamped `stamp`: timeline events (one
    INSERT ... SELECT per kind) and notifications (a fixed number of queries per
    kind). Keyed by the stamp: a repeat sends and writes nothing twice."""
    now = datetime.fromisoformat(stamp)
    sent = 0
    messages_url = reverse("inbox:inbox")
    for field, kind, audience, text in _FOLLOW_UPS:
        marked = Message.objects.filter(**{field: now})
        if not marked.exists():
            continue
        if kind:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {MessageEvent._meta.db_table} "  # noqa: S608
                    "(message_id, kind, note, data, at) "
                    f"SELECT m.id, %s, '', '{{}}', %s FROM {Message._meta.db_table} m "
                    f"WHERE m.{field} = %s AND NOT EXISTS (SELECT 1 FROM "
                    f"{MessageEvent._meta.db_table} e WHERE e.message_id = m.id "
                    "AND e.kind = %s AND e.at = %s)",
                    [kind, now, now, kind, now])
        if audience == "handlers":
            recipients = _users(
                Q(organization_id__in=marked.filter(handler__isnull=True)
                  .values("organization_id"),
                  role__in=[Role.LIAISON, Role.OPERATOR]),
                marked.filter(handler__isnull=False).values("handler_id"))
        elif audience == "liaisons":
            recipients = _users(Q(organization_id__in=marked.values("organization_id"),
                                  role=Role.LIAISON))
        elif audience == "supervisors":
            recipients = _users(Q(
                organization_id__in=marked.values("supervising_organization_id"),
                role=Role.SUPERVISOR))
        else:
            recipients = _users(
                Q(organization_id__in=marked.values("organization_id"), role=Role.LIAISON)
                | Q(organization_id__in=marked.values("supervising_organization_id"),
                    role=Role.SUPERVISOR))
        org_id = marked.values_list("organization_id", flat=True).first()
        sent += notify(recipients=recipients, organization=Organization(pk=org_id),
                       kind=f"inbox.{field.removesuffix('_at')}", message=str(text),
                       dedupe_key=f"inbox-{field}:{stamp}", url=messages_url)
    return sent


# --- recomputation ----------------------------------------------------------------------------
def _local_day_bounds(day) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


def message_deadlines_recompute(queryset=None) -> int:
    """Recompute the stored due times of open messages (after a calendar edit, or a
    policy change through `sla_terms_reapply`). Registered with workcalendar
    (inbox.apps). Set-based: messages sharing terms, clock-start day, region and
    acceptance share their due times, so there is one UPDATE per such group whose
    stored times differ; paused or extended ones are few and go one by one.
    Returns the number of messages changed."""
    base = (queryset if queryset is not None else Message.objects.all()).filter(
        status__in=OPEN_STATUSES)
    changed = 0
    simple = base.filter(paused_seconds=0, extension_days=0,
                         sla_unit=SlaUnit.WORKING_DAYS)
    groups = (simple.annotate(day=TruncDate("clock_started_at", tzinfo=SHANGHAI))
              .values_list("sla_first_response", "sla_reply", "sla_warn_percent",
                           "region_code", "day",
                           ExpressionWrapper(Q(accepted_at__isnull=False),
                                             output_field=BooleanField()))
              .order_by().distinct())
    for fr, rp, pct, region, day, accepted in groups:
        start, end = _local_day_bounds(day)
        times = due_times(unit=SlaUnit.WORKING_DAYS, first_response=fr, reply=rp,
                          clock_started_at=start, region_code=region)
        due = earliest_unmet(times, accepted=accepted, replied=False)
        rows = simple.filter(sla_first_response=fr, sla_reply=rp, sla_warn_percent=pct,
                             region_code=region, clock_started_at__gte=start,
                             clock_started_at__lt=end, accepted_at__isnull=not accepted)
        rows = rows.exclude(first_response_due_at=times.first_response_due_at,
                            reply_due_at=times.reply_due_at,
                            due_provisional=times.provisional)
        changed += _update_group(rows, times, due, pct)
    # Hour policies, pauses and extensions: row by row (few; hour targets do not
    # depend on the calendar unless extended).
    from inbox.services.handling import _refresh_due

    rest = base.exclude(pk__in=simple.values("pk"))
    if queryset is None:
        rest = rest.filter(Q(paused_seconds__gt=0) | Q(extension_days__gt=0))
    for message in rest.iterator(chunk_size=500):
        before = (message.first_response_due_at, message.reply_due_at, message.due_at)
        fields = _refresh_due(message)
        if before != (message.first_response_due_at, message.reply_due_at, message.due_at):
            message.save(update_fields=fields)
            changed += 1
    return changed


def _update_group(rows, times, due, pct: int) -> int:
    values = {"first_response_due_at": times.first_response_due_at,
              "reply_due_at": times.reply_due_at, "due_provisional": times.provisional,
              "due_at": due}
    if connection.vendor == "postgresql":
        values["warn_at"] = RawSQL(
            "clock_started_at + (%s::timestamptz - clock_started_at) * %s",
            (due, pct / 100))
        return rows.update(**values)
    from inbox.deadlines import warn_time

    count = 0
    for pk, started in rows.values_list("pk", "clock_started_at"):
        count += Message.objects.filter(pk=pk).update(
            **values, warn_at=warn_time(started, due, pct))
    return count


@transaction.atomic
def sla_terms_reapply(*, organization: Organization | None) -> int:
    """After a policy change: copy the terms now in force onto the open messages
    supervised within `organization`'s subtree (all, for a national policy), one
    UPDATE per (supervising organization, category) whose terms differ, then
    recompute their due times."""
    open_ = Message.objects.filter(status__in=OPEN_STATUSES)
    if organization is not None:
        open_ = open_.filter(supervising_organization__path__startswith=organization.path)
    pairs = list(open_.values_list("supervising_organization__path",
                                   "supervising_organization_id", "category",
                                   "suggested_category").order_by().distinct())
    keyed = {(path, cat or sug) for path, _i, cat, sug in pairs}
    terms = terms_for_many(keyed)
    touched = Q(pk__in=[])
    for path, sup_id, cat, sug in pairs:
        t = terms[(path, cat or sug)]
        rows = open_.filter(supervising_organization_id=sup_id, category=cat,
                            suggested_category=sug).exclude(
            sla_unit=t.unit, sla_first_response=t.first_response, sla_reply=t.reply,
            sla_warn_percent=t.warn_percent, sla_policy_id=t.policy_id)
        if rows.update(sla_policy_id=t.policy_id, sla_unit=t.unit,
                       sla_first_response=t.first_response, sla_reply=t.reply,
                       sla_warn_percent=t.warn_percent):
            touched |= Q(supervising_organization_id=sup_id, category=cat,
                         suggested_category=sug)
    return message_deadlines_recompute(open_.filter(touched))


@transaction.atomic
def sla_policy_save(*, actor, organization: Organization | None, category: str,
                    unit: str, first_response: int, reply: int, priority: int = 0,
                    warn_percent: int = 80, sign_for_hours: int = 4,
                    transfer_restarts_clock: bool = False,
                    policy: SlaPolicy | None = None) -> SlaPolicy:
    """Create or change a supervising organization's SLA policy (supervisors only);
    open messages follow on commit."""
    from accounts.scoping import Action, require, roles_of
    from common.errors import PermissionDenied, ValidationFailed

    if organization is None:
        raise PermissionDenied(_("National defaults change by migration only."))
    role = require(actor, Action.CHANGE, organization)
    if Role.SUPERVISOR not in roles_of(actor) or role != Role.SUPERVISOR:
        raise PermissionDenied(_("Only a supervisor sets SLA policies."),
                               code="not_supervisor")
    before = None
    if policy is None:
        policy = SlaPolicy(organization=organization)
    else:
        before = {"unit": policy.unit, "first_response": policy.first_response,
                  "reply": policy.reply, "priority": policy.priority}
    policy.category, policy.unit, policy.priority = category, unit, priority
    policy.first_response, policy.reply = first_response, reply
    policy.warn_percent, policy.sign_for_hours = warn_percent, sign_for_hours
    policy.transfer_restarts_clock = transfer_restarts_clock
    try:
        policy.full_clean()
    except Exception as exc:  # django ValidationError -> field messages
        fields = getattr(exc, "message_dict", {"__all__": [str(exc)]})
        raise ValidationFailed(_("Please correct the marked fields."), fields=fields) from exc
    policy.save()
    audit_record(actor=actor, action="inbox.sla_policy_save", target=policy,
                 organization=organization, role=role, before=before,
                 after={"category": category, "unit": unit, "first_response": first_response,
                        "reply": reply, "priority": priority})
    org_id = organization.pk
    transaction.on_commit(lambda: _send_reapply(org_id))
    return policy


def _send_reapply(org_id: int) -> None:
    from inbox.tasks import reapply_terms

    reapply_terms.delay(org_id)

