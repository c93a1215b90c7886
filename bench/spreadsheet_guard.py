"""Security benchmark (issue 8, item 5): the bounds check of uploaded spreadsheets on
crafted files, and the bounded read of the largest real import.

    .venv/bin/python -m bench.spreadsheet_guard

Pure Python, no database. Each case runs in a fresh child process; memory is the
growth of its resident peak (VmHWM, reset before each step) over its size before
(Django loaded, the file read). Prints a Markdown table; the caller copies it into
RESULTS.md (own section, with date, machine and load average). Budget: every check
under 100 ms and 10 MB above the process; the bounded read of a 20,000 x 20 ledger under the task's
limits (SPREADSHEET_PARSE_MEMORY_MB, SPREADSHEET_TASK_SOFT_SECONDS).

The files (also used by tests/common/test_spreadsheets.py):
- `bomb`: the issue's file, a sheet declaring A1:CV20000 (100 columns x 20,000
  rows = 2 million cells, under the row and column limits) in a few kB: refused by
  the cell count of its dimension.
- `crafted_10mb`: 10 MB of incompressible cells (random text), 30,000 rows x 20
  columns = 600,000 cells, 52 MB unpacked: refused by the unpacked size.
- `ratio`: a 40 MB run of spaces in the sheet, packed to ~40 kB: refused as a zip
  bomb by the ratio.
- `ledger_20k`: a province's ledger, 20,000 rows x 20 columns: accepted, then read.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import platform
import random
import re
import resource
import time
import zipfile

BUDGET_MS = 100


def workbook(rows: list[list], dimension: str | None = None) -> bytes:
    """A real workbook (xlsxwriter, constant memory); `dimension` rewrites the
    sheet's declared <dimension ref>."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet("台账")
    for r, row in enumerate(rows):
        sheet.write_row(r, 0, row)
    book.close()
    data = buffer.getvalue()
    if dimension is not None:
        data = rewrite_sheet(
            data,
            lambda xml: re.sub(
                rb'<dimension ref="[^"]*"/>',
                f'<dimension ref="{dimension}"/>'.encode(),
                xml,
                count=1,
            ),
        )
    return data


def rewrite_sheet(data: bytes, change) -> bytes:
    """The workbook with xl/worksheets/sheet1.xml passed through `change`."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = change(body)
            target.writestr(info.filename, body)
    return out.getvalue()


def bomb() -> bytes:
    """The issue's file: a handful of cells, a dimension of 2 million."""
    return workbook([["单位名称", "平台"], ["某局", "微博"]], dimension="A1:CV20000")


def ratio_bomb(spaces: int = 40 * 1024 * 1024) -> bytes:
    """A sheet padded with a run of spaces between its elements: ~1000x packed."""
    pad = b" " * spaces
    return rewrite_sheet(
        workbook([["单位名称"], ["某局"]]),
        lambda xml: xml.replace(b"<sheetData>", pad + b"<sheetData>", 1),
    )


def random_rows(rows: int, cols: int, seed: int = 2026) -> list[list]:
    rng = random.Random(seed)
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    return [
        ["".join(rng.choice(alphabet) for _ in range(6)) for _ in range(cols)]
        for _ in range(rows)
    ]


def crafted_10mb() -> bytes:
    return workbook(random_rows(30_000, 20))


def ledger_20k() -> bytes:
    header = [f"列{i}" for i in range(20)]
    rng = random.Random(7)
    rows = [
        [f"单位{rng.randrange(5000)}", "微博", f"账号{n}", str(10**9 + n)]
        + [f"值{rng.randrange(100)}" for _ in range(16)]
        for n in range(20_000)
    ]
    return workbook([header, *rows])


# --- measuring --------------------------------------------------------------------------
def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _status_kb(field: str) -> int:
    """A field of /proc/self/status in kB (VmRSS, VmHWM: the resident peak of this
    process image; ru_maxrss would carry the parent's peak across fork and exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets VmHWM to the current resident size


def _child(case: str, path: str, queue) -> None:
    _setup_django()
    from common import spreadsheets

    with open(path, "rb") as handle:
        data = handle.read()
    _reset_peak()
    base = _status_kb("VmRSS")
    started = time.perf_counter()
    outcome = "accepted"
    try:
        spreadsheets.spreadsheet_check(data)
    except spreadsheets.SpreadsheetRefused as exc:
        outcome = f"refused: {exc.message}"
    check_ms = (time.perf_counter() - started) * 1000
    check_mb = (_status_kb("VmHWM") - base) / 1024
    read_ms = read_mb = rows = None
    if outcome == "accepted":
        _reset_peak()
        base_read = _status_kb("VmRSS")
        started = time.perf_counter()
        with spreadsheets.parse_memory_limit():
            kept = list(spreadsheets.xlsx_rows(data))  # as the import's Table does
        rows = len(kept)
        read_ms = (time.perf_counter() - started) * 1000
        read_mb = (_status_kb("VmHWM") - base_read) / 1024
    queue.put(
        {
            "case": case,
            "size": len(data),
            "unpacked": sum(
                i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist()
            ),
            "outcome": outcome,
            "check_ms": check_ms,
            "check_mb": check_mb,
            "read_ms": read_ms,
            "read_mb": read_mb,
            "rows": rows,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "base_mb": base / 1024,
        }
    )


def measure(case: str, data: bytes, tmp: str) -> dict:
    path = os.path.join(tmp, f"{case}.xlsx")
    with open(path, "wb") as handle:
        handle.write(data)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(case, path, queue))
    process.start()
    result = queue.get(timeout=900)
    process.join()
    return result


CASES = {
    "bomb": bomb,
    "ratio": ratio_bomb,
    "crafted_10mb": crafted_10mb,
    "ledger_20k": ledger_20k,
}


def main() -> None:
    import tempfile

    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average (1 min) {os.getloadavg()[0]:.1f}"
    )
    print()
    print(
        "| file | size | unpacked | check ms | check MB | outcome | read ms | "
        "read MB | rows | process RSS before MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for case, make in CASES.items():
            r = measure(case, make(), tmp)

            def num(v, fmt="{:.1f}"):
                return "–" if v is None else fmt.format(v)

            print(
                f"| {case} | {r['size'] / 1e6:.2f} MB | {r['unpacked'] / 1e6:.1f} MB "
                f"| {r['check_ms']:.1f} | {r['check_mb']:.1f} | {r['outcome']} "
                f"| {num(r['read_ms'])} | {num(r['read_mb'])} | {num(r['rows'], '{}')} "
                f"| {r['base_mb']:.0f} |"
            )


if __name__ == "__main__":
    main()
