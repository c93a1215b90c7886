"""Handling a message: classify, accept, transfer, return, sign for, pause, extend,
reply (with approval), rate, reopen, resolve.

Each service locks the row, checks the transition table (inbox.models.
ALLOWED_TRANSITIONS) and the actor's right, saves, writes the message's timeline
event and the audit event in the same transaction; notifications go out on commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, Role, User
from accounts.scoping import Action, require, roles_of
from audit.services import audit_record
from common.errors import Conflict, PermissionDenied, ValidationFailed
from inbox import classify
from inbox.deadlines import (
    FALLBACK,
    MAX_EXTENSION_DAYS,
    due_times,
    earliest_unmet,
    paused_time,
    terms_for,
    warn_time,
)
from inbox.models import (
    ALLOWED_TRANSITIONS,
    Category,
    Channel,
    Message,
    MessageEvent,
    Reply,
    Satisfaction,
    SlaPolicy,
    Status,
)
from notifications.services import notify
from workcalendar.calendar import add_working_seconds, working_seconds_between

APPROVER_ROLES = frozenset({Role.DEPARTMENT_HEAD, Role.LEADER_IN_CHARGE,
                            Role.PRINCIPAL_LEADER})
PROBLEM_CASE_AFTER = 3  # transfers or reopens without an owner (提级督办)
Kind = MessageEvent.Kind


def _lock(message: Message) -> Message:
    return (Message.objects.select_for_update(of=("self",))
            .select_related("organization", "supervising_organization")
            .get(pk=message.pk))


def _event(message, kind, actor, *, note="", data=None, from_org=None, to_org=None,
           at=None) -> MessageEvent:
    return MessageEvent.objects.create(message=message, kind=kind, actor=actor, note=note,
                                       data=data or {}, from_organization=from_org,
                                       to_organization=to_org, at=at or timezone.now())


def _move(message: Message, to: str) -> None:
    if to not in ALLOWED_TRANSITIONS.get(message.status, set()):
        raise Conflict(_("This message is %(status)s; that step is not possible now.")
                       % {"status": message.get_status_display()}, code="bad_transition")
    message.status = to


def _refresh_due(message: Message) -> list[str]:
    """Recompute the stored due times from the message's terms, clock start, pauses
    and extension. Returns the fields changed (for update_fields)."""
    times = due_times(unit=message.sla_unit, first_response=message.sla_first_response,
                      reply=message.sla_reply, clock_started_at=message.clock_started_at,
                      region_code=message.region_code,
                      paused_seconds=message.paused_seconds,
                      extension_days=message.extension_days)
    message.first_response_due_at = times.first_response_due_at
    message.reply_due_at = times.reply_due_at
    message.due_provisional = times.provisional
    if message.status == Status.WAITING:
        due = None  # the clock is paused
    else:
        due = earliest_unmet(times, accepted=message.accepted_at is not None,
                             replied=message.replied_at is not None)
    if due != message.due_at:
        message.warned_at = None
    message.due_at = due
    message.warn_at = warn_time(message.clock_started_at, due, message.sla_warn_percent)
    if due is not None and message.breached_at is not None and due > timezone.now():
        # A new target (accepted, extended, reopened) gets its own breach marker.
        message.breached_at = None
        message.escalated_liaison_at = message.escalated_supervisor_at = None
    return ["first_response_due_at", "reply_due_at", "due_provisional", "due_at",
            "warn_at", "warned_at", "breached_at", "escalated_liaison_at",
            "escalated_supervisor_at"]


def _apply_terms(message: Message) -> None:
    category = message.category or message.suggested_category
    terms = terms_for(message.supervising_organization, category)
    message.sla_policy_id = terms.policy_id
    message.sla_unit, message.sla_first_response = terms.unit, terms.first_response
    message.sla_reply, message.sla_warn_percent = terms.reply, terms.warn_percent


def _policy_setting(message: Message, name: str):
    policy = SlaPolicy.objects.filter(pk=message.sla_policy_id).first()
    return getattr(policy, name) if policy else FALLBACK[name]


def _handler_role(actor, message: Message) -> str:
    """Handling steps are taken in the handling organization (403 when the actor
    only sees the message from the organization it came to)."""
    return require(actor, Action.CHANGE, message.organization)


# --- classification, acceptance, edits --------------------------------------------------
@transaction.atomic
def message_classify(*, message: Message, category: str, actor,
                     must_answer: bool | None = None) -> Message:
    """Confirm (or change) the category; the SLA terms follow the category and the
    due times are recomputed from the clock start."""
    message = _lock(message)
    role = _handler_role(actor, message)
    if category not in Category.values:
        raise ValidationFailed(_("Please correct the marked fields."),
                               fields={"category": [_("Choose a category from the list.")]})
    if message.status == Status.RESOLVED:
        raise Conflict(_("This message is closed."), code="closed")
    before = {"category": message.category, "must_answer": message.must_answer}
    message.category = category
    message.must_answer = (classify.must_answer(category, message.text)
                           if must_answer is None else bool(must_answer))
    _apply_terms(message)
    fields = _refresh_due(message)
    message.save(update_fields=["category", "must_answer", "sla_policy", "sla_unit",
                                "sla_first_response", "sla_reply", "sla_warn_percent",
                                *fields])
    _event(message, Kind.CLASSIFIED, actor, data={"category": category})
    audit_record(actor=actor, action="inbox.message_classify", target=message, role=role,
                 target_label=f"#{message.pk}", before=before,
           after={"category": category, "must_answer": message.must_answer,
                  "reply_due_at": message.reply_due_at})
    return message


def _accept_fields(message: Message, now: datetime) -> list[str]:
    message.accepted_at = now
    message.first_response_seconds = working_seconds_between(
        message.received_at, now, message.region_code)
    if message.sign_for_due_at and not message.signed_for_at:
        message.signed_for_at = now
    return ["accepted_at", "first_response_seconds", "signed_for_at"]


@transaction.atomic
def message_accept(*, message: Message, actor) -> Message:
    """Accept (受理): the first response; the actor becomes the handler if none."""
    message = _lock(message)
    role = _handler_role(actor, message)
    _move(message, Status.ACCEPTED)
    now = timezone.now()
    fields = _accept_fields(message, now)
    if message.handler_id is None:
        message.handler = actor
    fields += _refresh_due(message)
    message.save(update_fields=["status", "handler", *fields])
    _event(message, Kind.ACCEPTED, actor, at=now)
    audit_record(actor=actor, action="inbox.message_accept", target=message, role=role,
                 target_label=f"#{message.pk}", after={"status": message.status})
    return message


@transaction.atomic
def message_edit_text(*, message: Message, text: str, actor) -> Message:
    """Correct the working text; `original_text` stays as received."""
    message = _lock(message)
    role = _handler_role(actor, message)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("Please correct the marked fields."),
                               fields={"text": [_("Required.")]})
    before = message.text
    message.text = text
    message.save(update_fields=["text"])
    _event(message, Kind.EDITED, actor)
    audit_record(actor=actor, action="inbox.message_edit", target=message, role=role,
                 target_label=f"#{message.pk}", before={"text": before},
           after={"text": text})
    return message


@transaction.atomic
def message_assign(*, message: Message, handler: User, actor) -> Message:
    message = _lock(message)
    role = _handler_role(actor, message)
    if not Membership.objects.active().filter(user=handler,
                                              organization=message.organization).exists():
        raise ValidationFailed(_("Please correct the marked fields."), fields={
            "handler": [_("The handler must hold a role in the handling organization.")]})
    message.handler = handler
    message.save(update_fields=["handler"])
    _event(message, Kind.ASSIGNED, actor, data={"handler": handler.pk})
    audit_record(actor=actor, action="inbox.message_assign", target=message, role=role,
                 target_label=f"#{message.pk}", after={"handler": str(handler)})
    return message


# --- transfers ------------------------------------------------------------------------------
def _problem_case(message: Message, actor, now) -> list[str]:
    """Three transfers or reopens without an owner make a problem case (提级督办),
    escalated to the supervising organization's supervisors."""
    if message.problem_case_at is not None:
        return []
    if message.transfer_count + message.reopen_count < PROBLEM_CASE_AFTER:
        return []
    if message.handler_id is not None and message.transfer_count < PROBLEM_CASE_AFTER:
        return []
    message.problem_case_at = now
    _event(message, Kind.PROBLEM_CASE, actor, at=now)
    pk, org_id = message.pk, message.supervising_organization_id
    transaction.on_commit(lambda: _notify_problem_case(pk, org_id))
    return ["problem_case_at"]


def _notify_problem_case(message_id: int, org_id: int) -> None:
    from inbox.tasks import notify_problem_case

    notify_problem_case.delay(message_id, org_id)


def notify_roles(*, message_id: int, organization_id: int, roles, kind: str, text: str,
                 dedupe: str) -> int:
    message = Message.objects.filter(pk=message_id).first()
    if message is None:
        return 0
    users = User.objects.filter(
        pk__in=Membership.objects.active().filter(
            organization_id=organization_id, role__in=list(roles)).values("user_id"),
        is_active=True).only("id", "email")
    with transaction.atomic():
        return notify(recipients=list(users), organization=Organization(pk=organization_id),
                      kind=kind, message=text, dedupe_key=dedupe,
                      url=reverse("inbox:message_detail", args=[message_id]), target=message)


@transaction.atomic
def message_transfer(*, message: Message, to_organization: Organization, actor,
                     note: str = "") -> Message:
    """Transfer (转办) to another organization of the supervising organization's
    tree, or up to the supervising organization to route. The receiving
    organization signs for it within the policy's working hours."""
    message = _lock(message)
    role = _handler_role(actor, message)
    if message.status not in (Status.NEW, Status.ACCEPTED, Status.IN_PROGRESS):
        raise Conflict(_("Only an unanswered message can be transferred."),
                       code="bad_transition")
    sup = message.supervising_organization
    if (not to_organization.path.startswith(sup.path) or not to_organization.is_active
            or to_organization.pk == message.organization_id):
        raise ValidationFailed(_("Please correct the marked fields."), fields={
            "to_organization": [_("Transfer within the supervising organization's tree, "
                                  "to another organization.")]}, code="outside_tree")
    now = timezone.now()
    source = message.organization
    message.organization, message.org_path = to_organization, to_organization.path
    message.transferred_at = now
    message.transfer_count = F("transfer_count") + 1
    message.handler = None
    message.status = Status.NEW
    message.signed_for_at = message.sign_for_escalated_at = None
    hours = _policy_setting(message, "sign_for_hours")
    message.sign_for_due_at = add_working_seconds(now, hours * 3600, message.region_code)
    fields = ["organization", "org_path", "transferred_at", "transfer_count", "handler",
              "status", "signed_for_at", "sign_for_escalated_at", "sign_for_due_at"]
    if _policy_setting(message, "transfer_restarts_clock"):
        message.clock_started_at, message.paused_seconds = now, 0
        message.accepted_at, message.paused_at = None, None
        fields += ["clock_started_at", "paused_seconds", "accepted_at", "paused_at"]
        fields += _refresh_due(message)
    message.save(update_fields=fields)
    message.refresh_from_db(fields=["transfer_count"])
    _event(message, Kind.TRANSFERRED, actor, note=note, from_org=source,
           to_org=to_organization, at=now)
    if extra := _problem_case(message, actor, now):
        message.save(update_fields=extra)
    audit_record(actor=actor, action="inbox.message_transfer", target=message, role=role,
                 target_label=f"#{message.pk}", organization=source,
           before={"organization": source.name},
           after={"organization": to_organization.name, "note": note})
    pk, org_id = message.pk, to_organization.pk
    transaction.on_commit(lambda: _notify_transfer(pk, org_id))
    return message


def _notify_transfer(message_id: int, org_id: int) -> None:
    from inbox.tasks import notify_transferred

    notify_transferred.delay(message_id, org_id)


@transaction.atomic
def message_return(*, message: Message, actor, reason: str) -> Message:
    """Return a wrong transfer (退回) to the organization it came from, before
    signing for it."""
    message = _lock(message)
    role = _handler_role(actor, message)
    if not (reason or "").strip():
        raise ValidationFailed(_("Please correct the marked fields."),
                               fields={"reason": [_("Say why the transfer is wrong.")]})
    last = (MessageEvent.objects.filter(message=message, kind=Kind.TRANSFERRED)
            .select_related("from_organization").order_by("-at", "-id").first())
    if last is None or message.signed_for_at is not None or last.from_organization is None:
        raise Conflict(_("Only a transfer not yet signed for can be returned."),
                       code="not_returnable")
    back = last.from_organization
    now = timezone.now()
    here = message.organization
    message.organization, message.org_path = back, back.path
    message.sign_for_due_at = message.signed_for_at = None
    message.handler = None
    message.save(update_fields=["organization", "org_path", "sign_for_due_at",
                                "signed_for_at", "handler"])
    _event(message, Kind.RETURNED, actor, note=reason, from_org=here, to_org=back, at=now)
    audit_record(actor=actor, action="inbox.message_return", target=message, role=role,
                 target_label=f"#{message.pk}", organization=here,
           after={"organization": back.name, "reason": reason})
    return message


@transaction.atomic
def message_sign_for(*, message: Message, actor) -> Message:
    """The receiving organization signs for (签收) a transferred message."""
    message = _lock(message)
    role = _handler_role(actor, message)
    if message.sign_for_due_at is None or message.signed_for_at is not None:
        raise Conflict(_("There is nothing to sign for."), code="nothing_to_sign")
    now = timezone.now()
    message.signed_for_at = now
    if message.handler_id is None:
        message.handler = actor
    message.save(update_fields=["signed_for_at", "handler"])
    _event(message, Kind.SIGNED_FOR, actor, at=now,
           data={"on_time": now <= message.sign_for_due_at})
    audit_record(actor=actor, action="inbox.message_sign_for", target=message, role=role,
                 target_label=f"#{message.pk}",
           after={"on_time": now <= message.sign_for_due_at})
    return message


# --- pauses and extension -------------------------------------------------------------------
@transaction.atomic
def message_pause(*, message: Message, actor, note: str = "") -> Message:
    """Waiting on the citizen: the clock stops until `message_resume`."""
    message = _lock(message)
    role = _handler_role(actor, message)
    if message.status == Status.NEW:
        raise Conflict(_("Accept the message before waiting on the citizen."),
                       code="bad_transition")
    _move(message, Status.WAITING)
    now = timezone.now()
    message.paused_at = now
    fields = _refresh_due(message)
    message.save(update_fields=["status", "paused_at", *fields])
    _event(message, Kind.PAUSED, actor, note=note, at=now)
    audit_record(actor=actor, action="inbox.message_pause", target=message, role=role,
                 target_label=f"#{message.pk}", after={"note": note})
    return message


@transaction.atomic
def message_resume(*, message: Message, actor, at: datetime | None = None) -> Message:
    message = _lock(message)
    role = _handler_role(actor, message)
    _move(message, Status.IN_PROGRESS)
    now = at or timezone.now()
    paused = paused_time(message.sla_unit, message.paused_at, now, message.region_code)
    message.paused_seconds += paused
    message.paused_at = None
    fields = _refresh_due(message)
    message.save(update_fields=["status", "paused_at", "paused_seconds", *fields])
    _event(message, Kind.RESUMED, actor, at=now, data={"paused_seconds": paused})
    audit_record(actor=actor, action="inbox.message_resume", target=message, role=role,
                 target_label=f"#{message.pk}",
           after={"paused_seconds": paused, "due_at": message.due_at})
    return message


@transaction.atomic
def message_extend(*, message: Message, actor, days: int, interim_text: str) -> Message:
    """The one extension (up to 15 working days), with an interim reply to the
    citizen."""
    message = _lock(message)
    role = _handler_role(actor, message)
    errors = {}
    if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        errors["days"] = [_("Between 1 and %(n)d working days.") % {"n": MAX_EXTENSION_DAYS}]
    if not (interim_text or "").strip():
        errors["interim_text"] = [_("An extension needs an interim reply.")]
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), fields=errors)
    if message.extension_days:
        raise Conflict(_("This message has already been extended once."),
                       code="already_extended")
    if message.status not in (Status.ACCEPTED, Status.IN_PROGRESS):
        raise Conflict(_("Only an accepted, unanswered message can be extended."),
                       code="bad_transition")
    now = timezone.now()
    message.extension_days = days
    fields = _refresh_due(message)
    message.save(update_fields=["extension_days", *fields])
    Reply.objects.create(message=message, kind=Reply.Kind.INTERIM, text=interim_text.strip(),
                         state=Reply.State.PUBLISHED, needs_approval=False, author=actor,
                         route=Reply.Route.PLATFORM, published_at=now)
    _event(message, Kind.EXTENDED, actor, note=interim_text.strip(), at=now,
           data={"days": days})
    audit_record(actor=actor, action="inbox.message_extend", target=message, role=role,
                 target_label=f"#{message.pk}",
           after={"days": days, "reply_due_at": message.reply_due_at})
    return message


# --- replies ----------------------------------------------------------------------------------
def _is_approver(user, org: Organization) -> bool:
    return bool(roles_of(user, org) & APPROVER_ROLES)


@transaction.atomic
def reply_submit(*, message: Message, actor, text: str,
                 kind: str = Reply.Kind.ANSWER) -> Reply:
    """Draft a reply. It needs a department head's (or a leader's) approval unless
    the author is one."""
    message = _lock(message)
    role = _handler_role(actor, message)
    errors = {}
    if not (text or "").strip():
        errors["text"] = [_("Required.")]
    if kind not in Reply.Kind.values:
        errors["kind"] = [_("Choose a kind from the list.")]
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), fields=errors)
    if message.status in (Status.REPLIED, Status.RESOLVED):
        raise Conflict(_("This message has already been answered."), code="closed")
    if message.status == Status.WAITING:
        raise Conflict(_("Resume the message before replying."), code="bad_transition")
    needs = not _is_approver(actor, message.organization)
    reply = Reply.objects.create(
        message=message, kind=kind, text=text.strip(), author=actor, needs_approval=needs,
        state=Reply.State.PENDING if needs else Reply.State.APPROVED,
        approved_by=None if needs else actor, approved_at=None if needs else timezone.now())
    fields = []
    if message.status == Status.NEW:
        fields += _accept_fields(message, timezone.now())
        if message.handler_id is None:
            message.handler = actor
            fields.append("handler")
        message.status = Status.ACCEPTED
    if message.status == Status.ACCEPTED:
        message.status = Status.IN_PROGRESS
        fields += ["status", *_refresh_due(message)]
        message.save(update_fields=fields)
    _event(message, Kind.REPLY_DRAFTED, actor, data={"reply": reply.pk, "kind": kind})
    audit_record(actor=actor, action="inbox.reply_submit", target=message, role=role,
                 target_label=f"#{message.pk}",
           after={"reply": reply.pk, "needs_approval": needs})
    if needs:
        pk, org_id = message.pk, message.organization_id
        transaction.on_commit(lambda: _notify_approval(pk, org_id, reply.pk))
    return reply


def _notify_approval(message_id, org_id, reply_id):
    from inbox.tasks import notify_reply_pending

    notify_reply_pending.delay(message_id, org_id, reply_id)


def _lock_reply(reply: Reply) -> tuple[Reply, Message]:
    reply = Reply.objects.select_for_update().get(pk=reply.pk)
    return reply, _lock(reply.message)


@transaction.atomic
def reply_approve(*, reply: Reply, actor) -> Reply:
    reply, message = _lock_reply(reply)
    role = _handler_role(actor, message)
    if not _is_approver(actor, message.organization):
        raise PermissionDenied(_("Only the department head or a leader approves replies."),
                               code="not_approver")
    if reply.author_id == actor.pk:
        raise PermissionDenied(_("Nobody approves their own reply."), code="own_reply")
    if reply.state != Reply.State.PENDING:
        raise Conflict(_("This reply is not awaiting approval."), code="not_pending")
    reply.state, reply.approved_by, reply.approved_at = (Reply.State.APPROVED, actor,
                                                         timezone.now())
    reply.save(update_fields=["state", "approved_by", "approved_at"])
    _event(message, Kind.REPLY_APPROVED, actor, data={"reply": reply.pk})
    audit_record(actor=actor, action="inbox.reply_approve", target=message, role=role,
                 target_label=f"#{message.pk}", after={"reply": reply.pk})
    return reply


@transaction.atomic
def reply_reject(*, reply: Reply, actor, reason: str) -> Reply:
    reply, message = _lock_reply(reply)
    role = _handler_role(actor, message)
    if not _is_approver(actor, message.organization):
        raise PermissionDenied(_("Only the department head or a leader approves replies."),
                               code="not_approver")
    if reply.state != Reply.State.PENDING:
        raise Conflict(_("This reply is not awaiting approval."), code="not_pending")
    if not (reason or "").strip():
        raise ValidationFailed(_("Please correct the marked fields."),
                               fields={"reason": [_("Required.")]})
    reply.state = Reply.State.REJECTED
    reply.save(update_fields=["state"])
    _event(message, Kind.REPLY_REJECTED, actor, note=reason, data={"reply": reply.pk})
    audit_record(actor=actor, action="inbox.reply_reject", target=message, role=role,
                 target_label=f"#{message.pk}", after={"reply": reply.pk, "reason": reason})
    return reply


def wechat_window_warning(message: Message, now: datetime | None = None) -> str:
    """A warning when the WeChat customer-service window is closed or closes within
    the next 4 hours ("" otherwise)."""
    if message.channel != Channel.WECHAT or message.wechat_window_closes_at is None:
        return ""
    now = now or timezone.now()
    if now >= message.wechat_window_closes_at:
        return _("The 48-hour WeChat window is closed: record the reply as sent by "
                 "another route.")
    if (message.wechat_window_closes_at - now).total_seconds() < 4 * 3600:
        return _("The 48-hour WeChat window closes soon: send the reply now.")
    return ""


@transaction.atomic
def reply_publish(*, reply: Reply, actor, route: str = Reply.Route.PLATFORM) -> Reply:
    """The reply goes out to the citizen: the message is replied.

    WeChat messages are answered through the customer-service API only while the
    48-hour window is open; afterwards only by another route. A WeChat API reply is
    not published here: it is queued (`send_state` queued, a fresh `send_key`) and a
    Celery task sends it after commit (inbox.services.wechat_send); the message is
    replied only once WeChat accepted it. While a send is in flight no other reply
    of the message is published (one answer reaches the citizen)."""
    reply, message = _lock_reply(reply)
    role = _handler_role(actor, message)
    if route not in Reply.Route.values:
        raise ValidationFailed(_("Please correct the marked fields."),
                               fields={"route": [_("Choose a route from the list.")]})
    if reply.state != Reply.State.APPROVED:
        raise Conflict(_("Only an approved reply can be published."), code="not_approved")
    if message.status in (Status.RESOLVED, Status.REPLIED) and reply.kind != Reply.Kind.INTERIM:
        raise Conflict(_("This message has already been answered."), code="closed")
    if message.status == Status.WAITING:
        raise Conflict(_("Resume the message before replying."), code="bad_transition")
    if Reply.objects.filter(message=message, send_state__in=IN_FLIGHT).exists():
        raise Conflict(_("A reply of this message is being sent through WeChat; wait for "
                         "the result."), code="send_in_flight")
    now = timezone.now()
    if route == Reply.Route.WECHAT_API:
        _check_wechat_send(reply, message, now)
        return _queue_wechat_send(reply, message, actor=actor, role=role, now=now)
    reply.route = route
    reply_published(reply, message, actor=actor, role=role, now=now,
                    audit_action="inbox.reply_publish")
    return reply


IN_FLIGHT = (Reply.SendState.QUEUED, Reply.SendState.SENDING)


def _check_wechat_send(reply: Reply, message: Message, now: datetime) -> None:
    from inbox.models import WeChatEndpoint
    from inbox.wechat_errors import UNKNOWN_RESULT

    if message.channel != Channel.WECHAT:
        raise ValidationFailed(_("Please correct the marked fields."), fields={
            "route": [_("Only WeChat messages are answered through the WeChat API.")]})
    if message.wechat_window_closes_at is None or now >= message.wechat_window_closes_at:
        raise Conflict(_("The 48-hour WeChat window is closed: record the reply as "
                         "sent by another route."), code="window_closed")
    if reply.send_state == Reply.SendState.SENT:
        raise Conflict(_("This reply was already sent through WeChat."), code="already_sent")
    if reply.send_error_code == UNKNOWN_RESULT:
        # At most once: a send that may have reached the citizen is not repeated
        # blindly; the handler checks on the platform and records another route.
        raise Conflict(_("Whether the last sending reached the citizen is unknown: check on "
                         "the WeChat platform and record the reply by another route."),
                       code="send_unknown")
    endpoint = WeChatEndpoint.objects.filter(account_id=message.account_id).first()
    if endpoint is None or not endpoint.can_send or not message.citizen_openid:
        raise Conflict(_("This account has no WeChat sending credentials (AppID and "
                         "AppSecret): enter them in its WeChat settings, or record the "
                         "reply by another route."), code="wechat_not_configured")


def _queue_wechat_send(reply: Reply, message: Message, *, actor, role: str,
                       now: datetime) -> Reply:
    """Queue the send (caller holds the reply and message locks). The task is sent
    on commit with the send key as its id."""
    reply.route = Reply.Route.WECHAT_API
    reply.send_state, reply.send_key = Reply.SendState.QUEUED, uuid.uuid4()
    reply.send_requested_by, reply.send_queued_at = actor, now
    reply.send_started_at, reply.send_error_code, reply.send_error = None, "", ""
    reply.save(update_fields=["route", "send_state", "send_key", "send_requested_by",
                              "send_queued_at", "send_started_at", "send_error_code",
                              "send_error"])
    _event(message, Kind.SEND_QUEUED, actor, at=now, data={"reply": reply.pk})
    audit_record(actor=actor, action="inbox.reply_send_queue", target=message, role=role,
                 target_label=f"#{message.pk}",
                 after={"reply": reply.pk, "send_key": str(reply.send_key)})
    pk, key = reply.pk, str(reply.send_key)
    transaction.on_commit(lambda: send_later(pk, key))
    return reply


def send_later(reply_id: int, key: str) -> None:
    from inbox.tasks import wechat_reply_send

    wechat_reply_send.apply_async(args=[reply_id], task_id=f"wechat-send-{key}")


def reply_published(reply: Reply, message: Message, *, actor, role: str, now: datetime,
                    audit_action: str = "inbox.reply_publish",
                    extra: dict | None = None) -> None:
    """Record that `reply` reached the citizen by `reply.route` (caller holds both
    row locks, inside the transaction): the reply is published, the message replied
    (unless the reply is interim), its timeline and the audit trail say so. A
    message waiting on the citizen when a queued WeChat send lands resumes first:
    the citizen did get the answer."""
    reply.state, reply.published_at = Reply.State.PUBLISHED, now
    reply.save(update_fields=["state", "route", "published_at"])
    fields = []
    if message.accepted_at is None:
        fields += _accept_fields(message, now)
    if reply.kind != Reply.Kind.INTERIM:
        if message.status == Status.WAITING:
            message.paused_seconds += paused_time(message.sla_unit, message.paused_at, now,
                                                  message.region_code)
            message.paused_at, message.status = None, Status.IN_PROGRESS
            fields += ["paused_seconds", "paused_at"]
        _move(message, Status.REPLIED)
        message.replied_at = now
        message.reply_route = reply.route
        if message.first_replied_at is None:
            message.first_replied_at = now
        message.replied_on_time = now <= message.reply_due_at
        fields += ["status", "replied_at", "reply_route", "first_replied_at",
                   "replied_on_time"]
    fields += _refresh_due(message)
    message.save(update_fields=fields)
    _event(message, Kind.REPLIED, actor, at=now,
           data={"reply": reply.pk, "route": reply.route, "kind": reply.kind,
                 **(extra or {})})
    audit_record(actor=actor, action=audit_action, target=message, role=role,
                 organization=message.organization, target_label=f"#{message.pk}",
                 after={"reply": reply.pk, "route": reply.route,
                        "on_time": message.replied_on_time, **(extra or {})})


# --- follow-up (回访), reopen, resolve ------------------------------------------------------
@transaction.atomic
def message_rate(*, message: Message, rating: str, actor=None, note: str = "") -> Message:
    """Record the citizen's rating (from the reply link: actor None; or by staff).
    Dissatisfied reopens the message (重办) with a new reply deadline."""
    message = _lock(message)
    role = "" if actor is None else _handler_role(actor, message)
    if rating not in Satisfaction.values:
        raise ValidationFailed(_("Please correct the marked fields."),
                               fields={"rating": [_("Choose a rating from the list.")]})
    rateable = message.status == Status.REPLIED or (
        message.status == Status.RESOLVED and message.rated_at is None)
    if not rateable:
        raise Conflict(_("Only an answered message can be rated."), code="not_answered")
    now = timezone.now()
    message.satisfaction, message.rated_at = rating, now
    fields = ["satisfaction", "rated_at"]
    _event(message, Kind.RATED, actor, note=note, data={"rating": rating}, at=now)
    if rating == Satisfaction.DISSATISFIED:
        _move(message, Status.IN_PROGRESS)
        message.reopen_count = F("reopen_count") + 1
        message.replied_at = message.resolved_at = None
        message.clock_started_at, message.paused_seconds, message.extension_days = now, 0, 0
        fields += ["status", "reopen_count", "replied_at", "resolved_at",
                   "clock_started_at", "paused_seconds", "extension_days"]
        fields += _refresh_due(message)
        message.save(update_fields=fields)
        message.refresh_from_db(fields=["reopen_count"])
        _event(message, Kind.REOPENED, actor, at=now)
        if extra := _problem_case(message, actor, now):
            message.save(update_fields=extra)
    else:
        _move(message, Status.RESOLVED)
        message.resolved_at = now
        fields += ["status", "resolved_at"]
        message.save(update_fields=fields)
        _event(message, Kind.RESOLVED, actor, at=now)
    audit_record(actor=actor, action="inbox.message_rate", target=message,
                 organization=message.organization, role=role,
                 after={"rating": rating, "status": message.status},
                 target_label=f"#{message.pk}")
    return message


@transaction.atomic
def message_resolve(*, message: Message, actor) -> Message:
    """Close an answered message without a rating (no follow-up possible)."""
    message = _lock(message)
    role = _handler_role(actor, message)
    _move(message, Status.RESOLVED)
    message.resolved_at = timezone.now()
    message.save(update_fields=["status", "resolved_at"])
    _event(message, Kind.RESOLVED, actor)
    audit_record(actor=actor, action="inbox.message_resolve", target=message, role=role,
                 target_label=f"#{message.pk}", after={"status": message.status})
    return message

