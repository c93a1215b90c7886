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


def test_filters_are_choice_lists_of_labelled_actions_and_targets(world):
    from django.conf import settings

    client = Client()
    client.force_login(world.mine.users[Role.AUDIT_ADMIN])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get("/audit/").content.decode()
    assert '<select name="action"' in html and '<select name="target_type"' in html
    assert '<option value="membership.granted">授予角色</option>' in html
    assert '<option value="accounts.membership">角色授予</option>' in html
    assert "<optgroup" in html
    # One action exactly; a group by its prefix; a target type.
    only = client.get("/audit/", {"action": "membership.granted"}).context["page"]
    assert {e.action for e in only} == {"membership.granted"}
    by_target = client.get("/audit/", {"target_type": "accounts.user"}).context["page"]
    assert by_target and {e.target_type for e in by_target} == {"accounts.user"}
    # A code that is not in the list is a field error, not a 500.
    response = client.get("/audit/", {"action": "no.such", "target_type": "x.y"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"action", "target_type"}
