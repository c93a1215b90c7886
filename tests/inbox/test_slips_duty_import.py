"""Import with a dry run, issue slips, the duty roster and log, the metrics API."""

from __future__ import annotations

import io
import json
from datetime import date

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from common.errors import Conflict, ValidationFailed
from inbox.models import DutyLog, IssueSlip, Message
from inbox.services import imports, slips
from tests.inbox.factories import account_for, manual


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def _xlsx(rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_dry_run_writes_nothing_then_confirm(world, eager_celery, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    mine = world.mine
    account = account_for(mine.city_dept, supervising=mine.city)
    data = _xlsx([
        ["渠道", "账号", "平台消息编号", "收到时间", "留言人", "内容"],
        ["微博评论", account.display_name, "x1", "2025-03-03 09:30", "网友", "请问如何办理？"],
        ["传真", "", "", "2025-03-03 09:30", "网友", "渠道不对"],
        ["热线转办", "", "", "明天", "网友", "时间不对"],
        ["网站留言", "", "", "2025-03-04 10:00", "", "路灯不亮了"],
    ])
    op = mine.users[Role.OPERATOR]
    report = imports.import_check(user=op, organization=mine.city_dept, filename="m.xlsx",
                                  data=data)
    assert (report.ok, report.failed, report.duplicates) == (2, 2, 0)
    assert Message.objects.count() == 0
    assert imports.import_confirm(user=op, stage=report.stage) == 2
    assert Message.objects.count() == 2
    # The same file again: the platform message is a duplicate, the rest is new.
    again = imports.import_check(user=op, organization=mine.city_dept, filename="m.xlsx",
                                 data=data)
    assert again.duplicates == 1
    with pytest.raises(ValidationFailed):
        imports.import_confirm(user=op, stage="nope")


def test_import_page_csv(world, eager_celery, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    mine = world.mine
    c = client_for(mine.users[Role.OPERATOR])
    csv = "渠道,收到时间,内容\n热线转办,2025-03-03 09:30,请问办事大厅几点开门？\n".encode()
    posted = c.post("/inbox/import/", {"organization": mine.city_dept.pk,
                                        "file": SimpleUploadedFile("m.csv", csv)})
    assert posted.status_code == 302  # the check was queued (run at once: eager)
    page = c.get(posted["Location"])
    assert page.status_code == 200 and page.context["report"].ok == 1
    stage = page.context["report"].stage
    assert Message.objects.count() == 0
    done = c.post("/inbox/import/", {"stage": stage})
    assert done.status_code == 302 and Message.objects.count() == 1


def test_issue_slip_flow(world):
    mine = world.mine
    supervisor = mine.city_supervisor
    slip = slips.slip_issue(actor=supervisor, organization=mine.city,
                            responsible=mine.county_dept, title="关于群众反映校门口拥堵问题",
                            body="请核查并回复。", kind="交通", importance="important")
    assert slip.due_at > timezone.now()
    with pytest.raises(ValidationFailed):
        slips.slip_issue(actor=supervisor, organization=mine.city,
                         responsible=world.other.city_dept, title="越界", body="x", kind="x")
    from tests.factories import make_user

    county = make_user(mine.county_dept, Role.OPERATOR)
    r = client_for(county).post(f"/api/v1/inbox/issue-slips/{slip.pk}/answer/",
                                data=json.dumps({"answer": "已错峰放学。"}),
                                content_type="application/json")
    assert r.status_code == 200, r.content
    with pytest.raises(Conflict):
        slips.slip_answer(slip=slip, actor=county, answer="再答")
    slips.slip_publish(slip=slip, actor=supervisor, url="https://weibo.com/1/2")
    slip.refresh_from_db()
    assert slip.answered_at and slip.result_published_url
    # Another province sees nothing of it.
    other = client_for(world.other.users[Role.SUPERVISOR])
    assert other.get(f"/api/v1/inbox/issue-slips/{slip.pk}/").status_code == 404
    assert client_for(supervisor).get("/inbox/slips/").status_code == 200
    assert IssueSlip.objects.count() == 1


def test_duty_roster_and_log(world):
    mine = world.mine
    head = mine.users[Role.DEPARTMENT_HEAD]
    operator = mine.users[Role.OPERATOR]
    day = timezone.localdate()
    slips.duty_assign(actor=head, organization=mine.city_dept, day=day, user=operator)
    slips.duty_assign(actor=head, organization=mine.city_dept, day=day, user=operator)
    with pytest.raises(ValidationFailed):
        slips.duty_assign(actor=head, organization=mine.city_dept, day=day,
                          user=world.other.users[Role.OPERATOR])
    m = manual(mine.city_dept, "投诉：噪音扰民。")
    from inbox.services import handling

    handling.message_classify(message=m, category="complaint", actor=operator)
    log = slips.duty_log_save(actor=operator, organization=mine.city_dept, day=day,
                              notes="平稳。", sign_off=True)
    assert log.figures["received"] == 1 and log.figures["negative"] == 1
    with pytest.raises(Conflict):
        slips.duty_log_save(actor=operator, organization=mine.city_dept, day=day)
    page = client_for(operator).get(f"/inbox/duty/?day={day.isoformat()}")
    assert page.status_code == 200 and DutyLog.objects.count() == 1


def test_metrics_api_scoped(world):
    mine = world.mine
    manual(mine.city_dept)
    r = client_for(mine.users[Role.SUPERVISOR]).get(
        f"/api/v1/inbox/metrics/?organization={mine.province.pk}"
        f"&from={date.today().replace(day=1)}&to={timezone.localdate()}")
    assert r.status_code == 200 and r.json()["total"]["received"] == 1
    foreign = client_for(world.other.users[Role.SUPERVISOR]).get(
        f"/api/v1/inbox/metrics/?organization={mine.province.pk}")
    assert foreign.status_code == 404
