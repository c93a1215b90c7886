"""Bad input answers 400 with a message per field, never 500; list query counts stay
flat as rows grow."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from tests.factories import make_org, make_user, token_for


def api_client(user) -> Client:
    token = token_for(user)
    return Client(
        HTTP_AUTHORIZATION=f"Token {token}", raise_request_exception=False
    )


@pytest.fixture
def admin(world):
    return api_client(world.mine.users[Role.SYSTEM_ADMIN])


@pytest.fixture
def security(world):
    return api_client(world.mine.users[Role.SECURITY_ADMIN])


def send(client, method, url, body):
    return getattr(client, method)(url, body, content_type="application/json")


def test_malformed_json_is_400(admin, security):
    for client, url in (
        (admin, "/api/v1/organizations/"),
        (security, "/api/v1/memberships/"),
    ):
        response = send(client, "post", url, '{"name": ')
        assert response.status_code == 400
        assert response.json()["code"] == "parse_error"
    response = send(Client(), "post", "/api/v1/auth/token/", "{nope")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body,field",
    [
        ({"parent": "abc"}, "parent"),
        ({"parent": None}, "parent"),
        ({"kind": "ministry"}, "kind"),
        ({"level": 3}, "level"),
        ({"region_code": "33000"}, "region_code"),
        ({"region_code": "3300001"}, "region_code"),
        ({"region_code": "33000a"}, "region_code"),
        ({"name": ""}, "name"),
        ({"name": ["x"]}, "name"),
    ],
)
def test_organization_create_field_errors(world, admin, body, field):
    good = {
        "parent": world.mine.city.pk,
        "name": "甲一市新单位",
        "kind": "department",
        "level": "city",
        "region_code": "330100",
    }
    response = send(admin, "post", "/api/v1/organizations/", {**good, **body})
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


def test_organization_create_with_huge_or_missing_parent(world, admin):
    base = {"name": "x", "kind": "department", "level": "city", "region_code": "330100"}
    for parent in (10**30, 2**63, 999999):
        response = send(
            admin, "post", "/api/v1/organizations/", {**base, "parent": parent}
        )
        assert response.status_code in (400, 404), (parent, response.status_code)


@pytest.mark.parametrize(
    "body,field",
    [
        ({"region_code": "abc"}, "region_code"),
        ({"is_active": "maybe"}, "is_active"),
        ({"kind": "x"}, "kind"),
    ],
)
def test_organization_update_field_errors(world, admin, body, field):
    url = f"/api/v1/organizations/{world.mine.county_dept.pk}/"
    response = send(admin, "patch", url, body)
    assert response.status_code == 400
    assert field in response.json()["fields"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"role": "emperor"}, "role"),
        ({"role": None}, "role"),
        ({"user": "me"}, "user"),
        ({"organization": "x"}, "organization"),
        ({"started_on": "yesterday"}, "started_on"),
        ({"agreement_signed_on": "2026-13-01"}, "agreement_signed_on"),
    ],
)
def test_membership_create_field_errors(world, security, body, field):
    person = make_user(world.mine.county_dept)
    good = {
        "user": person.pk,
        "organization": world.mine.county_dept.pk,
        "role": "liaison",
    }
    response = send(security, "post", "/api/v1/memberships/", {**good, **body})
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


def test_membership_for_unknown_user_is_400(world, security):
    body = {
        "user": 987654,
        "organization": world.mine.county_dept.pk,
        "role": "liaison",
    }
    response = send(security, "post", "/api/v1/memberships/", body)
    assert response.status_code == 400
    assert "user" in response.json()["fields"]


@pytest.mark.parametrize("within", ["abc", "1.5", "-1", "１２", "9" * 30])
def test_non_numeric_within_is_400_or_404(world, admin, within):
    response = admin.get("/api/v1/organizations/", {"within": within})
    if within.isascii() and within.isdigit():
        assert response.status_code == 404  # a number, but no such organization
    else:
        assert response.status_code == 400, response.content
        assert "within" in response.json()["fields"]


def test_within_limits_to_a_subtree(world, admin):
    response = admin.get("/api/v1/organizations/", {"within": world.mine.city.pk})
    names = {o["name"] for o in response.json()["results"]}
    assert names == {
        o.name
        for o in (
            world.mine.city,
            world.mine.city_dept,
            world.mine.county,
            world.mine.county_dept,
        )
    }
    foreign = admin.get("/api/v1/organizations/", {"within": world.other.city.pk})
    assert foreign.status_code == 404


def test_bad_filters_and_pages_are_not_500(world, admin, security):
    for client, url, params in (
        (admin, "/api/v1/organizations/", {"depth": "deep"}),
        (admin, "/api/v1/organizations/", {"is_active": "perhaps"}),
        (admin, "/api/v1/organizations/", {"page": "zzz"}),
        (admin, "/api/v1/organizations/", {"page_size": "-4"}),
        (admin, "/api/v1/organizations/", {"ordering": "password"}),
        (security, "/api/v1/memberships/", {"organization": "x"}),
        (security, "/api/v1/memberships/", {"role": "emperor"}),
        (admin, "/api/v1/organizations/abc/", {}),
        (security, "/api/v1/memberships/99999999999999999999999/", {}),
    ):
        response = client.get(url, params)
        assert response.status_code < 500, (url, params, response.status_code)
        assert response.status_code in (200, 400, 404), (
            url,
            params,
            response.status_code,
        )


def test_pages_with_bad_input_are_not_500(world):
    client = Client(raise_request_exception=False)
    client.force_login(world.mine.users[Role.SECURITY_ADMIN])
    for url in (
        "/accounts/orgs/?q=" + "x" * 500,
        f"/accounts/orgs/{world.mine.city.pk}/?page=abc",
        "/accounts/orgs/99999999999999999999999/",
        "/accounts/access/?page=-1&role=emperor&active=x",
    ):
        assert client.get(url).status_code in (200, 404), url
    # NUL cannot be stored by PostgreSQL: refused up front (common.middleware).
    assert client.get("/accounts/orgs/?q=%00").status_code == 400


# --- query counts -----------------------------------------------------------------------
def _grow(world, n: int):
    for i in range(n):
        org = make_org(world.mine.county, f"甲一县第{i}单位")
        make_user(org, Role.LIAISON)


@pytest.mark.parametrize("n", [5, 50])
def test_organization_list_query_count_is_flat(
    world, admin, n, django_assert_max_num_queries
):
    _grow(world, n)
    with django_assert_max_num_queries(8):
        response = admin.get("/api/v1/organizations/", {"page_size": 200})
    assert response.status_code == 200
    assert response.json()["count"] >= 6 + n
    assert all(o["parent"] for o in response.json()["results"][1:])


@pytest.mark.parametrize("n", [5, 50])
def test_membership_list_query_count_is_flat(
    world, security, n, django_assert_max_num_queries
):
    _grow(world, n)
    with django_assert_max_num_queries(8):
        response = security.get("/api/v1/memberships/", {"page_size": 200})
    assert response.status_code == 200
    assert response.json()["count"] >= n


@pytest.mark.parametrize("n", [5, 50])
def test_list_pages_query_count_is_flat(world, n, django_assert_max_num_queries):
    _grow(world, n)
    client = Client()
    client.force_login(world.mine.users[Role.SECURITY_ADMIN])
    # Bounds include, whatever the rows: the second-factor device of the session
    # (django-otp), the separation-of-duties check on the access page, and the audit
    # trail's own read event (home organization, chain head lock, insert, update).
    with django_assert_max_num_queries(18):
        assert client.get("/accounts/access/").status_code == 200
    with django_assert_max_num_queries(18):
        assert client.get(f"/accounts/orgs/{world.mine.county.pk}/").status_code == 200
    client.force_login(world.mine.users[Role.AUDIT_ADMIN])
    with django_assert_max_num_queries(22):
        assert client.get("/audit/").status_code == 200


def test_an_oversized_api_body_answers_json_413(world, settings):
    from django.test import Client as PlainClient

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = PlainClient(raise_request_exception=False)
    client.force_login(world.mine.users[Role.SYSTEM_ADMIN])
    body = '{"name": "' + "x" * 4096 + '"}'
    response = client.post("/api/v1/organizations/", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "too_large"
    page = client.post("/accounts/login/", {"username": "x" * 4096, "password": "y"})
    assert page.status_code == 413


@pytest.mark.parametrize("offset", ["-16:37", "+18:00", "-23:59"])
def test_timestamps_with_offsets_postgresql_rejects_are_not_a_500(world, offset):
    """A valid instant whose UTC offset PostgreSQL cannot store is converted, not a 500."""
    client = Client(
        HTTP_AUTHORIZATION=f"Token {token_for(world.mine.users[Role.SUPERVISOR])}",
        raise_request_exception=False,
    )
    response = client.get("/api/v1/filings/", {"submitted_after": f"2026-03-01T08:00:00{offset}"})
    assert response.status_code == 200


def test_errors_of_list_items_are_filed_under_their_path(world):
    """DRF nests a list item's errors ({"links": {"1": [...]}}); the documented Error
    schema has one list of messages per field, so the item is named by its path
    (found by schemathesis, tests/common/test_schemathesis.py)."""
    from tests.moderation.factories import make_post

    post = make_post(world.mine)
    client = api_client(world.mine.users[Role.OPERATOR])
    response = send(client, "patch", f"/api/v1/posts/{post.pk}/",
                    {"links": ["https://www.gov.cn/a.html", ""]})
    assert response.status_code == 400
    body = response.json()
    assert list(body["fields"]) == ["links.1"]
    assert all(isinstance(m, str) for m in body["fields"]["links.1"])
    assert body["detail"].startswith("links.1: ")


def test_an_api_url_no_route_matches_answers_the_json_error(world):
    """`/api/v1/posts/1.5/` matches no route (ids take no dot): the documented JSON
    Error, not the HTML page (found by schemathesis, tests/common/test_schemathesis.py);
    pages outside /api/ keep the HTML page."""
    client = api_client(world.mine.users[Role.OPERATOR])
    response = client.get("/api/v1/posts/1.5/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": response.json()["detail"]}
    page = client.get("/registry/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
