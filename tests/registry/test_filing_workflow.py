"""The filing workflow: submit, approve/reject, effects only on approval, numbers,
deadlines, records that are never edited."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from notifications.models import Notification
from registry.models import AccountStatus, Filing, FilingPolicy, FilingStatus
from registry.services import filings
from tests.registry.helpers import active_account, file_open, sign_off


def test_open_filing_records_a_pending_account_and_numbers_the_filing(world):
    f = file_open(world.mine, account_id="1234567")
    assert f.status == FilingStatus.SUBMITTED
    assert f.account.status == AccountStatus.PENDING
    year = timezone.localdate().year
    assert re.fullmatch(rf"330100-{year}-\d{{4}}", f.number)
    f2 = file_open(world.mine, code="douyin", account_id="abc")
    assert int(f2.number[-4:]) == int(f.number[-4:]) + 1
    assert f.before is None and f.after["status"] == "active"
    assert AuditEvent.objects.filter(action="filing.submitted", target_id=str(f.pk)).exists()
    # the supervisors of the supervising level are told (not every level above)
    assert Notification.objects.filter(
        recipient=world.mine.city_supervisor, kind="registry.filing_submitted"
    ).exists()
    assert not Notification.objects.filter(
        recipient=world.mine.users[Role.SUPERVISOR], kind="registry.filing_submitted"
    ).exists()
    assert not Notification.objects.filter(recipient=world.other.users[Role.SUPERVISOR]).exists()


def test_approval_makes_the_account_active_and_tells_the_filer(world):
    f = file_open(world.mine)
    filings.filing_approve(filing=f, actor=world.mine.city_supervisor)
    f.refresh_from_db()
    f.account.refresh_from_db()
    assert f.status == FilingStatus.APPROVED and f.decided_by == world.mine.city_supervisor
    assert f.account.status == AccountStatus.ACTIVE
    assert f.account.opened_on == f.event_date
    assert AuditEvent.objects.filter(action="media_account.opened", target_id=str(f.account_id)).exists()
    assert Notification.objects.filter(
        recipient=world.mine.users[Role.OPERATOR], kind="registry.filing_decided"
    ).exists()


def test_a_city_supervisor_may_approve_too(world):
    f = file_open(world.mine)
    filings.filing_approve(filing=f, actor=world.mine.city_supervisor)
    f.refresh_from_db()
    assert f.status == FilingStatus.APPROVED


def test_reject_needs_a_reason_and_changes_nothing(world):
    f = file_open(world.mine)
    with pytest.raises(ValidationFailed) as exc:
        filings.filing_reject(filing=f, actor=world.mine.city_supervisor, reason="  ")
    assert exc.value.code == "reason_required" and "reason" in exc.value.fields
    filings.filing_reject(filing=f, actor=world.mine.city_supervisor, reason="名称不规范")
    f.refresh_from_db()
    f.account.refresh_from_db()
    assert f.status == FilingStatus.REJECTED
    # the account was never opened: it is kept as the record, releasing its id
    assert f.account.status == AccountStatus.NOT_OPENED
    # decided once: a second decision is a conflict
    with pytest.raises(Conflict):
        filings.filing_approve(filing=f, actor=world.mine.city_supervisor)
    # a never-opened account is not re-opened; the opening is filed anew
    with pytest.raises(Conflict):
        filings.filing_submit_reopen(
            actor=world.mine.users[Role.OPERATOR], account=f.account, event_date=f.event_date
        )


def test_only_supervisors_decide_and_never_their_own_filing(world):
    f = file_open(world.mine)
    for user in (world.mine.users[Role.OPERATOR], world.mine.users[Role.DEPARTMENT_HEAD],
                 world.mine.users[Role.AUDITOR]):
        with pytest.raises(PermissionDenied):
            filings.filing_approve(filing=f, actor=user)
    with pytest.raises(NotFound):
        filings.filing_approve(filing=f, actor=world.other.users[Role.SUPERVISOR])
    f.refresh_from_db()
    assert f.status == FilingStatus.SUBMITTED
    assert f.account.status == AccountStatus.PENDING


def test_only_operators_and_department_head_file(world):
    with pytest.raises(PermissionDenied):
        file_open(world.mine, actor=world.mine.users[Role.OUTSOURCED_OPERATOR])
    with pytest.raises(PermissionDenied):
        file_open(world.mine, actor=world.mine.users[Role.LIAISON])
    with pytest.raises(NotFound):
        file_open(world.mine, actor=world.other.users[Role.OPERATOR])
    assert file_open(world.mine, actor=world.mine.users[Role.DEPARTMENT_HEAD]).pk


def test_same_platform_account_cannot_be_registered_twice(world):
    file_open(world.mine, account_id="5550001")
    with pytest.raises(Conflict) as exc:
        file_open(world.mine, code="weibo", account_id="5550001", name="甲一公安二号")
    assert exc.value.code == "already_registered"
    assert "platform_account_id" in exc.value.fields
    # another province does not learn who registered it
    with pytest.raises(Conflict) as exc:
        filings.filing_submit_open(
            actor=world.other.users[Role.OPERATOR], organization=world.other.city_dept,
            platform=Filing.objects.first().account.platform, platform_account_id="5550001",
            display_name="乙一公安", event_date=timezone.localdate(),
            operators=[world.other.users[Role.OPERATOR].pk, world.other.users[Role.OUTSOURCED_OPERATOR].pk],
        )
    assert world.mine.city_dept.name not in str(exc.value.message)


def test_change_takes_effect_only_on_approval_and_keeps_before_after(world):
    account = active_account(world.mine, name="甲一公安")
    f = filings.filing_submit_change(
        actor=world.mine.users[Role.OPERATOR], account=account,
        changes={"display_name": "甲一市公安", "category": account.category},
        event_date=timezone.localdate(),
    )
    assert f.before == {"display_name": "甲一公安"} and f.after == {"display_name": "甲一市公安"}
    account.refresh_from_db()
    assert account.display_name == "甲一公安"
    filings.filing_approve(filing=f, actor=world.mine.city_supervisor)
    account.refresh_from_db()
    assert account.display_name == "甲一市公安"


def test_change_of_sponsoring_organization_keeps_path_and_region_in_step(world):
    from tests.factories import make_user

    account = active_account(world.mine, name="甲一公安")
    county = world.mine.county_dept
    county_ops = [make_user(county, Role.OPERATOR).pk]
    with pytest.raises(ValidationFailed) as exc:  # same organization: nothing changes
        filings.filing_submit_change(
            actor=world.mine.users[Role.OPERATOR], account=account,
            changes={"organization": world.mine.city_dept.pk}, event_date=timezone.localdate(),
        )
    assert exc.value.code == "nothing_changed"
    # An operator of the city department cannot move an account into the county
    # (outside their scope): 404, and nothing is filed.
    with pytest.raises(NotFound):
        filings.filing_submit_change(
            actor=world.mine.users[Role.OPERATOR], account=account,
            changes={"organization": county.pk, "operators": county_ops},
            event_date=timezone.localdate(),
        )
    account.refresh_from_db()
    assert account.org_path == world.mine.city_dept.path


def test_one_pending_filing_per_account(world):
    account = active_account(world.mine)
    filings.filing_submit_suspend(
        actor=world.mine.users[Role.OPERATOR], account=account, event_date=timezone.localdate(),
        note="整改",
    )
    with pytest.raises(Conflict):
        filings.filing_submit_change(
            actor=world.mine.users[Role.OPERATOR], account=account,
            changes={"display_name": "甲一新名"}, event_date=timezone.localdate(),
        )


def test_suspend_then_cancel(world):
    account = active_account(world.mine)
    f = filings.filing_submit_suspend(
        actor=world.mine.users[Role.OPERATOR], account=account, event_date=timezone.localdate(),
        note="长期未更新",
    )
    filings.filing_approve(filing=f, actor=world.mine.city_supervisor)
    account.refresh_from_db()
    assert account.status == AccountStatus.SUSPENDED
    today = timezone.localdate()
    f = filings.filing_submit_cancel(
        actor=world.mine.users[Role.OPERATOR], account=account, event_date=today,
        announcement_url="https://example.gov.cn/notice/1", announced_on=today,
        deregistered_on=today,
    )
    sign_off(world.mine, f)  # the principal leader signs the closure off (rule 8)
    filings.filing_approve(filing=f, actor=world.mine.city_supervisor)
    account.refresh_from_db()
    assert account.status == AccountStatus.CANCELLED


def test_due_date_and_late_flag(world):
    today = timezone.localdate()
    on_time = file_open(world.mine, event_date=today)
    assert not on_time.is_late and on_time.due_at > timezone.now()
    late = file_open(world.mine, code="douyin", event_date=today - timedelta(days=30))
    assert late.is_late and late.due_at < timezone.now()
    with pytest.raises(ValidationFailed):
        file_open(world.mine, code="kuaishou", event_date=today + timedelta(days=2))


@override_settings(REGISTRY_FILING_DUE_WORKING_DAYS=5)
def test_due_days_follow_the_calendar_setting_and_org_override(world):
    monday = date(2026, 11, 16)
    due, _p = filings.filing_due_at(world.mine.city_dept, monday)
    assert timezone.localtime(due).date() == date(2026, 11, 23)  # 5 working days
    FilingPolicy.objects.create(organization=world.mine.city, due_working_days=1)
    due, _p = filings.filing_due_at(world.mine.city_dept, monday)
    assert timezone.localtime(due).date() == date(2026, 11, 17)
    with override_settings(REGISTRY_FILING_DUE_WORKING_DAYS=2):
        due, _p = filings.filing_due_at(world.mine.county_dept, monday)  # below the city: 1
        assert timezone.localtime(due).date() == date(2026, 11, 17)
        due, _p = filings.filing_due_at(world.mine.office, monday)
        assert timezone.localtime(due).date() == date(2026, 11, 18)


def test_filings_are_never_edited_or_deleted_through_the_api(world, client):
    f = file_open(world.mine)
    client.force_login(world.mine.users[Role.SUPERVISOR])
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(f"/api/v1/filings/{f.pk}/", content_type="application/json", data="{}")
        assert response.status_code == 405, method
    from django.contrib.admin.sites import site

    admin = site._registry[Filing]
    request = type("R", (), {"user": world.mine.users[Role.SUPERVISOR]})()
    assert not admin.has_change_permission(request, f) and not admin.has_delete_permission(request, f)
