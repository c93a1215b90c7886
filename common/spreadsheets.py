"""Uploaded spreadsheets (XLSX, CSV): one guard before any parse, one bounded reader.

SECURITY (issue 8, item 5): an 86 kB XLSX can declare 1.9 million cells and hold a
web worker until it is killed (663 MB). So, for every upload:

1. `spreadsheet_check()` looks at the file without parsing it: for an XLSX, the zip
   directory (number of parts, total unpacked size, compression ratio) and the
   `<dimension ref=...>` of each worksheet, read from the first few KB of the sheet
   only; for a CSV, its size and line count. A refusal is a ValidationFailed on the
   upload's field, naming the limit. Python's zipfile never inflates a part past the
   size the directory declares (it stops and fails the CRC), so the declared sizes
   are an upper bound the parser cannot exceed.
2. The parse itself runs only in a Celery task (never in a web request), read-only,
   under `parse_memory_limit()` and the task's time limits; `xlsx_rows()` bounds the
   rows, columns and cells it materializes even when the dimension lies or is missing.

The limits are settings (`SPREADSHEET_*`, config/settings.py), sized for the largest
real import: a province's ledger, about 20,000 rows by 20 columns.
"""

from __future__ import annotations

import io
import re
import resource
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from django.conf import settings
from django.utils.translation import gettext as _

from common.errors import ValidationFailed

# The head of a worksheet part read to find its <dimension>: the element comes right
# after <sheetPr> (schema order), well inside the first few KB.
DIMENSION_HEAD_BYTES = 8192
_DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension\s+ref=\"\$?([A-Z]{1,3})?\$?(\d+)?"
    rb"(?::\$?([A-Z]{1,3})?\$?(\d+)?)?\""
)
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\s+ref=\"([A-Z]{1,3}\d+:[A-Z]{1,3}\d+)\"")
# Ratios below this size say nothing (a 2 kB part of spaces compresses 100 times).
RATIO_MIN_BYTES = 1024 * 1024
# workbook.xml and its relationships are read whole to name the sheets: small parts.
MAX_WORKBOOK_PART = 2 * 1024 * 1024


class SpreadsheetRefused(ValidationFailed):
    code = "spreadsheet_refused"


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_uncompressed: int
    max_ratio: int
    max_parts: int
    max_rows: int
    max_cols: int
    max_cells: int
    memory_mb: int


def limits(**overrides) -> Limits:
    """The limits from settings; a caller may only tighten them."""
    base = Limits(
        max_bytes=settings.SPREADSHEET_MAX_BYTES,
        max_uncompressed=settings.SPREADSHEET_MAX_UNCOMPRESSED_BYTES,
        max_ratio=settings.SPREADSHEET_MAX_RATIO,
        max_parts=settings.SPREADSHEET_MAX_PARTS,
        max_rows=settings.SPREADSHEET_MAX_ROWS,
        max_cols=settings.SPREADSHEET_MAX_COLUMNS,
        max_cells=settings.SPREADSHEET_MAX_CELLS,
        memory_mb=settings.SPREADSHEET_PARSE_MEMORY_MB,
    )
    tighter = {k: min(v, getattr(base, k)) for k, v in overrides.items()}
    return replace(base, **tighter)


def _mb(n: int) -> int:
    return max(1, n // (1024 * 1024))


def _refuse(message, field: str) -> SpreadsheetRefused:
    return SpreadsheetRefused(message, fields={field: [message]})


def is_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def spreadsheet_check(data: bytes, *, field: str = "file", lim: Limits | None = None):
    """Refuse (SpreadsheetRefused, a 400 on `field`) a file past the limits, without
    parsing it. Cheap enough for the request: reads the zip directory and at most
    DIMENSION_HEAD_BYTES of each worksheet, or counts a CSV's newlines."""
    lim = lim or limits()
    if len(data) > lim.max_bytes:
        raise _refuse(
            _("The file is larger than %(n)d MB.") % {"n": _mb(lim.max_bytes)}, field
        )
    if is_xlsx(data):
        _check_xlsx(data, field, lim)
    else:
        _check_csv(data, field, lim)


def _check_csv(data: bytes, field: str, lim: Limits) -> None:
    # Newlines inside quoted cells count too: the bound is conservative.
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if lines > lim.max_rows:
        raise _refuse(
            _(
                "The CSV file has %(rows)d lines; the limit is %(limit)d lines. "
                "Split the file."
            )
            % {"rows": lines, "limit": lim.max_rows},
            field,
        )


def _not_a_workbook(field: str) -> SpreadsheetRefused:
    return _refuse(_("This file is not a readable .xlsx workbook."), field)


def _check_xlsx(data: bytes, field: str, lim: Limits) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _not_a_workbook(field) from exc
    with archive:
        if len(parts) > lim.max_parts:
            raise _refuse(
                _("The workbook has %(n)d parts; the limit is %(limit)d.")
                % {"n": len(parts), "limit": lim.max_parts},
                field,
            )
        total = sum(p.file_size for p in parts)
        if total > lim.max_uncompressed:
            raise _refuse(
                _(
                    "The workbook unpacks to %(n)d MB; the limit is %(limit)d MB. "
                    "Remove unused sheets or split the file."
                )
                % {"n": _mb(total), "limit": _mb(lim.max_uncompressed)},
                field,
            )
        for part in parts:
            if part.file_size < RATIO_MIN_BYTES:
                continue
            ratio = part.file_size // max(part.compress_size, 1)
            if ratio > lim.max_ratio:
                raise _refuse(
                    _(
                        "The workbook is compressed %(ratio)d times over; the limit "
                        "is %(limit)d. It is refused as a possible zip bomb."
                    )
                    % {"ratio": ratio, "limit": lim.max_ratio},
                    field,
                )
        for name, path in sheet_parts(archive, field):
            _check_dimension(archive, name, path, field, lim)


def sheet_parts(archive: zipfile.ZipFile, field: str = "file") -> list[tuple[str, str]]:
    """(sheet name, part path) of every worksheet, in workbook order."""
    from defusedxml import ElementTree

    def small(path: str) -> bytes:
        try:
            info = archive.getinfo(path)
        except KeyError as exc:
            raise _not_a_workbook(field) from exc
        if info.file_size > MAX_WORKBOOK_PART:
            raise _not_a_workbook(field)
        return archive.read(info)

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    try:
        targets = {
            rel.get("Id"): rel.get("Target", "")
            for rel in ElementTree.fromstring(small("xl/_rels/workbook.xml.rels"))
        }
        sheets = ElementTree.fromstring(small("xl/workbook.xml")).iter(f"{main}sheet")
        out = []
        for sheet in sheets:
            target = targets.get(sheet.get(rel_ns), "")
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            out.append((sheet.get("name", ""), path))
    except ValidationFailed:
        raise
    except Exception as exc:  # any malformed part is the user's file problem
        raise _not_a_workbook(field) from exc
    if not out:
        raise _not_a_workbook(field)
    return out


def _check_dimension(archive, name: str, path: str, field: str, lim: Limits) -> None:
    try:
        with archive.open(path) as part:
            head = part.read(DIMENSION_HEAD_BYTES)
    except KeyError:
        return  # a chart sheet or a dangling relationship: nothing to read
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _not_a_workbook(field) from exc
    found = _DIMENSION.search(head)
    if found is None:
        return  # no dimension declared: xlsx_rows() bounds the read itself
    last_col, last_row = (
        found.group(3) or found.group(1),
        found.group(4) or found.group(2),
    )
    rows = int(last_row) if last_row else 1_048_576  # "A:C" spans whole columns
    cols = column_number(last_col.decode()) if last_col else 16_384
    ref = found.group(0)[found.group(0).index(b'"') + 1 : -1].decode()
    values = {"sheet": name, "ref": ref}
    if rows > lim.max_rows:
        message = _(
            "Sheet “%(sheet)s” spans %(n)d rows (%(ref)s); the limit is %(limit)d "
            "rows. Delete the empty rows below the data or split the file."
        )
        raise _refuse(message % {**values, "n": rows, "limit": lim.max_rows}, field)
    if cols > lim.max_cols:
        message = _(
            "Sheet “%(sheet)s” spans %(n)d columns (%(ref)s); the limit is "
            "%(limit)d columns."
        )
        raise _refuse(message % {**values, "n": cols, "limit": lim.max_cols}, field)
    if rows * cols > lim.max_cells:
        message = _(
            "Sheet “%(sheet)s” spans %(n)d cells (%(ref)s); the limit is %(limit)d "
            "cells. Split the file."
        )
        raise _refuse(
            message % {**values, "n": rows * cols, "limit": lim.max_cells}, field
        )


def column_number(letters: str) -> int:
    n = 0
    for char in letters:
        n = n * 26 + ord(char) - 64
    return n


# --- reading (in a Celery task only) --------------------------------------------------
def xlsx_rows(data: bytes, *, lim: Limits | None = None) -> Iterator[list]:
    """The rows of the first sheet, read-only and bounded: at most `max_rows` rows of
    at most `max_cols` cells, trailing blanks trimmed, `max_cells` in all; a file
    past a bound raises SpreadsheetRefused even when its dimension lied (cells past
    column max_cols + 1 are not read at all). Raises what
    openpyxl raises for an unreadable file. Caller: a Celery task under
    parse_memory_limit()."""
    import openpyxl

    lim = lim or limits()
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        cells = 0
        rows = sheet.iter_rows(
            max_row=lim.max_rows + 1, max_col=lim.max_cols + 1, values_only=True
        )
        for number, values in enumerate(rows, start=1):
            # openpyxl yields row max_rows + 1 (even blank) only when the sheet goes
            # on past it, whatever its dimension says.
            if number > lim.max_rows:
                raise _refuse(
                    _("The file has more than %(n)d rows; split it.")
                    % {"n": lim.max_rows},
                    "file",
                )
            row = list(values)
            while row and (row[-1] is None or row[-1] == ""):
                row.pop()
            if not row:
                yield row
                continue
            if len(row) > lim.max_cols:
                raise _refuse(
                    _("Row %(row)d has more than %(limit)d columns.")
                    % {"row": number, "limit": lim.max_cols},
                    "file",
                )
            cells += len(row)
            if cells > lim.max_cells:
                raise _refuse(
                    _("The file has more than %(limit)d cells; split it.")
                    % {"limit": lim.max_cells},
                    "file",
                )
            yield row
    finally:
        workbook.close()


def xlsx_merged_ranges(data: bytes) -> list[str]:
    """The merged ranges ("A9:A10") of the first sheet, scanned from its XML in
    chunks (read-only openpyxl does not read them). Bounded by the part's declared
    size, which spreadsheet_check() bounded."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        _name, path = sheet_parts(archive)[0]
        found, tail = [], b""
        with archive.open(path) as part:
            while chunk := part.read(1 << 16):
                window = tail + chunk
                found.extend(m.group(1).decode() for m in _MERGE.finditer(window))
                # Keep an unfinished tag for the next window; never count one twice.
                cut = window.rfind(b"<")
                tail = window[cut:] if cut >= 0 and b">" not in window[cut:] else b""
        return found


@contextmanager
def parse_memory_limit(mb: int | None = None):
    """Run a parse with at most `mb` MB of address space more than the process has
    now (RLIMIT_AS, soft limit; restored after). Past it, allocations fail and the
    parse stops with SpreadsheetRefused instead of growing the worker until the
    kernel kills it. Meant for a Celery worker process (one task at a time)."""
    mb = mb or settings.SPREADSHEET_PARSE_MEMORY_MB
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = current_address_space() + mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    except MemoryError as exc:
        message = _("Reading the file needed more than %(n)d MB of memory; split it.")
        raise _refuse(message % {"n": mb}, "file") from exc
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def current_address_space() -> int:
    """The process's virtual size in bytes (Linux: /proc/self/statm)."""
    import os

    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


# --- queueing the parse ---------------------------------------------------------------
def parse_queue(task, *args) -> None:
    """Queue the Celery task that parses a stored upload. When the broker does not
    answer, raise ServiceUnavailable (503): the caller has already stored the file,
    so the user retries from its page instead of uploading again."""
    from kombu.exceptions import OperationalError

    from common.errors import ServiceUnavailable

    try:
        task.apply_async(args=args, retry=False)
    except (OperationalError, ConnectionError, OSError) as exc:
        raise ServiceUnavailable(
            _(
                "The file was kept, but the service that checks files is not "
                "answering. Try again in a few minutes from this page."
            ),
            code="broker_unavailable",
        ) from exc
