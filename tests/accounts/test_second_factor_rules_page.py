"""Issue 8 item 2: the security administrator sets, in the browser, which business
roles need a second factor; administrators always do; nobody else may change it."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role, SecondFactorRule
from accounts.second_factor import required_roles
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db
URL = "/accounts/security/second-factor/"


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_security_administrator_turns_the_rule_on_and_off(world, settings):
    settings.SECOND_FACTOR_DEFAULT_ROLES = ()
    admin = world.mine.users[Role.SECURITY_ADMIN]
    client = _client(admin)  # force_login verifies the second factor (tests/conftest.py)
    from accounts import second_factor

    page = client.get(URL).content.decode()
    assert 'data-role="operator" data-required="0"' in page
    assert 'data-role="audit_admin" data-required="1"' in page
    assert client.post(URL, {"role": "operator", "required": "1"}).status_code == 302
    assert SecondFactorRule.objects.get(role="operator").required
    assert "operator" in required_roles()
    assert AuditEvent.objects.filter(action="otp.rule_set").exists()
    # Administrators cannot be exempted.
    client.post(URL, {"role": "system_admin", "required": "0"})
    assert not SecondFactorRule.objects.filter(role="system_admin").exists()
    assert second_factor.rule_rows()[0]["role"]


def test_nobody_else_sees_the_page(world):
    for role in (Role.SUPERVISOR, Role.SYSTEM_ADMIN, Role.OPERATOR):
        assert _client(world.mine.users[role]).get(URL).status_code in (302, 404)
    assert _client(world.mine.users[Role.SUPERVISOR]).post(
        URL, {"role": "operator", "required": "1"}).status_code in (302, 404)
    assert not SecondFactorRule.objects.exists()
