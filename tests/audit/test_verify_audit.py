"""`manage.py verify_audit`: intact on a clean chain; names the first broken event
when a row is altered or removed directly in the database; exits non-zero."""

from __future__ import annotations

import contextlib
import io
from unittest import mock

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts import services
from accounts.models import Role
from audit.models import AuditEvent
from audit.services import verify_chain
from audit.tasks import verify_chain_task


@contextlib.contextmanager
def trigger_disabled():
    """Tamper like a database administrator would: on PostgreSQL switch the
    append-only trigger off for the duration (inside the test's transaction)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only"
            )
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only"
                )
    else:
        yield


def raw(sql: str, params: list) -> None:
    with trigger_disabled(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def run_command() -> tuple[int, str, str]:
    """Run the command as manage.py does; return (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    status = 0
    # run_from_argv closes every connection when done, which would end the test's
    # transaction; keep it open.
    keep_open = mock.patch("django.core.management.base.connections.close_all")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), keep_open:
        try:
            ManagementUtility(["manage.py", "verify_audit"]).execute()
        except SystemExit as exc:
            status = exc.code or 0
    return status, out.getvalue(), err.getvalue()


def middle_event() -> AuditEvent:
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    assert len(ids) > 10
    return AuditEvent.objects.get(id=ids[len(ids) // 2])


def test_clean_chain_is_intact(world):
    n = AuditEvent.objects.count()
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue() and str(n) in out.getvalue()
    status, stdout, _ = run_command()
    assert status == 0 and "intact" in stdout
    assert verify_chain_task() == {"intact": True, "checked": n, "broken_id": None}


@pytest.mark.parametrize(
    "column,value",
    [
        ("target_label", "forged"),
        ("after", '{"name": "forged"}'),
        ("actor_label", "someone else"),
        ("ip", "203.0.113.9"),
    ],
)
def test_altered_row_is_named(world, column, value):
    victim = middle_event()
    if column == "after" and connection.vendor == "postgresql":
        raw(
            f"UPDATE audit_auditevent SET {column} = %s::jsonb WHERE id = %s",
            [value, victim.pk],
        )
    elif column == "ip" and connection.vendor == "postgresql":
        raw(
            f"UPDATE audit_auditevent SET {column} = %s::inet WHERE id = %s",
            [value, victim.pk],
        )
    else:
        raw(
            f"UPDATE audit_auditevent SET {column} = %s WHERE id = %s",
            [value, victim.pk],
        )
    report = verify_chain()
    assert not report.intact and report.broken_id == victim.pk
    with pytest.raises(CommandError, match=f"#{victim.pk}"):
        call_command("verify_audit")
    status, _out, err = run_command()
    assert status != 0
    assert f"#{victim.pk}" in err


def test_rewritten_hash_breaks_the_next_link(world):
    """Recomputing the altered row's own hash still breaks the link of the next one."""
    from audit.services import event_digest

    victim = middle_event()
    row = AuditEvent.objects.filter(pk=victim.pk).values().get()
    row["target_label"] = "forged"
    new_hash = event_digest(row["prev_hash"], row)
    raw(
        "UPDATE audit_auditevent SET target_label = %s, hash = %s WHERE id = %s",
        ["forged", new_hash, victim.pk],
    )
    report = verify_chain()
    following = AuditEvent.objects.filter(id__gt=victim.pk).order_by("id").first()
    assert not report.intact and report.broken_id == following.pk


def test_deleted_middle_event_is_detected(world):
    victim = middle_event()
    following = AuditEvent.objects.filter(id__gt=victim.pk).order_by("id").first()
    raw("DELETE FROM audit_auditevent WHERE id = %s", [victim.pk])
    report = verify_chain()
    assert not report.intact and report.broken_id == following.pk
    status, _out, err = run_command()
    assert status != 0 and f"#{following.pk}" in err


def test_deleted_last_event_is_detected(world):
    last = AuditEvent.objects.order_by("-id").first()
    raw("DELETE FROM audit_auditevent WHERE id = %s", [last.pk])
    report = verify_chain()
    assert not report.intact and "end of the chain" in report.reason
    status, _out, err = run_command()
    assert status != 0 and "end" in err


def test_chain_continues_after_new_events(world):
    admin = world.mine.users[Role.SYSTEM_ADMIN]
    services.organization_update(
        actor=admin, organization=world.mine.city, short_name="一市"
    )
    assert verify_chain().intact
