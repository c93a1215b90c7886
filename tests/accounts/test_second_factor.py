"""Two factors: TOTP enrolment with a QR code and recovery codes, mandatory for the
three administrators and the Django admin, per role for everyone else (supervisors by
default in production), API tokens only after the second factor."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import second_factor
from accounts.models import Role
from audit.models import AuditEvent
from common.errors import ValidationFailed
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"
ENROL = "/accounts/second-factor/enrol/"
VERIFY = "/accounts/second-factor/"
TOKEN = "/api/v1/auth/token/"


def code_for(device: TOTPDevice, step_offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=step_offset):06d}"


def password_only(user) -> Client:
    client = Client()
    assert client.post(LOGIN, {"username": user.username, "password": PASSWORD}).status_code == 302
    return client


def enrol(client, user) -> list[str]:
    page = client.get(ENROL)
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(ENROL, {"code": code_for(device)})
    assert response.status_code == 200
    return response.context["codes"]


@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_administrators_must_enrol_before_anything_else(world, role):
    admin = world.mine.users[role]
    client = password_only(admin)
    response = client.get("/accounts/orgs/")
    assert response.status_code == 302 and response["Location"].startswith(ENROL)
    assert client.get("/api/v1/me/").json()["code"] == "second_factor_required"
    codes = enrol(client, admin)
    assert len(codes) == 10
    assert client.get("/accounts/orgs/").status_code == 200
    assert AuditEvent.objects.filter(action="otp.enrolled", actor_id=admin.pk).exists()


def test_a_wrong_enrolment_code_is_refused(world):
    admin = world.mine.users[Role.SYSTEM_ADMIN]
    client = password_only(admin)
    client.get(ENROL)
    response = client.post(ENROL, {"code": "000000"})
    assert response.status_code == 200 and "codes" not in response.context
    assert not TOTPDevice.objects.filter(user=admin, confirmed=True).exists()
    assert client.get("/accounts/orgs/").status_code == 302


def test_sign_in_again_asks_for_the_code_and_recovery_codes_work_once(world):
    admin = world.mine.users[Role.AUDIT_ADMIN]
    client = password_only(admin)
    codes = enrol(client, admin)
    client.post("/accounts/logout/")

    client = password_only(admin)
    response = client.get("/audit/")
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert client.post(VERIFY, {"code": "123456"}).status_code == 200  # refused, form again
    assert client.get("/audit/").status_code == 302
    # A minute later (django-otp slows retries after a failure; codes are one-time).
    with time_machine.travel(timezone.now() + timedelta(seconds=65)):
        device = TOTPDevice.objects.get(user=admin, confirmed=True)
        assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302
    assert client.get("/audit/").status_code == 200
    assert AuditEvent.objects.filter(action="otp.verified", actor_id=admin.pk).exists()
    assert AuditEvent.objects.filter(action="otp.failed", actor_id=admin.pk).exists()

    # The refused code above also throttled the recovery-code device (django-otp counts
    # failures per device): a recovery code is tried once that delay has passed.
    for attempt in range(2):
        other = password_only(admin)
        with time_machine.travel(timezone.now() + timedelta(seconds=130)):
            response = other.post(VERIFY, {"code": codes[0]})
        if attempt == 0:
            assert response.status_code == 302 and other.get("/audit/").status_code == 200
        else:
            assert other.get("/audit/").status_code == 302  # spent


def test_the_django_admin_needs_the_second_factor(world):
    admin = world.mine.users[Role.SYSTEM_ADMIN]
    client = password_only(admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/" not in response["Location"].split("?")[0]
    enrol(client, admin)
    assert client.get("/admin/").status_code == 200


def test_business_roles_follow_the_per_role_rule(world, settings):
    operator = world.mine.users[Role.OPERATOR]
    supervisor = world.mine.users[Role.SUPERVISOR]
    assert password_only(operator).get("/").status_code == 200
    settings.SECOND_FACTOR_DEFAULT_ROLES = ["supervisor"]  # the production default
    assert password_only(supervisor).get("/").status_code == 302
    assert password_only(operator).get("/").status_code == 200
    second_factor.second_factor_rule_set(actor=None, role=Role.SUPERVISOR, required=False)
    assert password_only(supervisor).get("/").status_code == 200
    second_factor.second_factor_rule_set(actor=None, role=Role.OPERATOR, required=True)
    assert password_only(operator).get("/").status_code == 302


def test_the_administrators_rule_cannot_be_switched_off(world):
    with pytest.raises(ValidationFailed) as exc:
        second_factor.second_factor_rule_set(actor=None, role=Role.AUDIT_ADMIN, required=False)
    assert exc.value.code == "second_factor_mandatory"
    assert second_factor.second_factor_required(world.mine.users[Role.AUDIT_ADMIN])


def test_api_tokens_only_after_the_second_factor(world):
    admin = world.mine.users[Role.SECURITY_ADMIN]
    body = {"username": admin.username, "password": PASSWORD}
    response = Client().post(TOKEN, body, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "second_factor_enrolment_required"
    enrol(password_only(admin), admin)
    response = Client().post(TOKEN, {**body, "otp": "000000"}, content_type="application/json")
    assert response.status_code == 400 and "otp" in response.json()["fields"]
    with time_machine.travel(timezone.now() + timedelta(seconds=65)):  # after the throttle
        device = TOTPDevice.objects.get(user=admin, confirmed=True)
        response = Client().post(
            TOKEN, {**body, "otp": code_for(device)}, content_type="application/json"
        )
    assert response.status_code == 200 and response.json()["token"]
    assert AuditEvent.objects.filter(action="token.issued", actor_id=admin.pk).exists()


def test_the_security_administrator_resets_a_lost_second_factor(world):
    admin = world.mine.users[Role.AUDIT_ADMIN]
    enrol(password_only(admin), admin)
    second_factor.second_factor_reset(actor=world.mine.users[Role.SECURITY_ADMIN], user=admin)
    assert not second_factor.has_second_factor(admin)
    response = password_only(admin).get("/audit/")
    assert response["Location"].startswith(ENROL)
    from common.errors import NotFound

    with pytest.raises(NotFound):
        second_factor.second_factor_reset(actor=world.other.users[Role.SECURITY_ADMIN], user=admin)
