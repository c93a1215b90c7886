"""The chain head anchored outside the database.

On a schedule (config/schedule.py) the newest event's id and digest are appended to
an append-only file (settings.AUDIT_ANCHOR_FILE; in production a write-once volume or
a log host). Each line carries its own HMAC under the chain key, so the file cannot be
edited without the key either.

SECURITY: with the HMAC key alone an attacker who also holds the key could recompute
the whole chain after rewriting an event; the anchors written before the rewrite still
name the old digests, so `verify_audit` notices.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from audit.models import AuditChainHead, AuditEvent


def anchor_path() -> Path:
    return Path(settings.AUDIT_ANCHOR_FILE)


def _line_mac(payload: dict) -> str:
    from audit.services import chain_key

    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(chain_key(), body, hashlib.sha256).hexdigest()


def anchor_write() -> dict | None:
    """Append the current head (event id, digest, count) to the anchor file; nothing
    when the chain is empty or unchanged since the last anchor."""
    head = AuditChainHead.objects.filter(id=1).first()
    last = AuditEvent.objects.order_by("-id").values("id", "hash").first()
    if head is None or last is None:
        return None
    existing = anchors_read()
    if existing and existing[-1].event_id == last["id"]:
        return None
    payload = {
        "at": timezone.now().isoformat(timespec="seconds"),
        "event_id": last["id"],
        "hash": last["hash"],
        "count": head.count,
    }
    payload["mac"] = _line_mac(payload)
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(payload, sort_keys=True) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return payload


@dataclass(frozen=True)
class Anchor:
    event_id: int
    hash: str
    count: int
    at: str
    valid_mac: bool


def anchors_read() -> list[Anchor]:
    path = anchor_path()
    if not path.exists():
        return []
    anchors = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            mac = data.pop("mac", "")
            anchors.append(
                Anchor(
                    event_id=int(data["event_id"]),
                    hash=str(data["hash"]),
                    count=int(data["count"]),
                    at=str(data.get("at", "")),
                    valid_mac=hmac.compare_digest(mac, _line_mac(data)),
                )
            )
        except (ValueError, KeyError, TypeError):
            anchors.append(Anchor(0, "", 0, "", valid_mac=False))
    return anchors
