"""The one place that decides what a user may see and do.

Every page, API endpoint, export and notification asks this module. A decision has
three inputs: the user (through their active memberships), the *domain* of the data
(business data such as media accounts and posts; the directory of organizations and
people; access control; the audit trail) and the *action* (view, change, export).

Each role grants a *reach* (its own organization, or the organization's whole
subtree) and a set of actions per domain. The three administrator roles are
separated: each reaches only the domain it administers and no business data.

Rows outside the scope are answered with 404, exactly like missing rows: a user must
not learn that another organization's object exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connections, models, router
from django.db.models import Lookup, Q
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, Role
from accounts.querysets import ScopedQuerySet  # noqa: F401  (re-exported)
from common.errors import NotFound, PermissionDenied


class Domain(models.TextChoices):
    BUSINESS = "business"  # media accounts, filings, posts, messages, scores
    DIRECTORY = "directory"  # organizations and people
    ACCESS = "access"  # role grants, lockouts
    AUDIT = "audit"  # the audit trail


class Action(models.TextChoices):
    VIEW = "view"
    CHANGE = "change"
    EXPORT = "export"


class Reach(models.TextChoices):
    OWN = "own"  # the membership's organization only
    SUBTREE = "subtree"  # the organization and everything below it


@dataclass(frozen=True)
class Grant:
    reach: Reach
    actions: dict[Domain, frozenset[Action]]


_V, _C, _E = Action.VIEW, Action.CHANGE, Action.EXPORT
_WORKER = {Domain.BUSINESS: frozenset({_V, _C, _E}), Domain.DIRECTORY: frozenset({_V})}

# The whole policy in one table. Change it here and only here.
ROLE_GRANTS: dict[Role, Grant] = {
    Role.OPERATOR: Grant(Reach.OWN, _WORKER),
    # Outsourced staff draft and answer, but export nothing ("service can be
    # outsourced; management, review and security cannot").
    Role.OUTSOURCED_OPERATOR: Grant(
        Reach.OWN,
        {Domain.BUSINESS: frozenset({_V, _C}), Domain.DIRECTORY: frozenset({_V})},
    ),
    Role.DEPARTMENT_HEAD: Grant(Reach.OWN, _WORKER),
    Role.LEADER_IN_CHARGE: Grant(Reach.OWN, _WORKER),
    Role.PRINCIPAL_LEADER: Grant(Reach.OWN, _WORKER),
    Role.CONFIDENTIALITY_REVIEWER: Grant(Reach.OWN, _WORKER),
    Role.LIAISON: Grant(Reach.OWN, _WORKER),
    Role.SUPERVISOR: Grant(Reach.SUBTREE, _WORKER),
    Role.AUDITOR: Grant(
        Reach.SUBTREE,
        {Domain.BUSINESS: frozenset({_V, _E}), Domain.DIRECTORY: frozenset({_V})},
    ),
    Role.SYSTEM_ADMIN: Grant(Reach.SUBTREE, {Domain.DIRECTORY: frozenset({_V, _C, _E})}),
    Role.SECURITY_ADMIN: Grant(
        Reach.SUBTREE,
        {Domain.ACCESS: frozenset({_V, _C, _E}), Domain.DIRECTORY: frozenset({_V})},
    ),
    Role.AUDIT_ADMIN: Grant(
        Reach.SUBTREE,
        {Domain.AUDIT: frozenset({_V, _E}), Domain.DIRECTORY: frozenset({_V})},
    ),
}


# Django admin permissions per role (the admin holds reference data: the calendar,
# platforms, lockouts, the audit trail). Business data has no admin write path: it
# changes only through the services. Read by accounts.backends.RolePermissionBackend.
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
ROLE_ADMIN_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.SYSTEM_ADMIN: frozenset(
        {
            "workcalendar.view_specialday",
            "workcalendar.add_specialday",
            "workcalendar.change_specialday",
            "workcalendar.delete_specialday",
            "workcalendar.view_calendaryear",
            "workcalendar.add_calendaryear",
            "workcalendar.change_calendaryear",
            "registry.view_platform",
            "registry.add_platform",
            "registry.change_platform",
            "accounts.view_organization",
            "accounts.view_user",
        }
    ),
    # Lockouts are visible; they lift by themselves after 15 minutes.
    Role.SECURITY_ADMIN: frozenset(
        {
            "accounts.view_membership",
            "accounts.view_user",
            "axes.view_accessattempt",
            "axes.view_accessfailurelog",
        }
    ),
    Role.AUDIT_ADMIN: frozenset({"audit.view_auditevent"}),
}


@models.CharField.register_lookup
class StartsWithAny(Lookup):
    """`path__startswith_any=("0001", "0002")`: the OR of one `startswith` per
    prefix, the very SQL Django writes for `Q(path__startswith=...) | ...` (so the
    same plan: one index range per root), built as one lookup. A scope of 31
    provinces as 31 Q objects cost the ORM about 1 ms to build and as much again to
    compile on every query, several times per page (issue 9)."""

    lookup_name = "startswith_any"
    prepare_rhs = False

    def get_prep_lookup(self):
        return tuple(str(p) for p in self.rhs)

    def as_sql(self, compiler, connection):
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        internal_type = self.lhs.output_field.get_internal_type()
        lhs_sql = connection.ops.lookup_cast("startswith", internal_type) % lhs_sql
        like = connection.operators["startswith"] % "%s"
        parts, params = [], []
        for prefix in self.rhs:
            parts.append(f"{lhs_sql} {like}")
            params += [*lhs_params, connection.ops.prep_for_like_query(prefix) + "%"]
        return "(" + " OR ".join(parts) + ")", params


def _like_escape(text: str) -> str:
    """What Django's prep_for_like_query does on PostgreSQL (LIKE's escape is \\)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class Scope:
    """A set of organizations: some whole subtrees, some single organizations."""

    subtree_paths: tuple[str, ...] = ()
    own_paths: tuple[str, ...] = ()
    own_ids: tuple[int, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not self.subtree_paths and not self.own_paths

    def q(self, path_field: str = "organization__path") -> Q:
        """A filter over rows whose organization's path is in `path_field`."""
        if self.is_empty:
            return Q(pk__in=[])
        cond = Q()
        if len(self.subtree_paths) > 1:
            cond = Q(**{f"{path_field}__startswith_any": self.subtree_paths})
        elif self.subtree_paths:
            cond = Q(**{f"{path_field}__startswith": self.subtree_paths[0]})
        if self.own_paths:
            cond |= Q(**{f"{path_field}__in": list(self.own_paths)})
        return cond

    def sql(self, column: str) -> tuple[str, list]:
        """q() as a plain SQL condition over `column` (qualified and quoted by the
        caller), for PostgreSQL: one LIKE per subtree root (one index range each,
        as q() compiles to there) and `= ANY` for the organizations of their own.
        Nothing matches an empty scope."""
        if self.is_empty:
            return "(1 = 0)", []
        parts, params = [], []
        for prefix in self.subtree_paths:
            parts.append(f"{column} LIKE %s")
            params.append(_like_escape(prefix) + "%")
        if self.own_paths:
            parts.append(f"{column} = ANY(%s)")
            params.append(list(self.own_paths))
        return "(" + " OR ".join(parts) + ")", params

    def contains_path(self, path: str) -> bool:
        return path in self.own_paths or any(path.startswith(p) for p in self.subtree_paths)

    def contains(self, org: Organization) -> bool:
        return self.contains_path(org.path)

    def roots(self) -> list[str]:
        """The top paths of the scope (for tree pages and dashboards)."""
        return sorted(set(self.subtree_paths) | set(self.own_paths))


def _memberships(user) -> list[Membership]:
    """Active memberships of the user, loaded once per user object (one query)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_scoping_memberships", None)
    if cached is None:
        cached = _read_memberships(user.pk)
        user._scoping_memberships = cached
    return cached


_MEMBERSHIP_READERS: dict[str, tuple] = {}


def _membership_reader(connection) -> tuple:
    """The SQL of `Membership.objects.active().filter(user=...)
    .select_related("organization")` written out once per database, with the
    converters the ORM would apply to its columns (none on PostgreSQL; booleans and
    dates on SQLite). Every column of both models, so callers get whole instances."""
    reader = _MEMBERSHIP_READERS.get(connection.alias)
    if reader is None:
        qn = connection.ops.quote_name
        m_fields = Membership._meta.concrete_fields
        o_fields = Organization._meta.concrete_fields
        columns = [f"m.{qn(f.column)}" for f in m_fields]
        columns += [f"o.{qn(f.column)}" for f in o_fields]
        fk = Membership._meta.get_field("organization")
        sql = (
            f"SELECT {', '.join(columns)} FROM {qn(Membership._meta.db_table)} m "
            f"JOIN {qn(Organization._meta.db_table)} o "
            f"ON o.{qn(Organization._meta.pk.column)} = m.{qn(fk.column)} "
            f"WHERE m.{qn(Membership._meta.get_field('user').column)} = %s "
            f"AND m.{qn(Membership._meta.get_field('is_active').column)} = %s "
            f"AND o.{qn(Organization._meta.get_field('is_active').column)} = %s "
            f"ORDER BY m.{qn(Membership._meta.pk.column)}"
        )
        converters = []
        for i, f in enumerate([*m_fields, *o_fields]):
            col = f.get_col(f.model._meta.db_table)
            found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if found:
                converters.append((i, found, col))
        reader = (sql, converters, len(m_fields), fk)
        _MEMBERSHIP_READERS[connection.alias] = reader
    return reader


def _read_memberships(user_id) -> list[Membership]:
    """Memberships with their organization cached, as select_related builds them,
    from one plain statement: the ORM took longer to build and compile that query
    than the database took to answer it, on every request of the platform (issue
    9). Active means what MembershipQuerySet.active() says: the membership and its
    organization both active."""
    db = router.db_for_read(Membership)
    connection = connections[db]
    sql, converters, split, fk = _membership_reader(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, True, True])
        rows = cursor.fetchall()
    out = []
    for row in rows:
        if converters:
            row = list(row)
            for i, functions, col in converters:
                for convert in functions:
                    row[i] = convert(row[i], col, connection)
        membership = Membership.from_db(db, None, row[:split])
        fk.set_cached_value(membership, Organization.from_db(db, None, row[split:]))
        out.append(membership)
    return out


def forget(user) -> None:
    """Drop the per-object cache after the user's memberships changed."""
    user.__dict__.pop("_scoping_memberships", None)
    user.__dict__.pop("_scoping_scopes", None)


def scope_for(user, action: Action = Action.VIEW, domain: Domain = Domain.BUSINESS) -> Scope:
    memberships = _memberships(user)
    # Memoized beside the memberships it is computed from (a page asks several
    # times; a national scope of 31 roots took ~0.4 ms each time): a new list after
    # forget(), or an inactive user's fresh empty one, recomputes.
    memo = getattr(user, "_scoping_scopes", None)
    if memo is None or memo[0] is not memberships:
        memo = (memberships, {})
        if memberships:
            user._scoping_scopes = memo
    key = (action, domain)
    if key not in memo[1]:
        memo[1][key] = _scope_of(memberships, action, domain)
    return memo[1][key]


def _scope_of(memberships, action: Action, domain: Domain) -> Scope:
    subtree, own, own_ids = set(), set(), set()
    for m in memberships:
        grant = ROLE_GRANTS[Role(m.role)]
        if action not in grant.actions.get(domain, ()):
            continue
        if grant.reach == Reach.SUBTREE:
            subtree.add(m.organization.path)
        else:
            own.add(m.organization.path)
            own_ids.add(m.organization_id)
    # A subtree already covers the paths below it. In sorted order an ancestor comes
    # right before its descendants (all paths between them share its prefix), so
    # comparing with the last root kept is enough.
    roots: list[str] = []
    for p in sorted(subtree):
        if not roots or not p.startswith(roots[-1]):
            roots.append(p)
    subtree_roots = tuple(roots)
    own_left = tuple(sorted(p for p in own if not p.startswith(subtree_roots)))
    return Scope(subtree_paths=subtree_roots, own_paths=own_left, own_ids=tuple(sorted(own_ids)))


def roles_of(user, organization: Organization | None = None) -> set[Role]:
    """The roles the user holds (in `organization` only, when given)."""
    return {
        Role(m.role)
        for m in _memberships(user)
        if organization is None or m.organization_id == organization.pk
    }


def admin_permissions(user) -> frozenset[str]:
    """The Django admin permissions the user's roles carry."""
    perms: set[str] = set()
    for role in roles_of(user):
        perms |= ROLE_ADMIN_PERMISSIONS.get(role, frozenset())
    return frozenset(perms)


def memberships_of(user) -> list[Membership]:
    return list(_memberships(user))


def can(
    user, action: Action, organization: Organization, domain: Domain = Domain.BUSINESS
) -> bool:
    return scope_for(user, action, domain).contains(organization)


def acting_role(
    user, action: Action, organization: Organization, domain: Domain = Domain.BUSINESS
) -> str:
    """The role through which `user` may perform `action` in `organization` (for the
    audit trail's `role`); "" when no membership grants it. A membership in the
    organization itself wins over one higher up the tree."""
    best: tuple[int, str] | None = None
    for m in _memberships(user):
        grant = ROLE_GRANTS[Role(m.role)]
        if action not in grant.actions.get(domain, ()):
            continue
        path = m.organization.path
        reaches = path == organization.path or (
            grant.reach == Reach.SUBTREE and organization.path.startswith(path)
        )
        if reaches and (best is None or len(path) > best[0]):
            best = (len(path), m.role)
    return best[1] if best else ""


def require(
    user, action: Action, organization: Organization, domain: Domain = Domain.BUSINESS
) -> str:
    """Raise NotFound when the organization is invisible, PermissionDenied when the
    user sees it but may not perform `action` there. Returns the acting role (for
    the audit event)."""
    if not scope_for(user, Action.VIEW, domain).contains(organization):
        raise NotFound(_("Not found."))
    if action != Action.VIEW and not scope_for(user, action, domain).contains(organization):
        raise PermissionDenied(_("You may not do this in this organization."))
    return acting_role(user, action, organization, domain)


def get_visible_or_404(queryset, user, action: Action = Action.VIEW, **lookup):
    """Fetch one row the user may see; 404 otherwise. For non-view actions, a row the
    user sees but may not act on raises PermissionDenied (403)."""
    try:
        obj = queryset.visible_to(user, Action.VIEW).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if action != Action.VIEW and not queryset.filter(pk=obj.pk).visible_to(user, action).exists():
        raise PermissionDenied(_("You may not do this in this organization."))
    return obj
