"""The keyed chain: someone with database write access who rewrites an event and
recomputes the chain is caught by verify_audit, with or without the key (the anchors
outside the database catch the latter)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.anchors import anchor_write, anchors_read
from audit.models import AuditChainHead, AuditEvent
from audit.services import GENESIS, HASHED_FIELDS, chain_key, event_digest, verify_chain
from tests.audit.test_verify_audit import trigger_disabled


def plain_sha256(prev_hash, fields):
    """What an attacker without the key computes: the digest of the old, unkeyed chain."""
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["occurred_at"] = payload["occurred_at"].astimezone(UTC).isoformat(timespec="microseconds")
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def rewrite_and_recompute(digest) -> int:
    """Change one event's after-state, then recompute every digest from it onwards
    (and the head) with `digest`, as someone with database access would."""
    rows = list(AuditEvent.objects.order_by("id").values("id", "prev_hash", *HASHED_FIELDS))
    victim = rows[len(rows) // 2]
    victim["after"] = {"name": "forged"}
    prev = GENESIS
    with trigger_disabled(), connection.cursor() as cursor:
        for row in rows:
            new = digest(prev, row)
            cursor.execute(
                "UPDATE audit_auditevent SET after = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [json.dumps(row["after"]) if row["after"] is not None else None, prev, new, row["id"]],
            )
            prev = new
        cursor.execute("UPDATE audit_auditchainhead SET last_hash = %s WHERE id = 1", [prev])
    return victim["id"]


def test_the_digest_is_keyed(world):
    event = AuditEvent.objects.order_by("id").values("id", "prev_hash", "hash", *HASHED_FIELDS).first()
    assert event["hash"] == event_digest(event["prev_hash"], event)
    assert event["hash"] != plain_sha256(event["prev_hash"], event)
    assert event["hash"] != event_digest(event["prev_hash"], event, key=b"another key")


def test_a_chain_recomputed_without_the_key_fails_verify_audit(world):
    assert verify_chain().intact
    victim = rewrite_and_recompute(plain_sha256)
    report = verify_chain()
    assert not report.intact
    assert report.broken_id == AuditEvent.objects.order_by("id").first().id or report.broken_id <= victim
    with pytest.raises(CommandError):
        call_command("verify_audit")


def test_a_chain_recomputed_with_the_key_is_caught_by_the_anchor(world):
    anchor = anchor_write()
    assert anchor and anchors_read()[-1].event_id == anchor["event_id"]
    assert verify_chain().intact
    key = chain_key()
    rewrite_and_recompute(lambda prev, row: event_digest(prev, row, key=key))
    report = verify_chain()
    assert not report.intact
    assert report.broken_id == anchor["event_id"]
    assert "anchored" in report.reason


def test_an_edited_anchor_line_is_detected(world, settings):
    anchor_write()
    from pathlib import Path

    path = Path(settings.AUDIT_ANCHOR_FILE)
    path.write_text(path.read_text().replace('"count": ', '"count": 1'))
    assert not verify_chain().intact


def test_anchoring_twice_without_new_events_writes_one_line(world):
    assert anchor_write() is not None
    assert anchor_write() is None
    assert len(anchors_read()) == 1
    assert AuditChainHead.objects.get(id=1).count == AuditEvent.objects.count()


def test_audit_events_cannot_be_deleted_through_the_app(world):
    from audit.models import AuditImmutable

    event = AuditEvent.objects.first()
    with pytest.raises(AuditImmutable):
        event.delete()
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.all().delete()
