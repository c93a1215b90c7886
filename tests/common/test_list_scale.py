"""Issue 9, "Done when": per large list, the query count does not depend on the page
size, and the page's own query can use an index (EXPLAIN on PostgreSQL).

The test data is small, so the planner would rightly scan whole tables; the EXPLAIN
runs with sequential scans, bitmap scans and explicit sorts priced out
(`enable_seqscan` / `enable_bitmapscan` / `enable_sort` off, inside the test's
transaction), which asks "can an index serve this predicate and this order?".
The benchmarks (bench/bench_scale.py) record the plans on the national dataset.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from moderation.services import directives
from tests.registry.ledger_factories import make_account

pytestmark = pytest.mark.django_db


def _postgres_only():
    if connection.vendor != "postgresql":
        reason = f"EXPLAIN checks need PostgreSQL (this run uses {connection.vendor})"
        print(reason)
        pytest.skip(reason)


def _plan(sql: str, params=()) -> str:
    with connection.cursor() as cursor:
        for knob in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET LOCAL {knob} = off")
        cursor.execute("EXPLAIN " + sql, params or None)
        return "\n".join(row[0] for row in cursor.fetchall())


def _page_query(queries, table: str, viewset, user, url: str):
    """The statement that read the page's rows of `table` (as captured); when the
    list was empty (no such statement is sent), the page query the viewset builds
    for the same parameters."""
    for q in queries:
        sql = q["sql"]
        if f'FROM "{table}"' in sql and "LIMIT" in sql and "ORDER BY" in sql:
            return sql, ()
    from urllib.parse import parse_qs, urlsplit

    from common import exports

    params = {k: v for k, v in parse_qs(urlsplit(url).query).items()}
    qs = exports.viewset_queryset(viewset, user, params, action="list")
    return qs.values_list("pk", flat=True)[:10].query.sql_with_params()


@pytest.fixture
def data(world):
    mine = world.mine
    for i in range(12):
        make_account(mine.city_dept, f"账号{i:02d}", followers=i)
    directives.directive_issue(
        actor=mine.users[Role.SUPERVISOR], organization=mine.province, title="转发",
        source_url="https://www.gov.cn/zhengce/1.html",
    )
    return world


LISTS = [
    # (name, URL, the page's table, the index its order and scope can use, viewset)
    ("ledger", "/api/v1/ledger/", "registry_mediaaccount", "account_path_order_idx",
     "registry.api_ledger.LedgerViewSet"),
    ("ledger by followers", "/api/v1/ledger/?sort=-followers", "registry_mediaaccount",
     "account_followers_idx", "registry.api_ledger.LedgerViewSet"),
    ("filings", "/api/v1/filings/", "registry_filing", "filing_submitted_idx",
     "registry.api.FilingViewSet"),
    ("posts", "/api/v1/posts/", "moderation_post", "moderation_post_pkey",
     "moderation.api.PostViewSet"),
    ("directives", "/api/v1/repost-directives/", "moderation_repostdirective",
     "moderation_repostdirective_pkey", "moderation.api.RepostDirectiveViewSet"),
    ("directive targets", "/api/v1/directive-targets/", "moderation_directivetarget",
     "target_due_order_idx", "moderation.api.DirectiveTargetViewSet"),
]


@pytest.mark.parametrize("name,url,table,index,viewset", LISTS, ids=[x[0] for x in LISTS])
def test_list_query_count_is_constant_in_page_size_and_plan_uses_index(
    data, name, url, table, index, viewset
):
    from django.utils.module_loading import import_string

    client = Client()
    client.force_login(data.mine.users[Role.SUPERVISOR])
    sep = "&" if "?" in url else "?"
    counts = []
    for size in (2, 10):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{url}{sep}page_size={size}")
        assert response.status_code == 200, response.content[:300]
        counts.append(len(queries))
    assert counts[0] == counts[1], f"{name}: {counts}"
    if connection.vendor != "postgresql":
        _postgres_only()
    user = data.mine.users[Role.SUPERVISOR]
    sql, params = _page_query(
        queries.captured_queries, table, import_string(viewset), user, url
    )
    plan = _plan(sql, params)
    assert index in plan, plan


def test_ledger_page_and_directive_page_constant(data):
    from moderation import selectors
    from registry import ledger

    _ = ledger
    user = data.mine.users[Role.SUPERVISOR]
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("registry:ledger")).status_code == 200
    for i in range(40):
        make_account(data.mine.county_dept, f"更多{i:02d}", followers=100 + i)
    with CaptureQueriesContext(connection) as big:
        assert client.get(reverse("registry:ledger")).status_code == 200
    assert len(big) == len(small)
    with CaptureQueriesContext(connection) as few:
        list(selectors.directive_page(user, 1, per_page=2))
    with CaptureQueriesContext(connection) as many:
        list(selectors.directive_page(user, 1, per_page=30))
    assert len(few) == len(many)
