"""The password policy: length and three character classes, no reuse of the last five,
expiry with a forced change, self-service change, reset by the security administrator
forcing a change; API tokens end with the old password; messages in Chinese."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from accounts import services
from accounts.models import Role, User
from audit.models import AuditEvent
from common.errors import ValidationFailed
from tests.factories import PASSWORD, token_for

PAGE = "/accounts/password/"


@pytest.fixture
def person(world):
    return world.mine.users[Role.OPERATOR]


def change(user, old, new):
    return services.user_password_change(user=user, old_password=old, new_password=new)


@pytest.mark.parametrize(
    "password",
    ["aaaaaaaaaaaa", "abcdefghijklmnop", "abcdefgh12345678", "ABCDEFGH-IJKLMN"],
)
def test_passwords_with_fewer_than_three_kinds_of_characters_are_refused(world, password):
    with pytest.raises(ValidationFailed) as exc:
        services.user_create(
            actor=None, organization=world.mine.city, username="zhao.lei", password=password
        )
    assert "password" in exc.value.fields
    assert not User.objects.filter(username="zhao.lei").exists()


def test_the_message_is_chinese(world):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as exc:
        services.user_create(
            actor=None, organization=world.mine.city, username="zhao.lei", password="aaaaaaaaaaaa"
        )
    assert "字符" in " ".join(exc.value.fields["password"])


def test_the_last_five_passwords_cannot_be_reused(person):
    passwords = [f"Rotating-Pass-{i}x" for i in range(6)]
    current = PASSWORD
    for new in passwords:
        change(person, current, new)
        current = new
    # The current one and the four before it (five in all) are refused ...
    for old in passwords[-5:]:
        with pytest.raises(ValidationFailed) as exc:
            change(person, current, old)
        assert "new_password" in exc.value.fields
    # ... and the sixth-last is allowed again.
    change(person, current, passwords[0])


def test_a_wrong_current_password_changes_nothing(person):
    with pytest.raises(ValidationFailed) as exc:
        change(person, "not-my-Password-1", "Brand-New-Pass-7")
    assert exc.value.code == "wrong_password"
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_self_service_page_changes_the_password_and_audits_it(person):
    client = Client()
    client.force_login(person)
    assert client.get(PAGE).status_code == 200
    response = client.post(
        PAGE,
        {"old_password": PASSWORD, "new_password": "Brand-New-Pass-7", "new_password_again": "Brand-New-Pass-7"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password("Brand-New-Pass-7")
    assert client.get("/").status_code == 200  # still signed in
    assert AuditEvent.objects.filter(action="user.password_changed", target_id=str(person.pk)).exists()


def test_page_shows_field_errors_in_chinese(person):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(person)
    response = client.post(
        PAGE, {"old_password": PASSWORD, "new_password": "aaaaaaaaaaaa", "new_password_again": "aaaaaaaaaaaa"}
    )
    assert response.status_code == 200
    assert "字符" in response.content.decode()
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_reset_by_the_security_administrator_forces_a_change(world, person):
    secadmin = world.mine.users[Role.SECURITY_ADMIN]
    token = token_for(person)
    services.user_password_reset(actor=secadmin, user=person, new_password="Temporary-Pass-1")
    assert not AuthToken.objects.filter(user=person).exists()
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/me/").status_code == 401
    event = AuditEvent.objects.get(action="user.password_reset")
    assert event.actor_id == secadmin.pk and event.role == Role.SECURITY_ADMIN
    client = Client()
    assert client.post("/accounts/login/", {"username": person.username, "password": "Temporary-Pass-1"}).status_code == 302
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(PAGE)
    assert client.get("/api/v1/me/").json()["code"] == "password_change_required"
    token_response = Client().post(
        "/api/v1/auth/token/",
        {"username": person.username, "password": "Temporary-Pass-1"},
        content_type="application/json",
    )
    assert token_response.status_code == 403
    client.post(
        PAGE,
        {"old_password": "Temporary-Pass-1", "new_password": "My-Own-Pass-22", "new_password_again": "My-Own-Pass-22"},
    )
    assert client.get("/").status_code == 200


def test_reset_is_refused_outside_the_administrators_scope(world):
    secadmin = world.mine.users[Role.SECURITY_ADMIN]
    stranger = world.other.users[Role.OPERATOR]
    from common.errors import NotFound

    with pytest.raises(NotFound):
        services.user_password_reset(actor=secadmin, user=stranger, new_password="Temporary-Pass-1")
    operator = world.mine.users[Role.OPERATOR]
    from common.errors import PermissionDenied

    with pytest.raises((PermissionDenied, NotFound)):
        services.user_password_reset(
            actor=world.mine.users[Role.SUPERVISOR], user=operator, new_password="Temporary-Pass-1"
        )


def test_an_expired_password_forces_a_change(person, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    client = Client()
    client.force_login(person)
    assert client.get("/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        client.force_login(person)
        response = client.get("/")
        assert response.status_code == 302 and response["Location"].startswith(PAGE)
    settings.PASSWORD_MAX_AGE_DAYS = 0  # expiry switched off
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        client.force_login(person)
        assert client.get("/").status_code == 200


def test_a_password_change_revokes_api_tokens(person):
    token = token_for(person)
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/me/").status_code == 200
    change(person, PASSWORD, "Brand-New-Pass-7")
    assert not AuthToken.objects.filter(user=person).exists()
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/me/").status_code == 401
