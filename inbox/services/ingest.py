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
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.models import Organization
from accounts.scoping import Action, require
from audit.services import audit_record, audit_record_bulk
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

logger = logging.getLogger(__name__)

WECHAT_WINDOW = timedelta(hours=48)
MAX_TEXT = 10000
# Read once: `Channel.values` builds its list on every access (28 us, per item of a
# batch of 500).
CHANNELS = frozenset(Channel.values)


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
    # The delivery it came in (a drain handles many at once); else the call's.
    raw_payload: RawPayload | None = None


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


def known_messages(keyed: list[tuple[int, str]]):
    """(account id, platform message id) of the messages among `keyed` seen before.
    The condition of the unique index (platform id not empty) is named, so the index
    serves however many ids are asked: PostgreSQL proves it from an `IN` list of at
    most 100 values, and a batch of 500 scanned every message of its account."""
    cond = Q(account_id__in={k[0] for k in keyed},
             platform_message_id__in={k[1] for k in keyed})
    return (Message.objects.filter(cond).exclude(platform_message_id="")
            .values_list("account_id", "platform_message_id"))


@transaction.atomic
def messages_receive(*, items: list[Incoming], source: str,
                     raw_payload: RawPayload | None = None, actor=None,
                     role: str = "") -> Received:
    """Create the messages not seen before. Callers validated the items; accounts
    come with `supervising_organization` loaded. Each item comes from its own
    `raw_payload` (a drain of many deliveries) or from the call's. Set-based: a
    fixed number of queries per call (plus the calendar's, once per distinct
    receipt day and region)."""
    for item in items:
        if item.raw_payload is None:
            item.raw_payload = raw_payload
    payloads = {item.raw_payload.pk: item.raw_payload for item in items}
    keyed = [(i.account.pk, i.platform_message_id) for i in items
             if i.account is not None and i.platform_message_id]
    existing = set(known_messages(keyed)) if keyed else set()
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
        RawPayload.objects.filter(pk__in=payloads).update(state=RawPayload.State.DUPLICATE)
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
            platform_message_id=item.platform_message_id,
            raw_payload_id=item.raw_payload.pk,
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
    made = list(Message.objects.filter(raw_payload_id__in=payloads)
                .values_list("pk", "platform_message_id", "account_id", "raw_payload_id"))
    created = [(pk, pmid, acc) for pk, pmid, acc, _raw in made]
    duplicates += len(fresh) - len(created)
    ids = {(acc, pmid): pk for pk, pmid, acc in created}
    made_by: dict[int, list[int]] = {}
    for pk, _pmid, _acc, raw_id in made:
        made_by.setdefault(raw_id, []).append(pk)
    now = timezone.now()
    insert_many(MessageEvent, [
        {"message_id": pk, "kind": MessageEvent.Kind.RECEIVED,
         "actor_id": actor.pk if actor is not None else None,
         "data": {"source": source}, "at": now} for pk, _p, _a in created])
    attachments = []
    for item in fresh:
        if item.attachments and item.account is not None:
            pk = ids.get((item.account.pk, item.platform_message_id))
        elif item.attachments and len(made_by.get(item.raw_payload.pk, ())) == 1:
            pk = made_by[item.raw_payload.pk][0]
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
    if made_by:
        RawPayload.objects.filter(pk__in=made_by).update(state=RawPayload.State.PROCESSED)
    if len(made_by) < len(payloads):
        RawPayload.objects.filter(pk__in=set(payloads) - set(made_by)).update(
            state=RawPayload.State.DUPLICATE)
    if len(payloads) == 1 and created:
        audit_record(actor=actor, action="inbox.messages_receive",
                     target=next(iter(payloads.values())),
                     organization=next(iter(payloads.values())).organization, role=role,
                     after={"source": source, "created": len(created),
                            "duplicates": duplicates,
                            "messages": [pk for pk, _p, _a in created][:50]})
    elif made_by:
        sent = {}
        for item in items:
            sent[item.raw_payload.pk] = sent.get(item.raw_payload.pk, 0) + 1
        audit_record_bulk(
            actor=actor, action="inbox.messages_receive", role=role,
            targets=[payloads[raw_id] for raw_id in made_by],
            organization_of=lambda raw: raw.organization,
            after_of=lambda raw: {"source": source, "created": len(made_by[raw.pk]),
                                  "duplicates": sent[raw.pk] - len(made_by[raw.pk]),
                                  "messages": made_by[raw.pk][:50]})
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


# --- collector deliveries ---------------------------------------------------------------
def collector_item_check(n: int | None, item, errors: dict) -> dict | None:
    """Validate one collector item; errors go under `messages[n].field`."""
    prefix = "" if n is None else f"messages[{n}]."
    if not isinstance(item, dict):
        errors[prefix.rstrip(".") or "body"] = [_("Each message is a JSON object.")]
        return None
    bad = {}
    account = item.get("account")
    if not isinstance(account, int) or isinstance(account, bool):
        bad["account"] = _("The id of the media account (an integer).")
    channel = item.get("channel")
    if channel not in CHANNELS:
        bad["channel"] = _("One of: %(values)s.") % {"values": ", ".join(Channel.values)}
    pmid = item.get("platform_message_id")
    if not isinstance(pmid, str) or not pmid.strip() or len(pmid) > 128:
        bad["platform_message_id"] = _("Required, at most 128 characters.")
    text = item.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        bad["text"] = _("Required, at most %(n)d characters.") % {"n": MAX_TEXT}
    received = item.get("received_at")
    moment = parse_datetime(received) if isinstance(received, str) else None
    if moment is None or moment.tzinfo is None:
        bad["received_at"] = _("An ISO 8601 time with its offset, e.g. "
                               "2025-02-07T09:30:00+08:00.")
    elif moment > timezone.now() + timedelta(minutes=5):
        bad["received_at"] = _("The time of receipt cannot be in the future.")
    citizen = item.get("citizen", "")
    if not isinstance(citizen, str) or len(citizen) > 120:
        bad["citizen"] = _("At most 120 characters.")
    attachments = item.get("attachments", [])
    if not isinstance(attachments, list) or len(attachments) > 20 or not all(
            isinstance(a, dict) for a in attachments):
        bad["attachments"] = _("A list of at most 20 objects.")
    for name, message in bad.items():
        errors[f"{prefix}{name}"] = [message]
    if bad:
        return None
    return {"account": account, "channel": channel, "platform_message_id": pmid.strip(),
            "text": text.strip(), "received_at": moment, "citizen": citizen,
            "attachments": attachments}


def collector_items(text: str) -> tuple[list[dict], dict, bool]:
    """The items of a collector's body (one object, or `{"messages": [...]}`), the
    errors by field and whether it was a batch. Pure: no database."""
    errors: dict = {}
    try:
        data = json.loads(text)
    except ValueError:
        return [], {"body": [_("The body is not JSON.")]}, False
    batch = isinstance(data, dict) and "messages" in data
    items: list = []
    if batch:
        listed = data["messages"]
        if not isinstance(listed, list) or not listed:
            errors["messages"] = [_("A non-empty list.")]
        elif len(listed) > settings.INBOX_BATCH_MAX:
            errors["messages"] = [_("At most %(n)d messages per request.")
                                  % {"n": settings.INBOX_BATCH_MAX}]
        else:
            items = [collector_item_check(n, item, errors) for n, item in enumerate(listed)]
    else:
        items = [collector_item_check(None, data, errors)]
    return items, errors, batch


def collector_accounts(ids) -> dict[int, MediaAccount]:
    """The accounts named by deliveries, with what messages_receive needs (one
    query however many deliveries)."""
    return {a.pk: a for a in MediaAccount.objects.filter(pk__in=set(ids)).select_related(
        "organization", "supervising_organization")}


def collector_account_errors(items: list[dict], batch: bool, inside: set[int]) -> dict:
    """Every item's account must be one of `inside` (found in the collector's
    subtree)."""
    errors = {}
    for n, item in enumerate(items):
        if item["account"] not in inside:
            key = f"messages[{n}].account" if batch else "account"
            errors[key] = [_("Unknown account, or outside this collector's organization.")]
    return errors


def accounts_under(accounts: dict[int, MediaAccount], path: str) -> set[int]:
    return {pk for pk, account in accounts.items() if account.org_path.startswith(path)}


def collector_incoming(items: list[dict], accounts: dict[int, MediaAccount],
                       raw: RawPayload | None = None) -> list[Incoming]:
    return [Incoming(
        organization=accounts[i["account"]].organization, channel=i["channel"],
        text=i["text"], received_at=i["received_at"], account=accounts[i["account"]],
        platform_message_id=i["platform_message_id"], citizen_handle=i["citizen"],
        attachments=i["attachments"], raw_payload=raw) for i in items]


# The columns a collector's delivery is kept with, in the order both plain INSERTs
# below give them (collector_keep, collector_queue_at_once); raw_payload_store is the
# ORM's way for the other sources.
_KEPT_COLUMNS = "source, organization_id, org_path, body, meta, state, error, received_at"


def collector_keep(*, key: CollectorKey, body: str, state: str, count: int = 0,
                   error: str = "") -> int:
    """Store a delivery (one INSERT, committed; no model instance): queued for the
    drain, or rejected for inspection. Returns its id."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {RawPayload._meta.db_table} ({_KEPT_COLUMNS}) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            [Source.COLLECTOR, key.organization_id, key.org_path, body,
             json.dumps({"collector": key.id, "count": count}), state, error,
             timezone.now()])
        return cursor.fetchone()[0]


def collector_queue_at_once(*, token: str, body: str, accounts: list[int]) -> int | None:
    """The happy path of an async delivery on PostgreSQL, in one statement: the
    token's active collector, every account inside its subtree, and the delivery
    stored as queued (committed: the connection is in autocommit). None when the
    token or an account is refused: nothing was stored, and the caller takes the
    ordinary path (collector_key, accounts_inside, collector_keep) to tell which
    and keep the refused body. Three round trips and their commit were a third of
    a delivery's cost (issue 10)."""
    from django.db import connection

    ids = sorted({int(i) for i in accounts})
    if not token or not ids:
        return None
    collector, org = Collector._meta.db_table, Organization._meta.db_table
    table, account = RawPayload._meta.db_table, MediaAccount._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH c AS (SELECT c.id, c.organization_id, o.path FROM {collector} c "  # noqa: S608
            f"JOIN {org} o ON o.id = c.organization_id "
            "WHERE c.token_hash = %s AND c.is_active) "
            f"INSERT INTO {table} ({_KEPT_COLUMNS}) SELECT %s, c.organization_id, c.path, %s, "
            "jsonb_build_object('collector', c.id, 'count', %s), %s, '', %s FROM c "
            f"WHERE (SELECT count(*) FROM {account} a WHERE a.id = ANY(%s) "
            "AND starts_with(a.org_path, c.path)) = %s RETURNING id",
            [token_hash(token), Source.COLLECTOR, body, len(accounts),
             RawPayload.State.QUEUED, timezone.now(), ids, len(ids)])
        row = cursor.fetchone()
    if row is None:
        return None
    transaction.on_commit(drain_soon)
    return row[0]


def collector_queue(*, key: CollectorKey, body: str, count: int) -> int:
    """Keep a validated delivery for the drain and ask for a drain. The messages
    are made by a worker; the collector asks for the outcome at the payload's
    status URL."""
    pk = collector_keep(key=key, body=body, state=RawPayload.State.QUEUED, count=count)
    transaction.on_commit(drain_soon)
    return pk


DRAIN_KEY = "inbox:drain-soon"


def drain_soon() -> None:
    """Ask a worker to drain the queued deliveries: the first delivery of each
    debounce interval (an atomic SET NX that expires with the interval) schedules
    one drain for the interval's end (plus DRAIN_MARGIN); the deliveries that find
    the flag set committed before it expired, so before that drain starts, which
    takes them all. Under steady load: one drain per interval, whatever the rate
    (a drain asked for at once after each drain's end ran back to back on a
    handful of deliveries each, and its fixed cost made a delivery's work 2.5x
    dearer). A broker that is down loses nothing: the deliveries wait in the table
    for the next drain (every minute by beat)."""
    if not _drain_flag_set():
        return
    from inbox.tasks import drain_payloads

    try:
        drain_payloads.apply_async(
            countdown=settings.INBOX_DRAIN_DEBOUNCE_SECONDS + DRAIN_MARGIN)
    except Exception:  # noqa: BLE001 - the broker is optional for acceptance
        logger.warning("inbox: could not ask for a drain; beat will run it", exc_info=True)


def _drain_helper() -> None:
    """One more drain now, for another worker process: it skips what this one holds
    and, finding more still, asks for the next."""
    from inbox.tasks import drain_payloads

    try:
        drain_payloads.apply_async()
    except Exception:  # noqa: BLE001 - this drain goes on alone
        logger.warning("inbox: could not ask for a helper drain", exc_info=True)


# Seconds between the flag's expiry and the drain it scheduled: room for the
# clocks of Redis, the web process and the worker to differ.
DRAIN_MARGIN = 0.25

_redis = None


def _drain_flag_set() -> bool:
    """Set the drain flag unless it is set (SET NX expiring after the debounce
    interval); True when this caller set it. With Redis as the cache, one command on
    a client kept per process: Django's cache.add builds a client, a key and a
    pickle on each call (0.22 ms against 0.07 ms, on every async delivery)."""
    from django.core.cache import cache

    timeout = settings.INBOX_DRAIN_DEBOUNCE_SECONDS
    backend = settings.CACHES["default"]["BACKEND"]
    if backend != "django.core.cache.backends.redis.RedisCache":
        return cache.add(DRAIN_KEY, 1, timeout=timeout)
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    return bool(_redis.set(cache.make_and_validate_key(DRAIN_KEY), b"1", nx=True,
                           px=max(1, int(timeout * 1000))))


def payloads_drain(*, limit: int | None = None, helpers: bool = True) -> dict:
    """Turn queued collector deliveries into messages, oldest first, up to `limit`
    messages per transaction, while the queue holds more than a transaction takes;
    what comes in meanwhile has its own drain scheduled (drain_soon). Safe to run
    twice at once (claimed rows are locked, others skip them); a delivery that
    fails is marked rejected with the reason, the others go on. With more queued
    than one transaction takes, it asks for a helper drain (`helpers`), so the
    worker's other processes share a backlog (one drain made 3,179 msg/s of
    batches end to end; the batches made in the request, four processes, 7,625)."""
    limit = limit or settings.INBOX_DRAIN_BATCH
    totals = {"payloads": 0, "created": 0, "duplicates": 0, "rejected": 0}
    more = _drain_once(limit, totals)
    if more and helpers:
        _drain_helper()
    while more:
        more = _drain_once(limit, totals)
    totals["wechat"] = _wechat_left_over(limit)
    return totals


WECHAT_GRACE = timedelta(minutes=2)


def _wechat_left_over(limit: int) -> int:
    """WeChat callbacks still unprocessed well after they came (their task was lost:
    the broker was down, the worker died): their messages made together, in one
    transaction (the same set-based path as a drain of collector deliveries).
    Returns how many payloads it handled."""
    from inbox.services.wechat import STORED, wechat_incoming

    with transaction.atomic():
        stale = list(RawPayload.objects.select_for_update(skip_locked=True, of=("self",))
                     .filter(state=RawPayload.State.RECEIVED, source=Source.WECHAT,
                             account__isnull=False,
                             received_at__lt=timezone.now() - WECHAT_GRACE)
                     .select_related(*STORED).order_by("pk")[:limit])
        if not stale:
            return 0
        try:
            with transaction.atomic():
                messages_receive(items=[wechat_incoming(raw) for raw in stale],
                                 source=Source.WECHAT)
        except Exception:  # noqa: BLE001 - one bad payload must not hold up the rest
            logger.exception("inbox: WeChat left-overs failed together; one by one")
            for raw in stale:
                try:
                    with transaction.atomic():
                        messages_receive(items=[wechat_incoming(raw)], source=Source.WECHAT)
                except Exception as exc:  # noqa: BLE001 - kept for inspection
                    raw_payload_reject(raw, f"processing failed: {exc}")
    return len(stale)


def _drain_once(limit: int, totals: dict) -> bool:
    with transaction.atomic():
        # Oldest first, skipping what another drain holds; then as many as make
        # `limit` messages (the rest stay queued and are unlocked at commit).
        queued = list(RawPayload.objects.select_for_update(skip_locked=True, of=("self",))
                      .filter(state=RawPayload.State.QUEUED).order_by("pk")
                      .values_list("pk", "meta__count")[:limit])
        chosen, running = [], 0
        for pk, count in queued:
            if chosen and running + (count or 1) > limit:
                break
            chosen.append(pk)
            running += count or 1
        if not chosen:
            return False
        raws = list(RawPayload.objects.filter(pk__in=chosen)
                    .select_related("organization").order_by("pk"))
        parsed = {raw.pk: collector_items(raw.body) for raw in raws}
        accounts = collector_accounts(
            i["account"] for items, errors, _b in parsed.values() if not errors
            for i in items)
        good, rejected = [], {}
        for raw in raws:
            items, errors, batch = parsed[raw.pk]
            errors = errors or collector_account_errors(
                items, batch, accounts_under(accounts, raw.org_path))
            if errors:
                rejected[raw.pk] = json.dumps(errors, ensure_ascii=False, default=str)
            else:
                good.append((raw, collector_incoming(items, accounts, raw)))
        try:
            with transaction.atomic():
                result = messages_receive(
                    items=[i for _raw, incoming in good for i in incoming],
                    source=Source.COLLECTOR) if good else Received([], 0)
            totals["created"] += len(result.created)
            totals["duplicates"] += result.duplicates
        except Exception:  # noqa: BLE001 - one bad delivery must not hold up the rest
            logger.exception("inbox: a drain batch failed; trying its deliveries one by one")
            for raw, incoming in good:
                try:
                    with transaction.atomic():
                        result = messages_receive(items=incoming, source=Source.COLLECTOR)
                    totals["created"] += len(result.created)
                    totals["duplicates"] += result.duplicates
                except Exception as exc:  # noqa: BLE001
                    rejected[raw.pk] = f"processing failed: {exc}"
        if rejected:
            refused = [raw for raw in raws if raw.pk in rejected]
            for raw in refused:
                raw.state, raw.error = RawPayload.State.REJECTED, rejected[raw.pk][:2000]
            RawPayload.objects.bulk_update(refused, ["state", "error"])
        totals["payloads"] += len(raws)
        totals["rejected"] += len(rejected)
    # More is queued when this pass left some of what it saw, or saw a full pass.
    return len(chosen) < len(queued) or len(queued) == limit


def collector_payload_status(*, key: CollectorKey, payload_id: int) -> dict | None:
    """What became of one of this collector's deliveries (None: not its own)."""
    raw = (RawPayload.objects.filter(pk=payload_id, source=Source.COLLECTOR,
                                     meta__collector=key.id)
           .only("pk", "state", "error", "received_at").first())
    if raw is None:
        return None
    ids = list(Message.objects.filter(raw_payload_id=raw.pk).order_by("pk")
               .values_list("pk", flat=True))
    return {"payload": raw.pk, "state": raw.state, "received_at": raw.received_at,
            "created": len(ids), "ids": ids, "error": raw.error}


# --- collectors ---------------------------------------------------------------------------
def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


COLLECTOR_NAME_MAX = 80


@transaction.atomic
def collector_create(*, actor, organization: Organization, name: str) -> tuple[Collector, str]:
    """Register a collector; returns it and its token (shown once, stored hashed)."""
    role = require(actor, Action.CHANGE, organization)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Please correct the marked fields."),
                               fields={"name": [_("Required.")]})
    if len(name) > COLLECTOR_NAME_MAX:
        raise ValidationFailed(_("Please correct the marked fields."), fields={
            "name": [_("At most %(n)d characters.") % {"n": COLLECTOR_NAME_MAX}]})
    token = secrets.token_urlsafe(32)
    collector = Collector.objects.create(organization=organization, name=name,
                                         token_hash=token_hash(token))
    audit_record(actor=actor, action="inbox.collector_create", target=collector,
                 organization=organization, role=role, after={"name": collector.name})
    return collector, token


def _collector_locked(actor, collector: Collector) -> tuple[Collector, str]:
    """The collector's row, locked, and the actor's role for the audit event
    (NotFound outside the actor's scope, PermissionDenied without the right to
    change its organization). Caller holds a transaction."""
    role = require(actor, Action.CHANGE, collector.organization)
    locked = (Collector.objects.select_for_update(of=("self",))
              .select_related("organization").get(pk=collector.pk))
    return locked, role


def _collector_set_active(actor, collector: Collector, active: bool, action: str) -> Collector:
    collector, role = _collector_locked(actor, collector)
    if collector.is_active != active:
        collector.is_active = active
        collector.save(update_fields=["is_active"])
        audit_record(actor=actor, action=action, target=collector,
                     organization=collector.organization, role=role,
                     before={"is_active": not active}, after={"is_active": active})
    return collector


@transaction.atomic
def collector_deactivate(*, actor, collector: Collector) -> Collector:
    """Stop a collector: its token answers 401 from the next request on (the
    hot path looks up active collectors only). Its deliveries stay on record.
    Deactivating an inactive collector changes nothing and writes no event."""
    return _collector_set_active(actor, collector, False, "inbox.collector_deactivate")


@transaction.atomic
def collector_reactivate(*, actor, collector: Collector) -> Collector:
    """Let a deactivated collector deliver again with the token it had. After a
    leak, rotate the token instead (or as well)."""
    return _collector_set_active(actor, collector, True, "inbox.collector_reactivate")


@transaction.atomic
def collector_token_rotate(*, actor, collector: Collector) -> str:
    """Give the collector a new token and return it (shown once, stored hashed).
    SECURITY: the old token stops working at once: only one hash is stored, and
    it is replaced in this transaction. The hashes are not audited."""
    collector, role = _collector_locked(actor, collector)
    token = secrets.token_urlsafe(32)
    collector.token_hash = token_hash(token)
    collector.save(update_fields=["token_hash"])
    audit_record(actor=actor, action="inbox.collector_token_rotate", target=collector,
                 organization=collector.organization, role=role,
                 after={"name": collector.name, "is_active": collector.is_active})
    return token


@dataclass(frozen=True, slots=True)
class CollectorKey:
    """Who is delivering, as the hot path needs it (no model instances)."""

    id: int
    organization_id: int
    org_path: str


def collector_key(token: str) -> CollectorKey | None:
    """The active collector a token belongs to: one indexed lookup by its hash,
    written as plain SQL because it runs on every delivery."""
    if not token:
        return None
    from django.db import connection

    collector, org = Collector._meta.db_table, Organization._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, c.organization_id, o.path FROM {collector} c "  # noqa: S608
            f"JOIN {org} o ON o.id = c.organization_id "
            "WHERE c.token_hash = %s AND c.is_active", [token_hash(token)])
        row = cursor.fetchone()
    return CollectorKey(*row) if row else None


def accounts_inside(ids, path: str) -> set[int]:
    """Which of the account ids lie in the subtree at `path` (one indexed query,
    plain SQL: it runs on every delivery)."""
    from django.db import connection

    ids = sorted({int(i) for i in ids})
    if not ids:
        return set()
    table = MediaAccount._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE id IN ({marks}) "  # noqa: S608
                       "AND org_path LIKE %s", [*ids, path + "%"])
        return {row[0] for row in cursor.fetchall()}
