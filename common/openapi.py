"""The OpenAPI schema's finishing pass (drf-spectacular POSTPROCESSING_HOOKS).

Applied to every operation of every app, so a new app's endpoints come out right
without decorating each one:

- tags per area (registry, review and reposts, ...), from the first path segment
  (`AREAS`; an unknown segment is its own tag);
- a summary on every operation (the first sentence of its docstring, else "List
  organizations", "Approve post", ... from the method and the path);
- no base-class docstring passed off as an operation's description;
- the error responses the exception handler (common/api.py) really gives, with one
  documented `Error` schema: 400 invalid input (bodies and filters), 401 missing or
  bad credentials, 403 visible but not allowed, 404 missing or outside the scope,
  409 a state that does not allow it (writes), 415 a body of a media type the
  operation does not take.

`AutoSchema` (DEFAULT_SCHEMA_CLASS) corrects one mapping of drf-spectacular's: a URL
that may be blank (a model URLField with blank=True, a serializer URLField with
allow_blank) is documented as "a URI or the empty string", as the API answers it.
"""

from __future__ import annotations

import re
from collections import Counter

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular import openapi
from rest_framework import serializers

AREAS = {
    "auth": "Sign-in",
    "me": "Organizations and people",
    "organizations": "Organizations and people",
    "memberships": "Organizations and people",
    "users": "Organizations and people",
    "platforms": "Registry",
    "media-accounts": "Registry",
    "filings": "Registry",
    "account-exemptions": "Registry",
    "credential-custody": "Registry",
    "rotation-tasks": "Registry",
    "ledger": "Ledger",
    "ledger-import": "Ledger",
    "counterfeit-check": "Ledger",
    "posts": "Review",
    "dictionaries": "Review",
    "published-posts": "Review",
    "flags": "Review",
    "repost-directives": "Reposts",
    "directive-targets": "Reposts",
    "repost-policies": "Reposts",
    "notifications": "Notifications",
    "audit-events": "Audit trail",
}

# Docstrings of base classes that say nothing about the operation.
BASE_DOCSTRINGS = ("Base for viewsets", "A viewset", "ViewSet")

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error: a stable code, a message for people and, for invalid "
    "input, the messages per field.",
    "properties": {
        "code": {"type": "string", "description": "Stable (e.g. invalid, not_found, "
                 "forbidden, conflict, not_authenticated, already_confirmed)."},
        "detail": {"type": "string", "description": "In the user's language."},
        "fields": {"type": "object", "additionalProperties": {
            "type": "array", "items": {"type": "string"}}},
    },
    "required": ["code", "detail"],
}
EXPORT_JOB_SCHEMA = {
    "type": "object",
    "description": "An export too large to stream at once (above EXPORT_SYNC_MAX_ROWS "
    "rows), written by a background job: poll status_url, then fetch download_url.",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "kind": {"type": "string"},
        "file_format": {"type": "string"},
        "state": {"type": "string"},
        "total": {"type": "integer"},
        "done": {"type": "integer"},
        "percent": {"type": "integer"},
        "file_name": {"type": "string"},
        "size": {"type": "integer"},
        "error": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time", "nullable": True},
        "status_url": {"type": "string"},
        "download_url": {"type": "string", "nullable": True},
    },
    "required": ["id", "state", "status_url", "download_url"],
}
ERRORS = {
    "400": "Invalid input: `fields` names each field and its rule.",
    "401": "No credentials, or bad ones.",
    "403": "You see the object but may not do this.",
    "404": "Missing, or outside your scope (the two look the same); a list answers 404 "
    "when none of your roles reaches its kind of data.",
    "409": "The object's state does not allow this (already done, changed meanwhile).",
    "415": "The body's media type is not one this operation takes (some take only a "
    "file upload, multipart/form-data), or the body cannot be read as that type.",
    "429": "Too many failed sign-ins: the username is locked for 15 minutes.",
}
BINARY = {"type": "string", "format": "binary"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VERBS = {"get": "Get", "post": "Create", "put": "Replace", "patch": "Update",
         "delete": "Delete"}


def _model_field(field: serializers.Field):
    """The model field a ModelSerializer field reads (following `a.b` sources), or
    None when it reads something else (a property, a method, a plain serializer)."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    parts = (field.source or "").split(".")
    found = None
    for part in parts:
        if model is None:
            return None
        try:
            found = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        model = found.related_model
    return found


URI_OR_BLANK = [{"format": "uri"}, {"maxLength": 0}]


class AutoSchema(openapi.AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.URLField) and schema.get("format") == "uri":
            model_field = _model_field(field)
            if getattr(field, "allow_blank", False) or getattr(model_field, "blank", False):
                # `format: uri` alone refuses "", which a blank URL is stored and
                # answered as.
                schema = {**schema, "anyOf": [dict(part) for part in URI_OR_BLANK]}
                del schema["format"]
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        if schema.get("anyOf") == URI_OR_BLANK:
            schema.pop("format", None)  # put back by the field's URLValidator


def _words(segment: str) -> str:
    return segment.replace("-", " ").replace("_", " ")


def _summary(path: str, method: str) -> str:
    parts = [p for p in path.split("/") if p and p not in ("api", "v1")]
    names = [p for p in parts if not p.startswith("{")]
    detail = bool(parts) and parts[-1].startswith("{")
    if not names:
        return VERBS.get(method, method.upper())
    resource = _words(names[0])
    if len(names) > 1:  # an action: /posts/{id}/approve/ -> "Approve post"
        action = _words(" ".join(names[1:]))
        return f"{action[:1].upper()}{action[1:]} ({resource})"
    if method == "get":
        return f"Get one of {resource}" if detail else f"List {resource}"
    return f"{VERBS.get(method, method)} {'one of ' if detail else ''}{resource}"


def _first_sentence(text: str) -> str:
    line = " ".join(text.strip().split("\n\n")[0].split())
    match = re.match(r"(.+?[.。:：])(\s|$)", line)
    sentence = (match.group(1) if match else line).rstrip(".:：。")
    return sentence if len(sentence) <= 90 else sentence[:89].rsplit(" ", 1)[0] + "…"


def postprocess(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    components["ExportJob"] = EXPORT_JOB_SCHEMA
    # A description shared by several operations is the viewset's docstring, not
    # the operation's: those get a summary from their method and path.
    shared = Counter(
        op.get("description", "")
        for methods in result.get("paths", {}).values()
        for op in methods.values()
        if isinstance(op, dict)
    )
    for path, methods in result.get("paths", {}).items():
        segment = next((p for p in path.split("/") if p and p not in ("api", "v1")), "")
        tag = AREAS.get(segment, _words(segment).capitalize() or "Other")
        for method, operation in methods.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            operation["tags"] = [tag]
            description = operation.get("description", "")
            if description.startswith(BASE_DOCSTRINGS):
                operation["description"] = ""
                description = ""
            if not operation.get("summary"):
                own = description and shared[description] == 1
                operation["summary"] = (_first_sentence(description) if own
                                        else _summary(path, method))
            codes = ["401", "403"]
            if method in ("post", "put", "patch", "delete"):
                codes += ["400", "409"]
            elif operation.get("parameters"):
                codes.append("400")  # filters are validated
            codes.append("404")
            if operation.get("requestBody", {}).get("content"):
                codes.append("415")
            if path.rstrip("/").endswith("/auth/token"):
                codes = ["400", "401", "429"]  # signing in: no session, no object
            responses = operation["responses"]
            if path.rstrip("/").endswith("/export") and "200" in responses:
                # Exports stream a file, not the JSON of the list.
                responses["200"] = {"description": "The file (CSV, or XLSX where offered).",
                                    "content": {
                                        "text/csv": {"schema": BINARY},
                                        XLSX: {"schema": BINARY},
                                    }}
                responses.setdefault("202", {
                    "description": EXPORT_JOB_SCHEMA["description"],
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ExportJob"}}},
                })
            for code in sorted(codes):
                responses.setdefault(code, {
                    "description": ERRORS[code],
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}},
                })
    return result
