"""Every registered export goes through the one writer (issue 8, item 6): text that a
spreadsheet would run as a formula is neutralised, booleans read 是/否, datetimes are
local time (Asia/Shanghai) to the second.

Each export kind has a case below that makes a row whose text starts with a formula
prefix, through the services, and answers (the user who exports, the texts that must
appear neutralised[, the local time of a datetime in the row]);
`test_every_registered_export_has_a_case` fails when a new export is registered without
one."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime

import openpyxl
import pytest
import time_machine
from django.utils import timezone, translation

from accounts.models import Role
from common import exports
from moderation.services import directives
from tests.factories import make_org
from tests.moderation.factories import make_account, make_post
from tests.registry.helpers import active_account

# Frozen while the rows are made: 01:30:15.654321 UTC is 09:30:15 in Shanghai.
MADE_AT = datetime(2026, 3, 2, 1, 30, 15, 654321, tzinfo=UTC)
MADE_AT_LOCAL = "2026-03-02 09:30:15"
PAYLOADS = ['=HYPERLINK("http://evil.example/","点击")', "+1+1", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1"]
LOCAL_DATETIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def _posts(ns):
    account = make_account(ns.city_dept, name=PAYLOADS[3] + "账号")
    for payload in PAYLOADS:
        make_post(ns, account=account, title=payload + "标题")
    return ns.users[Role.OPERATOR], [PAYLOADS[0] + "标题", PAYLOADS[1] + "标题"]


def _repost_targets(ns):
    account = make_account(ns.city_dept, "weibo", name=PAYLOADS[2] + "账号")
    account.operators.add(ns.users[Role.OPERATOR])
    directives.directive_issue(
        actor=ns.users[Role.SUPERVISOR], organization=ns.province,
        title=PAYLOADS[0] + "转发", source_url="https://www.zj.gov.cn/art/1.html")
    # Its only datetime is the deadline: a Weibo repost is due an hour after issue.
    return (ns.users[Role.SUPERVISOR], [PAYLOADS[0] + "转发", PAYLOADS[2] + "账号"],
            "2026-03-02 10:30:15")


def _audit_events(ns):
    make_org(ns.city, PAYLOADS[1] + "局")
    return ns.users[Role.AUDIT_ADMIN], [PAYLOADS[1] + "局"]


def _ledger(ns):
    active_account(ns, name=PAYLOADS[3] + "发布")
    return ns.users[Role.SUPERVISOR], [PAYLOADS[3] + "发布"]


def _filings(ns):
    active_account(ns, name=PAYLOADS[0] + "发布")
    return ns.users[Role.SUPERVISOR], [PAYLOADS[0] + "发布"]


def _organizations(ns):
    make_org(ns.city, PAYLOADS[2] + "局")
    return ns.users[Role.SYSTEM_ADMIN], [PAYLOADS[2] + "局"]


def _users(ns):
    from accounts.models import User

    User.objects.filter(pk=ns.users[Role.OPERATOR].pk).update(
        display_name=PAYLOADS[0] + "用户", last_login=timezone.now())  # MADE_AT
    return ns.users[Role.SECURITY_ADMIN], [PAYLOADS[0] + "用户"]


def _memberships(ns):
    from tests.factories import make_user

    make_user(make_org(ns.city, PAYLOADS[2] + "处"), Role.OPERATOR)
    return ns.users[Role.SECURITY_ADMIN], [PAYLOADS[2] + "处"]


def _findings(ns):
    from supervision.services.sweeps import findings_sweep
    from tests.supervision.factories import idle_account, staff

    account = idle_account(ns.city_dept, days=40, name=PAYLOADS[1] + "账号")
    staff(account, ns)
    findings_sweep(kinds=["idle"])
    return ns.users[Role.SUPERVISOR], []


def _annual_assessments(ns):
    from tests.assessment.test_freeze import _frozen

    _frozen(ns)
    return ns.users[Role.AUDITOR], []


def _rectification_orders(ns):
    from supervision.services import rectification

    rectification.order_issue(actor=ns.users[Role.SUPERVISOR], organization=ns.city_dept,
                              requirement=PAYLOADS[0] + "整改")
    return ns.users[Role.SUPERVISOR], [PAYLOADS[0] + "整改"]


def _flags(ns):
    from tests.assessment.helpers import unapproved_post

    # A post the platform showed without approval: the collector's report raises
    # a flag on the account.
    unapproved_post(ns, make_account(ns.city_dept, "weibo", name=PAYLOADS[3] + "账号"))
    return ns.users[Role.SUPERVISOR], [PAYLOADS[3] + "账号"]


def _monthly_archives(ns):
    from datetime import date

    from assessment.services import archives

    org = make_org(ns.city, PAYLOADS[1] + "局")
    make_account(org, "douyin")
    archives.archive_month(date(2026, 2, 1), organization_ids=[org.pk])
    return ns.users[Role.AUDITOR], [PAYLOADS[1] + "局"]


def _circulars(ns):
    from datetime import date

    from assessment.services import circulars
    from assessment.services.scoring import score_run_request
    from tests.assessment.helpers import active_rubric

    # The circular is the assessed organization's: its name heads the title.
    org = make_org(ns.city, PAYLOADS[2] + "市")
    active_rubric(ns, year=2026, org=org)
    make_account(org, "weibo")
    run = score_run_request(organization=org, period_start=date(2026, 2, 1),
                            period_end=date(2026, 2, 28),
                            actor=ns.users[Role.SUPERVISOR], run_now=True)
    circulars.circular_generate(run=run, actor=ns.users[Role.SUPERVISOR])
    return ns.users[Role.SUPERVISOR], [PAYLOADS[2] + "市"]


def _score_runs(ns):
    from datetime import date

    from assessment.services.scoring import score_run_request
    from tests.assessment.helpers import active_rubric

    org = make_org(ns.city, PAYLOADS[0] + "局")
    active_rubric(ns, year=2026, org=org)
    score_run_request(organization=org, period_start=date(2026, 2, 1),
                      period_end=date(2026, 2, 28), actor=ns.users[Role.SUPERVISOR],
                      run_now=True)
    return ns.users[Role.SUPERVISOR], [PAYLOADS[0] + "局"]


def _message(ns, text, org=None):
    from inbox.models import Channel
    from inbox.services import ingest

    return ingest.message_create_manual(
        actor=ns.users[Role.OPERATOR], organization=org or ns.city_dept,
        channel=Channel.HOTLINE, text=text, citizen_handle=PAYLOADS[1] + "网友")


def _inbox_messages(ns):
    _message(ns, PAYLOADS[0] + "噪音扰民")
    return ns.users[Role.OPERATOR], [PAYLOADS[0] + "噪音扰民", PAYLOADS[1] + "网友"]


def _inbox_routing(ns):
    _message(ns, PAYLOADS[2] + "路灯不亮")
    return ns.users[Role.LIAISON], [PAYLOADS[2] + "路灯不亮"]


def _inbox_slips(ns):
    from inbox.services import slips

    slips.slip_issue(actor=ns.city_supervisor, organization=ns.city,
                     responsible=ns.city_dept, title=PAYLOADS[3] + "问题单",
                     body="请核查并回复。", kind=PAYLOADS[2] + "交通")
    return ns.users[Role.OPERATOR], [PAYLOADS[3] + "问题单", PAYLOADS[2] + "交通"]


def _export_jobs(ns):
    from exportjobs.services import export_job_create

    user = ns.users[Role.SUPERVISOR]
    export_job_create(user=user, kind="ledger", params={}, file_format="xlsx", total=9000,
                      title=PAYLOADS[1] + "台账", organization_name="", actor=user)
    return user, [PAYLOADS[1] + "台账"]


def _rotations(ns):
    from accounts import services as account_services
    from accounts.models import Membership

    active_account(ns, name=PAYLOADS[0] + "公安")
    leaving = ns.users[Role.OUTSOURCED_OPERATOR]
    account_services.membership_end(
        actor=None, membership=Membership.objects.get(user=leaving,
                                                      role=Role.OUTSOURCED_OPERATOR))
    return ns.users[Role.DEPARTMENT_HEAD], [PAYLOADS[0] + "公安"]


def _exemptions(ns):
    from registry.models import Platform
    from registry.services import filings

    filings.exemption_grant(actor=ns.users[Role.SUPERVISOR], organization=ns.city_dept,
                            platform=Platform.objects.get(code="weibo"),
                            reason=PAYLOADS[1] + "服务号")
    return ns.users[Role.SUPERVISOR], [PAYLOADS[1] + "服务号"]


def _directives(ns):
    account = make_account(ns.city_dept, "weibo")
    account.operators.add(ns.users[Role.OPERATOR])
    directives.directive_issue(
        actor=ns.users[Role.SUPERVISOR], organization=ns.province,
        title=PAYLOADS[2] + "转发", source_url="https://www.zj.gov.cn/art/2.html")
    return ns.users[Role.SUPERVISOR], [PAYLOADS[2] + "转发"]


def _inspections(ns):
    from supervision.services import inspections

    make_account(ns.city_dept)
    inspections.inspection_start(actor=ns.users[Role.SUPERVISOR], organization=ns.city,
                                 title=PAYLOADS[3] + "抽查", seed=1)
    return ns.users[Role.SUPERVISOR], [PAYLOADS[3] + "抽查"]


def _opinion_events(ns):
    from datetime import timedelta

    from supervision.services import events

    events.event_register(actor=ns.users[Role.SUPERVISOR], organization=ns.city,
                          title=PAYLOADS[1] + "事件", level="general",
                          occurred_at=timezone.now() - timedelta(hours=1))
    # Its datetimes are its occurrence and the deadlines counted from it.
    return ns.users[Role.SUPERVISOR], [PAYLOADS[1] + "事件"], "2026-03-02 08:30:15"


def _notifications(ns):
    from notifications.services import notify

    user = ns.users[Role.OPERATOR]
    notify(recipients=[user], organization=ns.city_dept, kind="test",
           message=PAYLOADS[0] + "提醒", dedupe_key="formula", url="/inbox/")
    return user, [PAYLOADS[0] + "提醒"]


def _accounts(ns):
    from tests.assessment.helpers import unapproved_post

    # The collector's report of a post gives the account its last post (MADE_AT).
    unapproved_post(ns, active_account(ns, name=PAYLOADS[2] + "发布"))
    return ns.users[Role.SUPERVISOR], [PAYLOADS[2] + "发布"]


def _filing_queue(ns):
    from tests.registry.helpers import file_open

    file_open(ns, name=PAYLOADS[3] + "发布")  # signed off: it awaits the supervisor
    return ns.city_supervisor, [PAYLOADS[3] + "发布"]


def _review_queue(ns):
    from tests.moderation.factories import submit

    post = make_post(ns, title=PAYLOADS[0] + "待审")
    submit(post, ns)
    post.refresh_from_db()
    return ns.users[Role(post.awaiting_role)], [PAYLOADS[0] + "待审"]


def _rubrics(ns):
    from tests.assessment.helpers import active_rubric

    active_rubric(ns, year=2026, org=make_org(ns.city, PAYLOADS[1] + "局"))
    return ns.users[Role.SUPERVISOR], [PAYLOADS[1] + "局"]


def _manual_entries(ns):
    from datetime import date

    from assessment.services import rubrics
    from tests.assessment.helpers import active_rubric

    rubric = active_rubric(ns, year=2026)
    rubrics.manual_entry_create(
        item=rubric.items.get(code="content_errors"),
        account=make_account(ns.city_dept, "douyin", name=PAYLOADS[2] + "账号"),
        occurred_on=date(2026, 3, 1), evidence=PAYLOADS[3] + "错别字",
        actor=ns.users[Role.SUPERVISOR])
    return ns.users[Role.SUPERVISOR], [PAYLOADS[2] + "账号", PAYLOADS[3] + "错别字"]


def _deputies(ns):
    from datetime import timedelta

    from accounts.models import User
    from moderation.services import deputies
    from tests.factories import make_user

    deputy = make_user(ns.city_dept, Role.DEPARTMENT_HEAD, username="formula-deputy")
    User.objects.filter(pk=deputy.pk).update(display_name=PAYLOADS[1] + "代签")
    deputy.refresh_from_db()
    today = timezone.localdate()
    deputies.deputy_appoint(
        actor=ns.users[Role.PRINCIPAL_LEADER], organization=ns.city_dept,
        role=Role.LEADER_IN_CHARGE, deputy=deputy, starts_on=today,
        ends_on=today + timedelta(days=7), reason=PAYLOADS[0] + "出差")
    return ns.users[Role.PRINCIPAL_LEADER], [PAYLOADS[0] + "出差", PAYLOADS[1] + "代签"]


def _signoff_queue(ns):
    from tests.registry.helpers import file_open

    file_open(ns, name=PAYLOADS[2] + "待签", signed=False)  # awaits the leader
    return ns.users[Role.PRINCIPAL_LEADER], [PAYLOADS[2] + "待签"]


def real_today():
    """Today in Shanghai outside any time travel: the duty export shows the fortnight
    from today, and the formula test exports after its travel has ended."""
    from zoneinfo import ZoneInfo

    if not time_machine.escape_hatch.is_travelling():  # (its hatch is for travels only)
        return timezone.localdate()
    return time_machine.escape_hatch.datetime.datetime.now(
        tz=ZoneInfo("Asia/Shanghai")).date()


def _duty(ns):
    from accounts.models import User
    from inbox.services import slips

    officer = ns.users[Role.OPERATOR]
    User.objects.filter(pk=officer.pk).update(display_name=PAYLOADS[3] + "值班员")
    officer.refresh_from_db()
    head = ns.users[Role.DEPARTMENT_HEAD]
    slips.duty_assign(actor=head, organization=ns.city_dept, day=real_today(),
                      user=officer)
    slips.duty_log_save(actor=head, organization=ns.city_dept, day=real_today(),
                        notes=PAYLOADS[0] + "值班记录", sign_off=True)
    return officer, [PAYLOADS[3] + "值班员", PAYLOADS[0] + "值班记录"]


def _counterfeit_check(ns):
    from registry import counterfeit

    user = ns.users[Role.SUPERVISOR]
    found = counterfeit.counterfeit_check(
        user=user, candidates=counterfeit.parse_candidates(PAYLOADS[1] + "平安"))
    counterfeit.result_store(user.pk, "f" * 32, [f.as_dict() for f in found])
    # Kept an hour from the travelled-to time, which has passed when the export is
    # read after the travel: keep the result (and the latest pointer) for the test.
    from django.core.cache import cache

    for key in (f"counterfeit:{user.pk}:{'f' * 32}", f"counterfeit-latest:{user.pk}"):
        cache.touch(key, None)
    return user, [PAYLOADS[1] + "平安"]


CASES = {
    "posts": _posts,
    "repost_targets": _repost_targets,
    "audit_events": _audit_events,
    "ledger": _ledger,
    "filings": _filings,
    "organizations": _organizations,
    "users": _users,
    "memberships": _memberships,
    "findings": _findings,
    "annual_assessments": _annual_assessments,
    "rectification_orders": _rectification_orders,
    "flags": _flags,
    "monthly_archives": _monthly_archives,
    "circulars": _circulars,
    "score_runs": _score_runs,
    "inbox_messages": _inbox_messages,
    "inbox_routing": _inbox_routing,
    "inbox_slips": _inbox_slips,
    "export_jobs": _export_jobs,
    "rotations": _rotations,
    "exemptions": _exemptions,
    "directives": _directives,
    "inspections": _inspections,
    "opinion_events": _opinion_events,
    "notifications": _notifications,
    "accounts": _accounts,
    "filing_queue": _filing_queue,
    "review_queue": _review_queue,
    "rubrics": _rubrics,
    "manual_entries": _manual_entries,
    "deputies": _deputies,
    "signoff_queue": _signoff_queue,
    "duty": _duty,
    "counterfeit_check": _counterfeit_check,
}


def test_every_registered_export_has_a_case():
    missing = exports.kinds() - set(CASES)
    assert not missing, f"exports without a formula case here: {sorted(missing)}"


def _read(kind, user, file_format, tmp_path) -> tuple[exports.Table, list[list]]:
    with translation.override("zh-hans"):
        table = exports.build(kind, user, {})
        path = tmp_path / f"{kind}.{file_format}"
        exports.write_file(table, str(path), file_format)
    if file_format == "csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    else:
        book = openpyxl.load_workbook(path, read_only=True)
        rows = [["" if v is None else v for v in row]
                for row in book.active.iter_rows(values_only=True)]
        book.close()
    assert rows[0] == table.headers()
    return table, rows[1:]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", sorted(CASES))
def test_export_neutralises_formulas_and_writes_local_values(world, tmp_path, kind,
                                                             file_format):
    with time_machine.travel(MADE_AT, tick=False):
        user, expected, *local_time = CASES[kind](world.mine)
    local_time = local_time[0] if local_time else MADE_AT_LOCAL
    table, rows = _read(kind, user, file_format, tmp_path)
    assert rows, f"{kind}: the export has no rows"
    kinds = [c.kind for c in table.columns]
    texts, datetimes = set(), set()
    for row in rows:
        assert len(row) == len(kinds)
        for value, column_kind in zip(row, kinds, strict=True):
            if column_kind == "number" or not isinstance(value, str):
                assert not isinstance(value, bool), f"{kind}: a raw boolean"
                continue
            texts.add(value)
            assert not value.startswith(exports.FORMULA_PREFIXES), (
                f"{kind}/{file_format}: unescaped formula {value!r}")
            assert value not in ("True", "False"), f"{kind}: a raw boolean {value!r}"
            if column_kind == "bool":
                assert value in ("是", "否", ""), f"{kind}: boolean {value!r}"
            if column_kind == "datetime" and value:
                assert LOCAL_DATETIME.match(value), f"{kind}: datetime {value!r}"
                datetimes.add(value)
    for text in expected:
        assert "'" + text in texts, f"{kind}: {text!r} not exported neutralised"
    if "datetime" in kinds:
        assert local_time in datetimes, f"{kind}: no local time {local_time}"
    if "bool" in kinds:
        assert texts & {"是", "否"}, f"{kind}: booleans are not 是/否"


def test_tab_and_carriage_return_prefixes_are_neutralised():
    for payload in ("\t=1+1", "\r=1+1", "=1", "+1", "-1", "@A1"):
        assert exports.cell(payload) == "'" + payload
    assert exports.cell(timezone.make_aware(datetime(2026, 3, 2, 1, 0, 0, 5), UTC),
                        exports.Column("", "datetime")) == "2026-03-02 09:00:00"
