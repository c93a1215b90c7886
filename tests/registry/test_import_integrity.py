"""Who may import accounts and what the import creates: a supervisor's import is a
stocktake of existing accounts (active, recorded as such); a filer's import creates
pending accounts with opening filings that go through approval; every row is held
to one account per platform unless exempted."""

from __future__ import annotations

import pytest

from accounts.models import Role
from audit.models import AuditEvent
from notifications.models import Notification
from registry.models import (
    AccountExemption,
    AccountOrigin,
    AccountStatus,
    Filing,
    FilingKind,
    FilingStatus,
    MediaAccount,
)
from registry.services import filings, signoff
from tests.registry.helpers import active_account, platform
from tests.registry.test_import import (  # noqa: F401
    _var_dir,
    _worker,
    api,
    upload,
    xlsx,
)

pytestmark = pytest.mark.django_db


def row(org, platform_name, name, account_id, status=""):
    return [org.name, platform_name, name, account_id, "", "", "", status, 10, "2026-01-05"]


def confirm(user, stage):
    return api(user).post(f"/api/v1/ledger-import/{stage['id']}/confirm/")


def test_an_operators_import_creates_pending_accounts_with_opening_filings(world):
    """DOMAIN rules 1 and 32: no account outside the filing. An operator's import
    never creates active accounts: each row is a pending account with an opening
    filing, decided (and notified) by the supervising level, not the province."""
    ns = world.mine
    operator = ns.users[Role.OPERATOR]
    data = xlsx([
        row(ns.city_dept, "微博", "平安甲一", "1234567890", status="正常"),
        row(ns.city_dept, "抖音", "平安甲一抖音", "dy-1"),
    ])
    stage = upload(operator, data).json()
    assert stage["good"] == 2, stage
    response = confirm(operator, stage)
    assert response.status_code == 200, response.content
    accounts = MediaAccount.objects.filter(organization=ns.city_dept)
    assert {a.status for a in accounts} == {AccountStatus.PENDING}
    assert {a.origin for a in accounts} == {AccountOrigin.FILING}
    opened = Filing.objects.filter(account__in=accounts)
    assert opened.count() == 2
    assert {(f.kind, f.status) for f in opened} == {(FilingKind.OPEN, FilingStatus.SUBMITTED)}
    assert {f.decider_organization_id for f in opened} == {ns.city.pk}
    assert AuditEvent.objects.filter(action="filing.submitted").count() == 2
    # rule 8: the department's principal leader is asked first, then signs both off
    assert not Notification.objects.filter(kind="registry.filing_submitted").exists()
    leader = ns.users[Role.PRINCIPAL_LEADER]
    assert Notification.objects.filter(
        kind="registry.filing_signoff_waiting", recipient=leader
    ).exists()
    assert signoff.filing_leader_approve_many(
        actor=leader, filing_ids=list(opened.values_list("pk", flat=True))
    ) == 2
    told = Notification.objects.filter(kind="registry.filing_submitted")
    assert set(told.values_list("recipient", flat=True)) == {ns.city_supervisor.pk}
    # The filings go through approval like any other: then the accounts are active.
    for f in opened:
        filings.filing_approve(filing=f, actor=ns.city_supervisor)
    assert set(accounts.values_list("status", flat=True)) == {AccountStatus.ACTIVE}


def test_a_supervisors_import_is_a_stocktake_recorded_as_such(world):
    """DOMAIN rule 1: only a supervisor records existing accounts as they are; the
    account and its audit event say it was a stocktake."""
    ns = world.mine
    supervisor = ns.users[Role.SUPERVISOR]
    stage = upload(supervisor, xlsx([row(ns.county_dept, "微博", "甲一教育", "777777")])).json()
    assert confirm(supervisor, stage).status_code == 200
    account = MediaAccount.objects.get(platform_account_id="777777")
    assert account.status == AccountStatus.ACTIVE
    assert account.origin == AccountOrigin.STOCKTAKE
    event = AuditEvent.objects.get(action="media_account.imported", target_id=str(account.pk))
    assert event.after["origin"] == "stocktake" and event.role == Role.SUPERVISOR
    assert not Filing.objects.filter(account=account).exists()


def test_a_second_account_on_a_platform_is_a_row_error_unless_exempted(world):
    """DOMAIN rule 2: one account per platform per organization, checked per row
    (against the registry and earlier rows of the file) unless an exemption exists."""
    ns = world.mine
    active_account(ns)  # the city department's Weibo account
    supervisor = ns.users[Role.SUPERVISOR]
    data = xlsx([
        row(ns.city_dept, "微博", "平安甲一二号", "2000000001"),
        row(ns.county_dept, "微博", "甲一教育", "2000000002"),
        row(ns.county_dept, "微博", "甲一教育二号", "2000000003"),
    ])
    body = upload(supervisor, data).json()
    assert body["good"] == 1
    assert sorted(e["row"] for e in body["errors"]) == [2, 4]
    assert all("one account per platform" in e["message"] for e in body["errors"])
    AccountExemption.objects.create(
        organization=ns.city_dept, platform=platform("weibo"), reason="交警支队另设",
        granted_by=ns.city_supervisor,
    )
    body = upload(supervisor, data).json()
    assert sorted(e["row"] for e in body["errors"]) == [4]


def test_leaders_and_liaisons_do_not_import(world):
    """DOMAIN rule 1 (roles from one table, registry.roles): who files imports; a
    leader or liaison is refused before the file is read."""
    data = xlsx([row(world.mine.city_dept, "微博", "平安甲一", "1234567890")])
    for role in (Role.LEADER_IN_CHARGE, Role.PRINCIPAL_LEADER, Role.LIAISON):
        assert upload(world.mine.users[role], data).status_code == 403, role


def test_an_operators_import_cannot_record_other_statuses(world):
    """DOMAIN rule 1: accounts in other statuses (cancelled, suspended...) are
    recorded by a supervisor's stocktake, not by a filer's import."""
    ns = world.mine
    body = upload(
        ns.users[Role.OPERATOR], xlsx([row(ns.city_dept, "微博", "旧号", "3000000001", "注销")])
    ).json()
    assert body["good"] == 0 and body["errors"][0]["row"] == 2
