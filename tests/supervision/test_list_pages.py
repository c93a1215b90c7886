"""The findings and rectification-order lists (issue 13, items 3 and 8): totals above
the table, sortable headers, 20/50/100 per page, localized XLSX and CSV exports
through the one writer; another province's rows never appear; the query count of a
page does not grow with the rows."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from supervision.services import findings, rectification
from tests.moderation.factories import make_account

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def _raise(ns, n, *, severity="deduction", org=None, order_days=None):
    supervisor = ns.users[Role.SUPERVISOR]
    made = []
    for _ in range(n):
        account = make_account(org or ns.city_dept)
        finding = findings.finding_raise_manual(
            actor=supervisor,
            kind="other",
            account=account,
            note="资料不全",
            severity=severity,
        )
        if order_days:
            rectification.order_issue(
                actor=supervisor,
                finding=finding,
                requirement="补全资料",
                days=order_days,
            )
        made.append(finding)
    return made


def _xlsx_rows(response):
    import openpyxl

    body = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    return [[c.value for c in row] for row in sheet.iter_rows()], sheet


def test_findings_list_totals_sort_and_page_size(world):
    ns = world.mine
    _raise(ns, 22)
    _raise(ns, 2, severity="veto", org=ns.county_dept)
    _raise(world.other, 3)
    client = _client(ns.users[Role.SUPERVISOR])
    response = client.get("/supervision/findings/")
    page = response.context["page"]
    html = response.content.decode()
    assert page.paginator.count == 24 and page.paginator.per_page == 20
    assert 'data-total="24"' in html and 'name="per_page"' in html
    assert 'data-key="severity"' in html and 'data-key="last_seen"' in html
    by_severity = client.get("/supervision/findings/", {"sort": "severity"})
    assert [f.severity for f in by_severity.context["page"]][:2] == ["veto", "veto"]
    assert by_severity.context["sort"] == "severity"
    assert (
        client.get("/supervision/findings/", {"per_page": 50})
        .context["page"]
        .paginator.per_page
        == 50
    )
    assert (
        client.get("/supervision/findings/", {"per_page": 7, "sort": "bad"}).status_code
        == 200
    )


def test_findings_export_is_localized_in_both_formats(world):
    ns = world.mine
    [finding] = _raise(ns, 1, severity="veto")
    _raise(world.other, 2)
    client = _client(ns.users[Role.SUPERVISOR])
    rows, sheet = _xlsx_rows(
        client.get("/supervision/findings/export/", {"file_format": "xlsx"})
    )
    assert rows[0][:4] == ["编号", "类型", "严重程度", "状态"]
    assert len(rows) == 2 and rows[1][0] == finding.pk
    from django.utils import translation

    from supervision.models import FindingStatus

    with translation.override("zh-hans"):
        open_label = str(FindingStatus.OPEN.label)
    assert (
        rows[1][2] == "单项否决" and rows[1][3] == open_label and open_label != "open"
    )
    local = timezone.localtime(finding.first_seen_at).strftime("%Y-%m-%d %H:%M:%S")
    assert rows[1][6] == local
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    csv = client.get("/supervision/findings/export/", {"file_format": "csv"})
    text = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 2 and "否决" in text
    assert (
        ".csv" in csv["Content-Disposition"]
        and "filename" in csv["Content-Disposition"]
    )
    # The first address still answers the CSV.
    assert client.get("/supervision/findings/export.csv").status_code == 200
    assert (
        client.get("/supervision/findings/export/", {"file_format": "pdf"}).status_code
        == 302
    )


def test_orders_list_overdue_first_totals_and_export(world):
    ns = world.mine
    _raise(ns, 2, order_days=10)
    _raise(ns, 1, order_days=1)
    _raise(world.other, 2, order_days=1)
    with_late = timezone.now() + timedelta(days=3)
    import time_machine

    with time_machine.travel(with_late):
        client = _client(ns.users[Role.SUPERVISOR])  # signed in then: a fresh session
        response = client.get("/supervision/orders/")
        page = response.context["page"]
        html = response.content.decode()
        assert page.paginator.count == 3 and 'data-total="3"' in html
        first = page.object_list[0]
        assert first.due_at < with_late  # the overdue one leads
        assert html.count('class="status-overdue"') == 1
        assert 'data-key="due"' in html
        rows, _sheet = _xlsx_rows(client.get("/supervision/orders/export/"))
        assert len(rows) == 4 and rows[0][0] == "编号"
        assert rows[1][7] == "是" and rows[2][7] == "否"
        text = b"".join(
            client.get(
                "/supervision/orders/export/", {"file_format": "csv", "overdue": "1"}
            ).streaming_content
        ).decode("utf-8-sig")
        assert len(text.strip().splitlines()) == 2
    # Operators see their organization's orders awaiting an answer; the foreign
    # province's operator sees nothing and exports nothing.
    op = _client(ns.users[Role.OPERATOR])
    assert (
        op.get("/supervision/orders/", {"status": "to_answer"})
        .context["page"]
        .paginator.count
        == 3
    )
    far = _client(world.other.users[Role.OPERATOR])
    text = b"".join(
        far.get("/supervision/orders/export/", {"file_format": "csv"}).streaming_content
    ).decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 3  # its own two, none of ours


def test_list_query_counts_do_not_grow(world):
    ns = world.mine
    _raise(ns, 2, order_days=5)
    client = _client(ns.users[Role.SUPERVISOR])
    counts = {}
    for url in ("/supervision/findings/", "/supervision/orders/"):
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        counts[url] = len(ctx)
    _raise(ns, 12, order_days=5)
    for url, n in counts.items():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        assert len(ctx) == n, url
