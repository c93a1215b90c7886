"""Score pages and API: drill-down to the evidence, constant query counts, bad input
answered with a message (never a 500)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from assessment.models import AccountScore
from assessment.services.scoring import score_run_request
from tests.assessment.helpers import (
    active_rubric,
    fresh,
    period_of_year,
    unapproved_post,
)
from tests.moderation.factories import make_account

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _run(ns):
    start, end = period_of_year()
    return score_run_request(
        organization=ns.province,
        period_start=start,
        period_end=end,
        actor=ns.users[Role.SUPERVISOR],
        run_now=True,
    )


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_run_page_and_api_lists_have_a_constant_query_count(world):
    ns = world.mine
    active_rubric(ns)
    for _ in range(3):
        unapproved_post(ns, fresh(make_account(ns.city_dept)))
    small = _run(ns)
    for _ in range(12):
        unapproved_post(ns, fresh(make_account(ns.county_dept)))
    large = _run(ns)
    client = _client(ns.users[Role.AUDITOR])
    for url in (
        "/assessment/runs/{}/",
        "/api/v1/account-scores/?run={}",
        "/api/v1/org-scores/?run={}",
    ):
        assert _queries(client, url.format(small.pk)) == _queries(
            client, url.format(large.pk)
        )


def test_the_score_page_links_each_line_to_its_rows(world, monkeypatch):
    import dataclasses

    from assessment import sources

    monkeypatch.setitem(sources.SOURCES, "low_resolution_rate", dataclasses.replace(
        sources.SOURCES["low_resolution_rate"], built=False))  # one source unavailable
    ns = world.mine
    active_rubric(ns)
    account = fresh(make_account(ns.city_dept))
    flag = unapproved_post(ns, account)
    run = _run(ns)
    score = AccountScore.objects.get(run=run, account=account)
    operator = _client(ns.users[Role.OPERATOR])  # sees their own organization's scores
    page = operator.get(f"/assessment/scores/{score.pk}/").content.decode()
    assert f'data-evidence="moderation.flag:{flag.pk}"' in page
    body = operator.get(f"/api/v1/account-scores/{score.pk}/").json()
    assert body["lines"][0]["evidence"][0]["object_id"] == str(flag.pk)
    # The unavailable sources are named on the report, not silently skipped.
    assert "data-unavailable" in page


@pytest.mark.parametrize(
    "body",
    [
        {"organization": "x", "period_start": "2026-01-01", "period_end": "2026-01-31"},
        {"period_start": "2026-13-01", "period_end": "2026-01-31"},
        {"period_start": "2026-02-01", "period_end": "2026-01-31"},
        {"period_start": "2025-12-01", "period_end": "2026-01-31"},
    ],
)
def test_bad_run_requests_say_what_is_wrong(world, body):
    ns = world.mine
    active_rubric(ns)
    client = _client(ns.users[Role.SUPERVISOR])
    body.setdefault("organization", ns.province.pk)
    response = client.post("/api/v1/score-runs/", body, content_type="application/json")
    assert response.status_code == 400, response.content
    page = client.post("/assessment/runs/new/", body, follow=True)
    assert page.status_code in (200, 404)
