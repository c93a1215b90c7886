"""The post list (issue 13, items 3 and 8): totals above the table, sortable headers,
20/50/100 per page and localized XLSX/CSV through the one export writer, with the
page's filters; another province's posts never appear; the review queue shows its
total too."""

from __future__ import annotations

import io

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from tests.moderation.factories import make_post, submit


def _client(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def test_post_list_totals_sort_page_size_and_exports(world):
    ns = world.mine
    for i in range(21):
        make_post(ns, title=f"稿件{i:02d}")
    submit(make_post(ns, title="待审稿件"), ns)
    make_post(world.other, title="乙省稿件")
    client = _client(ns.users[Role.OPERATOR])
    response = client.get("/moderation/posts/", {"sort": "title"})
    page = response.context["page"]
    html = response.content.decode()
    assert page.paginator.count == 22 and page.paginator.per_page == 20
    assert 'data-total="22"' in html and 'data-key="title"' in html
    titles = [p.title for p in page]
    assert titles == sorted(titles)
    drafts = client.get("/moderation/posts/", {"status": "draft", "per_page": 50})
    assert drafts.context["page"].paginator.count == 21
    assert drafts.context["page"].paginator.per_page == 50

    import openpyxl

    xlsx = client.get("/moderation/posts/export/", {"status": "in_review"})
    assert xlsx.status_code == 200 and ".xlsx" in xlsx["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert len(rows) == 2 and rows[1][3] == "待审稿件"
    assert rows[0][0] == "编号" and sheet.freeze_panes == "A2"
    csv = client.get("/moderation/posts/export/", {"file_format": "csv", "mine": "0"})
    text = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 23 and "乙省稿件" not in text


def test_review_queue_total_and_constant_queries(world):
    ns = world.mine
    submit(make_post(ns, title="甲"), ns)
    head = _client(ns.users[Role.DEPARTMENT_HEAD])
    head.get("/moderation/queue/")
    with CaptureQueriesContext(connection) as ctx:
        html = head.get("/moderation/queue/").content.decode()
    assert 'data-total="1"' in html
    for i in range(4):
        submit(make_post(ns, title=f"乙{i}"), ns)
    with CaptureQueriesContext(connection) as again:
        html = head.get("/moderation/queue/").content.decode()
    assert 'data-total="5"' in html and len(again) == len(ctx)


def _flag(org, n):
    from moderation.services import publication
    from tests.factories import make_user
    from tests.moderation.factories import make_account

    reporter = make_user(org, Role.OPERATOR)
    for i in range(n):
        publication.published_post_report(
            actor=reporter,
            account=make_account(org, "douyin"),
            platform_post_id=f"flag-{org.pk}-{i}",
            text="未经审核的发布。",
        )


def test_flag_list_totals_sort_and_exports(world):
    ns = world.mine
    _flag(ns.city_dept, 3)
    _flag(world.other.city_dept, 2)
    client = _client(ns.users[Role.SUPERVISOR])
    response = client.get("/moderation/flags/", {"sort": "time"})
    html = response.content.decode()
    assert response.context["page"].paginator.count == 3
    assert 'data-total="3"' in html and 'data-key="organization"' in html
    times = [f.created_at for f in response.context["page"]]
    assert times == sorted(times)
    csv = client.get("/moderation/flags/export/", {"file_format": "csv"})
    lines = b"".join(csv.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 4 and lines[0].startswith("时间")
    assert all("乙" not in line for line in lines)
    assert client.get("/moderation/flags/export/").status_code == 200  # XLSX
