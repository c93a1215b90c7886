"""Receiving messages: one set-based path for every source (WeChat callback, platform
collectors, spreadsheet import, manual entry).

Every delivery is idempotent on the platform's message id (a unique constraint on
(account, platform_message_id)): a duplicate changes nothing. What the platform sent
is stored first (`raw_payload_store`, its own transaction) so that a failure later
leaves it on record; the messages are then created in one transaction with a fixed
number of queries however many arrive.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization
from accounts.scoping import Action, require
from audit.services import audit_record
from common.bulk import insert_many
from common.errors import ValidationFailed
from inbox import classify
from inbox.deadlines import Terms, due_times, earliest_unmet, terms_for_many, warn_time
from inbox.models import (
    Attachment,
    Channel,
    Collector,
    Message,
    MessageEvent,
    RawPayload,
    Source,
)
from registry.derive import derive_supervising_many
from registry.models import MediaAccount
from workcalendar.calendar import to_local

WECHAT_WINDOW = timedelta(hours=48)
MAX_TEXT = 10000


@dataclass
class Incoming:
    """One message as a source hands it over (validated)."""

    organization: Organization
    channel: str
    text: str
    received_at: datetime
    account: MediaAccount | None = None
    platform_message_id: str = ""
    citizen_handle: str = ""
    citizen_openid: str = ""
    attachments: list[dict] = field(default_factory=list)


@dataclass
class Received:
    created: list[int]
    duplicates: int


def raw_payload_store(*, source: str, organization: Organization, body: str,
                      account: MediaAccount | None = None, meta: dict | None = None,
                      state: str = RawPayload.State.RECEIVED, error: str = "") -> RawPayload:
    """Keep what arrived, in its own transaction (committed even if the processing
    that follows fails)."""
    with transaction.atomic():
        return RawPayload.objects.create(
            source=source, organization=organization, org_path=organization.path,
            account=account, body=body, meta=meta or {}, state=state, error=error,
            received_at=timezone.now())


def raw_payload_reject(raw: RawPayload, error: str) -> None:
    RawPayload.objects.filter(pk=raw.pk).update(state=RawPayload.State.REJECTED,
                                                error=str(error)[:2000])


def _supervising(items: list[Incoming]) -> dict[int, Organization]:
    """The supervising organization per item (by index): the account's, or derived
    from the organization for messages without an account."""
    without = [i.organization for i in items if i.account is None]
    derived = derive_supervising_many(without) if without else {}
    result = {}
    for n, item in enumerate(items):
        if item.account is not None:
            result[n] = item.account.supervising_organization
        else:
            result[n] = derived.get(item.organization.pk, item.organization)
    return result


@transaction.atomic
def messages_receive(*, items: list[Incoming], source: str, raw_payload: RawPayload,
                     actor=None, role: str = "") -> Received:
    """Create the messages not seen before. Callers validated the items; accounts
    come with `supervising_organization` loaded. Set-based: a fixed number of
    queries per call (plus the calendar's, once per distinct receipt day and region)."""
    keyed = [(i.account.pk, i.platform_message_id) for i in items
             if i.account is not None and i.platform_message_id]
    existing: set[tuple[int, str]] = set()
    if keyed:
        cond = Q(account_id__in={k[0] for k in keyed},
                 platform_message_id__in={k[1] for k in keyed})
        existing = set(Message.objects.filter(cond).values_list("account_id",
                                                                 "platform_message_id"))
    fresh, seen = [], set()
    for item in items:
        key = (item.account.pk, item.platform_message_id) if (
            item.account is not None and item.platform_message_id) else None
        if key is not None and (key in existing or key in seen):
            continue
        if key is not None:
            seen.add(key)
        fresh.append(item)
    duplicates = len(items) - len(fresh)
    if not fresh:
        RawPayload.objects.filter(pk=raw_payload.pk).update(state=RawPayload.State.DUPLICATE)
        return Received([], duplicates)
    supervising = _supervising(fresh)
    suggestions = [classify.suggest(item.text) for item in fresh]
    terms = terms_for_many({(supervising[n].path, suggestions[n][0])
                            for n in range(len(fresh))})
    times_cache: dict[tuple, object] = {}
    rows = []
    for n, item in enumerate(fresh):
        sup = supervising[n]
        category, must = suggestions[n]
        t: Terms = terms[(sup.path, category)]
        region = item.organization.region_code
        day = to_local(item.received_at).date()
        key = (t.unit, t.first_response, t.reply, day, region)
        if t.unit == "hours":
            key = (*key, item.received_at)
        if key not in times_cache:
            times_cache[key] = due_times(unit=t.unit, first_response=t.first_response,
                                         reply=t.reply, clock_started_at=item.received_at,
                                         region_code=region)
        times = times_cache[key]
        due = earliest_unmet(times, accepted=False, replied=False)
        window = item.received_at + WECHAT_WINDOW if item.channel == Channel.WECHAT else None
        rows.append(dict(
            organization_id=item.organization.pk, org_path=item.organization.path,
            origin_organization_id=item.organization.pk, origin_path=item.organization.path,
            supervising_organization_id=sup.pk, region_code=region,
            account_id=item.account.pk if item.account is not None else None,
            channel=item.channel, source=source,
            platform_message_id=item.platform_message_id, raw_payload_id=raw_payload.pk,
            citizen_handle=item.citizen_handle[:120], citizen_openid=item.citizen_openid,
            original_text=item.text, text=item.text, received_at=item.received_at,
            suggested_category=category, must_answer=must, sla_policy_id=t.policy_id,
            sla_unit=t.unit, sla_first_response=t.first_response, sla_reply=t.reply,
            sla_warn_percent=t.warn_percent, clock_started_at=item.received_at,
            first_response_due_at=times.first_response_due_at,
            reply_due_at=times.reply_due_at, due_at=due,
            warn_at=warn_time(item.received_at, due, t.warn_percent),
            due_provisional=times.provisional, wechat_window_closes_at=window,
            stale_at=item.received_at + relativedelta(months=3),
        ))
    # A concurrent delivery of the same message loses quietly to the constraint.
    insert_many(Message, rows, ignore_conflicts=True)
    created = list(Message.objects.filter(raw_payload=raw_payload)
                   .values_list("pk", "platform_message_id", "account_id"))
    duplicates += len(fresh) - len(created)
    ids = {(acc, pmid): pk for pk, pmid, acc in created}
    now = timezone.now()
    insert_many(MessageEvent, [
        {"message_id": pk, "kind": MessageEvent.Kind.RECEIVED,
         "actor_id": actor.pk if actor is not None else None,
         "data": {"source": source}, "at": now} for pk, _p, _a in created])
    attachments = []
    for item in fresh:
        if item.attachments and item.account is not None:
            pk = ids.get((item.account.pk, item.platform_message_id))
        elif item.attachments and len(created) == 1:
            pk = created[0][0]
        else:
            pk = None
        if pk is not None:
            attachments += [Attachment(message_id=pk, kind=a.get("kind", "")[:16],
                                       url=a.get("url", "")[:1000],
                                       media_id=a.get("media_id", "")[:128],
                                       name=a.get("name", "")[:200])
                            for a in item.attachments]
    if attachments:
        Attachment.objects.bulk_create(attachments)
    # WeChat: a follower's new message reopens the 48-hour window for the
    # follower's other unanswered messages on the same account.
    followers = {(i.account.pk, i.citizen_openid) for i in fresh
                 if i.channel == Channel.WECHAT and i.account and i.citizen_openid}
    for account_id, openid in followers:
        latest = max(i.received_at for i in fresh if i.account and i.account.pk ==
                     account_id and i.citizen_openid == openid)
        Message.objects.filter(account_id=account_id, citizen_openid=openid,
                               replied_at__isnull=True,
                               wechat_window_closes_at__lt=latest + WECHAT_WINDOW).update(
            wechat_window_closes_at=latest + WECHAT_WINDOW)
    RawPayload.objects.filter(pk=raw_payload.pk).update(
        state=RawPayload.State.PROCESSED if created else RawPayload.State.DUPLICATE)
    if created:
        audit_record(actor=actor, action="inbox.messages_receive", target=raw_payload,
                     organization=raw_payload.organization, role=role,
                     after={"source": source, "created": len(created),
                            "duplicates": duplicates,
                            "messages": [pk for pk, _p, _a in created][:50]})
    return Received([pk for pk, _p, _a in created], duplicates)


# --- manual entry -----------------------------------------------------------------------
def message_create_manual(*, actor, organization: Organization, channel: str, text: str,
                          received_at: datetime | None = None, citizen_handle: str = "",
                          account: MediaAccount | None = None) -> Message:
    """A message typed in by staff (e.g. a hotline hand-over)."""
    role = require(actor, Action.CHANGE, organization)
    errors = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = [_("Required.")]
    elif len(text) > MAX_TEXT:
        errors["text"] = [_("At most %(n)d characters.") % {"n": MAX_TEXT}]
    if channel not in Channel.values:
        errors["channel"] = [_("Choose a channel from the list.")]
    received_at = received_at or timezone.now()
    if received_at > timezone.now() + timedelta(minutes=5):
        errors["received_at"] = [_("The time of receipt cannot be in the future.")]
    if account is not None and account.organization_id != organization.pk:
        errors["account"] = [_("The account belongs to another organization.")]
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), fields=errors)
    raw = raw_payload_store(source=Source.MANUAL, organization=organization,
                            account=account, body=json.dumps(
                                {"channel": channel, "text": text,
                                 "citizen": citizen_handle,
                                 "received_at": received_at.isoformat()},
                                ensure_ascii=False),
                            meta={"entered_by": actor.pk})
    result = messages_receive(items=[Incoming(
        organization=organization, channel=channel, text=text, received_at=received_at,
        account=account, citizen_handle=citizen_handle)], source=Source.MANUAL,
        raw_payload=raw, actor=actor, role=role)
    return Message.objects.get(pk=result.created[0])


# --- collectors ---------------------------------------------------------------------------
def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def collector_create(*, actor, organization: Organization, name: str) -> tuple[Collector, str]:
    """Register a collector; returns it and its token (shown once, stored hashed)."""
    role = require(actor, Action.CHANGE, organization)
    if not (name or "").strip():
        raise ValidationFailed(_("Please correct the marked fields."),
                               fields={"name": [_("Required.")]})
    token = secrets.token_urlsafe(32)
    collector = Collector.objects.create(organization=organization, name=name.strip()[:80],
                                         token_hash=token_hash(token))
    audit_record(actor=actor, action="inbox.collector_create", target=collector,
                 organization=organization, role=role, after={"name": collector.name})
    return collector, token


def collector_for_token(token: str) -> Collector | None:
    if not token:
        return None
    return (Collector.objects.filter(token_hash=token_hash(token), is_active=True)
            .select_related("organization").first())
