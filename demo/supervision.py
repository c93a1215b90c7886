"""Demo supervision work for 云岭省, made through the supervision services with the
demo users as actors: activity and a week of metric snapshots for the province's
accounts, a sweep (findings of every automatic kind the demo data shows), manual
findings for 苍澜市公安局 with rectification orders in every state (issued,
answered, sent back, closed, overdue), a summons interview, a completed inspection,
an emergency plan and a major emergency whose first-release timer has run out, and
the dashboard's roll-up.

Idempotent: each part looks for what it made before (posts by their platform post
id, snapshots by account and day, orders, the inspection and the event by their
text) and makes nothing twice; a second run writes no audit event.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, User
from registry.models import AccountStatus, MediaAccount
from supervision.models import (
    EmergencyPlan,
    Finding,
    FindingKind,
    Inspection,
    MetricSnapshot,
    OpinionEvent,
    PostSource,
    RectificationOrder,
)
from supervision.services import activity, events, findings, inspections, rectification
from supervision.services.rollups import rollup_day
from supervision.services.sweeps import findings_sweep

PROVINCE = "云岭省人民政府"
WORK_DEPT = "苍澜市公安局"
CITY = "苍澜市人民政府"
MARK = "【演示】"


def seed(*, stdout) -> None:
    province = Organization.objects.filter(name=PROVINCE, depth=1).first()
    if province is None:
        return
    supervisor = User.objects.get(username="demo-supervisor")
    operator = User.objects.get(username="demo-operator")
    dept = Organization.objects.get(name=WORK_DEPT, path__startswith=province.path)
    city = Organization.objects.get(name=CITY, path__startswith=province.path)
    made = 0
    with transaction.atomic():
        made += _activity(province)
        made += _metrics(province)
    findings_sweep()
    with transaction.atomic():
        made += _orders(supervisor, operator, dept, province)
        made += _inspection(supervisor, province)
        made += _event(supervisor, province, city)
    findings_sweep(kinds=[FindingKind.EVENT_SILENCE])
    rollup_day()
    open_findings = Finding.objects.filter(
        org_path__startswith=province.path, status="open"
    )
    stdout.write(
        f"Supervision demo: {made} parts created; {open_findings.count()} open "
        "findings in the demo province."
    )


def _accounts(province):
    return MediaAccount.objects.filter(org_path__startswith=province.path).exclude(
        status__in=[AccountStatus.PENDING, AccountStatus.NOT_OPENED]
    )


def _activity(province) -> int:
    """One post per account at its recorded last post (as an import would)."""
    rows = [
        {
            "account": pk,
            "platform_post_id": f"demo-{pk}-{int(at.timestamp())}",
            "published_at": at.isoformat(),
        }
        for pk, at in _accounts(province)
        .filter(last_post_at__isnull=False)
        .values_list("pk", "last_post_at")
    ]
    if not rows:
        return 0
    report = activity.activity_ingest(actor=None, rows=rows, source=PostSource.IMPORT)
    return 1 if report["created"] else 0


def _metrics(province) -> int:
    """A week of snapshots per live account, growing slowly; one account's
    followers jump on the last day (flagged for review)."""
    live = list(
        _accounts(province)
        .filter(status__in=[AccountStatus.ACTIVE, AccountStatus.RECTIFYING])
        .order_by("pk")
        .values_list("pk", "followers")
    )
    if (
        not live
        or MetricSnapshot.objects.filter(org_path__startswith=province.path).exists()
    ):
        return 0
    today = timezone.localdate()
    rows = []
    for index, (pk, followers) in enumerate(live):
        base = followers or 1000 + 37 * index
        for back in range(7, 0, -1):
            day = today - timedelta(days=back)
            count = base + (7 - back) * (3 + index % 5)
            if index == 0 and back == 1:
                count = base * 3 + 20000  # the jump
            rows.append(
                {
                    "account": pk,
                    "day": day.isoformat(),
                    "followers": count,
                    "posts": 1 + index % 3,
                    "reads": 500 + 11 * index,
                    "reposts": index % 7,
                    "comments": index % 11,
                    "likes": 20 + index,
                }
            )
    activity.metrics_ingest(actor=None, rows=rows)
    return 1


def _orders(supervisor, operator, dept, province) -> int:
    if RectificationOrder.objects.filter(org_path__startswith=province.path).exists():
        return 0
    accounts = list(
        MediaAccount.objects.filter(
            organization=dept, status=AccountStatus.ACTIVE
        ).order_by("pk")[:4]
    )
    if len(accounts) < 4:
        return 0
    notes = [
        (FindingKind.NO_INTERACTION, "留言功能已关闭，群众无法留言。"),
        (FindingKind.OTHER, "账号简介未写明主办单位。"),
        (FindingKind.OTHER, "头像使用了非标准标识。"),
        (FindingKind.OTHER, "置顶内容已过期三个月。"),
    ]
    made = []
    for account, (kind, note) in zip(accounts, notes, strict=True):
        finding = findings.finding_raise_manual(
            actor=supervisor,
            kind=kind,
            account=account,
            note=MARK + note,
            evidence_url=account.profile_url or "https://www.gov.cn/",
        )
        made.append(
            rectification.order_issue(
                actor=supervisor,
                finding=finding,
                requirement=MARK + "请按要求整改：" + note,
            )
        )
    issued, answered, sent_back, closed = made
    rectification.order_answer(
        order=answered,
        actor=operator,
        text="已恢复留言功能并安排专人值守。",
        evidence_url="https://weibo.com/demo/settings",
    )
    rectification.order_answer(
        order=sent_back,
        actor=operator,
        text="已修改头像。",
        evidence_url="https://weibo.com/demo/avatar",
    )
    rectification.order_send_back(
        order=sent_back,
        actor=supervisor,
        reason="新头像仍不符合规范，请使用单位标准标识。",
    )
    rectification.order_answer(
        order=closed,
        actor=operator,
        text="已撤下过期置顶并更新。",
        evidence_url="https://weibo.com/demo/pinned",
    )
    rectification.order_close(order=closed, actor=supervisor, note="已核实。")
    rectification.summons_record(
        actor=supervisor,
        organization=dept,
        held_at=timezone.now() - timedelta(days=1),
        reason=MARK + "政务新媒体长期管理不到位。",
        attendees="分管领导、部门负责人、运维人员",
        outcome="限期十日整改，整改情况书面报告。",
        order=issued,
    )
    # An overdue order: an idle account's finding, ordered twelve days ago. The demo
    # moves its dates back (there is no clock to wait for); the sweep then marks it.
    idle = (
        Finding.objects.filter(
            kind=FindingKind.IDLE, status="open", org_path__startswith=province.path
        )
        .exclude(orders__isnull=False)
        .order_by("id")
        .first()
    )
    if idle is not None:
        late = rectification.order_issue(
            actor=supervisor,
            finding=idle,
            requirement=MARK + "恢复更新，说明长期未更新的原因。",
        )
        back = timedelta(days=12)
        RectificationOrder.objects.filter(pk=late.pk).update(
            issued_at=late.issued_at - back, due_at=late.due_at - back
        )
        rectification.orders_sweep()
    return 1


def _inspection(supervisor, province) -> int:
    title = MARK + "第四季度政务新媒体抽查"
    if Inspection.objects.filter(
        org_path__startswith=province.path, title=title
    ).exists():
        return 0
    inspection = inspections.inspection_start(
        actor=supervisor,
        organization=province,
        title=title,
        sample_percent=25,
        seed=2026,
    )
    inspections.inspection_complete(inspection=inspection, actor=supervisor)
    return 1


def _event(supervisor, province, city) -> int:
    title = MARK + "苍澜市暴雨灾害"
    if OpinionEvent.objects.filter(
        org_path__startswith=province.path, title=title
    ).exists():
        return 0
    if not EmergencyPlan.objects.filter(
        organization=province, event_type="自然灾害"
    ).exists():
        events.plan_save(
            actor=supervisor,
            organization=province,
            event_type="自然灾害",
            process="核实灾情 → 报请分管领导审定口径 → 首发权威信息 → 滚动发布进展",
            channel="政府门户网站、政务微博、政务微信",
            time_limit_hours=5,
            wording="各级各部门正全力开展抢险救灾，请广大市民注意安全。",
        )
    events.event_register(
        actor=supervisor,
        organization=city,
        title=title,
        level="major_emergency",
        event_type="自然灾害",
        occurred_at=timezone.now() - timedelta(hours=7),
        description="强降雨导致部分路段积水，多个小区停电。",
    )
    return 1
