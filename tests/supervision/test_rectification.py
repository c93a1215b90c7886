"""Rectification orders: issue from a finding (account rectifying, deadline 10
days), answer with evidence only by the organization it was sent to, verify and
close (account active again, finding closed), send back, overdue escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from notifications.models import Notification
from registry.models import AccountStatus
from supervision.models import Finding, FindingKind, OrderStatus
from supervision.services import rectification
from tests.supervision.factories import idle_account

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def finding(world, run_sweep):
    account = idle_account(world.mine.city_dept, days=30)
    run_sweep(kinds=[FindingKind.IDLE])
    return Finding.objects.get(kind=FindingKind.IDLE, account=account)


def test_order_lifecycle_through_the_api(world, finding, eager_celery):
    ns = world.mine
    supervisor, operator = ns.users[Role.SUPERVISOR], ns.users[Role.OPERATOR]
    created = api(supervisor).post(
        "/api/v1/rectification-orders/",
        {"finding": finding.pk, "requirement": "两周内恢复更新并说明原因。"},
        format="json",
    )
    assert created.status_code == 201, created.content
    order = created.json()
    issued = timezone.localdate()
    due = timezone.localtime(timezone.datetime.fromisoformat(order["due_at"]))
    assert due.date() == issued + timedelta(days=10)
    finding.account.refresh_from_db()
    assert finding.account.status == AccountStatus.RECTIFYING
    assert (
        Notification.objects.filter(
            recipient=operator, kind="supervision.order_issued"
        ).count()
        == 1
    )

    url = f"/api/v1/rectification-orders/{order['id']}/"
    # No evidence: refused, nothing changes.
    refused = api(operator).post(
        url + "answer/", {"text": "已恢复更新。"}, format="json"
    )
    assert refused.status_code == 400 and "evidence" in refused.json()["fields"]
    assert api(operator).get(url).json()["status"] == OrderStatus.ISSUED
    # Another organization's operator: 404; a supervisor above: 403.
    other = ns.users[Role.OPERATOR].__class__.objects.get(
        username=f"乙-{Role.OPERATOR}"
    )
    assert (
        api(other)
        .post(
            url + "answer/",
            {"text": "x", "evidence_url": "https://a.cn"},
            format="json",
        )
        .status_code
        == 404
    )
    assert (
        api(supervisor)
        .post(
            url + "answer/",
            {"text": "x", "evidence_url": "https://a.cn"},
            format="json",
        )
        .status_code
        == 403
    )
    # A disguised executable as evidence: refused by the attachment allow-list.
    disguised = SimpleUploadedFile(
        "shot.png", b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00", content_type="image/png"
    )
    refused = api(operator).post(
        url + "answer/", {"text": "已恢复更新。", "evidence_file": disguised}, format="multipart"
    )
    assert refused.status_code == 400 and "evidence_file" in refused.json()["fields"]
    assert api(operator).get(url).json()["status"] == OrderStatus.ISSUED
    # With a file as evidence.
    upload = SimpleUploadedFile(
        "shot.png", b"\x89PNG\r\n\x1a\n0000", content_type="image/png"
    )
    answered = api(operator).post(
        url + "answer/",
        {"text": "已恢复更新。", "evidence_file": upload},
        format="multipart",
    )
    assert answered.status_code == 200, answered.content
    assert answered.json()["status"] == OrderStatus.ANSWERED
    # Sent back, answered again with a link, closed.
    back = api(supervisor).post(
        url + "send-back/", {"reason": "证据不足"}, format="json"
    )
    assert back.json()["status"] == OrderStatus.SENT_BACK
    api(operator).post(
        url + "answer/",
        {"text": "补充链接。", "evidence_url": "https://weibo.com/1/x"},
        format="json",
    )
    closed = api(supervisor).post(url + "close/", {"note": "已核实"}, format="json")
    assert closed.status_code == 200 and closed.json()["status"] == OrderStatus.CLOSED
    finding.refresh_from_db()
    finding.account.refresh_from_db()
    assert finding.status == "closed" and finding.close_reason == "rectified"
    assert finding.account.status == AccountStatus.ACTIVE
    assert len(closed.json()["answers"]) == 2


def test_finding_still_present_at_next_check_fails_again(world, finding, run_sweep):
    ns = world.mine
    supervisor = ns.users[Role.SUPERVISOR]
    order = rectification.order_issue(
        actor=supervisor, finding=finding, requirement="恢复更新"
    )
    rectification.order_answer(
        order=order,
        actor=ns.users[Role.OPERATOR],
        text="已更新",
        evidence_url="https://weibo.com/x",
    )
    rectification.order_close(order=order, actor=supervisor)
    run_sweep(kinds=[FindingKind.IDLE])
    again = Finding.objects.get(
        kind=FindingKind.IDLE, account=finding.account, status="open"
    )
    assert again.repeat_of_id == finding.pk
    order.refresh_from_db()
    assert order.failed_again_at is not None


def test_overdue_orders_escalate_once(
    world, finding, eager_celery, django_capture_on_commit_callbacks
):
    ns = world.mine
    order = rectification.order_issue(
        actor=ns.users[Role.SUPERVISOR], finding=finding, requirement="恢复更新", days=1
    )
    later = order.due_at + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert rectification.orders_sweep(later) == {"overdue": 1}
    with django_capture_on_commit_callbacks(execute=True):
        assert rectification.orders_sweep(later + timedelta(hours=1)) == {"overdue": 0}
    order.refresh_from_db()
    assert order.overdue_at == later and order.escalated_at == later
    notices = Notification.objects.filter(kind="supervision.order_overdue")
    assert notices.filter(recipient=ns.users[Role.OPERATOR]).count() == 1
    assert notices.filter(recipient=ns.users[Role.SUPERVISOR]).count() == 1
