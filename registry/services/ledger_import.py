"""Import of media accounts from the spreadsheets offices already keep (XLSX, CSV).

Two steps, nothing written before the second:

1. `import_stage(...)` checks the file's bounds without parsing it
   (common.spreadsheets) and keeps it under VAR_DIR/imports/<uuid>.upload with a
   stage record <uuid>.json owned by the uploader; `import_check(...)`, only in the
   Celery task ledger_import_check (reporting progress to the cache), reads it
   read-only under a memory limit and records every bad row with its reasons and
   the normalized good rows.
2. `media_account_import(...)` re-validates the good rows against the database and
   creates them all in one transaction with one audit event each, or nothing.

A bad file never raises anything but ApplicationError subclasses (400/404/409).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Organization, Role
from accounts.scoping import Action, Domain, memberships_of, roles_of, scope_for
from audit.services import audit_record_bulk
from common import spreadsheets
from common.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    ValidationFailed,
)
from registry import roles as registry_roles
from registry.derive import derive_supervising_many
from registry.models import (
    RELEASED_STATUSES,
    AccountCategory,
    AccountOrigin,
    AccountStatus,
    FilingKind,
    MediaAccount,
    Platform,
    VerificationStatus,
)
from registry.services.accounts import parse_profile_url

MAX_BYTES = 10 * 1024 * 1024  # also SPREADSHEET_MAX_BYTES (the lower one holds)
IMPORT_ACTION = "media_account.imported"
# Roles that may register accounts by import, from the one table of registry rights
# (registry.roles): a supervisor records existing accounts as they are (stocktake);
# the sponsoring organization's filers import pending accounts with opening filings.
# Outsourced operators, leaders and liaisons may not: the registry is management,
# which cannot be outsourced, and every new account is filed (DOMAIN.md rules 1, 32).
IMPORT_ROLES = registry_roles.IMPORT_ROLES
STOCKTAKE = "stocktake"
FILED = "filed"


def max_rows() -> int:
    return int(getattr(settings, "REGISTRY_IMPORT_MAX_ROWS", 20000))


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header of the template
    header_en: str
    required: bool
    aliases: tuple[str, ...] = ()
    hint: str = ""


COLUMNS = (
    Column(
        "organization",
        "单位名称",
        "Organization",
        True,
        (
            "单位",
            "主办单位",
            "开设单位",
            "organization name",
            "sponsoring organization",
        ),
    ),
    Column("platform", "平台", "Platform", True, ("平台名称", "platform name")),
    Column(
        "display_name",
        "账号名称",
        "Display name",
        True,
        ("名称", "账号", "account name", "name"),
    ),
    Column(
        "platform_account_id",
        "平台账号ID",
        "Platform account id",
        False,
        ("账号id", "平台id", "账号编号", "account id", "id"),
    ),
    Column(
        "profile_url",
        "主页链接",
        "Profile URL",
        False,
        ("链接", "主页地址", "网址", "url", "profile"),
    ),
    Column("category", "类别", "Category", False, ("账号类别", "类型")),
    Column(
        "verification",
        "认证状态",
        "Verification",
        False,
        ("实名认证", "认证", "real-name verification"),
    ),
    Column("status", "状态", "Status", False, ("账号状态", "运行状态")),
    Column("followers", "粉丝数", "Followers", False, ("粉丝", "粉丝量", "关注数")),
    Column(
        "opened_on",
        "开通日期",
        "Opened on",
        False,
        ("开设日期", "开通时间", "开设时间", "opened"),
    ),
    Column(
        "last_post_at",
        "最近发布日期",
        "Last post",
        False,
        ("最近发布", "最后更新日期", "最近更新", "最后发布", "last post date"),
    ),
)
BY_KEY = {c.key: c for c in COLUMNS}

# Accepted spellings of choice values besides the code and the English and Chinese
# labels (offices write these in their own spreadsheets).
CHOICE_ALIASES = {
    "category": (
        AccountCategory,
        {
            "institutional": ("机构", "机构账号", "政务机构", "单位", "单位账号"),
            "official": ("公务人员", "公职人员", "公务人员账号"),
            "leader": ("领导", "领导公务", "领导账号", "领导公务账号"),
        },
    ),
    "verification": (
        VerificationStatus,
        {
            "verified": ("已认证", "已实名", "是", "yes", "认证"),
            "pending": ("认证中", "待认证", "审核中"),
            "unverified": ("未认证", "未实名", "否", "no"),
        },
    ),
    "status": (
        AccountStatus,
        {
            "pending": ("待备案", "未备案"),
            "active": ("正常", "运行", "运营", "运营中", "在用", "已备案", "正常运行"),
            "rectifying": ("整改", "整改中"),
            "suspended": ("关停", "暂停", "已关停", "停更"),
            "cancelled": ("注销", "已注销"),
        },
    ),
}
DEFAULTS = {
    "category": AccountCategory.INSTITUTIONAL.value,
    "verification": VerificationStatus.PENDING.value,
    "status": AccountStatus.ACTIVE.value,
}


class ImportFileError(ValidationFailed):
    code = "import_file_invalid"


# --- the stage record -----------------------------------------------------------------
def _dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _paths(stage_id: str) -> tuple[Path, Path]:
    try:
        clean = str(uuid.UUID(str(stage_id)))  # SECURITY: no path from user input
    except ValueError as exc:
        raise NotFound(_("Not found.")) from exc
    return _dir() / f"{clean}.json", _dir() / f"{clean}.upload"


def progress_key(stage_id: str) -> str:
    return f"ledger-import:{stage_id}"


def _write(stage: dict) -> None:
    record, _upload = _paths(stage["id"])
    tmp = record.with_suffix(".tmp")
    tmp.write_text(json.dumps(stage, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, record)


def stage_load(stage_id: str, user) -> dict:
    """The stage record, if it exists and belongs to `user` (404 otherwise)."""
    record, _upload = _paths(stage_id)
    try:
        stage = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NotFound(_("Not found.")) from exc
    if stage.get("owner_id") != getattr(user, "pk", None):
        raise NotFound(_("Not found."))
    return stage


def stage_progress(stage: dict) -> dict:
    """What the progress endpoint answers."""
    live = cache.get(progress_key(stage["id"])) or {}
    total = live.get("total", stage.get("total", 0))
    processed = live.get("processed", stage.get("processed", 0))
    if stage["state"] in ("checked", "imported", "failed"):
        processed = total
    return {
        "id": stage["id"],
        "state": stage["state"],
        "total": total,
        "processed": processed,
        "percent": int(processed * 100 / total)
        if total
        else (100 if stage["state"] != "queued" else 0),
        "good": len(stage.get("good", [])),
        "bad": len({e["row"] for e in stage.get("errors", [])}),
        "imported": stage.get("imported", 0),
    }


def import_roles_check(user) -> None:
    if scope_for(user, Action.CHANGE, Domain.BUSINESS).is_empty:
        if scope_for(user, Action.VIEW, Domain.BUSINESS).is_empty:
            raise NotFound(_("Not found."))
        raise PermissionDenied(_("You may not register accounts."))
    if not roles_of(user) & IMPORT_ROLES:
        raise PermissionDenied(_("You may not register accounts."))


def import_stage(*, user, filename: str, data: bytes) -> dict:
    """Keep an uploaded file for checking. Writes no database row."""
    import_roles_check(user)
    if not data:
        raise ImportFileError(
            _("The file is empty."), fields={"file": [_("The file is empty.")]}
        )
    if len(data) > MAX_BYTES:
        message = _("The file is larger than %(n)d MB.") % {
            "n": MAX_BYTES // (1024 * 1024)
        }
        raise ImportFileError(message, fields={"file": [message]})
    kind = _kind_of(filename, data)
    # SECURITY: the bounds are checked before the file is kept; the parse happens
    # only in the task (ledger_import_check), which checks them again.
    spreadsheets.spreadsheet_check(data)
    stage = {
        "id": str(uuid.uuid4()),
        "owner_id": user.pk,
        "filename": os.path.basename(filename or "upload")[:200],
        "kind": kind,
        "size": len(data),
        "created_at": timezone.now().isoformat(),
        "state": "queued",
        "total": 0,
        "processed": 0,
        "file_errors": [],
        "warnings": [],
        "errors": [],
        "good": [],
    }
    _record, upload = _paths(stage["id"])
    upload.write_bytes(data)
    _write(stage)
    return stage


def _kind_of(filename: str, data: bytes) -> str:
    name = (filename or "").lower()
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or name.endswith(".xls"):
        message = _(
            "This is an old Excel file (.xls). Save it as .xlsx or .csv and upload again."
        )
        raise ImportFileError(message, fields={"file": [message]})
    if name.endswith(".xlsx"):
        message = _("This file is not a readable .xlsx workbook.")
        raise ImportFileError(message, fields={"file": [message]})
    return "csv"


# --- reading files --------------------------------------------------------------------
@dataclass
class Table:
    header_row: int = 0
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, list]] = field(
        default_factory=list
    )  # (sheet row number, cells)
    merged: dict[int, list[str]] = field(default_factory=dict)  # row -> merged ranges
    file_errors: list[str] = field(default_factory=list)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_xlsx(data: bytes) -> Table:
    """The first sheet, read-only and bounded (common.spreadsheets.xlsx_rows).
    Caller: a Celery task, after spreadsheet_check() and under parse_memory_limit()."""
    from openpyxl.utils.exceptions import InvalidFileException
    from openpyxl.worksheet.cell_range import CellRange

    table = Table()
    limit = max_rows()
    try:
        for number, cells in enumerate(spreadsheets.xlsx_rows(data), start=1):
            if all(_blank(v) for v in cells):
                continue
            if not table.header:
                table.header_row = number
                table.header = ["" if v is None else str(v) for v in cells]
                continue
            table.rows.append((number, cells))
            if len(table.rows) > limit:
                table.file_errors.append(
                    _("The file has more than %(n)d rows; split it.") % {"n": limit}
                )
                return table
        merged_ranges = spreadsheets.xlsx_merged_ranges(data)
    except spreadsheets.SpreadsheetRefused as exc:
        table.file_errors.append(str(exc.message))
        return table
    except (
        InvalidFileException,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        OSError,
        TypeError,
        IndexError,
    ) as exc:
        table.file_errors.append(
            _("This file is not a readable .xlsx workbook (%(e)s).")
            % {"e": type(exc).__name__}
        )
        return table
    for coord in merged_ranges:
        merged = CellRange(coord)
        if merged.min_row <= table.header_row <= merged.max_row:
            table.file_errors.append(
                _(
                    "The header row has merged cells (%(range)s); give every column its own header."
                )
                % {"range": merged.coord}
            )
            continue
        for row in range(merged.min_row, merged.max_row + 1):
            table.merged.setdefault(row, []).append(merged.coord)
    return table


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (what Chinese Excel saves as CSV)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    message = _(
        "The file's text encoding is neither UTF-8 nor GB18030; save it as CSV UTF-8."
    )
    raise ImportFileError(message, fields={"file": [message]})


def read_csv(data: bytes) -> Table:
    table = Table()
    try:
        text = decode_csv(data)
    except ImportFileError as exc:
        table.file_errors.append(str(exc.message))
        return table
    if "\x00" in text:
        table.file_errors.append(_("This is not a text (CSV) file."))
        return table
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;，")
    except csv.Error:
        dialect = csv.excel
    limit = max_rows()
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        for number, cells in enumerate(reader, start=1):
            if all(_blank(v) for v in cells):
                continue
            if not table.header:
                table.header_row = number
                table.header = cells
                continue
            table.rows.append((number, cells))
            if len(table.rows) > limit:
                table.file_errors.append(
                    _("The file has more than %(n)d rows; split it.") % {"n": limit}
                )
                return table
    except csv.Error as exc:
        table.file_errors.append(_("The CSV file is malformed: %(e)s") % {"e": exc})
    return table


# --- headers ---------------------------------------------------------------------------
def _norm_header(text: str) -> str:
    text = str(text or "").strip().lower()
    text = re.sub(r"[（(].*?[)）]", "", text)  # "(必填)", "(required)"
    return re.sub(r"[\s*＊_:：]", "", text)


def _alias_table() -> dict[str, str]:
    table = {}
    for column in COLUMNS:
        for name in (column.header, column.header_en, column.key, *column.aliases):
            table[_norm_header(name)] = column.key
    return table


def map_header(header: list[str]) -> tuple[dict[str, int], list[str], list[str]]:
    """Column index per field, fatal header errors, and warnings (ignored columns)."""
    aliases = _alias_table()
    found: dict[str, int] = {}
    errors, warnings = [], []
    for index, raw in enumerate(header):
        if _blank(raw):
            continue
        key = aliases.get(_norm_header(raw))
        if key is None:
            warnings.append(
                _("Column “%(h)s” is not known and was ignored.") % {"h": raw}
            )
        elif key in found:
            errors.append(
                _("Column “%(h)s” appears twice.") % {"h": BY_KEY[key].header}
            )
        else:
            found[key] = index
    missing = [c for c in COLUMNS if c.required and c.key not in found]
    for column in missing:
        errors.append(
            _("Required column “%(zh)s” (%(en)s) is missing.")
            % {"zh": column.header, "en": column.header_en}
        )
    if "platform_account_id" not in found and "profile_url" not in found:
        errors.append(
            _("Either column “%(id)s” or column “%(url)s” is needed.")
            % {
                "id": BY_KEY["platform_account_id"].header,
                "url": BY_KEY["profile_url"].header,
            }
        )
    return found, errors, warnings


# --- values ---------------------------------------------------------------------------
def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_number(value) -> int:
    """Followers: 12345, "12,345", "1.2万", "3亿"; whole and not negative."""
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        number = int(value)
    else:
        text = str(value).strip().replace(",", "").replace("，", "").replace(" ", "")
        factor = 1
        if text.endswith("万"):
            factor, text = 10_000, text[:-1]
        elif text.endswith("亿"):
            factor, text = 100_000_000, text[:-1]
        if not re.fullmatch(r"\d+(\.\d+)?", text):
            raise ValueError
        scaled = float(text) * factor
        if factor == 1 and "." in text and not scaled.is_integer():
            raise ValueError
        number = int(round(scaled))
    if number < 0 or number > 2_147_483_647:
        raise ValueError
    return number


_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%Y年%m月%d日",
    "%Y%m%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
)


def parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError


def _choice_table(key: str) -> dict[str, str]:
    choices, extra = CHOICE_ALIASES[key]
    table = {}
    for value, label in choices.choices:
        table[value.lower()] = value
        with translation.override("en"):
            table[str(label).lower()] = value
        with translation.override("zh-hans"):
            table[str(label).lower()] = value
    for value, words in extra.items():
        for word in words:
            table[word.lower()] = value
    return table


# --- checking -------------------------------------------------------------------------
@dataclass
class Context:
    """What row checks look up, loaded with a constant number of queries."""

    user: object
    platforms: list
    platform_by_name: dict
    orgs_by_name: dict  # name -> [Organization]
    choice_tables: dict


def _platform_index(platforms) -> dict[str, Platform]:
    index = {}
    for platform in platforms:
        for name in (platform.code, platform.name, platform.name_en):
            if name:
                index.setdefault(name.strip().lower(), platform)
    return index


def _load_orgs(user, names: set[str]) -> dict[str, list[Organization]]:
    """Organizations the user may register accounts for, by name and short name."""
    scope = scope_for(user, Action.CHANGE, Domain.BUSINESS)
    found: dict[str, list[Organization]] = {}
    names = {n for n in names if n}
    if not names:
        return found
    from django.db.models import Q

    qs = Organization.objects.filter(scope.q("path")).filter(
        Q(name__in=names) | Q(short_name__in=names), is_active=True
    )
    for org in qs:
        for name in {org.name, org.short_name} & names:
            found.setdefault(name, []).append(org)
    return found


def _error(errors: list, row: int, column: str, value, message: str) -> None:
    errors.append(
        {
            "row": row,
            "column": BY_KEY[column].header if column in BY_KEY else column,
            "value": _text(value)[:120],
            "message": str(message),
        }
    )


def check_row(
    ctx: Context, number: int, cells: list, columns: dict[str, int]
) -> tuple[dict | None, list]:
    """One row: its normalized values, or None with every problem found."""
    errors: list = []

    def cell(key):
        index = columns.get(key)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    for key in ("organization", "platform", "display_name"):
        if _blank(cell(key)):
            _error(errors, number, key, "", _("This field is required."))

    org = None
    org_name = _text(cell("organization"))
    if org_name:
        matches = ctx.orgs_by_name.get(org_name, [])
        if not matches:
            _error(
                errors,
                number,
                "organization",
                org_name,
                _("No organization with this name in your jurisdiction."),
            )
        elif len(matches) > 1:
            _error(
                errors,
                number,
                "organization",
                org_name,
                _(
                    "Several organizations in your jurisdiction have this name; use the full name."
                ),
            )
        else:
            org = matches[0]
            if import_mode(ctx.user, org) is None:
                _error(
                    errors,
                    number,
                    "organization",
                    org_name,
                    _(
                        "You may not register accounts for this organization: a "
                        "supervisor above it records existing accounts, its operators "
                        "or department head file new ones."
                    ),
                )
                org = None

    platform = None
    platform_name = _text(cell("platform"))
    if platform_name:
        platform = ctx.platform_by_name.get(platform_name.lower())
        if platform is None:
            _error(
                errors,
                number,
                "platform",
                platform_name,
                _(
                    "Unknown platform (use a platform's name or code from the template)."
                ),
            )

    display_name = _text(cell("display_name"))
    if len(display_name) > 100:
        _error(
            errors,
            number,
            "display_name",
            display_name,
            _("Longer than 100 characters."),
        )

    account_id = _text(cell("platform_account_id"))
    url = _text(cell("profile_url"))
    if account_id and (len(account_id) > 128 or re.search(r"\s", account_id)):
        _error(
            errors,
            number,
            "platform_account_id",
            account_id,
            _("An account id has at most 128 characters and no spaces."),
        )
    if url and platform is not None:
        try:
            parsed = parse_profile_url(url, platform=platform, platforms=ctx.platforms)
        except ValidationFailed as exc:
            _error(errors, number, "profile_url", url, exc.message)
        else:
            if parsed.account_id and account_id and parsed.account_id != account_id:
                _error(
                    errors,
                    number,
                    "platform_account_id",
                    account_id,
                    _("Does not match the id in the profile URL (%(id)s).")
                    % {"id": parsed.account_id},
                )
            account_id = account_id or parsed.account_id
            url = parsed.profile_url
    elif url and not re.match(r"^https?://\S+$", url):
        _error(
            errors,
            number,
            "profile_url",
            url,
            _("This is not a web address (it must start with http:// or https://)."),
        )
    if (
        not account_id
        and platform is not None
        and not any(
            e["column"]
            in (BY_KEY["profile_url"].header, BY_KEY["platform_account_id"].header)
            for e in errors
        )
    ):
        _error(
            errors,
            number,
            "platform_account_id",
            "",
            _("Give the platform account id or a profile URL it can be read from."),
        )

    values = {}
    for key in ("category", "verification", "status"):
        raw = _text(cell(key))
        if not raw:
            values[key] = DEFAULTS[key]
            continue
        value = ctx.choice_tables[key].get(raw.lower())
        if value is None:
            allowed = "、".join(
                str(label) for _v, label in CHOICE_ALIASES[key][0].choices
            )
            _error(
                errors,
                number,
                key,
                raw,
                _("Unknown value; use one of: %(v)s.") % {"v": allowed},
            )
        values[key] = value

    followers = 0
    if not _blank(cell("followers")):
        try:
            followers = parse_number(cell("followers"))
        except (ValueError, OverflowError):
            _error(
                errors,
                number,
                "followers",
                cell("followers"),
                _("Not a whole number of followers."),
            )

    dates = {}
    for key in ("opened_on", "last_post_at"):
        if _blank(cell(key)):
            dates[key] = None
            continue
        try:
            parsed_date = parse_date(cell(key))
        except ValueError:
            _error(
                errors,
                number,
                key,
                cell(key),
                _("Not a date (write it as 2024-03-15)."),
            )
            continue
        if parsed_date > timezone.localdate() or parsed_date.year < 1990:
            _error(
                errors,
                number,
                key,
                cell(key),
                _("The date is in the future or before 1990."),
            )
            continue
        dates[key] = parsed_date.isoformat()

    mode = import_mode(ctx.user, org) if org is not None else None
    if mode == FILED and values.get("status") not in (
        None, AccountStatus.PENDING, AccountStatus.ACTIVE
    ):
        _error(
            errors,
            number,
            "status",
            _text(cell("status")),
            _(
                "An operator's import files the opening of new accounts; accounts in "
                "other statuses are recorded by a supervisor's stocktake."
            ),
        )
    if errors:
        return None, errors
    if mode == FILED:
        # DOMAIN.md rules 1 and 32: pending until the opening filing is approved.
        values["status"] = AccountStatus.PENDING.value
    return {
        "row": number,
        "mode": mode,
        "organization_id": org.pk,
        "organization": org.name,
        "platform_id": platform.pk,
        "platform": platform.name,
        "display_name": display_name,
        "platform_account_id": account_id,
        "profile_url": url,
        **values,
        "followers": followers,
        **dates,
    }, []


def import_mode(user, org: Organization) -> str | None:
    """How `user` registers accounts of `org` by import (registry.roles): a
    supervisor at or above it records them as they are (stocktake); the
    organization's filers import them pending with opening filings; anyone else
    not at all. No query (the user's memberships are cached)."""
    for m in memberships_of(user):
        if m.role in registry_roles.IMPORT_STOCKTAKE_ROLES and org.path.startswith(
            m.organization.path
        ):
            return STOCKTAKE
    if roles_of(user, org) & registry_roles.IMPORT_FILED_ROLES:
        return FILED
    return None


def import_role(user, org: Organization, mode: str) -> str:
    """The role code the audit trail records for an import row."""
    if mode == STOCKTAKE:
        return Role.SUPERVISOR
    held = roles_of(user, org) & registry_roles.IMPORT_FILED_ROLES
    return sorted(held)[0] if held else ""


# Statuses under which an account holds its organization's place on a platform.
_HOLDS_PLACE = (AccountStatus.ACTIVE, AccountStatus.RECTIFYING, AccountStatus.PENDING)


def one_per_platform_errors(rows: list[dict]) -> dict[int, str]:
    """DOMAIN.md rule 2, per row: an organization keeps one account per platform
    unless the supervising organization recorded an exemption. A row is an error
    when its organization already has a live (or pending) account on the platform,
    or an earlier row of the file gives it one. Two queries for any number of rows.
    Returns {row number: message}."""
    from registry.models import AccountExemption, FilingStatus

    wanted = [r for r in rows if r["status"] in _HOLDS_PLACE]
    if not wanted:
        return {}
    org_ids = {r["organization_id"] for r in wanted}
    existing: dict[tuple[int, int], str] = {}
    for org_id, platform_id, name in (
        MediaAccount.objects.filter(organization_id__in=org_ids)
        .filter(
            Q(status__in=(AccountStatus.ACTIVE, AccountStatus.RECTIFYING))
            | Q(status=AccountStatus.PENDING, filings__status=FilingStatus.SUBMITTED)
        )
        .values_list("organization_id", "platform_id", "display_name")
    ):
        existing.setdefault((org_id, platform_id), name)
    exempt = set(
        AccountExemption.objects.active()
        .filter(organization_id__in=org_ids)
        .values_list("organization_id", "platform_id")
    )
    errors = {}
    for r in sorted(wanted, key=lambda r: r["row"]):
        key = (r["organization_id"], r["platform_id"])
        if key in exempt:
            continue
        if key in existing:
            errors[r["row"]] = str(
                _(
                    "%(org)s already has an account on %(platform)s (%(name)s). An "
                    "organization keeps one account per platform unless the supervising "
                    "organization records an exemption."
                )
                % {"org": r["organization"], "platform": r["platform"],
                   "name": existing[key]}
            )
        else:
            existing[key] = r["display_name"]
    return errors


def check_table(
    user, table: Table, progress: Callable[[int, int], None] | None = None
) -> dict:
    """Every bad row with its reasons, and the good rows, for a read table."""
    result = {
        "file_errors": list(table.file_errors),
        "warnings": [],
        "errors": [],
        "good": [],
    }
    if table.file_errors:
        return result
    if not table.header:
        result["file_errors"].append(_("The file has no rows."))
        return result
    columns, header_errors, warnings = map_header(table.header)
    result["warnings"] = warnings
    if header_errors:
        result["file_errors"] = header_errors
        return result
    org_index = columns["organization"]
    names = {
        _text(cells[org_index]) for _n, cells in table.rows if org_index < len(cells)
    }
    platforms = list(Platform.objects.filter(is_active=True))
    ctx = Context(
        user=user,
        platforms=platforms,
        platform_by_name=_platform_index(platforms),
        orgs_by_name=_load_orgs(user, names),
        choice_tables={key: _choice_table(key) for key in CHOICE_ALIASES},
    )
    seen: dict[tuple, int] = {}
    seen_rows: dict[tuple, int] = {}
    total = len(table.rows)
    good = []
    for done, (number, cells) in enumerate(table.rows, start=1):
        row_errors = []
        for coord in table.merged.get(number, []):
            row_errors.append(
                {
                    "row": number,
                    "column": "",
                    "value": coord,
                    "message": str(
                        _(
                            "Merged cells (%(range)s): unmerge them and fill in every row."
                        )
                        % {"range": coord}
                    ),
                }
            )
        fingerprint = tuple(_text(c) for c in cells)
        if fingerprint in seen_rows:
            row_errors.append(
                {
                    "row": number,
                    "column": "",
                    "value": "",
                    "message": str(
                        _("Duplicate of row %(n)d.") % {"n": seen_rows[fingerprint]}
                    ),
                }
            )
        else:
            seen_rows[fingerprint] = number
        values, errors = check_row(ctx, number, cells, columns)
        row_errors.extend(errors)
        if values is not None and not row_errors:
            key = (values["platform_id"], values["platform_account_id"])
            if key in seen:
                row_errors.append(
                    {
                        "row": number,
                        "column": BY_KEY["platform_account_id"].header,
                        "value": values["platform_account_id"],
                        "message": str(
                            _("The same platform account is already on row %(n)d.")
                            % {"n": seen[key]}
                        ),
                    }
                )
            else:
                seen[key] = number
        if row_errors:
            result["errors"].extend(row_errors)
        else:
            good.append(values)
        if progress and (done % 250 == 0 or done == total):
            progress(done, total)
    registered = registered_conflicts(user, good)
    placed = one_per_platform_errors(
        [v for v in good if (v["platform_id"], v["platform_account_id"]) not in registered]
    )
    leaderless = _leaderless_organizations(user, good)
    for values in good:
        found = registered.get((values["platform_id"], values["platform_account_id"]))
        if found is None and values["organization_id"] in leaderless:
            result["errors"].append(
                {
                    "row": values["row"],
                    "column": BY_KEY["organization"].header,
                    "value": values["organization"],
                    "message": leaderless[values["organization_id"]],
                }
            )
        elif found is None and values["row"] in placed:
            result["errors"].append(
                {
                    "row": values["row"],
                    "column": BY_KEY["platform"].header,
                    "value": values["platform"],
                    "message": placed[values["row"]],
                }
            )
        elif found is not None:
            result["errors"].append(
                {
                    "row": values["row"],
                    "column": BY_KEY["platform_account_id"].header,
                    "value": values["platform_account_id"],
                    "message": found,
                }
            )
        else:
            result["good"].append(values)
    result["errors"].sort(key=lambda e: e["row"])
    return result


def _leaderless_organizations(user, rows: list[dict]) -> dict[int, str]:
    """DOMAIN.md rule 8: an opening filed by import is signed off by the sponsoring
    organization's principal leader; rows of an organization without one are errors
    (they could never be decided). One query."""
    from registry.services import signoff

    if not signoff.needs_signoff(FilingKind.OPEN):
        return {}
    org_ids = {v["organization_id"] for v in rows if v.get("mode") == FILED}
    if not org_ids:
        return {}
    return signoff.require_leaders_many(
        list(Organization.objects.filter(pk__in=org_ids)), filer=user
    )


def registered_conflicts(user, rows: list[dict]) -> dict[tuple, str]:
    """Rows whose platform account is already registered (not cancelled), with the
    message to show. One query per platform and 1,000 ids."""
    by_platform: dict[int, list[str]] = {}
    for values in rows:
        by_platform.setdefault(values["platform_id"], []).append(
            values["platform_account_id"]
        )
    scope = scope_for(user, Action.VIEW, Domain.BUSINESS)
    conflicts = {}
    for platform_id, ids in by_platform.items():
        for start in range(0, len(ids), 1000):
            existing = (
                MediaAccount.objects.filter(
                    platform_id=platform_id,
                    platform_account_id__in=ids[start : start + 1000],
                )
                .exclude(status__in=RELEASED_STATUSES)
                .values_list(
                    "platform_account_id",
                    "display_name",
                    "org_path",
                    "organization__name",
                )
            )
            for account_id, name, path, org_name in existing:
                if scope.contains_path(path):
                    message = _("Already registered: %(name)s (%(org)s).") % {
                        "name": name,
                        "org": org_name,
                    }
                else:
                    # SECURITY: the unique rule is national; do not say by whom.
                    message = _("Already registered by another organization.")
                conflicts[(platform_id, account_id)] = str(message)
    return conflicts


def import_check(*, stage_id: str, user, report_progress: bool = True) -> dict:
    """Read and check a staged file; record the result in the stage. Writes no row."""
    stage = stage_load(stage_id, user)
    if stage["state"] == "imported":
        raise Conflict(_("This file has already been imported."))
    _record, upload = _paths(stage_id)
    stage["state"] = "running"
    _write(stage)

    def progress(done, total):
        if report_progress:
            cache.set(progress_key(stage_id), {"processed": done, "total": total}, 3600)

    try:
        data = upload.read_bytes()
        spreadsheets.spreadsheet_check(data)
        with spreadsheets.parse_memory_limit():
            table = read_xlsx(data) if stage["kind"] == "xlsx" else read_csv(data)
        stage["total"] = len(table.rows)
        progress(0, stage["total"])
        result = check_table(user, table, progress)
    except (ImportFileError, spreadsheets.SpreadsheetRefused) as exc:
        result = {
            "file_errors": [str(exc.message)],
            "warnings": [],
            "errors": [],
            "good": [],
        }
    stage.update(result)
    stage["processed"] = stage["total"]
    stage["state"] = "checked"
    stage["checked_at"] = timezone.now().isoformat()
    _write(stage)
    cache.delete(progress_key(stage_id))
    return stage


def import_queue(*, stage_id: str, user) -> dict:
    """Queue the check of a kept file (the upload, or the retry after the broker was
    down). Raises ServiceUnavailable (503) when the broker does not answer; the file
    stays kept and the stage says so, for the retry button. A stage already queued
    successfully, or past queueing, is left alone (no second check)."""
    from registry.tasks_ledger import ledger_import_check

    stage = stage_load(stage_id, user)
    if stage["state"] != "queued" or stage.get("queued_at"):
        return stage
    # Written before publishing: once published, only the worker writes the stage.
    stage["queued_at"] = timezone.now().isoformat()
    stage["queue_failed"] = False
    _write(stage)
    try:
        spreadsheets.parse_queue(ledger_import_check, stage_id, user.pk)
    except ServiceUnavailable:
        stage["queued_at"] = None
        stage["queue_failed"] = True
        _write(stage)
        raise
    return stage_load(stage_id, user)  # an eager Celery has already checked it


def import_fail(*, stage_id: str, user, message: str) -> None:
    """Mark a stage whose check crashed (the worker logs the exception)."""
    try:
        stage = stage_load(stage_id, user)
    except NotFound:
        return
    stage["state"] = "failed"
    stage["file_errors"] = [message]
    _write(stage)


def stages_purge(*, older_than_hours: int = 48) -> int:
    """Remove stage records and uploads older than `older_than_hours` (a sweep: safe
    to run twice, touches only files). Returns how many files were removed."""
    import time as _time

    cutoff = _time.time() - older_than_hours * 3600
    removed = 0
    for path in _dir().iterdir():
        if path.suffix not in (".json", ".upload", ".tmp"):
            continue
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


# --- the import -----------------------------------------------------------------------
def _after(account: MediaAccount, platform_code: str) -> dict:
    return {
        "display_name": account.display_name,
        "platform": platform_code,
        "platform_account_id": account.platform_account_id,
        "profile_url": account.profile_url,
        "organization": account.organization_id,
        "supervising_organization": account.supervising_organization_id,
        "category": account.category,
        "verification": account.verification,
        "status": account.status,
        "followers": account.followers,
        "opened_on": account.opened_on,
    }


def media_account_import(*, stage_id: str, actor) -> dict:
    """Create the good rows of a checked stage in one transaction, or nothing.

    Re-validates first: the organizations must still be in the actor's scope and no
    platform account may have been registered meanwhile; otherwise Conflict (409)
    and nothing is written.
    """
    import_roles_check(actor)
    stage = stage_load(stage_id, actor)
    if stage["state"] == "imported":
        raise Conflict(_("This file has already been imported."))
    if stage["state"] != "checked":
        raise Conflict(_("The file has not been checked yet."))
    rows = stage["good"]
    if not rows:
        raise ValidationFailed(
            _("There is no good row to import."), code="import_nothing"
        )
    try:
        with transaction.atomic():
            created = _create_all(stage, rows, actor)
    except IntegrityError as exc:
        raise Conflict(
            _(
                "Another registration of one of these accounts happened meanwhile; check the file again."
            ),
            code="import_changed",
        ) from exc
    stage["state"] = "imported"
    stage["imported"] = created
    stage["imported_at"] = timezone.now().isoformat()
    _write(stage)
    _record, upload = _paths(stage_id)
    upload.unlink(missing_ok=True)
    return stage


def _create_all(stage: dict, rows: list[dict], actor) -> int:
    scope = scope_for(actor, Action.CHANGE, Domain.BUSINESS)
    org_ids = {r["organization_id"] for r in rows}
    orgs = {
        o.pk: o
        for o in Organization.objects.filter(
            scope.q("path"), pk__in=org_ids, is_active=True
        )
    }
    platforms = {
        p.pk: p
        for p in Platform.objects.filter(pk__in={r["platform_id"] for r in rows})
    }
    changed = [
        r["row"]
        for r in rows
        if r["organization_id"] not in orgs or r["platform_id"] not in platforms
    ]
    # The mode is decided again now (a role may have ended since the check).
    modes = {pk: import_mode(actor, org) for pk, org in orgs.items()}
    changed += [
        r["row"]
        for r in rows
        if r["organization_id"] in orgs
        and modes[r["organization_id"]] != r.get("mode")
    ]
    roles = {
        pk: import_role(actor, org, modes[pk]) for pk, org in orgs.items() if modes[pk]
    }
    conflicts = registered_conflicts(actor, rows)
    changed += [
        r["row"]
        for r in rows
        if (r["platform_id"], r["platform_account_id"]) in conflicts
    ]
    changed += list(one_per_platform_errors(rows))
    if changed:
        raise Conflict(
            _(
                "Rows %(rows)s changed since the check (organization out of reach or account registered meanwhile); check the file again."
            )
            % {"rows": ", ".join(str(n) for n in sorted(set(changed))[:20])},
            code="import_changed",
        )
    supervising = derive_supervising_many(list(orgs.values()))
    tz = timezone.get_current_timezone()
    accounts = []
    for r in rows:
        org = orgs[r["organization_id"]]
        last_post = None
        if r.get("last_post_at"):
            last_post = timezone.make_aware(
                datetime.combine(date.fromisoformat(r["last_post_at"]), time(12)), tz
            )
        account = MediaAccount(
            platform=platforms[r["platform_id"]],  # cached: str() needs no query
            display_name=r["display_name"],
            platform_account_id=r["platform_account_id"],
            profile_url=r["profile_url"],
            organization=org,
            supervising_organization=supervising[org.pk],
            category=r["category"],
            verification=r["verification"],
            status=r["status"],
            origin=AccountOrigin.STOCKTAKE
            if r.get("mode") == STOCKTAKE
            else AccountOrigin.FILING,
            followers=r["followers"],
            opened_on=date.fromisoformat(r["opened_on"])
            if r.get("opened_on")
            else None,
            last_post_at=last_post,
            org_path=org.path,
            region_code=org.region_code,
        )
        # Field checks only: the related rows were loaded above (a foreign key's own
        # check would cost a query per row and key), uniqueness was checked in one
        # query per platform, and the database constraint guards the race.
        account.full_clean(
            exclude=[
                "org_path",
                "region_code",
                "platform",
                "organization",
                "supervising_organization",
                "liaison",
            ],
            validate_unique=False,
            validate_constraints=False,
        )
        accounts.append(account)
    MediaAccount.objects.bulk_create(accounts, batch_size=1000)
    by_role: dict[str, list[MediaAccount]] = {}
    for account in accounts:
        by_role.setdefault(roles[account.organization_id], []).append(account)
    codes = {pk: p.code for pk, p in platforms.items()}
    for role, targets in by_role.items():
        audit_record_bulk(
            actor=actor,
            action=IMPORT_ACTION,
            targets=targets,
            organization_of=lambda a: orgs[a.organization_id],
            after_of=lambda a: {
                **_after(a, codes[a.platform_id]),
                "origin": a.origin,
                "import": stage["id"],
            },
            role=role,
        )
    filed = [a for a in accounts if a.origin == AccountOrigin.FILING]
    stage["filed"] = len(filed)
    if filed:
        from registry.services.filings import filings_open_many

        today = timezone.localdate()
        filings_open_many(
            actor=actor,
            accounts=filed,
            event_dates={a.pk: a.opened_on or today for a in filed},
            role_of={pk: role for pk, role in roles.items()},
            note=str(_("Imported from %(file)s") % {"file": stage["filename"]}),
        )
    return len(accounts)


# --- the template ---------------------------------------------------------------------
EXAMPLE = [
    "某某市公安局",
    "微博",
    "平安某某",
    "1234567890",
    "https://weibo.com/u/1234567890",
    "机构",
    "已认证",
    "正常",
    "125000",
    "2016-05-01",
    "2025-09-30",
]


def template_xlsx() -> bytes:
    """The import template: Chinese headers, an example row, and a sheet of
    accepted values (platforms, categories, statuses)."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_numbers": False}
    )
    sheet = workbook.add_worksheet("账号台账")
    head = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    required = workbook.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    for index, column in enumerate(COLUMNS):
        sheet.write(0, index, column.header, required if column.required else head)
        sheet.write_comment(
            0,
            index,
            f"{column.header_en}{' (required / 必填)' if column.required else ''}",
        )
        sheet.set_column(index, index, 18)
    sheet.write_row(1, 0, EXAMPLE)
    sheet.freeze_panes(1, 0)
    notes = workbook.add_worksheet("填写说明")
    notes.write_row(0, 0, ["列", "Column", "必填", "说明 / accepted values"], head)
    explain = {
        "organization": "本辖区内单位全称 / full name of an organization in your jurisdiction",
        "platform": "见下方平台列表（名称或代码） / a platform name or code below",
        "platform_account_id": "与主页链接至少填一项 / this or the profile URL",
        "category": "机构 / 公务人员 / 领导 (默认 机构)",
        "verification": "已认证 / 认证中 / 未认证 (默认 认证中)",
        "status": "待备案 / 正常 / 整改 / 关停 / 注销 (默认 正常)",
        "followers": "整数，可写 1.2万 / whole number",
        "opened_on": "2024-03-15",
        "last_post_at": "2025-09-30",
    }
    for row, column in enumerate(COLUMNS, start=1):
        notes.write_row(
            row,
            0,
            [
                column.header,
                column.header_en,
                "是" if column.required else "",
                explain.get(column.key, ""),
            ],
        )
    start = len(COLUMNS) + 2
    notes.write_row(start, 0, ["平台代码 code", "平台名称", "Platform"], head)
    for offset, platform in enumerate(Platform.objects.filter(is_active=True), start=1):
        notes.write_row(
            start + offset, 0, [platform.code, platform.name, platform.name_en]
        )
    notes.set_column(0, 3, 24)
    workbook.close()
    return buffer.getvalue()


def template_csv() -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([c.header for c in COLUMNS])
    writer.writerow(EXAMPLE)
    return ("\ufeff" + text.getvalue()).encode("utf-8")
