"""Importing messages from a spreadsheet (CSV or XLSX), with a dry run like the
ledger's: the upload is checked row by row and nothing is written until the user
confirms the checked file (kept in the cache for two hours under a random key)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.models import Organization
from accounts.scoping import Action, require
from audit.services import audit_record
from common.errors import ValidationFailed
from inbox.models import Channel, Message, Source
from inbox.services.ingest import (
    MAX_TEXT,
    Incoming,
    messages_receive,
    raw_payload_store,
)
from registry.models import MediaAccount
from registry.services.ledger_import import read_csv, read_xlsx
from workcalendar.calendar import SHANGHAI

MAX_BYTES = 5 * 1024 * 1024
STAGE_SECONDS = 2 * 3600
# Header aliases (Chinese first, English second) -> field.
HEADERS = {
    "渠道": "channel", "channel": "channel",
    "账号": "account", "account": "account",
    "平台消息编号": "platform_message_id", "消息编号": "platform_message_id",
    "platform message id": "platform_message_id",
    "收到时间": "received_at", "时间": "received_at", "received at": "received_at",
    "留言人": "citizen", "citizen": "citizen",
    "内容": "text", "留言内容": "text", "text": "text",
}
REQUIRED = ("channel", "received_at", "text")


@dataclass
class RowReport:
    row: int
    errors: list[str] = field(default_factory=list)
    duplicate: bool = False
    text: str = ""


@dataclass
class ImportReport:
    stage: str
    rows: list[RowReport]
    file_errors: list[str]

    @property
    def ok(self) -> int:
        return sum(1 for r in self.rows if not r.errors and not r.duplicate)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.rows if r.errors)

    @property
    def duplicates(self) -> int:
        return sum(1 for r in self.rows if r.duplicate)


def _channel_index() -> dict[str, str]:
    index = {}
    for value, label in Channel.choices:
        index[value] = value
        index[str(label)] = value
    from django.utils import translation

    with translation.override("zh-hans"):
        for value, label in Channel.choices:
            index[str(label)] = value
    return index


def _parse_time(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    text = str(value or "").strip().replace("/", "-")
    try:
        moment = (parse_datetime(text) or parse_datetime(text + ":00")) if text else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment


def _check(organization: Organization, filename: str, data: bytes
           ) -> tuple[list[RowReport], list[Incoming], list[str]]:
    table = read_xlsx(data) if data[:4] == b"PK\x03\x04" else read_csv(data)
    if table.file_errors:
        return [], [], table.file_errors
    columns = {}
    for n, title in enumerate(table.header):
        key = HEADERS.get(str(title or "").strip().lower())
        if key:
            columns.setdefault(key, n)
    missing = [k for k in REQUIRED if k not in columns]
    if missing:
        return [], [], [_("Missing columns: %(names)s.") % {"names": ", ".join(missing)}]
    channels = _channel_index()
    accounts = {}
    for account in MediaAccount.objects.filter(organization=organization).select_related(
            "organization", "supervising_organization"):
        accounts[account.platform_account_id] = account
        accounts[account.display_name] = account
    reports, items = [], []
    keys = []
    for number, cells in table.rows:
        def cell(key, cells=cells):
            n = columns.get(key)
            value = cells[n] if n is not None and n < len(cells) else None
            return value

        report = RowReport(row=number)
        channel = channels.get(str(cell("channel") or "").strip())
        if channel is None:
            report.errors.append(_("Channel: choose one of the listed channels."))
        moment = _parse_time(cell("received_at"))
        if moment is None:
            report.errors.append(_("Received at: a date and time such as 2025-03-03 09:30."))
        elif moment > timezone.now():
            report.errors.append(_("The time of receipt cannot be in the future."))
        text = str(cell("text") or "").strip()
        if not text or len(text) > MAX_TEXT:
            report.errors.append(_("Text: required, at most %(n)d characters.")
                                 % {"n": MAX_TEXT})
        account = None
        account_name = str(cell("account") or "").strip()
        if account_name:
            account = accounts.get(account_name)
            if account is None:
                report.errors.append(_("Account: not an account of this organization."))
        pmid = str(cell("platform_message_id") or "").strip()[:128]
        report.text = text[:60]
        reports.append(report)
        if not report.errors:
            items.append(Incoming(organization=organization, channel=channel, text=text,
                                  received_at=moment, account=account,
                                  platform_message_id=pmid if account else "",
                                  citizen_handle=str(cell("citizen") or "")[:120]))
            keys.append((report, account, pmid))
    known = set()
    pairs = [(a.pk, p) for _r, a, p in keys if a is not None and p]
    if pairs:
        known = set(Message.objects.filter(
            account_id__in={a for a, _p in pairs},
            platform_message_id__in={p for _a, p in pairs}).values_list(
            "account_id", "platform_message_id"))
    for report, account, pmid in keys:
        if account is not None and (account.pk, pmid) in known:
            report.duplicate = True
    return reports, items, []


def import_check(*, user, organization: Organization, filename: str, data: bytes) -> ImportReport:
    """The dry run: check every row, write nothing; the file is kept for the
    confirmation."""
    require(user, Action.CHANGE, organization)
    if len(data) > MAX_BYTES:
        raise ValidationFailed(_("Please correct the marked fields."),
                               fields={"file": [_("At most 5 MB.")]})
    reports, _items, file_errors = _check(organization, filename, data)
    stage = secrets.token_urlsafe(16)
    if not file_errors:
        cache.set(f"inbox-import:{user.pk}:{stage}",
                  {"org": organization.pk, "filename": filename, "data": data},
                  STAGE_SECONDS)
    return ImportReport(stage, reports, file_errors)


def import_confirm(*, user, stage: str) -> int:
    """Write the rows of a checked file that passed (duplicates are skipped);
    returns how many messages were created."""
    staged = cache.get(f"inbox-import:{user.pk}:{stage}")
    if staged is None:
        raise ValidationFailed(_("The checked file has expired; upload it again."),
                               code="stage_expired")
    organization = Organization.objects.get(pk=staged["org"])
    role = require(user, Action.CHANGE, organization)
    reports, items, file_errors = _check(organization, staged["filename"], staged["data"])
    if file_errors or not items:
        raise ValidationFailed(_("Nothing to import."), code="nothing")
    raw = raw_payload_store(source=Source.IMPORT, organization=organization,
                            body=staged["data"][:1_000_000].decode("utf-8", "replace")
                            if staged["data"][:4] != b"PK\x03\x04" else "",
                            meta={"filename": staged["filename"], "by": user.pk})
    result = messages_receive(items=items, source=Source.IMPORT, raw_payload=raw,
                              actor=user, role=role)
    from django.db import transaction

    with transaction.atomic():
        audit_record(actor=user, action="inbox.messages_import", target=raw,
                     organization=organization, role=role,
                     after={"file": staged["filename"], "created": len(result.created),
                            "duplicates": result.duplicates,
                            "refused": sum(1 for r in reports if r.errors)})
    cache.delete(f"inbox-import:{user.pk}:{stage}")
    return len(result.created)
