"""The access policy the navigation and the workbench ask (``common.navigation`` and
``common.workbench`` import no app; accounts hands them this policy when ready), and
the entries of accounts' own pages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.scoping import ADMIN_ROLES, Action, Domain, roles_of, scope_for


def may_see(user, domain: str, action: str, roles: frozenset[str] | None) -> bool:
    """True when the user holds (domain, action) somewhere and, if ``roles`` is given,
    one of those roles. Reads only the memberships cached on the user object."""
    if roles is not None and not (roles_of(user) & set(roles)):
        return False
    return not scope_for(user, Action(action), Domain(domain)).is_empty


def policy_key(user) -> frozenset[Role]:
    """All `may_see` answers depend on: the roles the user holds. A scope is empty
    only when none of the user's roles grants the (domain, action); where the roles
    are held changes a scope's extent, never whether it is empty. So users holding
    the same roles see the same menu entries (common.navigation memoizes them)."""
    return frozenset(roles_of(user))


def user_roles(user) -> set[str]:
    return {str(role) for role in roles_of(user)}


def register_navigation() -> None:
    from common import navigation, workbench
    from common.navigation import NavEntry

    navigation.set_policy(may_see, key=policy_key)
    workbench.set_roles_of(user_roles)
    from accounts.workbench import register_cards

    register_cards()
    navigation.register(
        NavEntry("home", _("Workbench"), "home", None, domain="directory", order=0),
        # Working roles reach their own organization from the user menu; the tree is
        # for those who supervise, audit or administer a subtree.
        NavEntry("orgs", _("Organizations"), "accounts:org_tree", "system",
                 domain="directory", roles=SUBTREE_ROLES, order=10),
        NavEntry("users", _("Users"), "accounts:user_list", "system",
                 domain="access", order=15),
        NavEntry("access", _("Roles and people"), "accounts:membership_list", "system",
                 domain="access", order=20),
        NavEntry("second_factor_rules", _("Second factor"), "accounts:second_factor_rules",
                 "system", domain="directory", roles=frozenset({Role.SECURITY_ADMIN}),
                 order=30),
        NavEntry("admin", _("Administration site"), "admin:index", "system",
                 domain="directory", roles=frozenset(ADMIN_ROLES), order=90),
    )


SUBTREE_ROLES = frozenset({Role.SUPERVISOR, Role.AUDITOR, *ADMIN_ROLES})

# Role groups the workbench cards are registered for.
REVIEWER_ROLES = frozenset({
    Role.DEPARTMENT_HEAD, Role.LEADER_IN_CHARGE, Role.PRINCIPAL_LEADER,
    Role.CONFIDENTIALITY_REVIEWER,
})
OPERATOR_ROLES = frozenset({Role.OPERATOR, Role.OUTSOURCED_OPERATOR, Role.LIAISON})
