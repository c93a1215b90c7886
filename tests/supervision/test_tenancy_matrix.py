"""Tenant isolation of every supervision endpoint (API and pages), for all 12 roles
in two placements, through the harness of tests/tenancy.py (rows registered for this
module only). Actions that need the supervisor role on top of scope (raising and
closing findings, issuing orders) are checked role by role below."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, Role
from accounts.scoping import Domain
from supervision.models import (
    AccountPost,
    EmergencyPlan,
    Finding,
    Inspection,
    MetricSnapshot,
    OpinionEvent,
    RectificationOrder,
    SummonsInterview,
)
from supervision.services import activity, events, findings, inspections, rectification
from tests import tenancy
from tests.accounts.test_tenancy_matrix import _context
from tests.factories import make_user
from tests.supervision.factories import make_account

_n = itertools.count(1)


def _supervisor(org):
    return make_user(org, Role.SUPERVISOR)


def _finding(org):
    if org is None:
        return None
    return findings.finding_raise_manual(
        actor=_supervisor(org), kind="other", organization=org, note=f"矩阵{next(_n)}"
    )


def _order(org):
    if org is None:
        return None
    return rectification.order_issue(
        actor=_supervisor(org), organization=org, requirement="矩阵整改"
    )


def _inspection(org):
    if org is None:
        return None
    make_account(org)
    return inspections.inspection_start(
        actor=_supervisor(org), organization=org, title="矩阵抽查", seed=1
    )


def _event(org):
    if org is None:
        return None
    return events.event_register(
        actor=_supervisor(org),
        organization=org,
        title="矩阵事件",
        level="general",
        occurred_at=timezone.now() - timedelta(hours=1),
    )


def _post(org):
    if org is None:
        return None
    account = make_account(org)
    activity.activity_ingest(
        actor=None,
        rows=[
            {
                "account": account.pk,
                "platform_post_id": f"m{next(_n)}",
                "published_at": timezone.now().isoformat(),
            }
        ],
    )
    return AccountPost.objects.get(account=account)


def _metric(org):
    if org is None:
        return None
    account = make_account(org)
    activity.metrics_ingest(
        actor=None,
        rows=[
            {
                "account": account.pk,
                "day": timezone.localdate().isoformat(),
                "followers": 5,
            }
        ],
    )
    return MetricSnapshot.objects.get(account=account)


def _summons(org):
    if org is None:
        return None
    return rectification.summons_record(
        actor=_supervisor(org),
        organization=org,
        held_at=timezone.now(),
        reason="矩阵",
        attendees="甲、乙",
        outcome="限期整改",
    )


def _plan(org):
    if org is None:
        return None
    return events.plan_save(
        actor=_supervisor(org),
        organization=org,
        event_type=f"矩阵{next(_n)}",
        process="流程",
        channel="微博",
        time_limit_hours=5,
    )


def _universe(model):
    return lambda: {str(pk): p for pk, p in model.objects.values_list("pk", "org_path")}


ROWS = {
    "sup_finding": tenancy.Rows(
        Domain.BUSINESS, make=_finding, universe=_universe(Finding)
    ),
    "sup_order": tenancy.Rows(
        Domain.BUSINESS, make=_order, universe=_universe(RectificationOrder)
    ),
    "sup_inspection": tenancy.Rows(
        Domain.BUSINESS, make=_inspection, universe=_universe(Inspection)
    ),
    "sup_event": tenancy.Rows(
        Domain.BUSINESS, make=_event, universe=_universe(OpinionEvent)
    ),
    "sup_post": tenancy.Rows(
        Domain.BUSINESS, make=_post, universe=_universe(AccountPost)
    ),
    "sup_metric": tenancy.Rows(
        Domain.BUSINESS, make=_metric, universe=_universe(MetricSnapshot)
    ),
    "sup_summons": tenancy.Rows(
        Domain.BUSINESS, make=_summons, universe=_universe(SummonsInterview)
    ),
    "sup_plan": tenancy.Rows(
        Domain.BUSINESS, make=_plan, universe=_universe(EmergencyPlan)
    ),
}

E = tenancy.Endpoint
ENDPOINTS = [
    tenancy.api_list(
        "api findings list", "sup_finding", "/api/v1/findings/?page_size=200"
    ),
    tenancy.api_read("api findings retrieve", "sup_finding", "/api/v1/findings/{pk}/"),
    E(
        "api findings export",
        "sup_finding",
        tenancy.EXPORT,
        "/api/v1/findings/export/",
        extract=tenancy.csv_column(0),
    ),
    tenancy.api_list(
        "api orders list", "sup_order", "/api/v1/rectification-orders/?page_size=200"
    ),
    tenancy.api_read(
        "api orders retrieve", "sup_order", "/api/v1/rectification-orders/{pk}/"
    ),
    tenancy.api_list(
        "api inspections list", "sup_inspection", "/api/v1/inspections/?page_size=200"
    ),
    tenancy.api_read(
        "api inspections retrieve", "sup_inspection", "/api/v1/inspections/{pk}/"
    ),
    tenancy.api_read(
        "api inspections items", "sup_inspection", "/api/v1/inspections/{pk}/items/"
    ),
    tenancy.api_list(
        "api events list", "sup_event", "/api/v1/opinion-events/?page_size=200"
    ),
    tenancy.api_read(
        "api events retrieve", "sup_event", "/api/v1/opinion-events/{pk}/"
    ),
    tenancy.api_list(
        "api activity posts list", "sup_post", "/api/v1/activity/posts/?page_size=200"
    ),
    tenancy.api_list(
        "api metrics list", "sup_metric", "/api/v1/activity/metrics/?page_size=200"
    ),
    tenancy.api_list(
        "api summons list", "sup_summons", "/api/v1/summons-interviews/?page_size=200"
    ),
    tenancy.api_read(
        "api summons retrieve", "sup_summons", "/api/v1/summons-interviews/{pk}/"
    ),
    tenancy.api_list(
        "api plans list", "sup_plan", "/api/v1/emergency-plans/?page_size=200"
    ),
    tenancy.api_read("api plans retrieve", "sup_plan", "/api/v1/emergency-plans/{pk}/"),
    E(
        "page findings",
        "sup_finding",
        tenancy.LIST,
        "/supervision/findings/?status=",
        via="page",
        extract=tenancy.page_context("page"),
    ),
    E(
        "page finding detail",
        "sup_finding",
        tenancy.READ,
        "/supervision/findings/{pk}/",
        via="page",
    ),
    E(
        "page findings export",
        "sup_finding",
        tenancy.EXPORT,
        "/supervision/findings/export.csv?status=",
        via="page",
        extract=tenancy.csv_column(0),
    ),
    E(
        "page orders",
        "sup_order",
        tenancy.LIST,
        "/supervision/orders/?status=",
        via="page",
        extract=tenancy.page_context("page"),
    ),
    E(
        "page order detail",
        "sup_order",
        tenancy.READ,
        "/supervision/orders/{pk}/",
        via="page",
    ),
    E(
        "page inspections",
        "sup_inspection",
        tenancy.LIST,
        "/supervision/inspections/",
        via="page",
        extract=tenancy.page_context("page"),
    ),
    E(
        "page inspection detail",
        "sup_inspection",
        tenancy.READ,
        "/supervision/inspections/{pk}/",
        via="page",
    ),
    E(
        "page events",
        "sup_event",
        tenancy.LIST,
        "/supervision/events/",
        via="page",
        extract=tenancy.page_context("page"),
    ),
    E(
        "page event detail",
        "sup_event",
        tenancy.READ,
        "/supervision/events/{pk}/",
        via="page",
    ),
]


def _path_of(row):
    return row.org_path if hasattr(row, "org_path") else _original_path_of(row)


_original_path_of = tenancy._path_of


@pytest.mark.parametrize("placement", ["standard", "city"])
@pytest.mark.parametrize("role", list(Role))
def test_supervision_isolation_matrix(world, role, placement, monkeypatch):
    for name, rows in ROWS.items():
        monkeypatch.setitem(tenancy.ROWS, name, rows)
    monkeypatch.setattr(tenancy, "_path_of", _path_of)
    ctx = _context(world, role, placement)
    problems: list[str] = []
    for endpoint in ENDPOINTS:
        problems += tenancy.check_endpoint(ctx, endpoint)
    assert not problems, f"{role} ({placement}):\n" + "\n".join(problems)


def _want(role: Role, at: Organization, path: str, ok: int) -> int:
    """404 outside the view scope; 403 when visible but the user may not change
    there or is not a supervisor; else success."""
    if not tenancy.may(role, at, tenancy.V, Domain.BUSINESS, path):
        return 404
    if (
        not tenancy.may(role, at, tenancy.C, Domain.BUSINESS, path)
        or role != Role.SUPERVISOR
    ):
        return 403
    return ok


@pytest.mark.parametrize("placement", ["standard", "city"])
@pytest.mark.parametrize("role", list(Role))
def test_supervisor_gated_endpoints(world, role, placement):
    ctx = _context(world, role, placement)
    problems = []

    def check(name, url, body, path, ok):
        want = _want(role, ctx.at, path, ok)
        with transaction.atomic():
            r = ctx.client.post(url, body, content_type="application/json")
            transaction.set_rollback(True)
        if r.status_code != want:
            problems.append(f"{name} at {path}: {r.status_code}, expected {want}")

    for _target, org in ctx.targets.items():
        finding = _finding(org)
        check(
            "api findings close",
            f"/api/v1/findings/{finding.pk}/close/",
            {"reason": "dismissed", "note": "误报"},
            org.path,
            200,
        )
        check(
            "api findings create",
            "/api/v1/findings/",
            {"kind": "security_incident", "organization": org.pk, "note": "人工发现"},
            org.path,
            201,
        )
        check(
            "api orders create",
            "/api/v1/rectification-orders/",
            {"organization": org.pk, "requirement": "整改"},
            org.path,
            201,
        )
        check(
            "api events create",
            "/api/v1/opinion-events/",
            {
                "organization": org.pk,
                "title": "事件",
                "level": "general",
                "occurred_at": timezone.now().isoformat(),
            },
            org.path,
            201,
        )
    assert not problems, f"{role} ({placement}):\n" + "\n".join(problems)
