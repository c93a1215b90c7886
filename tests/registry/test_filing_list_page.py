"""The filing list (issue 13, items 3 and 8): totals above the table, sortable
headers, 20/50/100 per page, localized XLSX/CSV with the page's filters through the
one export writer; another province's filings never appear. The queue shows its
total and keeps its order (overdue first)."""

from __future__ import annotations

import io

from django.test import Client

from accounts.models import Role
from tests.registry.helpers import file_open


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_filing_list_totals_sort_page_size_and_exports(world):
    ns = world.mine
    codes = ["weibo", "douyin", "bilibili"]
    for i, code in enumerate(codes):
        file_open(ns, name=f"甲一新号{i}", code=code)
    file_open(world.other, name="乙新号", code="weibo")
    client = _client(ns.users[Role.SUPERVISOR])
    response = client.get("/registry/filings/", {"sort": "number", "per_page": 20})
    page = response.context["page"]
    html = response.content.decode()
    assert page.paginator.count == 3 and page.paginator.per_page == 20
    assert 'data-total="3"' in html and 'data-key="due"' in html
    numbers = [f.number for f in page]
    assert numbers == sorted(numbers)
    assert 'aria-sort="ascending"' in html

    import openpyxl

    xlsx = client.get("/registry/filings/export/", {"kind": "open"})
    assert xlsx.status_code == 200 and ".xlsx" in xlsx["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert len(rows) == 4 and sheet.freeze_panes == "A2"
    assert all("乙" not in str(r) for r in rows)
    csv = client.get("/registry/filings/export/", {"file_format": "csv", "late": "1"})
    text = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 1  # none is late

    queue = _client(ns.city_supervisor).get("/registry/filings/queue/")
    assert 'data-total="3"' in queue.content.decode()
    assert "aria-sort" not in queue.content.decode().split('id="queue-table"')[1]
