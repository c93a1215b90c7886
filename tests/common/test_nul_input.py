"""NUL characters would reach PostgreSQL and fail there; they are refused up front."""

import pytest

from accounts.models import Role


@pytest.mark.parametrize(
    "path",
    ["/accounts/orgs/?q=%00", "/api/v1/organizations/?search=a%00b", "/audit/?actor=%00"],
)
def test_nul_in_query_string_is_400(client, world, path):
    client.force_login(world.mine.users[Role.AUDIT_ADMIN])
    response = client.get(path)
    assert response.status_code == 400


@pytest.mark.parametrize("content_type", ["application/json", "APPLICATION/JSON", "Application/Json; charset=utf-8"])
def test_nul_in_json_body_is_400_and_writes_nothing(client, world, content_type):
    from accounts.models import Organization

    admin = world.mine.users[Role.SYSTEM_ADMIN]
    client.force_login(admin)
    before = Organization.objects.count()
    response = client.post(
        "/api/v1/organizations/",
        data=(
            '{"parent": PARENT, "name": "a\\u0000b", "kind": "department", '
            '"level": "province", "region_code": "330000"}'
        ).replace("PARENT", str(world.mine.province.pk)),
        content_type=content_type,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert Organization.objects.count() == before


def test_nul_in_form_post_is_400(client, world):
    response = client.post("/accounts/login/", {"username": "x\x00", "password": "y"})
    assert response.status_code == 400


def test_ordinary_input_passes(client, world):
    client.force_login(world.mine.users[Role.SUPERVISOR])
    assert client.get("/accounts/orgs/?q=甲").status_code == 200
