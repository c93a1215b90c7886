"""A strict Content-Security-Policy on every response: scripts from our own origin
only (no inline script, no eval), no plugins, no framing."""

from __future__ import annotations

from django.test import Client

from accounts.models import Role


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()
    }


def test_pages_and_api_carry_a_strict_policy(world):
    anonymous, client = Client(), Client()
    client.force_login(world.mine.users[Role.SUPERVISOR])
    for who, path in ((anonymous, "/accounts/login/"), (client, "/"), (client, "/api/v1/me/"), (client, "/api/docs/")):
        response = who.get(path)
        assert response.status_code == 200, path
        policy = directives(response)
        assert policy["script-src"] == ["'self'"], path
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["default-src"] == ["'self'"]
