"""Machine endpoints: the platform collectors' REST endpoint and the WeChat server
callback. Plain Django views (no session, no CSRF: they authenticate by token or
by signature), kept small because they carry the ingestion load."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.urls import get_script_prefix, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.models import Organization
from common.errors import ApplicationError
from inbox.models import RawPayload, Source
from inbox.services import ingest, wechat


def _error(status: int, detail, fields=None, code="invalid") -> JsonResponse:
    body = {"code": code, "detail": str(detail)}
    if fields:
        body["fields"] = {k: [str(m) for m in v] for k, v in fields.items()}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _token(request) -> str:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme == "Collector" else ""


def _collector(request) -> ingest.CollectorKey | None:
    token = _token(request)
    return ingest.collector_key(token) if token else None


_status_urls: dict[str, str] = {}


def _status_url(pk: int) -> str:
    """The delivery's status URL: reversed once per script prefix, then formatted
    (reverse took 0.12 ms of an async delivery's 0.6 ms)."""
    prefix = get_script_prefix()
    pattern = _status_urls.get(prefix)
    if pattern is None:
        pattern = reverse("inbox-collect-status", args=[987654321]).replace("987654321", "{}")
        _status_urls[prefix] = pattern
    return pattern.format(int(pk))


def _accepted(pk: int, count: int) -> JsonResponse:
    """202 for a delivery stored for the drain, with its status URL."""
    url = _status_url(pk)
    response = JsonResponse({"accepted": count, "payload": pk,
                             "state": RawPayload.State.QUEUED, "status_url": url}, status=202)
    response["Preference-Applied"] = "respond-async"
    response["Location"] = url
    return response


def _prefers_sync(request) -> bool:
    """RFC 7240: `Prefer: return=representation` (without `respond-async`) asks for
    the messages made in the request, answered with their ids."""
    prefs = {p.strip().lower() for p in request.headers.get("Prefer", "").split(",")}
    return "return=representation" in prefs and "respond-async" not in prefs


@csrf_exempt
@require_http_methods(["POST"])
def collect(request):
    """POST /api/v1/inbox/collect/ with `Authorization: Collector <token>`: one
    message (an object) or a batch (`{"messages": [...]}`, at most 500).

    Stored first, as the WeChat callback is: a valid delivery is
    answered 202 at once with its status URL, and a worker makes the messages (many
    deliveries per transaction); checked before that (token, fields, accounts in the
    collector's subtree), so a refusal still answers 400 naming each field. With
    `Prefer: return=representation` the messages are made in the request: 201 with
    the ids created, 200 for a delivery seen before. Either way the body is kept: a
    refused one (400) for inspection."""
    body = request.body
    queue = not _prefers_sync(request)
    parsed = None
    if queue and len(body) <= settings.INBOX_PAYLOAD_MAX_BYTES and connection.vendor == "postgresql":
        # The happy path in one statement (token, accounts, INSERT); anything
        # refused falls through to the checks below, which say why.
        text = body.decode("utf-8", "replace")
        parsed = ingest.collector_items(text)
        items, errors, _batch = parsed
        if not errors:
            pk = ingest.collector_queue_at_once(token=_token(request), body=text,
                                                accounts=[i["account"] for i in items])
            if pk is not None:
                return _accepted(pk, len(items))
    key = _collector(request)
    if key is None:
        return _error(401, _("A valid collector token is required."), code="not_authenticated")
    if len(body) > settings.INBOX_PAYLOAD_MAX_BYTES:
        ingest.collector_keep(key=key, body=body[:65536].decode("utf-8", "replace"),
                              state=RawPayload.State.REJECTED, error="oversized")
        return _error(400, _("The payload is too large."), {"body": [_("At most %(n)d bytes.")
                                                             % {"n": settings.INBOX_PAYLOAD_MAX_BYTES}]})
    text = body.decode("utf-8", "replace")
    raw = None
    if not queue:
        # Synchronous: the body is on record before anything else is tried.
        org = Organization.objects.get(pk=key.organization_id)
        raw = ingest.raw_payload_store(source=Source.COLLECTOR, organization=org, body=text,
                                       meta={"collector": key.id})
    items, errors, batch = parsed or ingest.collector_items(text)
    accounts = {}
    if not errors and queue:
        errors = ingest.collector_account_errors(items, batch, ingest.accounts_inside(
            (i["account"] for i in items), key.org_path))
    elif not errors:
        accounts = ingest.collector_accounts(i["account"] for i in items)
        errors = ingest.collector_account_errors(
            items, batch, ingest.accounts_under(accounts, key.org_path))
    if errors:
        reason = json.dumps(errors, ensure_ascii=False, default=str)
        if raw is None:
            ingest.collector_keep(key=key, body=text, state=RawPayload.State.REJECTED,
                                  error=reason)
        else:
            ingest.raw_payload_reject(raw, reason)
        return _error(400, _("The payload was refused; nothing was stored but the payload "
                             "itself, for inspection."), errors)
    if queue:
        return _accepted(ingest.collector_queue(key=key, body=text, count=len(items)),
                         len(items))
    try:
        result = ingest.messages_receive(
            items=ingest.collector_incoming(items, accounts), source=Source.COLLECTOR,
            raw_payload=raw)
    except ApplicationError as exc:
        ingest.raw_payload_reject(raw, exc.message)
        return _error(exc.status, exc.message, exc.fields, exc.code)
    response = JsonResponse({"created": len(result.created), "duplicates": result.duplicates,
                             "ids": result.created}, status=201 if result.created else 200)
    response["Preference-Applied"] = "return=representation"
    return response


@require_http_methods(["GET"])
def collect_status(request, pk: int):
    """GET /api/v1/inbox/collect/<payload>/: what became of one of the collector's
    own deliveries (queued, processed, duplicate, rejected; the message ids).
    Another collector's delivery answers 404."""
    key = _collector(request)
    if key is None:
        return _error(401, _("A valid collector token is required."), code="not_authenticated")
    status = ingest.collector_payload_status(key=key, payload_id=pk)
    if status is None:
        return _error(404, _("Not found."), code="not_found")
    return JsonResponse(status, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wechat_callback(request, slug):
    """The URL configured on the WeChat platform for one account. GET: the URL
    check (echo). POST: a message, answered "success" at once; a bad signature
    answers 403 and stores nothing."""
    from common.errors import PermissionDenied

    try:
        endpoint = wechat.endpoint_for_slug(slug)
    except PermissionDenied:
        return HttpResponse(status=404)
    try:
        if request.method == "GET":
            return HttpResponse(wechat.verify_url(endpoint, request.GET),
                                content_type="text/plain")
        wechat.wechat_callback_receive(endpoint=endpoint, params=request.GET,
                                       body=request.body)
    except wechat.BadSignature:
        return HttpResponse(_("Bad signature."), status=403, content_type="text/plain")
    except wechat.BadPayload as exc:
        return HttpResponse(str(exc.args[0]), status=400, content_type="text/plain")
    except UnicodeDecodeError:
        return HttpResponse(_("The payload is not UTF-8."), status=400,
                            content_type="text/plain")
    return HttpResponse("success", content_type="text/plain")


