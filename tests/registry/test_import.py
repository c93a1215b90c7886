"""Ledger import: the dry run reports every bad row and writes nothing; the confirm
imports the good rows in one transaction, with audit events."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import AuditEvent
from registry.models import MediaAccount
from registry.services import ledger_import
from registry.tasks_ledger import ledger_import_check
from tests.registry.ledger_factories import make_account

HEADER = [
    "单位名称",
    "平台",
    "账号名称",
    "平台账号ID",
    "主页链接",
    "类别",
    "认证状态",
    "状态",
    "粉丝数",
    "开通日期",
]


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    # The default file cache is shared with other test runs on this machine.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }


@pytest.fixture(autouse=True)
def _worker(monkeypatch):
    """The check runs as soon as it is queued (eager Celery), standing in for the
    worker; tests/registry/test_upload_limits.py checks that the request only queues."""
    from config.celery import app

    monkeypatch.setitem(app.conf, "CELERY_TASK_ALWAYS_EAGER", True)


def api(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def xlsx(rows, merges=(), header=HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(user, data: bytes, name="ledger.xlsx"):
    file = io.BytesIO(data)
    file.name = name
    return api(user).post("/api/v1/ledger-import/", {"file": file}, format="multipart")


def counts():
    return MediaAccount.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def broken(world):
    mine = world.mine
    make_account(mine.city, "甲一市发布", platform_account_id="5555555555")
    rows = [
        # 2: good
        [
            mine.city_dept.name,
            "微博",
            "平安甲一",
            "1234567890",
            "",
            "机构",
            "已认证",
            "正常",
            1200,
            "2018-03-01",
        ],
        # 3: good, id read from the URL, platform by code, followers in 万
        [
            mine.county_dept.name,
            "douyin",
            "甲一教育",
            "",
            "https://www.douyin.com/user/MS4wLjABAAAA",
            "",
            "",
            "",
            "1.5万",
            "",
        ],
        # 4: unknown organization (and one of the other province: not in scope either)
        ["不存在的单位", "微博", "某账号", "2222222222", "", "", "", "", 1, ""],
        # 5: unknown platform
        [mine.city_dept.name, "脸书", "甲一脸书", "x1", "", "", "", "", 1, ""],
        # 6: unparseable URL for the platform
        [
            mine.city_dept.name,
            "微博",
            "甲一微博二",
            "",
            "https://example.com/not-weibo",
            "",
            "",
            "",
            1,
            "",
        ],
        # 7: bad number
        [
            mine.city_dept.name,
            "微博",
            "甲一微博三",
            "3333333333",
            "",
            "",
            "",
            "",
            "很多",
            "",
        ],
        # 8: duplicate of row 2
        [
            mine.city_dept.name,
            "微博",
            "平安甲一",
            "1234567890",
            "",
            "机构",
            "已认证",
            "正常",
            1200,
            "2018-03-01",
        ],
        # 9-10: merged organization cells
        [mine.county.name, "微博", "甲一县发布", "4444444444", "", "", "", "", 1, ""],
        [None, "微博", "甲一县发布二", "4444444445", "", "", "", "", 1, ""],
        # 11: already registered
        [mine.city.name, "微博", "甲一市发布", "5555555555", "", "", "", "", 1, ""],
        # 12: bad date, unknown status
        [
            mine.city.name,
            "微博",
            "甲一市二号",
            "6666666666",
            "",
            "",
            "",
            "开着",
            1,
            "去年",
        ],
        # 13: another province's organization
        [
            world.other.city_dept.name,
            "微博",
            "平安乙一",
            "7777777777",
            "",
            "",
            "",
            "",
            1,
            "",
        ],
    ]
    return world, xlsx(rows, merges=["A9:A10"])


@pytest.mark.django_db
class TestDryRun:
    def test_reports_every_bad_row_and_writes_nothing(self, broken):
        world, data = broken
        user = world.mine.users[Role.SUPERVISOR]
        before = counts()
        response = upload(user, data)
        assert response.status_code == 202, response.content
        body = response.json()
        assert body["state"] == "checked"
        assert body["good"] == 2
        reasons = {}
        for error in body["errors"]:
            reasons.setdefault(error["row"], []).append(error["message"])
        assert sorted(reasons) == [4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
        assert any("No organization" in m for m in reasons[4])
        assert any("Unknown platform" in m for m in reasons[5])
        assert any("URL" in m or "profile" in m for m in reasons[6])
        assert any("number" in m for m in reasons[7])
        assert any("Duplicate of row 2" in m for m in reasons[8])
        assert any("Merged cells (A9:A10)" in m for m in reasons[9])
        assert any("Merged cells" in m for m in reasons[10])
        assert any("Already registered" in m for m in reasons[11])
        assert any("date" in m for m in reasons[12]) and any(
            "Unknown value" in m for m in reasons[12]
        )
        assert any("No organization" in m for m in reasons[13])
        assert counts() == before

    def test_confirm_imports_good_rows_in_one_transaction(self, broken):
        world, data = broken
        user = world.mine.users[Role.SUPERVISOR]
        stage = upload(user, data).json()
        accounts_before, events_before = counts()
        response = api(user).post(f"/api/v1/ledger-import/{stage['id']}/confirm/")
        assert response.status_code == 200, response.content
        assert response.json()["imported"] == 2
        assert MediaAccount.objects.count() == accounts_before + 2
        events = AuditEvent.objects.filter(action=ledger_import.IMPORT_ACTION)
        assert events.count() == 2 and AuditEvent.objects.count() == events_before + 2
        police = MediaAccount.objects.get(display_name="平安甲一")
        assert police.org_path == world.mine.city_dept.path
        assert police.region_code == world.mine.city_dept.region_code
        assert police.supervising_organization_id
        assert police.followers == 1200 and police.verification == "verified"
        edu = MediaAccount.objects.get(display_name="甲一教育")
        assert edu.platform_account_id == "MS4wLjABAAAA" and edu.followers == 15000
        # A second confirm changes nothing.
        assert (
            api(user).post(f"/api/v1/ledger-import/{stage['id']}/confirm/").status_code
            == 409
        )
        assert MediaAccount.objects.count() == accounts_before + 2

    def test_confirm_revalidates_and_writes_nothing_when_changed(self, broken):
        world, data = broken
        user = world.mine.users[Role.SUPERVISOR]
        stage = upload(user, data).json()
        make_account(world.mine.city, "抢先登记", platform_account_id="1234567890")
        before = counts()
        response = api(user).post(f"/api/v1/ledger-import/{stage['id']}/confirm/")
        assert response.status_code == 409
        assert counts() == before

    def test_wrong_headers(self, world):
        user = world.mine.users[Role.SUPERVISOR]
        data = xlsx(
            [["x", "微博", "y", "1"]],
            header=["单位", "平台的名字", "账号名称", "平台账号ID"],
        )
        body = upload(user, data).json()
        assert body["good"] == 0
        assert any("平台" in e for e in body["file_errors"])
        assert any("平台的名字" in w for w in body["warnings"])

    def test_garbage_file_is_a_report_not_a_500(self, world):
        user = world.mine.users[Role.SUPERVISOR]
        # An unreadable zip is refused by the bounds check, before it is kept.
        response = upload(user, b"PK\x03\x04garbage", name="x.xlsx")
        assert response.status_code == 400
        assert response.json()["fields"]["file"]
        assert upload(user, b"", name="x.csv").status_code == 400
        assert (
            upload(
                user, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....", name="x.xls"
            ).status_code
            == 400
        )

    def test_gb18030_csv(self, world):
        user = world.mine.users[Role.SUPERVISOR]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(HEADER)
        writer.writerow(
            [
                world.mine.city_dept.name,
                "微博",
                "平安甲一",
                "1234567890",
                "",
                "领导",
                "未认证",
                "整改",
                "12,000",
                "2019/5/1",
            ]
        )
        text = buffer.getvalue()
        response = upload(user, text.encode("gb18030"), name="台账.csv")
        body = response.json()
        assert body["errors"] == [] and body["file_errors"] == [] and body["good"] == 1
        assert (
            api(user).post(f"/api/v1/ledger-import/{body['id']}/confirm/").status_code
            == 200
        )
        account = MediaAccount.objects.get(display_name="平安甲一")
        assert (
            account.category,
            account.verification,
            account.status,
            account.followers,
        ) == ("leader", "unverified", "rectifying", 12000)

    def test_english_headers_and_utf8_bom(self, world):
        user = world.mine.users[Role.OPERATOR]
        text = "\ufeffOrganization,Platform,Display name,Profile URL\n" + (
            f"{world.mine.city_dept.name},Bilibili,甲一B站,https://space.bilibili.com/12345\n"
        )
        body = upload(user, text.encode("utf-8"), name="a.csv").json()
        assert body["good"] == 1, body

    def test_operator_cannot_import_for_another_organization(self, world):
        user = world.mine.users[Role.OPERATOR]  # sits in the city department
        data = xlsx(
            [
                [
                    world.mine.county_dept.name,
                    "微博",
                    "甲一教育",
                    "1",
                    "",
                    "",
                    "",
                    "",
                    1,
                    "",
                ]
            ]
        )
        body = upload(user, data).json()
        assert body["good"] == 0 and body["errors"][0]["row"] == 2


@pytest.mark.django_db
class TestAccess:
    def test_outsourced_operator_cannot_import(self, world):
        data = xlsx([])
        assert (
            upload(world.mine.users[Role.OUTSOURCED_OPERATOR], data).status_code == 403
        )
        assert upload(world.mine.users[Role.AUDITOR], data).status_code == 403
        assert upload(world.mine.users[Role.SECURITY_ADMIN], data).status_code == 404

    def test_stage_of_another_user_is_404(self, broken):
        world, data = broken
        stage = upload(world.mine.users[Role.SUPERVISOR], data).json()
        other = world.other.users[Role.SUPERVISOR]
        assert (
            api(other).get(f"/api/v1/ledger-import/{stage['id']}/").status_code == 404
        )
        assert (
            api(other).post(f"/api/v1/ledger-import/{stage['id']}/confirm/").status_code
            == 404
        )
        assert MediaAccount.objects.filter(display_name="平安甲一").count() == 0


@pytest.mark.django_db
class TestPagesAndProgress:
    def test_page_flow(self, broken, client):
        world, data = broken
        user = world.mine.users[Role.SUPERVISOR]
        client.force_login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        assert client.get(reverse("registry:ledger_import")).status_code == 200
        template = client.get(reverse("registry:ledger_import_template", args=["xlsx"]))
        header = [
            c.value
            for c in openpyxl.load_workbook(io.BytesIO(template.content)).worksheets[0][
                1
            ]
        ]
        assert header[:4] == ["单位名称", "平台", "账号名称", "平台账号ID"]
        file = io.BytesIO(data)
        file.name = "ledger.xlsx"
        response = client.post(reverse("registry:ledger_import"), {"file": file})
        assert response.status_code == 302
        detail = client.get(response["Location"])
        assert detail.status_code == 200
        html = detail.content.decode()
        assert "Merged cells (A9:A10)" in html or "A9:A10" in html
        confirm = response["Location"] + "confirm/"
        assert client.post(confirm).status_code == 302
        assert (
            MediaAccount.objects.filter(
                display_name__in=["平安甲一", "甲一教育"]
            ).count()
            == 2
        )

    def test_background_check_reports_progress(self, broken, client, settings):
        world, data = broken
        user = world.mine.users[Role.SUPERVISOR]
        stage = ledger_import.import_stage(user=user, filename="big.xlsx", data=data)
        client.force_login(user)
        url = reverse("registry:ledger_import_status", args=[stage["id"]])
        assert client.get(url).json()["state"] == "queued"
        page = client.get(reverse("registry:ledger_import_detail", args=[stage["id"]]))
        assert f'data-status-url="{url}"' in page.content.decode()
        assert "js/ledger_import.js" in page.content.decode()
        ledger_import_check(stage["id"], user.pk)  # what the worker runs
        status = client.get(url).json()
        assert status["state"] == "checked" and status["percent"] == 100
        assert status["good"] == 2 and status["bad"] == 10


def _zip_without_workbook() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


MALFORMED = {
    "random.csv": bytes(range(256)) * 20,
    "nul.csv": b"a,b\x00,c\n1,2,3\n",
    "zip.xlsx": _zip_without_workbook(),
    "header_only.xlsx": xlsx([]),
    "header_only.csv": ",".join(HEADER).encode("utf-8"),
    "semicolons.csv": ";".join(HEADER).encode("utf-8") + b"\n1;2;3\n",
    "quotes.csv": b'"unterminated,\n' * 50,
    "long.csv": (
        "单位名称,平台,账号名称,平台账号ID\n" + "x" * 200000 + ",微博,a,1\n"
    ).encode(),
    "empty_sheet.xlsx": xlsx([], header=[]),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_files_are_reported_never_500(world, name):
    user = world.mine.users[Role.SUPERVISOR]
    before = counts()
    response = upload(user, MALFORMED[name], name=name)
    assert response.status_code in (202, 400), response.content
    if response.status_code == 202:
        body = response.json()
        assert body["state"] == "checked"
        assert body["file_errors"] or body["errors"] or body["good"] == 0
        confirm = api(user).post(f"/api/v1/ledger-import/{body['id']}/confirm/")
        assert confirm.status_code in (400, 409)
    assert counts() == before


@pytest.mark.django_db
def test_old_stages_are_purged(world):
    import os
    import time

    user = world.mine.users[Role.SUPERVISOR]
    old = ledger_import.import_stage(user=user, filename="a.csv", data=b"x,y\n")
    new = ledger_import.import_stage(user=user, filename="b.csv", data=b"x,y\n")
    record, upload_path = ledger_import._paths(old["id"])
    past = time.time() - 3 * 24 * 3600
    for path in (record, upload_path):
        os.utime(path, (past, past))
    assert ledger_import.stages_purge(older_than_hours=48) == 2
    assert ledger_import.stage_load(new["id"], user)["id"] == new["id"]
    with pytest.raises(ledger_import.NotFound):
        ledger_import.stage_load(old["id"], user)
