"""Machine endpoints: the platform collectors' REST endpoint and the WeChat server
callback. Plain Django views (no session, no CSRF: they authenticate by token or
by signature), kept small because they carry the ingestion load."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from common.errors import ApplicationError
from inbox.models import Channel, Source
from inbox.services import ingest, wechat
from registry.models import MediaAccount


def _error(status: int, detail, fields=None, code="invalid") -> JsonResponse:
    body = {"code": code, "detail": str(detail)}
    if fields:
        body["fields"] = {k: [str(m) for m in v] for k, v in fields.items()}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _check_item(n: int | None, item, errors: dict) -> dict | None:
    """Validate one collector item; errors go under `messages[n].field`."""
    prefix = "" if n is None else f"messages[{n}]."
    if not isinstance(item, dict):
        errors[prefix.rstrip(".") or "body"] = [_("Each message is a JSON object.")]
        return None
    bad = {}
    account = item.get("account")
    if not isinstance(account, int) or isinstance(account, bool):
        bad["account"] = _("The id of the media account (an integer).")
    channel = item.get("channel")
    if channel not in Channel.values:
        bad["channel"] = _("One of: %(values)s.") % {"values": ", ".join(Channel.values)}
    pmid = item.get("platform_message_id")
    if not isinstance(pmid, str) or not pmid.strip() or len(pmid) > 128:
        bad["platform_message_id"] = _("Required, at most 128 characters.")
    text = item.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > ingest.MAX_TEXT:
        bad["text"] = _("Required, at most %(n)d characters.") % {"n": ingest.MAX_TEXT}
    received = item.get("received_at")
    moment = parse_datetime(received) if isinstance(received, str) else None
    if moment is None or moment.tzinfo is None:
        bad["received_at"] = _("An ISO 8601 time with its offset, e.g. "
                               "2025-02-07T09:30:00+08:00.")
    elif moment > timezone.now() + timezone.timedelta(minutes=5):
        bad["received_at"] = _("The time of receipt cannot be in the future.")
    citizen = item.get("citizen", "")
    if not isinstance(citizen, str) or len(citizen) > 120:
        bad["citizen"] = _("At most 120 characters.")
    attachments = item.get("attachments", [])
    if not isinstance(attachments, list) or len(attachments) > 20 or not all(
            isinstance(a, dict) for a in attachments):
        bad["attachments"] = _("A list of at most 20 objects.")
    for field, message in bad.items():
        errors[f"{prefix}{field}"] = [message]
    if bad:
        return None
    return {"account": account, "channel": channel, "platform_message_id": pmid.strip(),
            "text": text.strip(), "received_at": moment, "citizen": citizen,
            "attachments": attachments}


@csrf_exempt
@require_http_methods(["POST"])
def collect(request):
    """POST /api/v1/inbox/collect/ with `Authorization: Collector <token>`: one
    message (an object) or a batch (`{"messages": [...]}`, at most 500). The body is
    stored first; a rejected body is kept for inspection. 201 with the ids created;
    a delivery seen before answers 200 and changes nothing."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    collector = ingest.collector_for_token(token.strip()) if scheme == "Collector" else None
    if collector is None:
        return _error(401, _("A valid collector token is required."), code="not_authenticated")
    org = collector.organization
    body = request.body
    if len(body) > settings.INBOX_PAYLOAD_MAX_BYTES:
        ingest.raw_payload_store(source=Source.COLLECTOR, organization=org,
                                 body=body[:65536].decode("utf-8", "replace"),
                                 state="rejected", error="oversized",
                                 meta={"collector": collector.pk})
        return _error(400, _("The payload is too large."), {"body": [_("At most %(n)d bytes.")
                                                             % {"n": settings.INBOX_PAYLOAD_MAX_BYTES}]})
    text = body.decode("utf-8", "replace")
    raw = ingest.raw_payload_store(source=Source.COLLECTOR, organization=org, body=text,
                                   meta={"collector": collector.pk})
    errors: dict = {}
    try:
        data = json.loads(text)
    except ValueError:
        data = None
        errors["body"] = [_("The body is not JSON.")]
    items = []
    if isinstance(data, dict) and "messages" in data:
        batch = data["messages"]
        if not isinstance(batch, list) or not batch:
            errors["messages"] = [_("A non-empty list.")]
        elif len(batch) > settings.INBOX_BATCH_MAX:
            errors["messages"] = [_("At most %(n)d messages per request.")
                                  % {"n": settings.INBOX_BATCH_MAX}]
        else:
            items = [_check_item(n, item, errors) for n, item in enumerate(batch)]
    elif data is not None:
        items = [_check_item(None, data, errors)]
    accounts = {}
    if not errors:
        wanted = {i["account"] for i in items}
        accounts = {a.pk: a for a in MediaAccount.objects.filter(
            pk__in=wanted, org_path__startswith=org.path).select_related(
            "organization", "supervising_organization")}
        for n, item in enumerate(items):
            if item["account"] not in accounts:
                key = "account" if len(items) == 1 and "messages" not in data else (
                    f"messages[{n}].account")
                errors[key] = [_("Unknown account, or outside this collector's organization.")]
    if errors:
        ingest.raw_payload_reject(raw, json.dumps(errors, ensure_ascii=False, default=str))
        return _error(400, _("The payload was refused; nothing was stored but the payload "
                             "itself, for inspection."), errors)
    try:
        result = ingest.messages_receive(
            items=[ingest.Incoming(
                organization=accounts[i["account"]].organization, channel=i["channel"],
                text=i["text"], received_at=i["received_at"], account=accounts[i["account"]],
                platform_message_id=i["platform_message_id"], citizen_handle=i["citizen"],
                attachments=i["attachments"]) for i in items],
            source=Source.COLLECTOR, raw_payload=raw)
    except ApplicationError as exc:
        ingest.raw_payload_reject(raw, exc.message)
        return _error(exc.status, exc.message, exc.fields, exc.code)
    return JsonResponse({"created": len(result.created), "duplicates": result.duplicates,
                         "ids": result.created}, status=201 if result.created else 200)


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


