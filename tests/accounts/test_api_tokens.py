"""API tokens: hashed at rest, idle and absolute expiry, revocable by their owner and
the security administrator, revoked on password change and deactivation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from accounts import services
from accounts.models import Role
from audit.models import AuditEvent
from common.errors import NotFound
from tests.factories import PASSWORD

TOKEN = "/api/v1/auth/token/"


def issue(user) -> str:
    response = Client().post(
        TOKEN, {"username": user.username, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200
    return response.json()["token"]


def api(token):
    return Client(HTTP_AUTHORIZATION=f"Token {token}")


@pytest.fixture
def person(world):
    return world.mine.users[Role.OPERATOR]


def test_tokens_expire_after_idle_hours_and_at_the_absolute_limit(person, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        token = issue(person)
        clock.shift(timedelta(hours=7))
        assert api(token).get("/api/v1/me/").status_code == 200  # use pushes it on
        clock.shift(timedelta(hours=7))
        assert api(token).get("/api/v1/me/").status_code == 200
        clock.shift(timedelta(hours=8, minutes=1))  # idle past 8 hours
        assert api(token).get("/api/v1/me/").status_code == 401

        token = issue(person)
        issued = timezone.now()
        status = 200
        for _step in range(32 * 4):  # used every 6 hours, for up to 32 days
            clock.shift(timedelta(hours=6))
            status = api(token).get("/api/v1/me/").status_code
            if status != 200:
                break
        assert status == 401
        lived = timezone.now() - issued
        assert timedelta(days=30) <= lived <= timedelta(days=30, hours=6)


def test_the_owner_lists_and_revokes_tokens(person):
    first, second = issue(person), issue(person)
    listed = api(first).get("/api/v1/auth/tokens/").json()
    assert {t["token"] for t in listed} == {first[:8], second[:8]}
    assert [t["current"] for t in listed if t["token"] == first[:8]] == [True]
    assert api(first).post("/api/v1/auth/tokens/revoke/", {"token": second[:8]}, content_type="application/json").json() == {"revoked": 1}
    assert api(second).get("/api/v1/me/").status_code == 401
    # No body: this request's token (signing out of the API).
    assert api(first).post("/api/v1/auth/tokens/revoke/", {}, content_type="application/json").status_code == 200
    assert api(first).get("/api/v1/me/").status_code == 401
    assert AuditEvent.objects.filter(action="token.revoked", target_id=str(person.pk)).count() == 2


def test_the_security_administrator_revokes_a_persons_tokens(world, person):
    token = issue(person)
    secadmin = world.mine.users[Role.SECURITY_ADMIN]
    client = Client()
    client.force_login(secadmin)
    response = client.post("/api/v1/auth/tokens/revoke-user/", {"user": person.pk}, content_type="application/json")
    assert response.status_code == 200 and response.json() == {"revoked": 1}
    assert api(token).get("/api/v1/me/").status_code == 401
    stranger = world.other.users[Role.OPERATOR]
    other_token = issue(stranger)
    response = client.post("/api/v1/auth/tokens/revoke-user/", {"user": stranger.pk}, content_type="application/json")
    assert response.status_code == 404
    assert api(other_token).get("/api/v1/me/").status_code == 200
    # A supervisor sees the person but may not revoke (no access-domain right).
    supervisor = Client()
    supervisor.force_login(world.mine.users[Role.SUPERVISOR])
    response = supervisor.post("/api/v1/auth/tokens/revoke-user/", {"user": person.pk}, content_type="application/json")
    assert response.status_code in (403, 404)


def test_deactivation_revokes_tokens(world, person):
    token = issue(person)
    services.user_deactivate(actor=world.mine.users[Role.SECURITY_ADMIN], user=person)
    assert not AuthToken.objects.filter(user=person).exists()
    assert api(token).get("/api/v1/me/").status_code == 401
    with pytest.raises(NotFound):
        services.user_deactivate(actor=world.other.users[Role.SECURITY_ADMIN], user=world.mine.users[Role.LIAISON])
