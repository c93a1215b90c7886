"""Sign-in on the web and through the API token, passwords, lockout and idle sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.hashers import identify_hasher
from django.test import Client
from knox.models import AuthToken

import config.settings as project_settings
from accounts import services
from accounts.models import Role, User
from common.errors import ValidationFailed
from tests.factories import PASSWORD

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
TOKEN_URL = "/api/v1/auth/token/"
LOGIN_URL = "/accounts/login/"


@pytest.fixture
def person(world):
    return world.mine.users[Role.OPERATOR]


def web_login(client, username, password):
    return client.post(LOGIN_URL, {"username": username, "password": password})


def api_token(client, username, password):
    return client.post(
        TOKEN_URL,
        {"username": username, "password": password},
        content_type="application/json",
    )


# --- web ---------------------------------------------------------------------------------
def test_web_login_and_logout(person):
    client = Client()
    assert client.get("/").status_code == 302  # anonymous: to the sign-in page
    assert client.get(LOGIN_URL).status_code == 200
    response = web_login(client, person.username, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    person.refresh_from_db()
    assert person.last_login is not None
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_web_login_wrong_password_shows_the_form_again(person):
    client = Client()
    response = web_login(client, person.username, "wrong-password-123")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert client.get("/").status_code == 302


# --- API token ---------------------------------------------------------------------------
def test_token_for_username_and_password_authenticates_api_calls(person):
    client = Client()
    response = api_token(client, person.username, PASSWORD)
    assert response.status_code == 200
    key = response.json()["token"]
    assert AuthToken.objects.get(token_key=key[:15]).user == person
    # SECURITY: stored as a digest, never the token itself.
    assert not AuthToken.objects.filter(digest=key).exists()
    assert key not in str(list(AuthToken.objects.values_list("digest", "token_key")))
    assert Client().get("/api/v1/me/").status_code in (401, 403)
    me = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/me/")
    assert me.status_code == 200
    body = me.json()
    assert body["username"] == person.username
    assert [m["role"] for m in body["memberships"]] == ["operator"]
    bad = Client(HTTP_AUTHORIZATION="Token " + "0" * 64).get("/api/v1/me/")
    assert bad.status_code in (401, 403)


def test_token_wrong_password_is_400_with_a_field_message(person):
    response = api_token(Client(), person.username, "not-the-password-1")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "authentication_failed"
    assert body["fields"]["password"]
    assert "token" not in body


def test_token_missing_fields_are_400_per_field():
    response = Client().post(TOKEN_URL, {}, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"username", "password"}


def test_token_for_inactive_user_is_refused(person):
    User.objects.filter(pk=person.pk).update(is_active=False)
    assert api_token(Client(), person.username, PASSWORD).status_code == 400


# --- passwords -----------------------------------------------------------------------------
def test_short_password_is_refused(world):
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(
            actor=None,
            organization=world.mine.city,
            username="wang.wei",
            password="Sh0rt-pw!xy",
        )
    assert len("Sh0rt-pw!xy") == 11
    assert "password" in exc.value.fields
    assert not User.objects.filter(username="wang.wei").exists()


def test_twelve_characters_are_enough(world):
    user = services.user_create(
        actor=None,
        organization=world.mine.city,
        username="wang.wei",
        password="Lo0ng-pw!xyz",
    )
    assert user.check_password("Lo0ng-pw!xyz")


def test_stored_hashes_are_argon2(world, settings):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    user = services.user_create(
        actor=None,
        organization=world.mine.city,
        username="li.na",
        password="Lo0ng-pw!xyz",
    )
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert identify_hasher(user.password).algorithm == "argon2"
    # And signing in with it works on the web.
    assert web_login(Client(), "li.na", "Lo0ng-pw!xyz").status_code == 302


# --- lockout --------------------------------------------------------------------------------
def _fail(channel: str, client, username):
    if channel == "web":
        return web_login(client, username, "wrong-password-123")
    return api_token(client, username, "wrong-password-123")


def _succeed(channel, client, username):
    if channel == "web":
        response = web_login(client, username, PASSWORD)
        return response.status_code == 302
    response = api_token(client, username, PASSWORD)
    return response.status_code == 200 and "token" in response.json()


@pytest.mark.parametrize("channel", ["web", "api"])
def test_five_failures_lock_the_username_for_fifteen_minutes(person, channel):
    client = Client()
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(4):
            response = _fail(channel, client, person.username)
            assert response.status_code in (200, 400)  # refused, not yet locked
        _fail(channel, client, person.username)  # the fifth
        # The sixth attempt, with the RIGHT password, is refused.
        if channel == "web":
            response = web_login(client, person.username, PASSWORD)
            assert response.status_code == 429
            assert Client().get("/").status_code == 302
        else:
            response = api_token(client, person.username, PASSWORD)
            assert response.status_code == 429
            assert response.json()["code"] == "locked_out"
            assert not AuthToken.objects.filter(user=person).exists()
        clock.shift(timedelta(minutes=14))
        assert not _succeed(channel, Client(), person.username)
        clock.shift(timedelta(minutes=1, seconds=1))
        assert _succeed(channel, Client(), person.username)


def test_failures_count_across_web_and_api(person):
    with time_machine.travel(T0, tick=False):
        for _ in range(3):
            _fail("web", Client(), person.username)
        for _ in range(2):
            _fail("api", Client(), person.username)
        assert api_token(Client(), person.username, PASSWORD).status_code == 429
        assert web_login(Client(), person.username, PASSWORD).status_code == 429


def test_lockout_is_per_username(person, world):
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            _fail("api", Client(), person.username)
        other = world.mine.users[Role.LIAISON]
        assert _succeed("api", Client(), other.username)
        assert _succeed("web", Client(), other.username)


@pytest.mark.parametrize("channel", ["web", "api"])
def test_success_resets_the_failure_count(person, channel):
    with time_machine.travel(T0, tick=False):
        for _ in range(4):
            _fail(channel, Client(), person.username)
        assert _succeed(channel, Client(), person.username)
        for _ in range(4):
            _fail(channel, Client(), person.username)
        assert _succeed(channel, Client(), person.username)


# --- idle sessions -------------------------------------------------------------------------
def test_session_settings():
    assert project_settings.SESSION_COOKIE_AGE == 30 * 60
    assert project_settings.SESSION_SAVE_EVERY_REQUEST is True


def test_session_expires_after_thirty_idle_minutes(person):
    client = Client()
    with time_machine.travel(T0, tick=False) as clock:
        assert web_login(client, person.username, PASSWORD).status_code == 302
        assert client.get("/").status_code == 200
        clock.shift(timedelta(minutes=29))
        assert client.get("/").status_code == 200  # activity pushes the expiry on
        clock.shift(timedelta(minutes=31))
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN_URL)


def test_session_lives_on_with_activity_every_twenty_minutes(person):
    client = Client()
    with time_machine.travel(T0, tick=False) as clock:
        assert web_login(client, person.username, PASSWORD).status_code == 302
        for _ in range(6):  # two hours in all
            clock.shift(timedelta(minutes=20))
            assert client.get("/").status_code == 200
        session = client.session
        assert session.get_expiry_age() == 30 * 60
        assert session.get_expiry_date() == T0 + timedelta(minutes=120 + 30)
