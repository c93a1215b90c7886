"""The audit trail for audit administrators: filters, read-only API."""

from __future__ import annotations

from django.test import Client

from accounts.models import Role
from audit.models import AuditEvent
from tests.factories import token_for


def test_filters_and_bad_filter_input(world):
    client = Client()
    client.force_login(world.mine.users[Role.AUDIT_ADMIN])
    response = client.get("/audit/", {"action": "membership."})
    assert response.status_code == 200
    actions = {e.action for e in response.context["page"]}
    assert actions == {"membership.granted"}
    for bad in (
        {"since": "not-a-date"},
        {"since": "2026-05-02", "until": "2026-05-01"},
    ):
        response = client.get("/audit/", bad)
        assert response.status_code == 200
        assert response.context["form"].errors
        response = client.get("/audit/export.csv", bad)
        assert response.status_code == 200


def test_audit_api_is_read_only(world):
    admin = world.mine.users[Role.AUDIT_ADMIN]
    token = token_for(admin)
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    event = AuditEvent.objects.visible_to(admin).first()
    url = f"/api/v1/audit-events/{event.pk}/"
    assert client.get(url).status_code == 200
    assert client.patch(url, "{}", content_type="application/json").status_code == 405
    assert client.delete(url).status_code == 405
    assert (
        client.post(
            "/api/v1/audit-events/", "{}", content_type="application/json"
        ).status_code
        == 405
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()
