"""Every accounts service writes exactly one audit event, in its transaction, with its
context; failed calls write nothing; events cannot be changed or deleted."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from accounts import services
from accounts.models import Membership, Organization, Role
from audit.context import current_ip
from audit.models import AuditChainHead, AuditEvent, AuditImmutable
from audit.services import AuditContextMissing, audit_record, verify_chain
from common.errors import ApplicationError, Conflict, PermissionDenied, ValidationFailed
from tests.factories import make_user, token_for

IP = "10.20.30.40"


def api(user) -> Client:
    token = token_for(user)
    return Client(HTTP_AUTHORIZATION=f"Token {token}", REMOTE_ADDR=IP)


def post(client, url, data, method="post"):
    return getattr(client, method)(
        url, json.dumps(data), content_type="application/json"
    )


def new_events(since_id: int):
    return list(AuditEvent.objects.filter(id__gt=since_id).order_by("id"))


def last_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_organization_create_through_the_api(world):
    admin = world.mine.users[Role.SYSTEM_ADMIN]
    client, start = api(admin), last_id()
    response = post(
        client,
        "/api/v1/organizations/",
        {
            "parent": world.mine.city.pk,
            "name": "甲一市文旅局",
            "kind": "department",
            "level": "city",
            "region_code": "330100",
        },
    )
    assert response.status_code == 201, response.content
    [event] = new_events(start)
    org = Organization.objects.get(name="甲一市文旅局")
    assert event.action == "organization.created"
    assert (event.actor_id, event.actor_label) == (admin.pk, str(admin))
    assert event.role == "system_admin"
    assert (event.organization_id, event.organization_path) == (org.pk, org.path)
    assert event.organization_label == "甲一市文旅局"
    assert (event.target_type, event.target_id) == (
        "accounts.organization",
        str(org.pk),
    )
    assert event.before is None
    assert (
        event.after["name"] == "甲一市文旅局" and event.after["region_code"] == "330100"
    )
    assert event.ip == IP


def test_organization_update_through_the_api(world):
    admin = world.mine.users[Role.SYSTEM_ADMIN]
    client, start = api(admin), last_id()
    org = world.mine.county_dept
    response = post(
        client, f"/api/v1/organizations/{org.pk}/", {"short_name": "县教育局"}, "patch"
    )
    assert response.status_code == 200, response.content
    [event] = new_events(start)
    assert event.action == "organization.updated"
    assert event.role == "system_admin" and event.actor_id == admin.pk
    assert event.organization_id == org.pk
    assert event.before["short_name"] == "" and event.after["short_name"] == "县教育局"
    assert event.ip == IP


def test_membership_grant_and_end_through_the_api(world):
    sec = world.mine.users[Role.SECURITY_ADMIN]
    person = make_user(world.mine.county_dept)
    client, start = api(sec), last_id()
    response = post(
        client,
        "/api/v1/memberships/",
        {
            "user": person.pk,
            "organization": world.mine.county_dept.pk,
            "role": "operator",
        },
    )
    assert response.status_code == 201, response.content
    [granted] = new_events(start)
    m = Membership.objects.get(user=person)
    assert granted.action == "membership.granted"
    assert granted.role == "security_admin" and granted.actor_id == sec.pk
    assert granted.organization_id == world.mine.county_dept.pk
    assert (granted.target_type, granted.target_id) == (
        "accounts.membership",
        str(m.pk),
    )
    assert granted.after["role"] == "operator" and granted.after["is_active"] is True
    assert granted.ip == IP

    response = post(client, f"/api/v1/memberships/{m.pk}/end/", {})
    assert response.status_code == 200, response.content
    [ended] = new_events(granted.id)
    assert ended.action == "membership.ended"
    assert ended.before["is_active"] is True and ended.after["is_active"] is False
    assert ended.role == "security_admin" and ended.ip == IP


def test_user_create_records_the_request_ip(world):
    admin = world.mine.users[Role.SYSTEM_ADMIN]
    start = last_id()
    token = current_ip.set("192.0.2.7")
    try:
        user = services.user_create(
            actor=admin,
            organization=world.mine.city,
            username="zhao.lei",
            password="Lo0ng-pw!xyz",
        )
    finally:
        current_ip.reset(token)
    [event] = new_events(start)
    assert event.action == "user.created"
    assert (event.target_type, event.target_id) == ("accounts.user", str(user.pk))
    assert event.role == "system_admin" and event.organization_id == world.mine.city.pk
    assert event.after == {"username": "zhao.lei", "display_name": ""}
    assert event.ip == "192.0.2.7"
    assert "password" not in json.dumps(event.after)


def test_system_actions_are_audited_as_system(world):
    start = last_id()
    services.organization_create(
        actor=None,
        parent=world.mine.city,
        name="甲一市统计局",
        kind="department",
        level="city",
        region_code="330100",
    )
    [event] = new_events(start)
    assert event.actor_id is None and event.actor_label == "system" and event.role == ""
    assert event.ip is None


# --- failures write nothing ---------------------------------------------------------------
def _unchanged(fn, exc_type):
    head = AuditChainHead.objects.get()
    before = (AuditEvent.objects.count(), head.last_hash, head.count)
    with pytest.raises(exc_type):
        fn()
    head.refresh_from_db()
    assert (AuditEvent.objects.count(), head.last_hash, head.count) == before


def test_failed_service_calls_write_nothing(world):
    sec = world.mine.users[Role.SECURITY_ADMIN]
    person = make_user(world.mine.county_dept)
    org = world.mine.county_dept
    _unchanged(
        lambda: services.membership_grant(
            actor=sec, user=person, organization=org, role=Role.OUTSOURCED_OPERATOR
        ),
        ValidationFailed,
    )
    services.membership_grant(
        actor=sec, user=person, organization=org, role=Role.LIAISON
    )
    _unchanged(
        lambda: services.membership_grant(
            actor=sec, user=person, organization=org, role=Role.LIAISON
        ),
        Conflict,
    )
    _unchanged(
        lambda: services.membership_grant(
            actor=sec,
            user=person,
            organization=world.other.county_dept,
            role=Role.LIAISON,
        ),
        ApplicationError,
    )
    _unchanged(
        lambda: services.user_create(
            actor=None, organization=org, username="short.pw", password="short"
        ),
        ValidationFailed,
    )
    _unchanged(
        lambda: services.organization_create(
            actor=world.mine.users[Role.SUPERVISOR],
            parent=world.mine.city,
            name="x",
            kind="department",
            level="city",
            region_code="330100",
        ),
        PermissionDenied,
    )
    m = Membership.objects.get(user=person)
    services.membership_end(actor=sec, membership=m)
    _unchanged(lambda: services.membership_end(actor=sec, membership=m), Conflict)


def test_failed_api_calls_write_nothing(world):
    sec = world.mine.users[Role.SECURITY_ADMIN]
    person = make_user(world.mine.county_dept)
    client, start = api(sec), last_id()
    response = post(
        client,
        "/api/v1/memberships/",
        {
            "user": person.pk,
            "organization": world.mine.county_dept.pk,
            "role": "outsourced_operator",
        },
    )
    assert response.status_code == 400
    assert response.json()["code"] == "agreement_missing"
    assert set(response.json()["fields"]) == {
        "agreement_signed_on",
        "agreement_document",
    }
    assert new_events(start) == []
    assert not Membership.objects.filter(user=person).exists()
    ok = post(
        client,
        "/api/v1/memberships/",
        {
            "user": person.pk,
            "organization": world.mine.county_dept.pk,
            "role": "outsourced_operator",
            "agreement_signed_on": "2026-01-05",
            "agreement_document": "BM-2026-009",
        },
    )
    assert ok.status_code == 201
    mid = last_id()
    dup = post(
        client,
        "/api/v1/memberships/",
        {
            "user": person.pk,
            "organization": world.mine.county_dept.pk,
            "role": "outsourced_operator",
            "agreement_signed_on": "2026-01-05",
            "agreement_document": "BM-2026-009",
        },
    )
    assert dup.status_code == 409 and dup.json()["code"] == "duplicate_role"
    assert new_events(mid) == []


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction():
    from tests.factories import make_org

    org = make_org(None, "丙省人民政府", region_code="510000")
    with pytest.raises(AuditContextMissing):
        audit_record(actor=None, action="x.y", target=org)


def test_audit_record_refuses_missing_context(world):
    with transaction.atomic():
        with pytest.raises(AuditContextMissing):
            audit_record(actor=None, action="", target=world.mine.city)
        with pytest.raises(AuditContextMissing):
            audit_record(actor=None, action="x.y", target=None)
        with pytest.raises(AuditContextMissing):  # no organization
            audit_record(
                actor=None, action="x.y", target=world.mine.users[Role.OPERATOR]
            )


# --- immutability ---------------------------------------------------------------------------
def test_events_cannot_be_changed_or_deleted_through_the_orm(world):
    event = AuditEvent.objects.order_by("id").first()
    original = event.target_label
    event.target_label = "forged"
    with pytest.raises(AuditImmutable):
        event.save()
    with pytest.raises(AuditImmutable):
        event.delete()
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.filter(pk=event.pk).update(target_label="forged")
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AuditImmutable):
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditImmutable), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["target_label"])
    assert AuditEvent.objects.get(pk=event.pk).target_label == original
    assert verify_chain().intact


@pytest.mark.postgres
def test_postgres_trigger_refuses_raw_update_and_delete(world):
    if connection.vendor != "postgresql":
        pytest.skip(
            "the append-only trigger exists on PostgreSQL only (run with DATABASE_URL)"
        )
    event = AuditEvent.objects.order_by("id").first()
    for sql in (
        "UPDATE audit_auditevent SET target_label = 'forged' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).target_label == event.target_label


def test_event_survives_deleted_target_labels(world):
    """Copied labels: the event still names the actor and organization after renames."""
    admin = world.mine.users[Role.SYSTEM_ADMIN]
    start = last_id()
    services.organization_update(
        actor=admin, organization=world.mine.city, name="甲新市"
    )
    [event] = new_events(start)
    services.organization_update(
        actor=admin, organization=world.mine.city, name="甲又一市"
    )
    event.refresh_from_db()
    assert event.organization_label == "甲新市"
    assert event.after["name"] == "甲新市"
    assert date.today() >= event.occurred_at.date()
