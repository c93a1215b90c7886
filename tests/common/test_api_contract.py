"""The API contract: every operation of the OpenAPI schema (/api/schema/) is called
with data like the demo's, and what it answers is what the schema documents: the
status code is one of the operation's documented responses, and a JSON body matches
the documented schema (jsonschema, OpenAPI's `nullable` read as JSON Schema's null).
Every operation has a summary and a tag naming its area."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from accounts.models import Role
from moderation.services.directives import directive_issue
from notifications.services import notify
from tests.moderation.factories import approve_all, make_account, make_post, submit
from tests.registry.helpers import active_account, file_open

pytestmark = pytest.mark.django_db
ROOT = "urn:govmedia-api"


def _convert(node):
    """OpenAPI 3.0 schema -> JSON Schema 2020-12 (nullable, local $refs)."""
    if isinstance(node, list):
        return [_convert(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _convert(v) for k, v in node.items() if k != "nullable"}
    if isinstance(out.get("$ref"), str) and out["$ref"].startswith("#/"):
        out["$ref"] = ROOT + out["$ref"]
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@pytest.fixture
def api_data(world):
    ns = world.mine
    account = active_account(ns, code="douyin")
    make_account(ns.city_dept, "weibo")
    file_open(ns, code="bilibili")
    approve_all(submit(make_post(ns, account=account), ns), ns)
    submit(make_post(ns), ns)
    make_post(ns)
    directive_issue(actor=ns.users[Role.SUPERVISOR], organization=ns.province,
                    title="转发", source_url="https://www.gov.cn/a.html")
    notify(recipients=[ns.users[Role.SUPERVISOR]], organization=ns.province, kind="t",
           message="通知", dedupe_key="contract")
    return ns


def _schema():
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    import json

    return json.loads(response.content)


def _validator(schema):
    root = {"components": _convert(schema.get("components", {}))}
    registry = Registry().with_resource(
        ROOT, Resource.from_contents(root, default_specification=DRAFT202012))

    def validate(body, node):
        Draft202012Validator(_convert(node), registry=registry).validate(body)

    return validate


def test_every_operation_has_a_summary_an_area_and_documented_errors():
    schema = _schema()
    operations = [(path, method, op) for path, methods in schema["paths"].items()
                  for method, op in methods.items()]
    assert len(operations) > 50
    assert not [(p, m) for p, m, op in operations if not op.get("summary")]
    assert not [(p, m) for p, m, op in operations if op.get("tags") in (None, ["v1"])]
    assert not [(p, m) for p, m, op in operations
                if op.get("description", "").startswith("Base for viewsets")]
    for path, method, op in operations:
        assert "401" in op["responses"], (path, method)
        if method in ("post", "put", "patch"):
            assert "400" in op["responses"], (path, method)
    assert "Error" in schema["components"]["schemas"]
    # The post actions document their own bodies, not the creation body.
    approve = schema["paths"]["/api/v1/posts/{id}/approve/"]["post"]
    ref = approve["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/PostDecisionRequest")


def _fill(path: str, ids: dict) -> str | None:
    params = re.findall(r"{(\w+)}", path)
    for name in params:
        key = path.split("/{")[0]
        value = ids.get(key) if name == "id" else None
        if value is None:
            return None
        path = path.replace("{" + name + "}", str(value))
    return path


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.OPERATOR, Role.AUDIT_ADMIN])
def test_answers_match_the_documented_responses(api_data, role):
    schema = _schema()
    validate = _validator(schema)
    client = Client()
    client.force_login(api_data.users[role])
    ids: dict[str, int] = {}
    checked, skipped, mismatches = 0, [], []
    # Lists first (they give the ids for the detail paths), then details, then writes.
    paths = sorted(schema["paths"].items(), key=lambda item: item[0].count("{"))
    for method_wanted in ("get", "post", "patch", "put", "delete"):
        for path, methods in paths:
            op = methods.get(method_wanted)
            if op is None:
                continue
            url = _fill(path, ids)
            if url is None:
                url = re.sub(r"{\w+}", "999999", path)  # an id nobody has: 404
            if method_wanted == "get":
                response = client.get(url)
            else:
                response = getattr(client, method_wanted)(url, {}, content_type="application/json")
            status = str(response.status_code)
            assert status in op["responses"], (role, method_wanted, url, status)
            content = op["responses"][status].get("content", {})
            if response.get("Content-Type", "").startswith("application/json") and \
                    "application/json" in content:
                body = response.json()
                try:
                    validate(body, content["application/json"]["schema"])
                except Exception as exc:  # collect them all, then fail once
                    mismatches.append((method_wanted, url, status, str(exc).split("\n")[0]))
                results = body.get("results") if isinstance(body, dict) else None
                if method_wanted == "get" and "{" not in path and results:
                    first = results[0]
                    if isinstance(first, dict) and "id" in first:
                        ids[path.rstrip("/")] = first["id"]
            elif not content and status not in ("204",):
                skipped.append((url, status))
            checked += 1
    print(f"{role}: {checked} operations answered as documented; no body schema: {skipped}")
    assert not mismatches, "\n".join(map(str, mismatches))
    assert checked > 50
