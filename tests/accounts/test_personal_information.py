"""Issue 8 item 10: phone numbers are encrypted at rest with a key outside the
database, masked in pages and exports, and shown in full only through an audited
reveal by someone who may see the person's organization."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role, User
from audit.models import AuditEvent
from common import pii
from tests.registry.ledger_factories import make_account

pytestmark = pytest.mark.django_db
PHONE = "13812345678"


def _stored(user) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [user.pk])
        return cursor.fetchone()[0]


def test_the_phone_is_ciphertext_in_the_database_and_plain_in_the_model(world):
    liaison = world.mine.users[Role.LIAISON]
    liaison.phone = PHONE
    liaison.save(update_fields=["phone"])
    stored = _stored(liaison)
    assert stored.startswith(pii.PREFIX) and PHONE not in stored
    assert User.objects.get(pk=liaison.pk).phone == PHONE
    assert User.objects.filter(pk=liaison.pk).values_list("phone", flat=True)[0] == PHONE


def test_a_phone_written_before_encryption_is_encrypted_by_the_migration(world):
    from importlib import import_module

    from django.apps import apps

    liaison = world.mine.users[Role.LIAISON]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET phone = %s WHERE id = %s", [PHONE, liaison.pk])
    assert User.objects.get(pk=liaison.pk).phone == PHONE  # legacy plain text still reads
    migration = import_module("accounts.migrations.0005_encrypted_phone")
    migration.encrypt_existing(apps, None)
    assert _stored(liaison).startswith(pii.PREFIX)
    assert User.objects.get(pk=liaison.pk).phone == PHONE


def test_masking():
    assert pii.mask_phone("13812345678") == "138****5678"
    assert pii.mask_phone("0571-88886666") == "057******6666"
    assert pii.mask_phone("") == ""


def test_the_ledger_export_masks_the_liaison_phone(world):
    liaison = world.mine.users[Role.LIAISON]
    liaison.phone = PHONE
    liaison.save(update_fields=["phone"])
    make_account(world.mine.city_dept, "平安甲一", liaison=liaison)
    api = APIClient()
    api.force_authenticate(world.mine.users[Role.SUPERVISOR])
    response = api.get("/api/v1/ledger/export/?file_format=csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert PHONE not in body
    rows = list(csv.reader(io.StringIO(body)))
    assert "138****5678" in rows[1]


def test_the_full_number_is_an_audited_reveal_in_scope(world):
    ns = world.mine
    liaison = ns.users[Role.LIAISON]
    liaison.phone = PHONE
    liaison.save(update_fields=["phone"])
    url = f"/accounts/orgs/{ns.city_dept.pk}/"
    admin = Client()
    admin.force_login(ns.users[Role.SECURITY_ADMIN])
    page = admin.get(url).content.decode()
    assert "138****5678" in page and PHONE not in page
    page = admin.post(url, {"reveal_phone": liaison.pk}).content.decode()
    assert PHONE in page
    event = AuditEvent.objects.get(action="pii.phone_revealed")
    assert event.target_id == str(liaison.pk) and event.actor_id == ns.users[Role.SECURITY_ADMIN].pk
    outsider = Client()
    outsider.force_login(world.other.users[Role.SECURITY_ADMIN])
    assert outsider.post(url, {"reveal_phone": liaison.pk}).status_code == 404
    assert AuditEvent.objects.filter(action="pii.phone_revealed").count() == 1
