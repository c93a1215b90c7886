"""The assessment's lists (annual assessments, monthly archives, circulars): totals
above the table, sortable headers, 20/50/100 per page, localized XLSX and CSV through
the one export writer; another province's rows never appear (issue 13, items 3, 8)."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from accounts.models import Role
from tests.assessment.test_freeze import YEAR, _frozen

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_years_list_totals_sort_and_export(world):
    freeze, _account = _frozen(world.mine)
    auditor = _client(world.mine.users[Role.AUDITOR])
    response = auditor.get("/assessment/years/", {"sort": "-frozen_at", "per_page": 50})
    html = response.content.decode()
    assert response.context["page"].paginator.count == 1
    assert 'data-total="1"' in html and 'data-key="year"' in html
    assert response.context["sort"] == "-frozen_at"
    assert "/assessment/lists/years/export/?file_format=xlsx" in html

    import openpyxl

    xlsx = auditor.get("/assessment/lists/years/export/", {"file_format": "xlsx"})
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][0] == "单位" and rows[1][1] == YEAR and rows[1][3] == "已锁定"
    assert sheet.freeze_panes == "A2"
    assert ".xlsx" in xlsx["Content-Disposition"]
    # The other province's auditor exports a header only.
    far = _client(world.other.users[Role.AUDITOR])
    text = b"".join(
        far.get(
            "/assessment/lists/years/export/", {"file_format": "csv"}
        ).streaming_content
    ).decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 1
    assert far.get("/assessment/years/").context["page"].paginator.count == 0


@pytest.mark.parametrize(
    "name,url",
    [("archives", "/assessment/archives/"), ("circulars", "/assessment/circulars/")],
)
def test_archive_and_circular_lists_have_the_list_tools(world, name, url):
    client = _client(world.mine.users[Role.SUPERVISOR])
    html = client.get(url, {"sort": "-month"}).content.decode()
    assert 'data-total="0"' in html and 'data-key="month"' in html
    csv = client.get(f"/assessment/lists/{name}/export/", {"file_format": "csv"})
    assert csv.status_code == 200
    header = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()[0]
    assert "月份" in header


def test_unknown_list_and_bad_format(world):
    client = _client(world.mine.users[Role.AUDITOR])
    assert client.get("/assessment/lists/nothing/export/").status_code == 404
    assert (
        client.get(
            "/assessment/lists/years/export/", {"file_format": "pdf"}
        ).status_code
        == 302
    )
    # Roles without business data see no such lists.
    admin = _client(world.mine.users[Role.SECURITY_ADMIN])
    assert admin.get("/assessment/lists/years/export/").status_code == 404
