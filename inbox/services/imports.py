"""Importing messages from a spreadsheet (CSV or XLSX), with a dry run like the
ledger's: the upload is checked row by row and nothing is written until the user
confirms the checked file.

SECURITY (issue 8, item 5): the request only checks the file's bounds
(common.spreadsheets), keeps it under VAR_DIR/inbox-imports/<stage>.upload and queues
the Celery task inbox.messages_import_check, which alone parses it (read-only, under
memory and time limits) and records the report and the rows that passed in the stage
(the cache, two hours, under a random key). The confirmation writes those rows; it
never parses the file again."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.models import Organization
from accounts.scoping import Action, require
from audit.services import audit_record
from common import spreadsheets
from common.errors import NotFound, ServiceUnavailable, ValidationFailed
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


def _key(user_id: int, stage: str) -> str:
    return f"inbox-import:{user_id}:{stage}"


def _upload_path(stage: str) -> Path:
    if not stage or not all(c.isalnum() or c in "-_" for c in stage):
        raise NotFound(_("Not found."))  # SECURITY: no path from user input
    folder = Path(settings.VAR_DIR) / "inbox-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{stage}.upload"


def import_stage(*, user, organization: Organization, filename: str, data: bytes) -> str:
    """Keep an uploaded file for the check (after its bounds, unparsed) and queue
    the check. Returns the stage; raises ServiceUnavailable (503) when the broker
    does not answer, the file kept for import_queue() (the stage on the error)."""
    require(user, Action.CHANGE, organization)
    if len(data) > MAX_BYTES:
        raise ValidationFailed(_("Please correct the marked fields."),
                               fields={"file": [_("At most 5 MB.")]})
    spreadsheets.spreadsheet_check(data)
    stage = secrets.token_urlsafe(16)
    _upload_path(stage).write_bytes(data)
    cache.set(_key(user.pk, stage), {"org": organization.pk, "filename": filename,
                                     "state": "queued"}, STAGE_SECONDS)
    try:
        import_queue(user=user, stage=stage)
    except ServiceUnavailable as exc:
        exc.stage = stage  # the page offers the retry of this kept file
        raise
    return stage


def import_queue(*, user, stage: str) -> None:
    """Queue the check of a kept file (once; again only after the broker failed)."""
    from inbox.tasks import messages_import_check

    record = cache.get(_key(user.pk, stage))
    if record is None:
        raise ValidationFailed(_("The checked file has expired; upload it again."),
                               code="stage_expired")
    if record["state"] != "queued" or record.get("queued"):
        return
    # Written before publishing: once published, only the worker writes the stage.
    cache.set(_key(user.pk, stage), {**record, "queued": True, "queue_failed": False},
              STAGE_SECONDS)
    try:
        spreadsheets.parse_queue(messages_import_check, stage, user.pk)
    except ServiceUnavailable:
        cache.set(_key(user.pk, stage),
                  {**record, "queued": False, "queue_failed": True}, STAGE_SECONDS)
        raise


def import_check_run(*, user, stage: str) -> None:
    """The check (Celery task only): parse the kept file under the limits, record
    the report and the rows that passed. Writes no message."""
    record = cache.get(_key(user.pk, stage))
    if record is None or record["state"] not in ("queued", "failed"):
        return
    organization = Organization.objects.get(pk=record["org"])
    require(user, Action.CHANGE, organization)
    data = _upload_path(stage).read_bytes()
    try:
        spreadsheets.spreadsheet_check(data)
        with spreadsheets.parse_memory_limit():
            reports, items, file_errors = _check(organization, record["filename"], data)
    except spreadsheets.SpreadsheetRefused as exc:
        reports, items, file_errors = [], [], [str(exc.message)]
    record.update(
        state="checked",
        rows=[asdict(r) for r in reports],
        file_errors=[str(e) for e in file_errors],
        items=[{"channel": i.channel, "text": i.text,
                "received_at": i.received_at.isoformat(),
                "account": i.account.pk if i.account else None,
                "platform_message_id": i.platform_message_id,
                "citizen_handle": i.citizen_handle} for i in items],
    )
    cache.set(_key(user.pk, stage), record, STAGE_SECONDS)


def import_fail(*, user, stage: str, message: str) -> None:
    record = cache.get(_key(user.pk, stage))
    if record is not None:
        record.update(state="failed", rows=[], items=[], file_errors=[str(message)])
        cache.set(_key(user.pk, stage), record, STAGE_SECONDS)


def import_report(*, user, stage: str) -> dict | None:
    """The stage for the page: state, queue_failed, and once checked the report."""
    record = cache.get(_key(user.pk, stage))
    if record is None:
        return None
    report = None
    if record["state"] in ("checked", "failed"):
        report = ImportReport(stage, [RowReport(**r) for r in record["rows"]],
                              record["file_errors"])
    return {"stage": stage, "state": record["state"], "report": report,
            "queue_failed": record.get("queue_failed", False)}


def import_check(*, user, organization: Organization, filename: str, data: bytes
                 ) -> ImportReport | None:
    """Stage and queue the dry run; the report once the check has run (at once with
    an eager Celery), else None."""
    stage = import_stage(user=user, organization=organization, filename=filename,
                         data=data)
    return import_report(user=user, stage=stage)["report"]


def import_confirm(*, user, stage: str) -> int:
    """Write the rows of a checked file that passed (duplicates are skipped);
    returns how many messages were created. Uses the rows the check recorded: the
    file is not parsed here."""
    staged = cache.get(_key(user.pk, stage))
    if staged is None or staged.get("state") != "checked":
        raise ValidationFailed(_("The checked file has expired; upload it again."),
                               code="stage_expired")
    organization = Organization.objects.get(pk=staged["org"])
    role = require(user, Action.CHANGE, organization)
    if staged["file_errors"] or not staged["items"]:
        raise ValidationFailed(_("Nothing to import."), code="nothing")
    accounts = {a.pk: a for a in MediaAccount.objects.filter(
        organization=organization,
        pk__in={i["account"] for i in staged["items"] if i["account"]},
    ).select_related("organization", "supervising_organization")}
    if any(i["account"] and i["account"] not in accounts for i in staged["items"]):
        raise ValidationFailed(_("The checked file has expired; upload it again."),
                               code="stage_expired")
    items = [Incoming(organization=organization, channel=i["channel"], text=i["text"],
                      received_at=datetime.fromisoformat(i["received_at"]),
                      account=accounts.get(i["account"]),
                      platform_message_id=i["platform_message_id"],
                      citizen_handle=i["citizen_handle"]) for i in staged["items"]]
    reports = staged["rows"]
    path = _upload_path(stage)
    data = path.read_bytes() if path.exists() else b""
    raw = raw_payload_store(source=Source.IMPORT, organization=organization,
                            body=data[:1_000_000].decode("utf-8", "replace")
                            if not spreadsheets.is_xlsx(data) else "",
                            meta={"filename": staged["filename"], "by": user.pk})
    result = messages_receive(items=items, source=Source.IMPORT, raw_payload=raw,
                              actor=user, role=role)
    from django.db import transaction

    with transaction.atomic():
        audit_record(actor=user, action="inbox.messages_import", target=raw,
                     organization=organization, role=role,
                     after={"file": staged["filename"], "created": len(result.created),
                            "duplicates": result.duplicates,
                            "refused": sum(1 for r in reports if r["errors"])})
    cache.delete(_key(user.pk, stage))
    path.unlink(missing_ok=True)
    return len(result.created)
