"""The one export writer (common/exports.py): how cells read, file names, XLSX shape."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, date, datetime

import openpyxl
from django.utils import translation

from common import exports
from common.exports import Column, Table


def _table(rows, columns=None):
    return Table(
        title="转发任务完成情况",
        columns=columns or [Column("名称"), Column("时间", "datetime"), Column("是否", "bool")],
        rows=rows,
        organization="云岭省",
    )


def test_cells_labels_local_time_booleans_and_formulas():
    status = Column("状态", labels={"active": "正常"})
    with translation.override("zh-hans"):
        assert exports.cell(True) == "是" and exports.cell(False) == "否"
    assert exports.cell("active", status) == "正常"
    assert exports.cell("unknown", status) == "unknown"
    # Asia/Shanghai is UTC+8; no microseconds.
    moment = datetime(2026, 11, 28, 1, 2, 3, 456789, tzinfo=UTC)
    assert exports.cell(moment) == "2026-11-28 09:02:03"
    assert exports.cell(date(2026, 11, 28)) == "2026-11-28"
    assert exports.cell(None) == ""
    assert exports.cell(12) == 12
    for dangerous in ("=1+1", "+86", "-1", "@SUM(A1)", "\tx"):
        assert exports.cell(dangerous) == "'" + dangerous
    assert exports.cell("平安=1") == "平安=1"
    assert exports.cell({"b": 1, "a": "=x"}) == '{"a": "=x", "b": 1}'


def test_file_name_is_organization_title_day():
    table = _table([])
    assert (
        exports.file_name(table, "xlsx", date(2026, 11, 28))
        == "云岭省_转发任务完成情况_20261128.xlsx"
    )
    table.organization = "a/b"
    assert exports.file_name(table, "csv", date(2026, 1, 2)) == (
        "a-b_转发任务完成情况_20260102.csv"
    )


def test_xlsx_has_frozen_header_autofilter_and_text_cells(tmp_path):
    moment = datetime(2026, 11, 28, 1, 2, 3, tzinfo=UTC)
    path = str(tmp_path / "x.xlsx")
    with translation.override("zh-hans"):
        count = exports.write_xlsx(
            _table([["=HYPERLINK(1)", moment, True], ["平安", None, False]]), path
        )
    assert count == 2
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    assert sheet.title == "转发任务完成情况"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:C3"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("名称", "时间", "是否")
    assert rows[1] == ("'=HYPERLINK(1)", "2026-11-28 09:02:03", "是")
    assert rows[2] == ("平安", None, "否")
    assert sheet["A2"].data_type == "s"  # a string, never a formula


def test_csv_stream_has_bom_and_the_same_cells(tmp_path):
    path = str(tmp_path / "x.csv")
    with translation.override("en"):
        exports.write_csv(_table([["-2", None, True]]), path)
    text = open(path, encoding="utf-8").read()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [["名称", "时间", "是否"], ["'-2", "", "Yes"]]


def test_response_names_the_file_in_utf8(rf):
    response = exports.response(_table([["a", None, None]]), "csv")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=utf-8''" in disposition
    assert "%E4%BA%91%E5%B2%AD%E7%9C%81" in disposition  # 云岭省, URL-encoded
    xlsx = exports.response(_table([["a", None, None]]), "xlsx")
    data = b"".join(xlsx.streaming_content)
    assert data[:2] == b"PK"
    assert not [n for n in os.listdir(exports.tmp_dir()) if n.startswith("export-")]
