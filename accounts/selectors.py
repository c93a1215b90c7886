"""Scoped reads of organizations and people."""

from __future__ import annotations

from django.db.models import Case, CharField, Count, F, Q, Value, When

from accounts.models import Membership, Organization
from accounts.scoping import Action, Domain, scope_for


def organizations_visible(user, action: Action = Action.VIEW):
    return Organization.objects.visible_to(user, action)


def organization_roots(user) -> list[Organization]:
    """The top organizations of the user's directory scope (entry points of the tree)."""
    scope = scope_for(user, Action.VIEW, Domain.DIRECTORY)
    roots = scope.roots()
    # Drop paths lying below another root (an own org inside a subtree).
    roots = [p for p in roots if not any(p != r and p.startswith(r) for r in roots)]
    return list(Organization.objects.filter(path__in=roots).order_by("path"))


def organization_children(user, parent: Organization):
    """Children of `parent` the user may see, with how many organizations lie below each."""
    qs = organizations_visible(user).filter(
        path__startswith=parent.path, depth=parent.depth + 1
    )
    return qs.order_by("path")


def organization_search(user, text: str, limit: int = 50):
    qs = organizations_visible(user)
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(region_code__startswith=text))
    return qs.order_by("path")[:limit]


def ancestors_visible(user, org: Organization) -> list[Organization]:
    """The breadcrumb from the user's scope root down to `org`."""
    paths = [org.path[: i * Organization.steplen] for i in range(1, org.depth)]
    return list(organizations_visible(user).filter(path__in=paths).order_by("depth"))


def memberships_visible(user, action: Action = Action.VIEW):
    return Membership.objects.visible_to(user, action).select_related("user", "organization")


def members_of(user, org: Organization):
    """People holding roles in `org`, if the user may see access data there."""
    if not scope_for(user, Action.VIEW, Domain.ACCESS).contains(org):
        return Membership.objects.none()
    return (
        Membership.objects.active()
        .filter(organization=org)
        .select_related("user")
        .order_by("role", "user__username")
    )


def role_counts(org: Organization) -> dict[str, int]:
    rows = (
        Membership.objects.active().filter(organization=org).values("role").annotate(n=Count("id"))
    )
    return {r["role"]: r["n"] for r in rows}


def separation_violations(user, limit: int = 200):
    """Active memberships, visible to `user` (access domain), of people whose active
    roles span more than one duty (三员分立: one administrator role, or business roles
    only). Rows granted before the rule existed; the security administrator ends them.
    Two queries, whatever the number of rows."""
    from accounts.scoping import ADMIN_ROLES

    duty = Case(
        *[When(role=r, then=Value(str(r))) for r in ADMIN_ROLES],
        default=Value("business"),
        output_field=CharField(),
    )
    offenders = (
        Membership.objects.filter(is_active=True)
        .values("user_id")
        .annotate(duties=Count(duty, distinct=True))
        .filter(duties__gt=1)
        .values("user_id")
    )
    return (
        memberships_visible(user)
        .filter(is_active=True, user_id__in=offenders)
        .order_by("user__username", F("organization__path"), "role")[:limit]
    )


def users_visible(user, action: Action = Action.VIEW):
    """People holding (or having held) a role in an organization of the user's access
    scope: the security administrator's list of sign-ins. A person without any role
    belongs to nobody's jurisdiction and is not listed (accounts.services.user_enrol
    never creates one)."""
    from accounts.models import User

    grants = Membership.objects.visible_to(user, action).values("user_id")
    return User.objects.filter(pk__in=grants)


def locked_out_q():
    """Sign-ins whose (username, address) pair axes locks right now: as many failures
    as AXES_FAILURE_LIMIT within the cool-off period."""
    from axes.models import AccessAttempt
    from django.conf import settings
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return Exists(
        AccessAttempt.objects.filter(
            username=OuterRef("username"),
            attempt_time__gte=since,
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        )
    )


def user_list(user, *, text: str = "", role: str = "", status: str = "",
              organization_id: int | None = None):
    """The people of the user's access scope, filtered; each row carries `locked`
    (axes lockout now) and, prefetched, its visible roles (`visible_roles`). Three
    queries for a page (count, rows, roles), whatever the number of rows."""
    from django.db.models import Prefetch

    qs = users_visible(user).annotate(locked=locked_out_q())
    if text:
        qs = qs.filter(
            Q(username__icontains=text) | Q(display_name__icontains=text)
            | Q(email__icontains=text)
        )
    grants = Membership.objects.visible_to(user)
    if role:
        qs = qs.filter(pk__in=grants.filter(role=role, is_active=True).values("user_id"))
    if organization_id:
        qs = qs.filter(
            pk__in=grants.filter(organization_id=organization_id).values("user_id")
        )
    if status == "active":
        qs = qs.filter(is_active=True)
    elif status == "inactive":
        qs = qs.filter(is_active=False)
    elif status == "locked":
        qs = qs.filter(locked=True)
    roles = (
        grants.filter(is_active=True)
        .select_related("organization")
        .order_by("organization__path", "role")
    )
    return qs.prefetch_related(Prefetch("memberships", queryset=roles, to_attr="visible_roles"))
