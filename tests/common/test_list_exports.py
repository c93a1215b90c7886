"""The list pages' own exports (issue 13, item 8): each list page offers XLSX and CSV
of what it lists (templates/includes/export_links.html), the export answers through
the one writer (exportjobs.views.list_export), another province's user gets none of
the rows, personal numbers are masked as the inbox pages mask them, and the number
of queries does not grow with the rows.

The rows are built by the formula cases of test_export_formulas.py (through the
services), so each kind's row is known by a text that must (or must not) appear."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Role
from common import exports
from tests.common.test_export_formulas import CASES, _message, real_today

# The list pages that gained an export, by export kind.
PAGES = {
    "inbox_messages": "inbox:inbox",
    "inbox_routing": "inbox:routing",
    "inbox_slips": "inbox:slips",
    "export_jobs": "exports:list",
    "rotations": "registry:rotation_list",
    "exemptions": "registry:exemption_list",
    "directives": "moderation:directive_list",
    "inspections": "supervision:inspection_list",
    "opinion_events": "supervision:event_list",
    "notifications": "notifications:list",
    "score_runs": "assessment:index",
    "accounts": "registry:account_list",
    "filing_queue": "registry:filing_queue",
    "review_queue": "moderation:queue",
    "rubrics": "assessment:rubric_list",
    "manual_entries": "assessment:manual_list",
    "deputies": "moderation:deputy_list",
    "signoff_queue": "registry:signoff_queue",
    "duty": "inbox:duty",
}


def _counterpart(world, user):
    """The user of the same role in the other province."""
    if user.pk == world.mine.city_supervisor.pk:
        return world.other.city_supervisor
    role = next(role for role, u in world.mine.users.items() if u.pk == user.pk)
    return world.other.users[role]


def _csv_cells(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def _texts(rows) -> set[str]:
    return {value for row in rows for value in row}


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_the_list_page_offers_its_export_and_it_answers_in_both_formats(world, client,
                                                                         kind):
    user, expected, *_ = CASES[kind](world.mine)
    client.force_login(user)
    page = client.get(reverse(PAGES[kind]))
    assert page.status_code == 200
    href = reverse("exports:list_export", args=[kind])
    html = page.content.decode()
    assert f'href="{href}?file_format=xlsx"' in html
    assert f'href="{href}?file_format=csv"' in html

    rows = _csv_cells(client.get(f"{href}?file_format=csv"))
    for text in expected:
        assert "'" + text in _texts(rows[1:]), f"{kind}: {text!r} not exported"

    response = client.get(f"{href}?file_format=xlsx")
    assert response.status_code == 200
    name = response["Content-Disposition"]
    assert ".xlsx" in name and timezone.localdate().strftime("%Y%m%d") in name
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)),
                                  read_only=True)
    sheet_rows = list(book.active.iter_rows(values_only=True))
    assert list(sheet_rows[0]) == rows[0]  # the same localized headers
    assert len(sheet_rows) == len(rows)


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_another_province_exports_none_of_the_rows(world, client, kind):
    user, expected, *_ = CASES[kind](world.mine)
    stranger = _counterpart(world, user)
    client.force_login(stranger)
    response = client.get(reverse("exports:list_export", args=[kind]) + "?file_format=csv")
    if response.status_code == 404:
        return
    assert response.status_code == 200
    rows = _csv_cells(response)
    assert len(rows) == 1, f"{kind}: another province's rows exported"


def test_a_user_who_may_export_nothing_gets_404(world, client):
    CASES["inspections"](world.mine)
    client.force_login(world.mine.users[Role.SYSTEM_ADMIN])
    url = reverse("exports:list_export", args=["inspections"]) + "?file_format=csv"
    assert client.get(url).status_code == 404
    assert client.get(reverse("exports:list_export", args=["nothing"])).status_code == 404


def test_the_export_keeps_the_pages_filters(world, client):
    from inbox.models import Status

    _message(world.mine, "第一条留言")
    operator = world.mine.users[Role.OPERATOR]
    client.force_login(operator)
    page = client.get(reverse("inbox:inbox") + "?view=all&status=resolved&page=2")
    href = reverse("exports:list_export", args=["inbox_messages"])
    assert f'href="{href}?view=all&amp;status=resolved&amp;file_format=csv"' in (
        page.content.decode())
    rows = _csv_cells(client.get(f"{href}?view=all&status={Status.RESOLVED}&file_format=csv"))
    assert len(rows) == 1
    rows = _csv_cells(client.get(f"{href}?view=all&file_format=csv"))
    assert len(rows) == 2


def test_inbox_exports_mask_personal_numbers_for_those_who_do_not_handle_them(world):
    _message(world.mine, "电话13812345678，身份证330102199001011234")
    ns = world.mine
    with_numbers = _texts(exports.cells(exports.build(
        "inbox_messages", ns.users[Role.OPERATOR], {"view": "all"})))
    masked = _texts(exports.cells(exports.build(
        "inbox_messages", ns.users[Role.SUPERVISOR], {"view": "all"})))
    assert "电话13812345678，身份证330102199001011234" in with_numbers
    assert "电话138****5678，身份证330102********1234" in masked
    routing = _texts(exports.cells(exports.build(
        "inbox_routing", ns.users[Role.LIAISON], {})))
    assert "电话13812345678，身份证330102199001011234" in routing


# --- the number of queries does not grow with the rows -----------------------------------
def _more_messages(ns, i):
    _message(ns, f"第{i}条留言")


def _more_slips(ns, i):
    from inbox.services import slips

    slips.slip_issue(actor=ns.city_supervisor, organization=ns.city,
                     responsible=ns.city_dept, title=f"问题单{i}", body="请核查。",
                     kind="交通")


def _more_directives(ns, i):
    from moderation.services import directives

    directives.directive_issue(actor=ns.users[Role.SUPERVISOR], organization=ns.province,
                               title=f"转发{i}",
                               source_url=f"https://www.zj.gov.cn/art/{i}0.html")


def _more_notifications(ns, i):
    from notifications.services import notify

    notify(recipients=[ns.users[Role.OPERATOR]], organization=ns.city_dept, kind="test",
           message=f"提醒{i}", dedupe_key=f"more-{i}")


def _more_events(ns, i):
    from supervision.services import events

    events.event_register(actor=ns.users[Role.SUPERVISOR], organization=ns.city,
                          title=f"事件{i}", level="general",
                          occurred_at=timezone.now() - timedelta(hours=i))


def _more_jobs(ns, i):
    from exportjobs.services import export_job_create

    user = ns.users[Role.SUPERVISOR]
    export_job_create(user=user, kind="ledger", params={}, file_format="csv", total=9000,
                      title=f"台账{i}", organization_name="", actor=user)


def _more_orders(ns, i):
    from supervision.services import rectification

    rectification.order_issue(actor=ns.users[Role.SUPERVISOR], organization=ns.city_dept,
                              requirement=f"整改{i}")


def _more_deputies(ns, i):
    from moderation.services import deputies
    from tests.factories import make_user

    start = timezone.localdate() + timedelta(days=10 * i)
    deputies.deputy_appoint(
        actor=ns.users[Role.PRINCIPAL_LEADER], organization=ns.city_dept,
        role=Role.LEADER_IN_CHARGE, deputy=make_user(ns.city_dept, Role.DEPARTMENT_HEAD),
        starts_on=start, ends_on=start + timedelta(days=3), reason=f"出差{i}")


def _more_signoffs(ns, i):
    from tests.registry.helpers import file_open

    code = ("douyin", "wechat_subscription", "wechat_channels")[i - 1]  # one a platform
    file_open(ns, name=f"待签{i}", code=code, signed=False)


def _more_duty(ns, i):
    from inbox.services import slips
    from tests.factories import make_user

    head = ns.users[Role.DEPARTMENT_HEAD]
    for day in (real_today(), real_today() + timedelta(days=i)):
        slips.duty_assign(actor=head, organization=ns.city_dept, day=day,
                          user=make_user(ns.city_dept, Role.OPERATOR))


def _more_counterfeit(ns, i):
    from registry import counterfeit

    user = ns.users[Role.SUPERVISOR]
    names = "\n".join(f"平安{n}号" for n in range(i + 2))
    found = counterfeit.counterfeit_check(user=user,
                                          candidates=counterfeit.parse_candidates(names))
    counterfeit.result_store(user.pk, f"{i:032x}", [f.as_dict() for f in found])


MORE = {
    "inbox_messages": _more_messages,
    "inbox_routing": _more_messages,
    "inbox_slips": _more_slips,
    "directives": _more_directives,
    "notifications": _more_notifications,
    "opinion_events": _more_events,
    "export_jobs": _more_jobs,
    "rectification_orders": _more_orders,
    "deputies": _more_deputies,
    "signoff_queue": _more_signoffs,
    "duty": _more_duty,
    "counterfeit_check": _more_counterfeit,
}


def _export_queries(kind, user) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        table = exports.build(kind, user, {"view": "all"})
        rows = list(exports.cells(table))
        table.count()
    return len(rows), len(queries)


@pytest.mark.parametrize("kind", sorted(MORE))
def test_an_export_reads_a_constant_number_of_queries(world, kind):
    user, *_ = CASES[kind](world.mine)
    _export_queries(kind, user)  # the user's memberships are then cached, as in a request
    rows, queries = _export_queries(kind, user)
    for i in range(3):
        MORE[kind](world.mine, i + 1)
    more_rows, more_queries = _export_queries(kind, user)
    assert more_rows > rows
    assert more_queries == queries, f"{kind}: {queries} queries, then {more_queries}"


def test_people_are_named_as_the_pages_name_them(world):
    from accounts.models import User

    ns = world.mine
    leaving = ns.users[Role.OUTSOURCED_OPERATOR]
    User.objects.filter(pk=leaving.pk).update(display_name="")
    user, *_ = CASES["rotations"](ns)
    with translation.override("en"):
        table = exports.build("rotations", user, {})
        column = table.headers().index("Person who left")
    assert [row[column] for row in exports.cells(table)] == [leaving.username]


# --- the pages added last: deputies, sign-off queue, duty roster, counterfeit check ------
@pytest.mark.parametrize("kind", ["deputies", "signoff_queue", "duty", "counterfeit_check"])
def test_a_user_with_no_business_export_gets_404(world, client, kind):
    CASES[kind](world.mine)
    client.force_login(world.mine.users[Role.SYSTEM_ADMIN])
    url = reverse("exports:list_export", args=[kind]) + "?file_format=csv"
    assert client.get(url).status_code == 404


def test_the_duty_export_keeps_the_pages_organization_and_day(world, client):
    user, expected, *_ = CASES["duty"](world.mine)
    href = reverse("exports:list_export", args=["duty"])
    client.force_login(user)
    day = real_today().isoformat()
    page = client.get(reverse("inbox:duty") + f"?org={world.mine.city_dept.pk}&day={day}")
    assert (f'href="{href}?org={world.mine.city_dept.pk}&amp;day={day}&amp;file_format=csv"'
            in page.content.decode())
    rows = _csv_cells(client.get(f"{href}?day={day}&file_format=csv"))
    assert len(rows) == 2 and rows[1][0] == day
    later = (real_today() + timedelta(days=1)).isoformat()
    assert len(_csv_cells(client.get(f"{href}?day={later}&file_format=csv"))) == 1
    # Another province's officer naming this organization gets their own roster.
    client.force_login(world.other.users[Role.OPERATOR])
    rows = _csv_cells(client.get(
        f"{href}?org={world.mine.city_dept.pk}&day={day}&file_format=csv"))
    assert len(rows) == 1


def test_the_counterfeit_check_offers_its_export_and_keeps_it_to_its_user(world, client):
    user = world.mine.users[Role.SUPERVISOR]
    client.force_login(user)
    page = client.post(reverse("registry:counterfeit"), {"candidates": "平安甲一\n今日天气"})
    assert page.status_code == 200
    result_id = page.context["result_id"]
    href = reverse("exports:list_export", args=["counterfeit_check"])
    html = page.content.decode()
    for file_format in ("xlsx", "csv"):
        assert f'href="{href}?result={result_id}&amp;file_format={file_format}"' in html
    rows = _csv_cells(client.get(f"{href}?result={result_id}&file_format=csv"))
    assert {"平安甲一", "今日天气"} <= _texts(rows[1:])
    response = client.get(f"{href}?result={result_id}&file_format=xlsx")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)),
                                  read_only=True)
    assert len(list(book.active.iter_rows(values_only=True))) == len(rows)
    # The result is its user's alone: another province's supervisor (or another
    # supervisor of the same province) naming it, or naming none, gets 404.
    for stranger in (world.other.users[Role.SUPERVISOR], world.mine.city_supervisor):
        client.force_login(stranger)
        assert client.get(f"{href}?result={result_id}&file_format=csv").status_code == 404
        assert client.get(f"{href}?file_format=csv").status_code == 404


def test_the_findings_export_reads_the_counterfeit_dispositions(world):
    """Supervision's list of counterfeit accounts is the findings list filtered to
    the kind: its export names each finding's origin and disposition."""
    from supervision.models import Disposition, FindingKind
    from supervision.services import findings
    from tests.moderation.factories import make_account

    ns = world.mine
    supervisor = ns.users[Role.SUPERVISOR]
    finding = findings.finding_raise_manual(
        actor=supervisor, kind=FindingKind.COUNTERFEIT, note="仿冒账号",
        account=make_account(ns.city_dept, "douyin", name="平安甲一"))
    findings.finding_dispose(finding=finding, actor=supervisor,
                             disposition=Disposition.REPORTED)
    with translation.override("en"):
        table = exports.build("findings", supervisor,
                              {"kind": FindingKind.COUNTERFEIT, "status": ""})
        headers = table.headers()
        rows = list(exports.cells(table))
    assert len(rows) == 1
    row = dict(zip(headers, rows[0], strict=True))
    assert row["Disposition"] == "Reported to the platform"
    assert row["Origin"] == "Manual"
    assert row["Account"] == "平安甲一"
    assert not list(exports.cells(exports.build(
        "findings", world.other.users[Role.SUPERVISOR],
        {"kind": FindingKind.COUNTERFEIT, "status": ""})))
