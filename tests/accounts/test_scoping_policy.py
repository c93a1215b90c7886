"""The policy table (accounts.scoping.ROLE_GRANTS) against the expectation written out
in tests/tenancy.py, and scope_for over every role, domain and action, including the
business domain that has no endpoints yet."""

from __future__ import annotations

import pytest

from accounts.models import Role
from accounts.scoping import (
    ROLE_GRANTS,
    Action,
    Domain,
    Reach,
    acting_role,
    require,
    scope_for,
)
from common.errors import NotFound, PermissionDenied
from tests import tenancy
from tests.factories import make_user


def test_every_role_has_a_grant_and_an_expectation():
    assert set(ROLE_GRANTS) == set(Role)
    assert set(tenancy.EXPECTED) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_grant_matches_expectation(role):
    grant, expected = ROLE_GRANTS[role], tenancy.EXPECTED[role]
    assert (grant.reach == Reach.SUBTREE) == expected.subtree
    for domain in Domain:
        assert set(grant.actions.get(domain, ())) == set(
            expected.actions.get(domain, ())
        ), (
            role,
            domain,
        )


def test_separation_of_the_three_administrators():
    for admin, own in [
        (Role.SYSTEM_ADMIN, Domain.DIRECTORY),
        (Role.SECURITY_ADMIN, Domain.ACCESS),
        (Role.AUDIT_ADMIN, Domain.AUDIT),
    ]:
        actions = ROLE_GRANTS[admin].actions
        assert Domain.BUSINESS not in actions, admin
        for other in {Domain.DIRECTORY, Domain.ACCESS, Domain.AUDIT} - {own}:
            assert set(actions.get(other, ())) <= {Action.VIEW}, (admin, other)
    assert (
        Action.EXPORT
        not in ROLE_GRANTS[Role.OUTSOURCED_OPERATOR].actions[Domain.BUSINESS]
    )
    assert Action.CHANGE not in ROLE_GRANTS[Role.AUDITOR].actions[Domain.BUSINESS]


@pytest.mark.parametrize("role", list(Role))
def test_scope_for_every_domain_and_action(world, role):
    user = world.mine.users[role]
    at = next(m.organization for m in user.memberships.all())
    orgs = [
        *(getattr(world.mine, n) for n in ("province", "office", "city", "city_dept")),
        world.mine.county_dept,
        world.other.province,
        world.other.city_dept,
        world.other.county_dept,
    ]
    for domain in Domain:
        for action in Action:
            scope = scope_for(user, action, domain)
            for org in orgs:
                want = tenancy.may(role, at, action, domain, org.path)
                assert scope.contains(org) == want, (role, domain, action, org.name)


def test_inactive_user_and_ended_membership_see_nothing(world):
    from accounts.services import membership_end

    sup = world.mine.users[Role.SUPERVISOR]
    membership_end(actor=None, membership=sup.memberships.get())
    sup.refresh_from_db()
    assert scope_for(sup, Action.VIEW, Domain.BUSINESS).is_empty

    op = world.mine.users[Role.OPERATOR]
    op.is_active = False
    assert scope_for(op, Action.VIEW, Domain.BUSINESS).is_empty


def test_require_returns_the_acting_role_and_refuses(world):
    mine = world.mine
    admin = mine.users[Role.SYSTEM_ADMIN]
    assert (
        require(admin, Action.CHANGE, mine.county_dept, Domain.DIRECTORY)
        == "system_admin"
    )
    with pytest.raises(NotFound):
        require(admin, Action.VIEW, world.other.county_dept, Domain.DIRECTORY)
    auditor = mine.users[Role.AUDITOR]
    with pytest.raises(PermissionDenied):
        require(auditor, Action.CHANGE, mine.county_dept, Domain.BUSINESS)
    # A person who supervises the province and operates in a department acts in
    # that department as its operator (the nearer membership wins).
    both = make_user(mine.province, Role.SUPERVISOR)
    from accounts.services import membership_grant

    membership_grant(
        actor=None, user=both, organization=mine.city_dept, role=Role.OPERATOR
    )
    assert acting_role(both, Action.CHANGE, mine.city_dept) == "operator"
    assert acting_role(both, Action.CHANGE, mine.county_dept) == "supervisor"
    assert acting_role(both, Action.CHANGE, world.other.city_dept) == ""


def test_a_scope_of_several_roots_filters_as_one_range_per_root(world):
    """Scope.q over several subtree roots is one `startswith_any` lookup: the same
    rows and the same SQL as one `startswith` per root ORed together, through a join
    too (issue 9: cheaper to build, the same plan)."""
    from django.db.models import Q

    from accounts.models import Membership, Organization
    from accounts.services import membership_grant

    sup = world.mine.users[Role.SUPERVISOR]
    before = scope_for(sup, Action.VIEW)
    assert scope_for(sup, Action.VIEW) is before  # memoized with the memberships
    membership_grant(
        actor=None, user=sup, organization=world.other.city, role=Role.SUPERVISOR
    )
    scope = scope_for(sup, Action.VIEW)  # the grant forgot the memberships
    assert before.subtree_paths == (world.mine.province.path,)
    assert scope.subtree_paths == (world.mine.province.path, world.other.city.path)
    by_hand = Q(path__startswith=scope.subtree_paths[0]) | Q(
        path__startswith=scope.subtree_paths[1]
    )
    orgs = Organization.objects.filter(scope.q("path"))
    expected = Organization.objects.filter(by_hand)
    assert set(orgs) == set(expected)
    assert world.other.city_dept in set(orgs)
    assert world.other.province not in set(orgs)
    assert orgs.query.sql_with_params() == expected.query.sql_with_params()
    through_join = Membership.objects.filter(scope.q("organization__path"))
    assert set(through_join) == set(
        Membership.objects.filter(
            Q(organization__path__startswith=scope.subtree_paths[0])
            | Q(organization__path__startswith=scope.subtree_paths[1])
        )
    )
    assert through_join.filter(organization=world.other.city).exists()
