"""Export of the filtered ledger to CSV and XLSX, in constant memory.

Rows come from one `values_list(...).iterator()` with organization, platform,
supervising organization and liaison joined in SQL; operators' names come from one
query per chunk of rows. Nothing holds more than a chunk in memory: CSV streams to
the client, XLSX is written by XlsxWriter in `constant_memory` mode to a temporary
file that is then streamed and removed.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from itertools import islice

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Level, OrgKind
from registry.ledger import POSTING_STATUSES, idle_days_default
from registry.models import (
    AccountCategory,
    AccountStatus,
    MediaAccount,
    VerificationStatus,
)

CHUNK = 2000

# (header, source) in column order. A source is a values_list field, or a key
# computed per row in `_rows` (prefixed with "=").
COLUMNS: list[tuple] = [
    (gettext_lazy("No."), "=seq"),
    (gettext_lazy("Account ID"), "id"),
    (gettext_lazy("Sponsoring organization"), "organization__name"),
    (gettext_lazy("Organization level"), "organization__level"),
    (gettext_lazy("Organization kind"), "organization__kind"),
    (gettext_lazy("Region code"), "region_code"),
    (gettext_lazy("Supervising organization"), "supervising_organization__name"),
    (gettext_lazy("Supervising organization set by hand"), "supervising_overridden"),
    (gettext_lazy("Platform"), "platform__name"),
    (gettext_lazy("Platform code"), "platform__code"),
    (gettext_lazy("Display name"), "display_name"),
    (gettext_lazy("Platform account id"), "platform_account_id"),
    (gettext_lazy("Profile URL"), "profile_url"),
    (gettext_lazy("Category"), "category"),
    (gettext_lazy("Real-name verification"), "verification"),
    (gettext_lazy("Status"), "status"),
    (gettext_lazy("Operators"), "=operators"),
    (gettext_lazy("Number of operators"), "=operator_count"),
    (gettext_lazy("Liaison"), "=liaison"),
    (gettext_lazy("Liaison phone"), "liaison__phone"),
    (gettext_lazy("Followers"), "followers"),
    (gettext_lazy("Last post"), "last_post_at"),
    (gettext_lazy("Days since last post"), "=idle_days"),
    (gettext_lazy("Idle"), "=idle"),
    (gettext_lazy("Opened on"), "opened_on"),
    (gettext_lazy("Registered at"), "created_at"),
    (gettext_lazy("Updated at"), "updated_at"),
    (gettext_lazy("Organization ID"), "organization_id"),
    (gettext_lazy("Supervising organization ID"), "supervising_organization_id"),
    (gettext_lazy("Platform (English)"), "platform__name_en"),
]
_FIELDS = [src for _h, src in COLUMNS if not src.startswith("=")]
_EXTRA = ["liaison__display_name", "liaison__username"]
_INDEX = {name: i for i, name in enumerate(_FIELDS + _EXTRA)}


def headers() -> list[str]:
    return [str(h) for h, _src in COLUMNS]


def _operators_of(ids: list[int]) -> dict[int, list[str]]:
    """Operators' names per account for one chunk: one query."""
    through = MediaAccount.operators.through
    names: dict[int, list[str]] = defaultdict(list)
    rows = (
        through.objects.filter(mediaaccount_id__in=ids)
        .order_by("mediaaccount_id", "user__username")
        .values_list("mediaaccount_id", "user__display_name", "user__username")
    )
    for account_id, display_name, username in rows:
        names[account_id].append(display_name or username)
    return names


def _local_formatter():
    tz = timezone.get_current_timezone()

    def local(value):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""

    return local


def _converters() -> list:
    """Per column: (index in the values_list row, converter or None), or the name of a
    computed value. Built once per export, so each cell costs one call at most."""
    labels = {
        "organization__level": dict(Level.choices),
        "organization__kind": dict(OrgKind.choices),
        "category": dict(AccountCategory.choices),
        "verification": dict(VerificationStatus.choices),
        "status": dict(AccountStatus.choices),
    }
    yes, no = _("Yes"), _("No")
    local = _local_formatter()
    plan = []
    for _header, src in COLUMNS:
        if src.startswith("="):
            plan.append(src)
            continue
        if src in labels:
            table = {code: str(label) for code, label in labels[src].items()}
            convert = lambda v, t=table: t.get(v, v)  # noqa: E731
        elif src == "supervising_overridden":
            convert = lambda v: yes if v else no  # noqa: E731
        elif src in ("last_post_at", "created_at", "updated_at"):
            convert = local
        elif src == "opened_on":
            convert = lambda v: v.isoformat() if v else ""  # noqa: E731
        else:
            convert = lambda v: "" if v is None else v  # noqa: E731
        plan.append((_INDEX[src], convert))
    return plan


def ledger_rows(queryset) -> Iterator[list]:
    """Export rows (lists of str/int) of `queryset` in its order, a chunk at a time."""
    yes, no = _("Yes"), _("No")
    posting = {str(s) for s in POSTING_STATUSES}
    idle_after = idle_days_default()
    now = timezone.now()
    plan = _converters()
    ix = _INDEX
    i_id, i_last, i_status = ix["id"], ix["last_post_at"], ix["status"]
    i_lname, i_luser = ix["liaison__display_name"], ix["liaison__username"]
    source = queryset.values_list(*_FIELDS, *_EXTRA).iterator(chunk_size=CHUNK)
    seq = 0
    while True:
        chunk = list(islice(source, CHUNK))
        if not chunk:
            return
        operators = _operators_of([row[i_id] for row in chunk])
        for row in chunk:
            seq += 1
            names = operators.get(row[i_id], ())
            last = row[i_last]
            idle_days = (now - last).days if last else None
            idle = row[i_status] in posting and (
                idle_days is None or idle_days > idle_after
            )
            computed = {
                "=seq": seq,
                "=operators": "、".join(names),
                "=operator_count": len(names),
                "=liaison": row[i_lname] or row[i_luser] or "",
                "=idle_days": "" if idle_days is None else idle_days,
                "=idle": yes if idle else no,
            }
            yield [
                computed[step] if step.__class__ is str else step[1](row[step[0]])
                for step in plan
            ]
        del chunk


class _Echo:
    def write(self, value):
        return value


def _csv_safe(value):
    # SECURITY: a cell starting with = + - @ runs as a formula in spreadsheet programs.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def csv_chunks(queryset) -> Iterator[str]:
    """The CSV text (UTF-8 BOM first, so Excel reads Chinese) in pieces."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow(headers())
    buffer = []
    for row in ledger_rows(queryset):
        buffer.append(writer.writerow([_csv_safe(v) for v in row]))
        if len(buffer) >= 500:
            yield "".join(buffer)
            buffer = []
    if buffer:
        yield "".join(buffer)


def write_xlsx(queryset, path: str) -> int:
    """Write the ledger to `path` (XLSX) in constant memory; returns the row count."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "tmpdir": _tmpdir(),
            "strings_to_numbers": False,
            "strings_to_formulas": False,  # SECURITY: no formula injection from names
            "strings_to_urls": False,
        },
    )
    sheet = workbook.add_worksheet(_("Ledger")[:31])
    bold = workbook.add_format({"bold": True, "bg_color": "#EEF1F5"})
    sheet.write_row(0, 0, headers(), bold)
    sheet.freeze_panes(1, 0)
    count = 0
    for count, row in enumerate(ledger_rows(queryset), start=1):
        sheet.write_row(count, 0, row)
    workbook.close()
    return count


def _tmpdir() -> str:
    path = os.path.join(settings.VAR_DIR, "tmp")
    os.makedirs(path, exist_ok=True)
    return path


def xlsx_tempfile(queryset) -> str:
    """Write the XLSX to a new temporary file and return its path (caller removes it)."""
    handle, path = tempfile.mkstemp(prefix="ledger-", suffix=".xlsx", dir=_tmpdir())
    os.close(handle)
    try:
        write_xlsx(queryset, path)
    except BaseException:
        os.unlink(path)
        raise
    return path
