"""Lockout per username and address: failures from elsewhere never lock a person out
of their own desk; failures from many addresses bring a captcha instead."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from captcha.models import CaptchaStore
from django.test import Client

from accounts.models import Role
from tests.factories import PASSWORD

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token/"


@pytest.fixture
def person(world):
    return world.mine.users[Role.OPERATOR]


def from_address(ip):
    return Client(REMOTE_ADDR=ip)


def fail(ip, username, n=1):
    for _ in range(n):
        from_address(ip).post(LOGIN, {"username": username, "password": "Wrong-password-1"})


def test_five_failures_from_one_address_do_not_lock_the_person_elsewhere(person):
    with time_machine.travel(T0, tick=False):
        fail("203.0.113.7", person.username, 5)
        locked = from_address("203.0.113.7").post(LOGIN, {"username": person.username, "password": PASSWORD})
        assert locked.status_code == 429
        at_desk = from_address("10.1.2.3").post(LOGIN, {"username": person.username, "password": PASSWORD})
        assert at_desk.status_code == 302


def test_failures_from_many_addresses_require_a_captcha(person, settings):
    settings.SECURITY_CAPTCHA_AFTER_ADDRESSES = 3
    with time_machine.travel(T0, tick=False):
        fail("203.0.113.1", person.username, 2)
        fail("203.0.113.2", person.username, 2)
        page = from_address("10.1.2.3").post(LOGIN, {"username": person.username, "password": "Wrong-password-1"})
        assert "captcha" not in page.context["form"].fields
        fail("203.0.113.3", person.username, 2)  # the third address
        desk = from_address("10.1.2.3")
        # The right password without the captcha is refused, and the form now asks.
        response = desk.post(LOGIN, {"username": person.username, "password": PASSWORD})
        assert response.status_code == 200
        assert "captcha" in response.context["form"].fields
        assert desk.get("/").status_code == 302
        # A wrong captcha with the right password is refused too.
        key = CaptchaStore.generate_key()
        response = desk.post(
            LOGIN,
            {"username": person.username, "password": PASSWORD, "captcha_0": key, "captcha_1": "nope"},
        )
        assert response.status_code == 200 and desk.get("/").status_code == 302
        # The right answer and the right password sign in.
        key = CaptchaStore.generate_key()
        answer = CaptchaStore.objects.get(hashkey=key).response
        response = desk.post(
            LOGIN,
            {"username": person.username, "password": PASSWORD, "captcha_0": key, "captcha_1": answer},
        )
        assert response.status_code == 302



def test_other_usernames_need_no_captcha(world, person, settings):
    settings.SECURITY_CAPTCHA_AFTER_ADDRESSES = 3
    with time_machine.travel(T0, tick=False):
        for ip in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
            fail(ip, person.username)
        other = world.mine.users[Role.LIAISON]
        response = from_address("10.1.2.3").post(LOGIN, {"username": other.username, "password": PASSWORD})
        assert response.status_code == 302


def test_the_api_asks_for_the_captcha_too(person, settings):
    settings.SECURITY_CAPTCHA_AFTER_ADDRESSES = 3
    with time_machine.travel(T0, tick=False):
        for ip in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
            fail(ip, person.username)
        body = {"username": person.username, "password": PASSWORD}
        response = from_address("10.1.2.3").post(TOKEN, body, content_type="application/json")
        assert response.status_code == 400 and response.json()["code"] == "captcha_required"
        refresh = from_address("10.1.2.3").get("/captcha/refresh/", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
        key = refresh.json()["key"]
        answer = CaptchaStore.objects.get(hashkey=key).response
        response = from_address("10.1.2.3").post(
            TOKEN, {**body, "captcha_key": key, "captcha_value": answer}, content_type="application/json"
        )
        assert response.status_code == 200 and response.json()["token"]


def test_the_security_administrator_lifts_a_lockout_audited(world, person):
    from accounts.lockout import lockout_clear
    from audit.models import AuditEvent
    from common.errors import NotFound

    with time_machine.travel(T0, tick=False):
        fail("203.0.113.7", person.username, 5)
        assert from_address("203.0.113.7").post(LOGIN, {"username": person.username, "password": PASSWORD}).status_code == 429
        with pytest.raises(NotFound):
            lockout_clear(actor=world.other.users[Role.SECURITY_ADMIN], username=person.username)
        assert lockout_clear(actor=world.mine.users[Role.SECURITY_ADMIN], username=person.username) == 1
        assert from_address("203.0.113.7").post(LOGIN, {"username": person.username, "password": PASSWORD}).status_code == 302
    event = AuditEvent.objects.get(action="auth.unlocked")
    assert event.role == Role.SECURITY_ADMIN and event.target_id == str(person.pk)
