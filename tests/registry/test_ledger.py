"""The ledger: filters, sorting, constant query counts, tenancy, exports."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from registry.models import AccountCategory, AccountStatus
from registry.services import ledger_export
from tests.registry.ledger_factories import make_account


def login(client, user):
    client.force_login(user)
    return client


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def ledger_world(world):
    mine, other = world.mine, world.other
    now = timezone.now()
    op = mine.users[Role.OPERATOR]
    accounts = {
        "police": make_account(
            mine.city_dept,
            "平安甲一",
            followers=500,
            last_post_at=now - timedelta(days=1),
            operators=[op],
        ),
        "idle": make_account(
            mine.county_dept,
            "甲一教育",
            platform="douyin",
            followers=10,
            last_post_at=now - timedelta(days=40),
        ),
        "never": make_account(
            mine.county,
            "甲一县发布",
            platform="wechat_subscription",
            followers=9000,
            category=AccountCategory.LEADER,
            # never posted since it opened 100 days ago: idle counts from the opening
            opened_on=timezone.localdate() - timedelta(days=100),
        ),
        "cancelled": make_account(
            mine.city,
            "甲一市旧号",
            status=AccountStatus.CANCELLED,
            last_post_at=now - timedelta(days=400),
        ),
        "foreign": make_account(other.city_dept, "平安乙一", followers=700),
    }
    return world, accounts


def names(response):
    return [row["display_name"] for row in response.json()["results"]]


@pytest.mark.django_db
class TestFilters:
    def test_supervisor_sees_the_province_not_the_other(self, ledger_world):
        world, _a = ledger_world
        response = api(world.mine.users[Role.SUPERVISOR]).get(
            "/api/v1/ledger/?sort=name"
        )
        assert response.status_code == 200
        assert sorted(names(response)) == sorted(
            ["平安甲一", "甲一教育", "甲一县发布", "甲一市旧号"]
        )

    def test_filters(self, ledger_world):
        world, a = ledger_world
        client = api(world.mine.users[Role.SUPERVISOR])
        assert names(client.get("/api/v1/ledger/?platform=douyin")) == ["甲一教育"]
        assert names(client.get("/api/v1/ledger/?status=cancelled")) == ["甲一市旧号"]
        assert names(client.get("/api/v1/ledger/?category=leader")) == ["甲一县发布"]
        assert sorted(names(client.get("/api/v1/ledger/?idle=true"))) == [
            "甲一县发布",
            "甲一教育",
        ]
        assert names(client.get("/api/v1/ledger/?idle=true&idle_days=60")) == [
            "甲一县发布"
        ]
        assert names(client.get("/api/v1/ledger/?q=平安")) == ["平安甲一"]
        by_id = client.get(f"/api/v1/ledger/?q={a['idle'].platform_account_id}")
        assert names(by_id) == ["甲一教育"]
        county = world.mine.county
        assert sorted(names(client.get(f"/api/v1/ledger/?org={county.pk}"))) == [
            "甲一县发布",
            "甲一教育",
        ]
        # No filing is late in this world.
        assert names(client.get("/api/v1/ledger/?filing_overdue=true")) == []

    def test_sorting(self, ledger_world):
        world, _a = ledger_world
        client = api(world.mine.users[Role.SUPERVISOR])
        assert names(client.get("/api/v1/ledger/?sort=-followers&status=active")) == [
            "甲一县发布",
            "平安甲一",
            "甲一教育",
        ]
        assert names(client.get("/api/v1/ledger/?sort=followers&status=active")) == [
            "甲一教育",
            "平安甲一",
            "甲一县发布",
        ]
        last = names(client.get("/api/v1/ledger/?sort=-last_post&status=active"))
        assert last.index("平安甲一") < last.index("甲一教育")
        assert client.get("/api/v1/ledger/?sort=bogus").status_code == 400

    def test_foreign_org_filter_is_404(self, ledger_world):
        world, _a = ledger_world
        client = api(world.mine.users[Role.SUPERVISOR])
        assert (
            client.get(f"/api/v1/ledger/?org={world.other.province.pk}").status_code
            == 404
        )
        assert client.get("/api/v1/ledger/?org=99999999").status_code == 404

    def test_page_foreign_org_is_404(self, ledger_world, client):
        world, _a = ledger_world
        login(client, world.mine.users[Role.SUPERVISOR])
        url = reverse("registry:ledger")
        assert client.get(url, {"org": world.other.city.pk}).status_code == 404
        export = reverse("registry:ledger_export", args=["csv"])
        assert client.get(export, {"org": world.other.city.pk}).status_code == 404
        response = client.get(url, {"org": world.mine.city.pk})
        assert response.status_code == 200
        assert "平安甲一" in response.content.decode()
        assert "平安乙一" not in response.content.decode()
        # The menu offers the ledger and, to supervisors, the counterfeit check.
        assert f'href="{url}"' in response.content.decode()
        assert f'href="{reverse("registry:counterfeit")}"' in response.content.decode()

    def test_operator_sees_own_organization_only(self, ledger_world):
        world, _a = ledger_world
        response = api(world.mine.users[Role.OPERATOR]).get("/api/v1/ledger/")
        assert names(response) == ["平安甲一"]
        assert response.json()["results"][0]["operators"] == [
            str(world.mine.users[Role.OPERATOR])
        ]

    def test_other_province_sees_only_its_own(self, ledger_world):
        world, _a = ledger_world
        response = api(world.other.users[Role.SUPERVISOR]).get("/api/v1/ledger/")
        assert names(response) == ["平安乙一"]


def _bulk(org, n, start=0):
    for i in range(start, start + n):
        make_account(org, f"账号{i:03d}", followers=i)


@pytest.mark.django_db
class TestQueryCount:
    def test_api_list_constant(self, world, django_assert_max_num_queries):
        user = world.mine.users[Role.SUPERVISOR]
        op = world.mine.users[Role.OPERATOR]
        _bulk(world.mine.city_dept, 3)
        client = api(user)
        client.get("/api/v1/ledger/")  # warm caches (content types, platforms)
        with django_assert_max_num_queries(8) as small:
            assert (
                client.get(f"/api/v1/ledger/?org={world.mine.city.pk}").status_code
                == 200
            )
        _bulk(world.mine.city_dept, 27, start=3)
        for account in world.mine.city_dept.media_accounts.all()[:10]:
            account.operators.add(op)
        with django_assert_max_num_queries(len(small.captured_queries)):
            response = client.get(f"/api/v1/ledger/?org={world.mine.city.pk}")
        assert response.json()["count"] == 30

    def test_page_constant(self, world, client, django_assert_max_num_queries):
        user = world.mine.users[Role.SUPERVISOR]
        login(client, user)
        _bulk(world.mine.city_dept, 3)
        url = reverse("registry:ledger")
        client.get(url)
        with django_assert_max_num_queries(30) as small:
            assert client.get(url, {"sort": "-followers"}).status_code == 200
        _bulk(world.mine.county_dept, 27, start=3)
        with django_assert_max_num_queries(len(small.captured_queries)):
            response = client.get(url, {"sort": "-followers"})
        assert "账号029" in response.content.decode()


@pytest.mark.django_db
class TestExport:
    def test_xlsx_content(self, ledger_world, client):
        world, a = ledger_world
        login(client, world.mine.users[Role.SUPERVISOR])
        response = client.get(
            reverse("registry:ledger_export", args=["xlsx"]), {"sort": "name"}
        )
        assert response.status_code == 200
        data = b"".join(response.streaming_content)
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        header = list(rows[0])
        assert len(header) == len(ledger_export.COLUMNS) >= 28
        body = [dict(zip(header, row, strict=False)) for row in rows[1:]]
        assert len(body) == 4
        names_col = header[
            [src for _h, src in ledger_export.COLUMNS].index("display_name")
        ]
        assert {r[names_col] for r in body} == {
            "平安甲一",
            "甲一教育",
            "甲一县发布",
            "甲一市旧号",
        }
        police = next(r for r in body if r[names_col] == "平安甲一")
        org_col = header[
            [src for _h, src in ledger_export.COLUMNS].index("organization__name")
        ]
        ops_col = header[[src for _h, src in ledger_export.COLUMNS].index("=operators")]
        sup_col = header[
            [src for _h, src in ledger_export.COLUMNS].index(
                "supervising_organization__name"
            )
        ]
        assert police[org_col] == world.mine.city_dept.name
        assert police[ops_col] == str(world.mine.users[Role.OPERATOR])
        assert police[sup_col] == a["police"].supervising_organization.name

    def test_csv_has_bom_and_respects_filters(self, ledger_world, client):
        world, _a = ledger_world
        login(client, world.mine.users[Role.SUPERVISOR])
        response = client.get(
            reverse("registry:ledger_export", args=["csv"]), {"platform": "douyin"}
        )
        assert response.status_code == 200
        text = b"".join(response.streaming_content).decode("utf-8")
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        assert len(rows) == 2 and "甲一教育" in rows[1]
        assert "平安乙一" not in text

    def test_api_export_isolated(self, ledger_world):
        world, _a = ledger_world
        response = api(world.other.users[Role.AUDITOR]).get(
            "/api/v1/ledger/export/?file_format=csv"
        )
        assert response.status_code == 200
        text = b"".join(response.streaming_content).decode("utf-8")
        assert "平安乙一" in text and "平安甲一" not in text

    def test_outsourced_operator_cannot_export(self, ledger_world, client):
        world, _a = ledger_world
        user = world.mine.users[Role.OUTSOURCED_OPERATOR]
        assert (
            api(user).get("/api/v1/ledger/export/?file_format=csv").status_code == 403
        )
        login(client, user)
        assert (
            client.get(reverse("registry:ledger_export", args=["xlsx"])).status_code
            == 403
        )
        assert client.get(reverse("registry:ledger")).status_code == 200

    def test_admin_without_business_scope_gets_404(self, ledger_world, client):
        world, _a = ledger_world
        login(client, world.mine.users[Role.SECURITY_ADMIN])
        assert client.get(reverse("registry:ledger")).status_code == 404
        assert (
            client.get(reverse("registry:ledger_export", args=["csv"])).status_code
            == 404
        )
