"""Security events reach the hash chain: sign-in success and failure with the address,
lockout, sign-out; and the chain stays intact."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from django.test import Client

from accounts.models import Role
from audit.models import AuditEvent
from audit.services import verify_chain
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"


def test_sign_in_failure_lockout_and_sign_out_are_on_the_chain(world):
    person = world.mine.users[Role.OPERATOR]
    client = Client(REMOTE_ADDR="198.51.100.4")
    with time_machine.travel(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), tick=False):
        for _ in range(5):
            client.post(LOGIN, {"username": person.username, "password": "Wrong-password-1"})
        client.post(LOGIN, {"username": person.username, "password": PASSWORD})  # locked
    failed = AuditEvent.objects.filter(action="auth.sign_in_failed", target_id=str(person.pk))
    assert failed.count() >= 5
    assert {e.ip for e in failed} == {"198.51.100.4"}
    assert failed.first().organization_path == world.mine.city_dept.path
    assert AuditEvent.objects.filter(action="auth.locked_out", target_id=str(person.pk)).exists()

    desk = Client(REMOTE_ADDR="10.0.0.8")
    assert desk.post(LOGIN, {"username": person.username, "password": PASSWORD}).status_code == 302
    signed_in = AuditEvent.objects.get(action="auth.signed_in", target_id=str(person.pk))
    assert signed_in.ip == "10.0.0.8" and signed_in.actor_id == person.pk
    desk.post("/accounts/logout/")
    assert AuditEvent.objects.filter(action="auth.signed_out", actor_id=person.pk).exists()
    assert verify_chain().intact


def test_unknown_usernames_are_recorded_platform_wide(world):
    Client(REMOTE_ADDR="198.51.100.9").post(LOGIN, {"username": "nobody-here", "password": "x"})
    event = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert event.target_label == "nobody-here" and event.organization_path == ""
    assert event.ip == "198.51.100.9"


def test_api_token_sign_in_is_recorded(world):
    person = world.mine.users[Role.OPERATOR]
    response = Client().post(
        "/api/v1/auth/token/",
        {"username": person.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="auth.signed_in")
    assert event.after == {"channel": "api"}


def test_reading_the_audit_trail_is_itself_recorded(world):
    auditor = world.mine.users[Role.AUDIT_ADMIN]
    client = Client()
    client.force_login(auditor)
    assert client.get("/audit/?action=auth.signed_in").status_code == 200
    event = AuditEvent.objects.get(action="audit.trail_viewed")
    assert event.actor_id == auditor.pk
    assert event.after["filters"] == {"action": "auth.signed_in"}
    assert client.get("/api/v1/audit-events/").status_code == 200
    assert AuditEvent.objects.filter(action="audit.trail_viewed").count() == 2
    response = client.get("/audit/export.csv")
    b"".join(response.streaming_content)
    exported = AuditEvent.objects.get(action="audit.trail_exported")
    assert exported.after["rows"] >= 1


def test_reading_credential_custody_is_recorded(world):
    supervisor = world.mine.users[Role.SUPERVISOR]
    client = Client()
    client.force_login(supervisor)
    assert client.get("/api/v1/credential-custody/").status_code == 200
    event = AuditEvent.objects.get(action="custody.viewed")
    assert event.actor_id == supervisor.pk
