"""WeChat official-account server callback (消息推送), with wechatpy.

The platform waits 5 seconds for an answer, so the callback only checks the
signature, decrypts (safe mode), parses the XML, stores the payload and answers
"success"; a Celery task makes the message. Duplicate deliveries (WeChat retries
three times) are harmless: the message id is unique per account.
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from accounts.scoping import Action, require
from audit.services import audit_record
from common.errors import PermissionDenied, ValidationFailed
from inbox import crypto
from inbox.models import (
    WECHAT_PLATFORM_PREFIX,
    Channel,
    RawPayload,
    Source,
    WeChatEndpoint,
)
from inbox.services.ingest import Incoming, messages_receive, raw_payload_store
from registry.models import MediaAccount

# Message types that carry something from a citizen; events (subscribe, menu
# clicks) are acknowledged and not stored as messages.
MESSAGE_TYPES = {"text", "image", "voice", "video", "shortvideo", "location", "link"}


class BadSignature(Exception):
    pass


class BadPayload(Exception):
    pass



logger = logging.getLogger(__name__)

def _valid_aes_key(aes_key: str) -> bool:
    try:
        return len(aes_key) == 43 and len(base64.b64decode(aes_key + "=")) == 32
    except ValueError:
        return False


@transaction.atomic
def wechat_endpoint_save(*, actor, account: MediaAccount, app_id: str, token: str = "",
                         aes_key: str = "", mode: str = WeChatEndpoint.Mode.SAFE,
                         app_secret: str = "", remove_app_secret: bool = False
                         ) -> WeChatEndpoint:
    """Create or change an account's WeChat settings: the callback (token,
    EncodingAESKey, mode) and the sending credentials (AppID + AppSecret, for the
    customer-service API).

    SECURITY: the token, key and secret are stored encrypted and never shown again.
    On a change, a blank token, key or secret keeps the stored one (the forms cannot
    show it back); `remove_app_secret` stops sending through the API. The audit event
    records which secrets changed, never their values. A changed AppID or AppSecret
    leaves the cached access token behind: its cache key carries both
    (wechat_send.token_cache_prefix), so the next send fetches a new one.
    """
    role = require(actor, Action.CHANGE, account.organization)
    endpoint = (WeChatEndpoint.objects.select_for_update().filter(account=account).first()
                or WeChatEndpoint(account=account))
    creating = endpoint.pk is None
    app_id, token = (app_id or "").strip(), (token or "").strip()
    aes_key, app_secret = (aes_key or "").strip(), (app_secret or "").strip()
    errors = {}
    if not account.platform.code.startswith(WECHAT_PLATFORM_PREFIX):
        errors["account"] = [_("Only a WeChat account has WeChat settings.")]
    if not app_id or len(app_id) > 32:
        errors["app_id"] = [_("Required.")]
    if (token or creating) and not (3 <= len(token) <= 32 and token.isalnum()):
        errors["token"] = [_("3 to 32 letters or digits, as set on the platform.")]
    if mode not in WeChatEndpoint.Mode.values:
        errors["mode"] = [_("Choose a mode from the list.")]
    elif mode == WeChatEndpoint.Mode.SAFE and (aes_key or not endpoint.aes_key_encrypted):
        if not _valid_aes_key(aes_key):
            errors["aes_key"] = [_("The EncodingAESKey has 43 characters.")]
    if app_secret and not (len(app_secret) == 32 and app_secret.isalnum()):
        errors["app_secret"] = [_("The AppSecret has 32 letters or digits.")]
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), fields=errors)
    before = None if creating else {"app_id": endpoint.app_id, "mode": endpoint.mode,
                                    "can_send": endpoint.can_send}
    changed = []
    endpoint.app_id, endpoint.mode = app_id, mode
    if token:
        endpoint.token_encrypted = crypto.encrypt(token)
        changed.append("token")
    if aes_key:
        endpoint.aes_key_encrypted = crypto.encrypt(aes_key)
        changed.append("aes_key")
    if app_secret:
        endpoint.app_secret_encrypted = crypto.encrypt(app_secret)
        changed.append("app_secret")
    elif remove_app_secret and endpoint.app_secret_encrypted:
        endpoint.app_secret_encrypted = ""
        changed.append("app_secret")
    if "app_secret" in changed:
        endpoint.secret_changed_at = timezone.now()
    endpoint.full_clean(exclude=["token_encrypted", "aes_key_encrypted",
                                 "app_secret_encrypted", "account"])
    endpoint.save()
    audit_record(actor=actor, action="inbox.wechat_endpoint_save", target=endpoint,
                 organization=account.organization, role=role,
                 target_label=account.display_name, before=before,
                 after={"account": account.pk, "app_id": app_id, "mode": mode,
                        "can_send": endpoint.can_send, "secrets_changed": changed})
    return endpoint


def verify_url(endpoint: WeChatEndpoint, params) -> str:
    """The platform's URL check (GET): signature over token, timestamp, nonce; the
    answer is the echo string."""
    try:
        check_signature(crypto.decrypt(endpoint.token_encrypted), params.get("signature", ""),
                        params.get("timestamp", ""), params.get("nonce", ""))
    except InvalidSignatureException as exc:
        raise BadSignature from exc
    return params.get("echostr", "")


def open_payload(endpoint: WeChatEndpoint, params, body: bytes) -> str:
    """Check the signature and return the plain XML. Safe mode checks
    msg_signature and decrypts (AES-256-CBC, wechatpy)."""
    token = crypto.decrypt(endpoint.token_encrypted)
    try:
        check_signature(token, params.get("signature", ""), params.get("timestamp", ""),
                        params.get("nonce", ""))
    except InvalidSignatureException as exc:
        raise BadSignature from exc
    text = body.decode("utf-8", errors="strict")
    if endpoint.mode != WeChatEndpoint.Mode.SAFE:
        return text
    wc = WeChatCrypto(token, crypto.decrypt(endpoint.aes_key_encrypted), endpoint.app_id)
    try:
        return wc.decrypt_message(text, params.get("msg_signature", ""),
                                  params.get("timestamp", ""), params.get("nonce", ""))
    except (InvalidSignatureException, InvalidAppIdException) as exc:
        raise BadSignature from exc


def wechat_callback_receive(*, endpoint: WeChatEndpoint, params, body: bytes) -> RawPayload | None:
    """The callback's work: verify, parse, store. Raises BadSignature (403, nothing
    stored) or BadPayload (400; the payload is kept, rejected, for inspection).
    Returns the stored payload (None for events that are not messages)."""
    account = endpoint.account
    if len(body) > settings.INBOX_PAYLOAD_MAX_BYTES:
        raw_payload_store(source=Source.WECHAT, organization=account.organization,
                          account=account, body=body[:65536].decode("utf-8", "replace"),
                          state=RawPayload.State.REJECTED, error="oversized")
        raise BadPayload(_("The payload is too large."))
    xml = open_payload(endpoint, params, body)
    try:
        msg = parse_message(xml)
    except Exception as exc:  # wechatpy raises what its XML parser raises
        raw_payload_store(source=Source.WECHAT, organization=account.organization,
                          account=account, body=body.decode("utf-8", "replace"),
                          state=RawPayload.State.REJECTED, error=f"unparseable: {exc}")
        raise BadPayload(_("The XML could not be read.")) from exc
    if msg.type not in MESSAGE_TYPES or not msg.id:
        return None
    fields = {"msg_id": str(msg.id), "from": msg.source, "to": msg.target,
              "type": msg.type, "create_time": int(msg.create_time.timestamp()),
              "xml": xml}
    raw = raw_payload_store(source=Source.WECHAT, organization=account.organization,
                            account=account, body=body.decode("utf-8"), meta=fields)
    raw_id = raw.pk
    transaction.on_commit(lambda: _process_later(raw_id))
    return raw


def _process_later(raw_id: int) -> None:
    """Ask a worker for the message. The payload is already committed: a broker
    that is down must not turn the platform's answer into an error (WeChat would
    retry); the drain picks the payload up (`ingest.payloads_drain`)."""
    from inbox.tasks import process_raw_payload

    try:
        process_raw_payload.delay(raw_id)
    except Exception:  # noqa: BLE001
        logger.warning("inbox: WeChat payload %s left for the drain", raw_id, exc_info=True)


def _text_of(msg) -> tuple[str, list[dict]]:
    kind = msg.type
    if kind == "text":
        return msg.content or "", []
    if kind == "image":
        return _("[image]"), [{"kind": "image", "url": getattr(msg, "image", "") or "",
                               "media_id": msg.media_id}]
    if kind == "voice":
        recognition = getattr(msg, "recognition", "") or ""
        return recognition or _("[voice]"), [{"kind": "voice", "media_id": msg.media_id}]
    if kind in ("video", "shortvideo"):
        return _("[video]"), [{"kind": "video", "media_id": msg.media_id}]
    if kind == "location":
        return f"{msg.label} ({msg.location_x}, {msg.location_y})", []
    if kind == "link":
        return f"{msg.title}\n{msg.description}\n{msg.url}", [{"kind": "link", "url": msg.url}]
    return "", []


STORED = ("account__supervising_organization", "account__organization", "organization")


def wechat_incoming(raw: RawPayload) -> Incoming:
    """The message a stored callback carries (its account loaded as in STORED)."""
    msg = parse_message(raw.meta["xml"])
    text, attachments = _text_of(msg)
    received = datetime.fromtimestamp(raw.meta["create_time"], tz=UTC)
    if received > timezone.now():
        received = raw.received_at
    account = raw.account
    return Incoming(
        organization=account.organization, channel=Channel.WECHAT, text=text,
        received_at=received, account=account, platform_message_id=raw.meta["msg_id"],
        citizen_handle=msg.source, citizen_openid=msg.source, attachments=attachments,
        raw_payload=raw)


def wechat_payload_process(*, raw_id: int) -> str:
    """Make the message of a stored callback (the Celery task's body)."""
    raw = (RawPayload.objects.filter(pk=raw_id, state=RawPayload.State.RECEIVED)
           .select_related(*STORED).first())
    if raw is None or raw.account is None:
        return "gone"
    result = messages_receive(items=[wechat_incoming(raw)], source=Source.WECHAT)
    return "created" if result.created else "duplicate"


def endpoint_for_slug(slug) -> WeChatEndpoint:
    endpoint = (WeChatEndpoint.objects.filter(slug=slug)
                .select_related("account__organization").first())
    if endpoint is None:
        raise PermissionDenied(_("Unknown endpoint."))
    return endpoint
