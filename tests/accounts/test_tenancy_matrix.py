"""Tenant isolation: every role, inside and outside its scope, through every endpoint
(API and pages) listed in tests/tenancy.py, for reading, listing, changing, creating
and exporting."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from tests import tenancy
from tests.factories import make_user, token_for

SUBTREE_ROLES = {
    Role.SUPERVISOR,
    Role.AUDITOR,
    Role.SYSTEM_ADMIN,
    Role.SECURITY_ADMIN,
    Role.AUDIT_ADMIN,
}


def _context(world, role: Role, placement: str) -> tenancy.Context:
    mine, other = world.mine, world.other
    if placement == "standard":
        # conftest: subtree roles sit at the province, the others in the city department.
        user = mine.users[role]
        at = mine.province if role in SUBTREE_ROLES else mine.city_dept
    else:
        # The same role held in a city: a subtree in the middle of the tree.
        at = mine.city
        user = make_user(at, role)
    token = token_for(user)
    client = Client(
        HTTP_AUTHORIZATION=f"Token {token}", raise_request_exception=False
    )
    client.force_login(user)
    targets = {
        "province": mine.province,
        "office": mine.office,  # a sibling of the city
        "city": mine.city,
        "city_dept": mine.city_dept,
        "county_dept": mine.county_dept,  # below the city
        "other province": other.province,
        "other city_dept": other.city_dept,
    }
    spare = make_user(mine.county_dept)
    return tenancy.Context(client, role, at, targets, spare)


@pytest.mark.parametrize("placement", ["standard", "city"])
@pytest.mark.parametrize("role", list(Role))
def test_isolation_matrix(world, role, placement):
    assert role in tenancy.EXPECTED, (
        f"tests/tenancy.py EXPECTED has no entry for {role}"
    )
    ctx = _context(world, role, placement)
    problems: list[str] = []
    for endpoint in tenancy.ENDPOINTS:
        problems += tenancy.check_endpoint(ctx, endpoint)
    assert not problems, f"{role} ({placement}):\n" + "\n".join(problems)


def test_every_kind_of_row_is_listed_and_read_through_the_api():
    kinds: dict[str, set[str]] = {}
    for endpoint in tenancy.ENDPOINTS:
        kinds.setdefault(endpoint.rows, set()).add(f"{endpoint.via}:{endpoint.kind}")
    for rows in tenancy.ROWS:
        assert {"api:list", "api:read"} <= kinds.get(rows, set()), rows


def test_the_matrix_detects_a_leak(world, monkeypatch):
    """The harness must fail when the app shows more than the policy allows: pretend
    the policy gave operators their own organization only in the directory while
    the app shows them... the same; then widen the *expectation* and see misses."""
    ctx = _context(world, Role.OPERATOR, "city")
    widened = tenancy.Expected(True, tenancy.EXPECTED[Role.OPERATOR].actions)
    monkeypatch.setitem(tenancy.EXPECTED, Role.OPERATOR, widened)
    endpoint = next(e for e in tenancy.ENDPOINTS if e.name == "api organizations list")
    problems = tenancy.check_endpoint(ctx, endpoint)
    assert problems == ["api organizations list: hides 3 rows in scope"]
    endpoint = next(
        e for e in tenancy.ENDPOINTS if e.name == "api organizations retrieve"
    )
    assert tenancy.check_endpoint(ctx, endpoint) == [
        "api organizations retrieve on city_dept: status 404, expected 200",
        "api organizations retrieve on county_dept: status 404, expected 200",
    ]


def test_the_matrix_detects_a_foreign_row(world, monkeypatch):
    """And when the app leaks: narrow the expectation below what the app shows."""
    ctx = _context(world, Role.SUPERVISOR, "standard")
    narrowed = tenancy.Expected(False, tenancy.EXPECTED[Role.SUPERVISOR].actions)
    monkeypatch.setitem(tenancy.EXPECTED, Role.SUPERVISOR, narrowed)
    endpoint = next(e for e in tenancy.ENDPOINTS if e.name == "api organizations list")
    # office, city, city_dept, county and county_dept lie below the province.
    assert tenancy.check_endpoint(ctx, endpoint) == [
        "api organizations list: shows 5 rows out of scope"
    ]
