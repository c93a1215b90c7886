"""accounts.scoping reads the user's memberships with one plain statement (issue 9):
the same instances the ORM's select_related query builds, organization included."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import Membership, Organization, Role
from accounts.scoping import _read_memberships, forget, memberships_of, scope_for
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def _orm(user) -> list[Membership]:
    return list(Membership.objects.active().filter(user=user)
                .select_related("organization").order_by("pk"))


def _state(m: Membership) -> tuple:
    own = {k: v for k, v in m.__dict__.items() if k != "_state"}
    org = {k: v for k, v in m.organization.__dict__.items() if k != "_state"}
    return own, org, m._state.db, m._state.adding, m.organization._state.db


def test_memberships_as_the_orm_builds_them(world):
    ns, other = world.mine, world.other
    user = make_user(ns.city_dept, Role.OUTSOURCED_OPERATOR)  # dates on file
    services.membership_grant(actor=None, user=user, organization=other.city,
                              role=Role.SUPERVISOR)
    ended = services.membership_grant(actor=None, user=user, organization=ns.county,
                                      role=Role.SUPERVISOR)
    Membership.objects.filter(pk=ended.pk).update(is_active=False)
    closed = services.membership_grant(actor=None, user=user, organization=other.county,
                                       role=Role.SUPERVISOR)
    Organization.objects.filter(pk=closed.organization_id).update(is_active=False)
    for someone in (user, ns.users[Role.SUPERVISOR], make_user(ns.county_dept)):
        expected = _orm(someone)
        got = _read_memberships(someone.pk)
        assert [_state(m) for m in got] == [_state(m) for m in expected]
    assert len(_read_memberships(user.pk)) == 2  # neither the ended one nor the closed


def test_one_query_per_request_and_forget(world):
    user = world.mine.users[Role.SUPERVISOR]
    forget(user)
    with CaptureQueriesContext(connection) as read:
        scope = scope_for(user)
        orgs = [m.organization.path for m in memberships_of(user)]
    assert len(read) == 1
    assert scope.roots() == orgs == [world.mine.province.path]
    # Granted through another instance of the same user (another request): this
    # one keeps what it read until forget().
    services.membership_grant(actor=None, user=type(user).objects.get(pk=user.pk),
                              organization=world.other.city, role=Role.SUPERVISOR)
    assert scope_for(user).roots() == [world.mine.province.path]
    forget(user)
    assert scope_for(user).roots() == sorted([world.mine.province.path,
                                              world.other.city.path])
