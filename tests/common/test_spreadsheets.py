"""The bounds of uploaded spreadsheets (issue 8, item 5): refused before any parse,
read bounded, parsed under a memory limit. Each test fails when its control is
removed (checked by removing it)."""

from __future__ import annotations

import pytest
from django.utils import translation

from bench.spreadsheet_guard import bomb, random_rows, ratio_bomb, workbook
from common import spreadsheets
from common.spreadsheets import SpreadsheetRefused


@pytest.fixture(autouse=True)
def _english():
    """Messages are matched in English (the tasks run outside any request)."""
    with translation.override("en"):
        yield


@pytest.fixture
def no_parse(monkeypatch):
    """openpyxl must not be asked to open the file."""

    def refuse(*args, **kwargs):
        raise AssertionError("the guard parsed the workbook")

    monkeypatch.setattr("openpyxl.load_workbook", refuse)
    monkeypatch.setattr("openpyxl.reader.excel.load_workbook", refuse)


def refusal(data: bytes, **overrides) -> str:
    with pytest.raises(SpreadsheetRefused) as caught:
        spreadsheets.spreadsheet_check(data, lim=spreadsheets.limits(**overrides))
    assert caught.value.code == "spreadsheet_refused"
    assert list(caught.value.fields) == ["file"]
    return str(caught.value.message)


def test_a_small_file_declaring_millions_of_cells_is_refused_unparsed(no_parse):
    data = bomb()  # the file: a few kB, A1:CV20000 (2 million cells)
    assert len(data) < 20_000
    message = refusal(data)
    assert "A1:CV20000" in message and "600000" in message


def test_rows_and_columns_of_the_dimension(no_parse):
    data = workbook([["a", "b"]], dimension="A1:B30000")
    assert "30000" in refusal(data)
    assert "16384" in refusal(workbook([["a"]], dimension="A1:XFD1"))


def test_a_zip_bomb_is_refused_by_its_ratio(no_parse):
    data = ratio_bomb(spaces=20 * 1024 * 1024)  # 20 MB of spaces in ~20 kB
    assert len(data) < 100_000
    assert "zip bomb" in refusal(data)


def test_the_unpacked_size_is_bounded(no_parse, settings):
    data = workbook(random_rows(400, 10))
    spreadsheets.spreadsheet_check(data)  # within the defaults
    settings.SPREADSHEET_MAX_UNCOMPRESSED_BYTES = 100_000
    assert "MB" in refusal(data)


def test_csv_line_limit(settings):
    settings.SPREADSHEET_MAX_ROWS = 100
    spreadsheets.spreadsheet_check(b"a,b\n" * 100)
    assert "100" in refusal(b"a,b\n" * 101)


def test_the_upload_size_is_bounded(settings):
    settings.SPREADSHEET_MAX_BYTES = 1024 * 1024
    assert "1 MB" in refusal(b"a,b\n" * 300_000)


def test_a_lying_dimension_is_bounded_by_the_reader():
    """The dimension says A1:B2; the sheet has a cell on row 30,000. The check cannot
    know; the reader stops at the row limit instead of materializing the rows."""
    rows = [["单位名称", "平台"]] + [[] for _ in range(29_998)] + [["x", "y"]]
    data = workbook(rows, dimension="A1:B2")
    spreadsheets.spreadsheet_check(data)
    with pytest.raises(SpreadsheetRefused, match="25000"):
        list(spreadsheets.xlsx_rows(data))


def test_wide_rows_are_bounded_by_the_reader():
    data = workbook([["a"] * 150], dimension="A1:B1")
    spreadsheets.spreadsheet_check(data)
    with pytest.raises(SpreadsheetRefused, match="100"):
        list(spreadsheets.xlsx_rows(data))


def test_the_reader_reads_read_only(monkeypatch):
    import openpyxl

    seen = {}
    real = openpyxl.load_workbook

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr("openpyxl.load_workbook", spy)
    rows = list(spreadsheets.xlsx_rows(workbook([["a", "b"], ["c"]])))
    assert rows == [["a", "b"], ["c"]]
    assert seen == {"read_only": True, "data_only": True}


def test_merged_ranges_are_found_without_the_full_model():
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["a", "b"])
    book.active.merge_cells("A2:A3")
    book.active.merge_cells("B5:C5")
    buffer = io.BytesIO()
    book.save(buffer)
    found = spreadsheets.xlsx_merged_ranges(buffer.getvalue())
    assert sorted(found) == ["A2:A3", "B5:C5"]


def test_a_parse_past_the_memory_limit_stops_with_a_refusal():
    with pytest.raises(SpreadsheetRefused, match="64 MB"):
        with spreadsheets.parse_memory_limit(64):
            bytearray(300 * 1024 * 1024)
    bytearray(300 * 1024 * 1024)  # the limit is lifted afterwards


def test_the_cell_count_is_bounded_by_the_reader():
    data = workbook([["a"] * 5 for _ in range(10)], dimension="A1")
    lim = spreadsheets.limits(max_cells=20)
    spreadsheets.spreadsheet_check(data, lim=lim)
    with pytest.raises(SpreadsheetRefused, match="20"):
        list(spreadsheets.xlsx_rows(data, lim=lim))
