"""Tenant isolation of every registry endpoint, through the declarative harness of
tests/tenancy.py (rows registered for this module only), plus the decision endpoints,
which need a supervisor's role on top of scope."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, Role
from accounts.scoping import Domain
from registry.models import Filing, FilingStatus, MediaAccount, Platform, RotationTask
from registry.services import filings, signoff
from tests import tenancy
from tests.accounts.test_tenancy_matrix import _context
from tests.factories import make_user, token_for

_n = itertools.count(1)


def _make_filing(org, code="bilibili"):
    if org is None:
        return None
    ops = [make_user(org, Role.OPERATOR).pk, make_user(org, Role.OPERATOR).pk]
    leader = make_user(org, Role.PRINCIPAL_LEADER)
    filing = filings.filing_submit_open(
        actor=make_user(org, Role.OPERATOR), organization=org,
        platform=Platform.objects.get(code=code), platform_account_id=f"t{next(_n)}",
        display_name="矩阵", event_date=timezone.localdate(), operators=ops,
    )
    return signoff.filing_leader_approve(filing=filing, actor=leader)


def _make_account(org):
    f = _make_filing(org, code="kuaishou")
    return f.account if f else None


ROWS = {
    "registry_filing": tenancy.Rows(
        Domain.BUSINESS, make=_make_filing,
        universe=lambda: {str(pk): p for pk, p in Filing.objects.values_list("pk", "org_path")},
    ),
    "registry_account": tenancy.Rows(
        Domain.BUSINESS, make=_make_account,
        universe=lambda: {str(pk): p for pk, p in MediaAccount.objects.values_list("pk", "org_path")},
    ),
}
ENDPOINTS = [
    tenancy.api_list("api filings list", "registry_filing", "/api/v1/filings/?page_size=200"),
    tenancy.api_read("api filings retrieve", "registry_filing", "/api/v1/filings/{pk}/"),
    tenancy.api_list("api media-accounts list", "registry_account", "/api/v1/media-accounts/?page_size=200"),
    tenancy.api_read("api media-accounts retrieve", "registry_account", "/api/v1/media-accounts/{pk}/"),
    tenancy.api_read("api media-accounts history", "registry_account", "/api/v1/media-accounts/{pk}/history/"),
    tenancy.Endpoint("page account detail", "registry_account", tenancy.READ, "/registry/accounts/{pk}/", via="page"),
    tenancy.Endpoint("page account history", "registry_account", tenancy.READ, "/registry/accounts/{pk}/history/", via="page"),
    tenancy.Endpoint("page filing detail", "registry_filing", tenancy.READ, "/registry/filings/{pk}/", via="page"),
    tenancy.Endpoint(
        "page accounts", "registry_account", tenancy.LIST, "/registry/accounts/", via="page",
        extract=tenancy.page_context("page"),
    ),
    tenancy.Endpoint(
        "page filings", "registry_filing", tenancy.LIST, "/registry/filings/", via="page",
        extract=tenancy.page_context("page"),
    ),
    tenancy.Endpoint(
        "api filings export", "registry_filing", tenancy.EXPORT, "/api/v1/filings/export/",
        extract=tenancy.csv_column(0),
    ),
]


@pytest.mark.parametrize("placement", ["standard", "city"])
@pytest.mark.parametrize("role", list(Role))
def test_registry_isolation_matrix(world, role, placement, monkeypatch):
    for name, rows in ROWS.items():
        monkeypatch.setitem(tenancy.ROWS, name, rows)
    ctx = _context(world, role, placement)
    problems: list[str] = []
    for endpoint in ENDPOINTS:
        problems += tenancy.check_endpoint(ctx, endpoint)
    assert not problems, f"{role} ({placement}):\n" + "\n".join(problems)


def _api(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {token_for(user)}")


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_decisions_by_the_wrong_people_change_nothing(world, decision):
    f = _make_filing(world.mine.city_dept)
    body = {"reason": "不符合"}
    cases = [
        (world.other.users[Role.SUPERVISOR], 404),
        (world.other.users[Role.OPERATOR], 404),
        (world.mine.users[Role.OPERATOR], 403),
        (world.mine.users[Role.PRINCIPAL_LEADER], 403),
        (world.mine.users[Role.AUDITOR], 403),
    ]
    for user, expected in cases:
        r = _api(user).post(f"/api/v1/filings/{f.pk}/{decision}/", body, content_type="application/json")
        assert r.status_code == expected, (user, r.content)
        page = Client()
        page.force_login(user)
        r = page.post(f"/registry/filings/{f.pk}/decide/", {"decision": decision, "reason": "x"})
        assert r.status_code == expected, (user, r.status_code)
    f.refresh_from_db()
    assert f.status == FilingStatus.SUBMITTED and f.decided_by is None


def test_other_endpoints_hide_other_provinces(world):
    from accounts import services as account_services
    from tests.registry.helpers import active_account

    account = active_account(world.mine)
    m = Membership.objects.get(user=world.mine.users[Role.OUTSOURCED_OPERATOR], role=Role.OUTSOURCED_OPERATOR)
    account_services.membership_end(actor=None, membership=m)
    task = RotationTask.objects.get(account=account)
    mine, other = _api(world.mine.users[Role.OPERATOR]), _api(world.other.users[Role.OPERATOR])
    for url in (f"/api/v1/rotation-tasks/{task.pk}/",):
        assert mine.get(url).status_code == 200
        assert other.get(url).status_code == 404
    assert other.get("/api/v1/rotation-tasks/").json()["results"] == []
    assert other.post(f"/api/v1/rotation-tasks/{task.pk}/complete/").status_code == 404
    r = other.post(
        "/api/v1/credential-custody/", {"account": account.pk, "holder": None, "last_changed_on": None},
        content_type="application/json",
    )
    assert r.status_code == 404
    r = other.post(
        "/api/v1/filings/", {"kind": "suspend", "account": account.pk, "event_date": str(timezone.localdate()), "note": "x"},
        content_type="application/json",
    )
    assert r.status_code == 404
    sup = _api(world.other.users[Role.SUPERVISOR])
    r = sup.post(
        "/api/v1/account-exemptions/", {"organization": world.mine.city_dept.pk, "platform": "weibo", "reason": "x"},
        content_type="application/json",
    )
    assert r.status_code == 404
    browser = Client()
    browser.force_login(world.other.users[Role.SUPERVISOR])
    assert browser.get(f"/registry/accounts/{account.pk}/").status_code == 404
    assert sup.get("/api/v1/account-exemptions/").json()["results"] == []
