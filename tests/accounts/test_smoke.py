from accounts.models import Role
from accounts.scoping import Action, Domain, scope_for


def test_world_builds_and_scopes(world):
    sup = world.mine.users[Role.SUPERVISOR]
    scope = scope_for(sup, Action.VIEW, Domain.BUSINESS)
    assert scope.contains(world.mine.county_dept)
    assert not scope.contains(world.other.county_dept)
