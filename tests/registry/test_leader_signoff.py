"""DOMAIN.md rule 8: opening and closing an account need the sponsoring unit's principal
leader's approval, given in the system on the filing (not a name typed in by the filer),
before the supervising organization decides it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Membership, Role
from audit.models import AuditEvent
from common.errors import Conflict, PermissionDenied, ValidationFailed
from notifications.models import Notification
from registry.models import AccountStatus, Filing, FilingStatus, LeaderSignoff
from registry.services import filings, signoff
from tests.registry.helpers import active_account, file_open

pytestmark = pytest.mark.django_db


def _cancel(ns, account):
    today = timezone.localdate()
    return filings.filing_submit_cancel(
        actor=ns.users[Role.OPERATOR], account=account, event_date=today,
        announcement_url="https://example.gov.cn/notice/1", announced_on=today,
        deregistered_on=today,
    )


def test_an_opening_waits_for_the_principal_leader_before_the_supervisor(world):
    """Rule 8: the supervisor cannot decide an opening the leader has not signed off;
    the leader is told of it, the supervisors only once it is signed."""
    ns = world.mine
    leader, supervisor = ns.users[Role.PRINCIPAL_LEADER], ns.city_supervisor
    f = file_open(ns, signed=False)
    assert f.leader_signoff == LeaderSignoff.PENDING
    assert Notification.objects.filter(recipient=leader, kind="registry.filing_signoff_waiting").exists()
    assert not Notification.objects.filter(recipient=supervisor).exists()
    assert not filings.can_decide(supervisor, f)
    with pytest.raises(Conflict) as exc:
        filings.filing_approve(filing=f, actor=supervisor)
    assert exc.value.code == "awaiting_leader"
    from registry.selectors import filing_queue

    assert not filing_queue(supervisor).filter(pk=f.pk).exists()
    assert signoff.signoff_queue(leader).filter(pk=f.pk).exists()

    signoff.filing_leader_approve(filing=f, actor=leader, comment="同意开设")
    f.refresh_from_db()
    assert f.leader_signoff == LeaderSignoff.APPROVED and f.principal_leader == leader
    assert f.leader_approved_on == timezone.localdate()
    assert AuditEvent.objects.filter(action="filing.leader_approved", target_id=str(f.pk)).exists()
    assert Notification.objects.filter(recipient=supervisor, kind="registry.filing_submitted").exists()
    assert filing_queue(supervisor).filter(pk=f.pk).exists()
    filings.filing_approve(filing=f, actor=supervisor)
    f.account.refresh_from_db()
    assert f.account.status == AccountStatus.ACTIVE
    with pytest.raises(Conflict):
        signoff.filing_leader_approve(filing=f, actor=leader)


def test_a_closure_needs_the_leader_in_the_system_and_a_refusal_ends_it(world):
    """Rule 8: a cancellation is signed off by the principal leader; a refusal (with a
    reason) ends the filing rejected and the account stays as it was."""
    ns = world.mine
    account = active_account(ns)
    f = _cancel(ns, account)
    assert f.leader_signoff == LeaderSignoff.PENDING
    with pytest.raises(ValidationFailed) as exc:
        signoff.filing_leader_refuse(filing=f, actor=ns.users[Role.PRINCIPAL_LEADER], comment=" ")
    assert "comment" in exc.value.fields
    signoff.filing_leader_refuse(filing=f, actor=ns.users[Role.PRINCIPAL_LEADER], comment="暂缓注销")
    f.refresh_from_db()
    account.refresh_from_db()
    assert f.status == FilingStatus.REJECTED and f.leader_signoff == LeaderSignoff.REFUSED
    assert f.decision_reason == "暂缓注销" and account.status == AccountStatus.ACTIVE
    assert AuditEvent.objects.filter(action="filing.leader_refused", target_id=str(f.pk)).exists()


def test_a_refused_opening_releases_the_account(world):
    ns = world.mine
    f = file_open(ns, signed=False)
    signoff.filing_leader_refuse(filing=f, actor=ns.users[Role.PRINCIPAL_LEADER], comment="方案不全")
    f.account.refresh_from_db()
    assert f.account.status == AccountStatus.NOT_OPENED


def test_only_the_sponsoring_units_principal_leader_signs(world):
    """Rule 8: another role, a leader of another organization, or the filer cannot."""
    ns = world.mine
    f = file_open(ns, signed=False)
    for user in (ns.users[Role.LEADER_IN_CHARGE], ns.city_supervisor, ns.users[Role.DEPARTMENT_HEAD]):
        with pytest.raises(PermissionDenied):
            signoff.filing_leader_approve(filing=f, actor=user)
    from common.errors import NotFound

    with pytest.raises(NotFound):
        signoff.filing_leader_approve(filing=f, actor=world.other.users[Role.PRINCIPAL_LEADER])
    f.refresh_from_db()
    assert f.leader_signoff == LeaderSignoff.PENDING


def test_a_unit_without_a_principal_leader_cannot_file_an_opening(world):
    """Rule 8: refused at submission, naming the vacant role, instead of waiting forever."""
    ns = world.mine
    m = Membership.objects.get(user=ns.users[Role.PRINCIPAL_LEADER], role=Role.PRINCIPAL_LEADER)
    account_services.membership_end(actor=None, membership=m)
    with pytest.raises(ValidationFailed) as exc:
        file_open(ns, signed=False)
    assert exc.value.code == "leader_vacant"
    assert not Filing.objects.exists()


def test_suspensions_and_changes_need_no_signoff(world):
    ns = world.mine
    account = active_account(ns)
    f = filings.filing_submit_suspend(
        actor=ns.users[Role.OPERATOR], account=account, event_date=timezone.localdate(), note="停更"
    )
    assert f.leader_signoff == LeaderSignoff.NOT_NEEDED
    filings.filing_approve(filing=f, actor=ns.city_supervisor)


def test_signoff_through_the_api_and_the_pages(world):
    ns = world.mine
    leader = ns.users[Role.PRINCIPAL_LEADER]
    first, second, third = (file_open(ns, code=c, signed=False) for c in ("weibo", "douyin", "toutiao"))

    api = APIClient()
    api.force_authenticate(world.other.users[Role.PRINCIPAL_LEADER])
    assert api.post(f"/api/v1/filings/{first.pk}/sign-off/", {}, format="json").status_code == 404
    api.force_authenticate(ns.users[Role.OPERATOR])
    assert api.post(f"/api/v1/filings/{first.pk}/sign-off/", {}, format="json").status_code == 403
    api.force_authenticate(leader)
    r = api.post(f"/api/v1/filings/{first.pk}/refuse-sign-off/", {}, format="json")
    assert r.status_code == 400 and "comment" in r.json()["fields"]
    r = api.post(f"/api/v1/filings/{first.pk}/sign-off/", {"comment": "同意"}, format="json")
    assert r.status_code == 200 and r.json()["leader_signoff"] == "approved"
    assert api.post(f"/api/v1/filings/{first.pk}/sign-off/", {}, format="json").status_code == 409

    page = Client()
    page.force_login(leader)
    queue = page.get("/registry/filings/sign-off/").content.decode()
    assert second.number in queue and third.number in queue and first.number not in queue
    detail = page.get(f"/registry/filings/{second.pk}/").content.decode()
    assert 'id="signoff-form"' in detail
    r = page.post("/registry/filings/sign-off/", {"filing": [second.pk, third.pk, first.pk]})
    assert r.status_code == 302
    assert Filing.objects.filter(leader_signoff=LeaderSignoff.APPROVED).count() == 3
    supervisor = Client()
    supervisor.force_login(ns.city_supervisor)
    assert 'id="signoff-form"' not in supervisor.get(f"/registry/filings/{second.pk}/").content.decode()
    assert 'id="decide-form"' in supervisor.get(f"/registry/filings/{second.pk}/").content.decode()
