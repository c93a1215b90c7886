"""/healthz, the OpenAPI schema and the API docs (served without any CDN)."""

from __future__ import annotations

import re

import yaml  # noqa: F401  (drf-spectacular depends on PyYAML)
from django.test import Client


def test_healthz_reports_database_and_broker(db):
    from common.tasks import worker_heartbeat

    worker_heartbeat()  # a worker consumed the queue (tests/common/test_worker_health.py)
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True and body["broker"]["ok"] is True


def test_healthz_reports_a_broken_database_as_503(db, monkeypatch):
    from common import health

    monkeypatch.setattr(
        health, "_database", lambda: {"ok": False, "error": "OperationalError"}
    )
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"


def test_schema_is_valid_openapi(db):
    from drf_spectacular.validation import validate_schema

    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)
    paths = schema["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/me/",
        "/api/v1/organizations/",
        "/api/v1/organizations/export/",
        "/api/v1/memberships/{id}/end/",
        "/api/v1/audit-events/",
    ):
        assert path in paths, path


def test_docs_serve_swagger_from_static_and_nothing_external(db):
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    external = re.findall(r"""(?:src|href)\s*=\s*["'](https?://[^"']+)""", html)
    assert external == []
    assert not re.search(r"https?://(?!localhost|testserver)", html), (
        "absolute URL in docs"
    )
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+\.(?:js|css|png))""", html)
    assert assets and all(a.startswith("/static/") for a in assets), assets
    assert any("swagger-ui" in a for a in assets)
