"""三员分立: one person holds at most one administrator role and no business role
beside it. The service refuses with a clear error; on PostgreSQL the database refuses
even a row written around the service."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client

from accounts import services
from accounts.models import Membership, Role
from common.errors import Conflict
from tests.factories import make_user


@pytest.fixture
def secadmin(world):
    return world.mine.users[Role.SECURITY_ADMIN]


@pytest.mark.parametrize(
    "held,granted",
    [
        (Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN),  # two administrator roles
        (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN),
        (Role.AUDIT_ADMIN, Role.SUPERVISOR),  # administrator + business
        (Role.OPERATOR, Role.SYSTEM_ADMIN),  # business + administrator
    ],
)
def test_a_grant_that_mixes_duties_is_refused(world, secadmin, held, granted):
    person = make_user(world.mine.province, held)
    before = Membership.objects.count()
    with pytest.raises(Conflict) as exc:
        services.membership_grant(
            actor=secadmin, user=person, organization=world.mine.province, role=granted
        )
    assert exc.value.code == "separation_of_duties"
    assert "role" in exc.value.fields
    assert Membership.objects.count() == before


def test_the_same_administrator_role_elsewhere_and_business_roles_together_are_fine(
    world, secadmin
):
    admin = make_user(world.mine.province, Role.SYSTEM_ADMIN)
    services.membership_grant(
        actor=secadmin, user=admin, organization=world.mine.city, role=Role.SYSTEM_ADMIN
    )
    worker = make_user(world.mine.city_dept, Role.OPERATOR)
    services.membership_grant(
        actor=secadmin, user=worker, organization=world.mine.city_dept, role=Role.LIAISON
    )


def test_an_ended_role_no_longer_counts(world, secadmin):
    person = make_user(world.mine.province, Role.SYSTEM_ADMIN)
    services.membership_end(actor=secadmin, membership=person.memberships.get())
    services.membership_grant(
        actor=secadmin, user=person, organization=world.mine.province, role=Role.AUDIT_ADMIN
    )


def test_the_api_answers_409_with_the_rule(world, secadmin):
    person = make_user(world.mine.province, Role.AUDIT_ADMIN)
    client = Client()
    client.force_login(secadmin)
    response = client.post(
        "/api/v1/memberships/",
        {"user": person.pk, "organization": world.mine.province.pk, "role": "supervisor"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "separation_of_duties"
    assert "三员分立" in body["detail"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraint is PostgreSQL-only")
def test_the_database_refuses_a_row_written_around_the_service(world):
    person = make_user(world.mine.province, Role.SECURITY_ADMIN)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=person, organization=world.mine.city, role=Role.OPERATOR
        )
    # An inactive row of another duty is allowed (history).
    Membership.objects.create(
        user=person, organization=world.mine.city, role=Role.OPERATOR, is_active=False
    )


def test_existing_violations_are_listed_for_the_security_administrator(world, secadmin):
    person = make_user(world.mine.province, Role.AUDIT_ADMIN, username="two-hats")
    # A row from before the rule: written around the service, constraint switched off.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE accounts_membership DROP CONSTRAINT membership_one_duty")
    Membership.objects.create(user=person, organization=world.mine.city, role=Role.SUPERVISOR)
    outsider = make_user(world.other.province, Role.AUDIT_ADMIN, username="far-two-hats")
    Membership.objects.create(user=outsider, organization=world.other.city, role=Role.SUPERVISOR)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(secadmin)
    page = client.get("/accounts/access/").content.decode()
    assert 'id="separation-violations"' in page
    assert "two-hats" in page and "far-two-hats" not in page
    services.membership_end(actor=secadmin, membership=Membership.objects.get(user=person, role=Role.SUPERVISOR))
    assert 'id="separation-violations"' not in client.get("/accounts/access/").content.decode()
