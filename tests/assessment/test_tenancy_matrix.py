"""Tenant isolation of every assessment endpoint (API and pages), for all 12 roles in
two placements, through the declarative harness of tests/tenancy.py. Writes need the
supervisor role on top of scope: checked role by role in test_role_gated_writes."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import transaction

from accounts.models import Role
from accounts.scoping import Domain
from assessment.models import (
    AccountScore,
    Circular,
    ManualEntry,
    MonthlyArchive,
    OrgScore,
    Rubric,
    ScoreRun,
)
from assessment.services import archives, circulars, rubrics
from assessment.services.freeze import year_freeze
from assessment.services.scoring import score_run_request
from audit.models import AuditEvent
from tests import tenancy
from tests.accounts.test_tenancy_matrix import _context
from tests.assessment.helpers import period_of_year, this_year
from tests.factories import make_user
from tests.moderation.factories import make_account


def _rubric(org, *, active=False):
    if org is None:
        return None
    supervisor = make_user(org, Role.SUPERVISOR)
    rubric = rubrics.rubric_create_default(
        organization=org, year=this_year(), actor=supervisor
    )
    if active:
        rubric = rubrics.rubric_activate(rubric=rubric, actor=supervisor)
    return rubric


def _active_rubric(org):
    """One active rubric per organization per test (rows are made per target)."""
    return Rubric.objects.filter(organization=org, status="active").first() or _rubric(
        org, active=True
    )


def _run(org):
    if org is None:
        return None
    existing = ScoreRun.objects.filter(organization=org).first()
    if existing is not None:
        return existing
    rubric = _active_rubric(org)
    make_account(org, "weibo")
    start, end = period_of_year()
    return score_run_request(
        organization=org,
        period_start=start,
        period_end=end,
        actor=rubric.created_by,
        run_now=True,
    )


def _score(org):
    run = _run(org)
    return (
        AccountScore.objects.filter(run=run, organization=org).first() if run else None
    )


def _org_score(org):
    run = _run(org)
    return OrgScore.objects.filter(run=run, organization=org).first() if run else None


def _entry(org):
    if org is None:
        return None
    rubric = _active_rubric(org)
    account = make_account(org, "douyin")
    start, end = period_of_year()
    return rubrics.manual_entry_create(
        item=rubric.items.get(code="content_errors"),
        account=account,
        occurred_on=end,
        evidence="错别字",
        actor=rubric.created_by,
    )


def _period_run(org, start, end):
    rubric = Rubric.objects.filter(
        organization=org, status="active", year=start.year
    ).first() or _rubric(org, active=True, year=start.year)
    make_account(org, "weibo")
    return score_run_request(
        organization=org,
        period_start=start,
        period_end=end,
        actor=rubric.created_by,
        run_now=True,
    )


def _freeze(org):
    if org is None:
        return None
    run = _period_run(org, date(2025, 1, 1), date(2025, 12, 31))
    return year_freeze(run=run, actor=run.requested_by)


def _circular(org):
    if org is None:
        return None
    existing = Circular.objects.filter(organization=org).first()
    if existing is not None:
        return existing
    run = _period_run(org, date(2025, 6, 1), date(2025, 6, 30))
    circular = circulars.circular_generate(run=run, actor=run.requested_by)
    circulars.circular_transition(
        circular=circular, to="reviewed", actor=run.requested_by
    )
    return circulars.circular_transition(
        circular=circular, to="published", actor=run.requested_by
    )


def _part(org):
    circular = _circular(org)
    return circular.parts.filter(organization=org).first() if circular else None


def _archive(org):
    if org is None:
        return None
    make_account(org, "douyin")
    archives.archive_month(date(2025, 6, 1), organization_ids=[org.pk])
    return MonthlyArchive.objects.filter(organization=org).first()


def _universe(model):
    return lambda: {str(pk): p for pk, p in model.objects.values_list("pk", "org_path")}


ROWS = {
    "assessment_rubric": tenancy.Rows(
        Domain.BUSINESS, make=_rubric, universe=_universe(Rubric)
    ),
    "assessment_run": tenancy.Rows(
        Domain.BUSINESS, make=_run, universe=_universe(ScoreRun)
    ),
    "assessment_score": tenancy.Rows(
        Domain.BUSINESS, make=_score, universe=_universe(AccountScore)
    ),
    "assessment_org_score": tenancy.Rows(
        Domain.BUSINESS, make=_org_score, universe=_universe(OrgScore)
    ),
    "assessment_manual": tenancy.Rows(
        Domain.BUSINESS, make=_entry, universe=_universe(ManualEntry)
    ),
}

E = tenancy.Endpoint
ENDPOINTS = [
    tenancy.api_list(
        "api assessment-rubrics list",
        "assessment_rubric",
        "/api/v1/assessment-rubrics/?page_size=200",
    ),
    tenancy.api_read(
        "api assessment-rubrics retrieve",
        "assessment_rubric",
        "/api/v1/assessment-rubrics/{pk}/",
    ),
    E(
        "page rubrics",
        "assessment_rubric",
        tenancy.LIST,
        "/assessment/rubrics/",
        via="page",
        extract=tenancy.page_context("page"),
    ),
    E(
        "page rubric detail",
        "assessment_rubric",
        tenancy.READ,
        "/assessment/rubrics/{pk}/",
        via="page",
    ),
    tenancy.api_list(
        "api score-runs list", "assessment_run", "/api/v1/score-runs/?page_size=200"
    ),
    tenancy.api_read(
        "api score-runs retrieve", "assessment_run", "/api/v1/score-runs/{pk}/"
    ),
    E(
        "page runs",
        "assessment_run",
        tenancy.LIST,
        "/assessment/",
        via="page",
        extract=tenancy.page_context("runs"),
    ),
    E(
        "page run detail",
        "assessment_run",
        tenancy.READ,
        "/assessment/runs/{pk}/",
        via="page",
    ),
    tenancy.api_list(
        "api account-scores list",
        "assessment_score",
        "/api/v1/account-scores/?page_size=200",
    ),
    tenancy.api_read(
        "api account-scores retrieve",
        "assessment_score",
        "/api/v1/account-scores/{pk}/",
    ),
    E(
        "page score detail",
        "assessment_score",
        tenancy.READ,
        "/assessment/scores/{pk}/",
        via="page",
    ),
    tenancy.api_list(
        "api org-scores list",
        "assessment_org_score",
        "/api/v1/org-scores/?page_size=200",
    ),
    tenancy.api_read(
        "api org-scores retrieve", "assessment_org_score", "/api/v1/org-scores/{pk}/"
    ),
    tenancy.api_list(
        "api manual-entries list",
        "assessment_manual",
        "/api/v1/manual-entries/?page_size=200",
    ),
    tenancy.api_read(
        "api manual-entries retrieve",
        "assessment_manual",
        "/api/v1/manual-entries/{pk}/",
    ),
    E(
        "page manual entries",
        "assessment_manual",
        tenancy.LIST,
        "/assessment/manual/",
        via="page",
        extract=tenancy.page_context("page"),
    ),
]


@pytest.mark.parametrize("placement", ["standard", "city"])
@pytest.mark.parametrize("role", list(Role))
def test_assessment_isolation_matrix(world, role, placement, monkeypatch):
    for name, rows in ROWS.items():
        monkeypatch.setitem(tenancy.ROWS, name, rows)
    ctx = _context(world, role, placement)
    problems: list[str] = []
    for endpoint in ENDPOINTS:
        problems += tenancy.check_endpoint(ctx, endpoint)
    assert not problems, f"{role} ({placement}):\n" + "\n".join(problems)


@pytest.mark.parametrize("role", list(Role))
def test_role_gated_writes(world, role):
    """Only a supervisor reaching the organization changes assessment data; everyone
    else who sees business data gets 403 before the body is read (and the refusal is
    audited); users who see no business data get 404."""
    ctx = _context(world, role, "standard")
    rubric = _rubric(world.mine.city, active=True)
    sees_business = tenancy.has_any(role, tenancy.V, Domain.BUSINESS)
    checks = [
        (
            "post",
            "/api/v1/assessment-rubrics/",
            {"organization": world.mine.city.pk, "year": this_year()},
            201,
        ),
        ("post", "/api/v1/assessment-rubrics/", {"year": "not a year"}, 400),
        ("post", f"/api/v1/assessment-rubrics/{rubric.pk}/new-version/", {}, 201),
        (
            "post",
            "/api/v1/score-runs/",
            {
                "organization": world.mine.city.pk,
                "period_start": f"{this_year()}-01-01",
                "period_end": f"{this_year()}-01-31",
            },
            202,
        ),
    ]
    problems = []
    for method, url, body, ok in checks:
        before = AuditEvent.objects.filter(action="assessment.change_refused").count()
        with transaction.atomic():
            response = getattr(ctx.client, method)(
                url, body, content_type="application/json"
            )
            refused = AuditEvent.objects.filter(
                action="assessment.change_refused"
            ).count()
            transaction.set_rollback(True)
        if not sees_business:
            want = 404
        elif role != Role.SUPERVISOR:
            want = 403
        else:
            want = ok
        if response.status_code != want:
            problems.append(f"{method} {url}: {response.status_code}, expected {want}")
        if want == 403 and refused != before + 1:
            problems.append(f"{method} {url}: refusal not audited")
    assert not problems, f"{role}:\n" + "\n".join(problems)
