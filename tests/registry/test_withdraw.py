"""Withdrawing a filing, and what a rejected or withdrawn opening leaves behind: the
account is NOT_OPENED and its platform id is free to be filed again."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from audit.models import AuditEvent
from common.errors import Conflict, NotFound, PermissionDenied
from registry.models import AccountStatus, FilingStatus
from registry.services import filings
from tests.factories import token_for
from tests.registry.helpers import active_account, file_open


def _api(user) -> Client:
    token = token_for(user)
    return Client(HTTP_AUTHORIZATION=f"Token {token}")


def _page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_rejected_opening_releases_the_platform_id(world):
    f = file_open(world.mine, account_id="7001")
    filings.filing_reject(filing=f, actor=world.mine.city_supervisor, reason="名称不规范")
    f.account.refresh_from_db()
    assert f.account.status == AccountStatus.NOT_OPENED
    assert AuditEvent.objects.filter(
        action="media_account.not_opened", target_id=str(f.account_id)
    ).exists()
    # the organization files the same platform account again, and it can be approved
    again = file_open(world.mine, account_id="7001", name="甲一公安发布")
    assert again.account_id != f.account_id
    filings.filing_approve(filing=again, actor=world.mine.city_supervisor)
    again.account.refresh_from_db()
    assert again.account.status == AccountStatus.ACTIVE


def test_filer_withdraws_an_opening(world):
    operator = world.mine.users[Role.OPERATOR]
    f = file_open(world.mine, account_id="7002")
    withdrawn = filings.filing_withdraw(filing=f, actor=operator, reason="填错了")
    assert withdrawn.status == FilingStatus.WITHDRAWN
    assert withdrawn.decided_by == operator and withdrawn.decision_reason == "填错了"
    withdrawn.account.refresh_from_db()
    assert withdrawn.account.status == AccountStatus.NOT_OPENED
    assert AuditEvent.objects.filter(action="filing.withdrawn", target_id=str(f.pk)).exists()
    # final: nobody decides a withdrawn filing, and it is not withdrawn twice
    with pytest.raises(Conflict):
        filings.filing_approve(filing=f, actor=world.mine.city_supervisor)
    with pytest.raises(Conflict):
        filings.filing_withdraw(filing=f, actor=operator)
    # the id is free again
    assert file_open(world.mine, account_id="7002").status == FilingStatus.SUBMITTED


def test_only_the_sponsoring_organizations_filers_withdraw(world):
    f = file_open(world.mine)
    with pytest.raises(PermissionDenied):
        filings.filing_withdraw(filing=f, actor=world.mine.users[Role.SUPERVISOR])
    with pytest.raises(PermissionDenied):
        filings.filing_withdraw(filing=f, actor=world.mine.users[Role.OUTSOURCED_OPERATOR])
    with pytest.raises(NotFound):
        filings.filing_withdraw(filing=f, actor=world.other.users[Role.OPERATOR])
    f.refresh_from_db()
    f.account.refresh_from_db()
    assert f.status == FilingStatus.SUBMITTED and f.account.status == AccountStatus.PENDING
    # a colleague who files for the same organization may withdraw it
    filings.filing_withdraw(filing=f, actor=world.mine.users[Role.DEPARTMENT_HEAD])
    f.refresh_from_db()
    assert f.status == FilingStatus.WITHDRAWN


def test_withdrawing_a_change_leaves_the_account_as_it_was(world):
    account = active_account(world.mine)
    f = filings.filing_submit_change(
        actor=world.mine.users[Role.OPERATOR], account=account,
        changes={"display_name": "甲一公安新名"}, event_date=account.opened_on,
    )
    filings.filing_withdraw(filing=f, actor=world.mine.users[Role.OPERATOR])
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE and account.display_name != "甲一公安新名"


def test_withdraw_through_the_api(world):
    f = file_open(world.mine, account_id="7003")
    url = f"/api/v1/filings/{f.pk}/withdraw/"
    assert _api(world.other.users[Role.OPERATOR]).post(url).status_code == 404
    assert _api(world.mine.users[Role.SUPERVISOR]).post(url).status_code == 403
    r = _api(world.mine.users[Role.OPERATOR]).post(
        url, {"reason": "x" * 2001}, content_type="application/json"
    )
    assert r.status_code == 400 and "reason" in r.json()["fields"]
    r = _api(world.mine.users[Role.OPERATOR]).post(url, {}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    again = _api(world.mine.city_supervisor).post(f"/api/v1/filings/{f.pk}/approve/")
    assert again.status_code == 409
    account = _api(world.mine.users[Role.OPERATOR]).get(f"/api/v1/media-accounts/{f.account_id}/")
    assert account.json()["status"] == "not_opened"


def test_withdraw_on_the_page(world):
    f = file_open(world.mine)
    operator = _page(world.mine.users[Role.OPERATOR])
    detail = operator.get(f"/registry/filings/{f.pk}/").content.decode()
    assert 'id="withdraw-form"' in detail
    supervisor_view = _page(world.mine.users[Role.SUPERVISOR]).get(f"/registry/filings/{f.pk}/")
    assert 'id="withdraw-form"' not in supervisor_view.content.decode()
    # a supervisor posting anyway is refused; another province sees nothing
    url = f"/registry/filings/{f.pk}/withdraw/"
    assert _page(world.mine.users[Role.SUPERVISOR]).post(url).status_code == 403
    assert _page(world.other.users[Role.OPERATOR]).post(url).status_code == 404
    r = operator.post(url, {"withdraw-reason": "重复"})
    assert r.status_code == 302
    f.refresh_from_db()
    assert f.status == FilingStatus.WITHDRAWN and f.decision_reason == "重复"
    detail = operator.get(f"/registry/filings/{f.pk}/").content.decode()
    assert 'id="withdraw-form"' not in detail
