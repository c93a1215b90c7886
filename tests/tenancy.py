"""The tenant-isolation matrix, as data.

Three tables drive tests/accounts/test_tenancy_matrix.py:

- EXPECTED: what each role may do, written out independently of
  accounts.scoping.ROLE_GRANTS (tests/accounts/test_scoping_policy.py checks the two
  agree, so a policy change must be made in both places on purpose). A role missing
  here fails every matrix test for that role with a KeyError.
- ROWS: kinds of tenant-owned rows, keyed by name: how to make one owned by a given
  organization, and the owning path of every row of the kind (the "universe" a list
  or an export is compared with).
- ENDPOINTS: every way to reach those rows (API and pages): reading one, listing,
  exporting, changing one, creating one in an organization.

Later apps add their own rows and endpoints from their test package, e.g. in
tests/registry/conftest.py::

    from tests import tenancy
    tenancy.add_rows("media_account", tenancy.Rows(Domain.BUSINESS, make=..., universe=...))
    tenancy.add_endpoints(
        tenancy.api_list("api media-accounts list", "media_account", "/api/v1/media-accounts/"),
        tenancy.api_read("api media-accounts retrieve", "media_account", "/api/v1/media-accounts/{pk}/"),
    )

and run the matrix over them with `tenancy.run_matrix(...)` (see the matrix test).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.test import Client

from accounts.models import Membership, Organization, Role
from accounts.scoping import Action, Domain
from audit.models import AuditEvent

V, C, E = Action.VIEW, Action.CHANGE, Action.EXPORT

# Pseudo-path of platform-wide rows (audit events that concern no organization).
PLATFORM = ""


# --- the expected policy ---------------------------------------------------------------
@dataclass(frozen=True)
class Expected:
    subtree: bool
    actions: dict[Domain, frozenset[Action]]


def _e(subtree: bool, **domains: str) -> Expected:
    letters = {"v": V, "c": C, "e": E}
    return Expected(
        subtree,
        {
            Domain(d): frozenset(letters[ch] for ch in acts)
            for d, acts in domains.items()
        },
    )


EXPECTED: dict[Role, Expected] = {
    Role.OPERATOR: _e(False, business="vce", directory="v"),
    Role.OUTSOURCED_OPERATOR: _e(False, business="vc", directory="v"),
    Role.DEPARTMENT_HEAD: _e(False, business="vce", directory="v"),
    Role.LEADER_IN_CHARGE: _e(False, business="vce", directory="v"),
    Role.PRINCIPAL_LEADER: _e(False, business="vce", directory="v"),
    Role.CONFIDENTIALITY_REVIEWER: _e(False, business="vce", directory="v"),
    Role.LIAISON: _e(False, business="vce", directory="v"),
    Role.SUPERVISOR: _e(True, business="vce", directory="v"),
    Role.AUDITOR: _e(True, business="ve", directory="v"),
    # The three administrators: each its own domain, no business data.
    Role.SYSTEM_ADMIN: _e(True, directory="vce"),
    Role.SECURITY_ADMIN: _e(True, access="vce", directory="v"),
    Role.AUDIT_ADMIN: _e(True, audit="ve", directory="v"),
}


def may(
    role: Role, at: Organization, action: Action, domain: Domain, path: str
) -> bool:
    """Whether a holder of `role` in `at` may `action` a `domain` row owned by the
    organization at `path` (PLATFORM for platform-wide rows)."""
    grant = EXPECTED[role]
    if action not in grant.actions.get(domain, frozenset()):
        return False
    if path == PLATFORM:
        return domain == Domain.AUDIT  # platform-wide audit events concern everyone
    return path == at.path or (grant.subtree and path.startswith(at.path))


def has_any(role: Role, action: Action, domain: Domain) -> bool:
    return action in EXPECTED[role].actions.get(domain, frozenset())


# --- rows -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rows:
    """A kind of tenant-owned row.

    `make(org)` returns one row owned by `org` (org is None for a platform-wide row;
    return None when the kind has none). `universe()` maps the key of every row of the
    kind to its owning organization's path. `key(row)` is what list and export
    extractors return for a row.
    """

    domain: Domain
    make: Callable[[Organization | None], Any]
    universe: Callable[[], dict[str, str]]
    key: Callable[[Any], str] = lambda row: str(row.pk)


def _make_membership(org):
    from tests.factories import make_user

    if org is None:
        return None
    user = make_user(org, Role.LIAISON)
    return Membership.objects.get(user=user, organization=org, role=Role.LIAISON)


def _make_event(org):
    if org is None:
        from workcalendar.models import DayKind, SpecialDay
        from workcalendar.services import special_day_save

        day = special_day_save(
            actor=None,
            day=SpecialDay(date=date(2031, 1, 2), kind=DayKind.HOLIDAY, name="tenancy"),
        )
        return AuditEvent.objects.get(
            action="calendar.day_saved", target_id=str(day.pk)
        )
    return AuditEvent.objects.get(action="organization.created", target_id=str(org.pk))


ROWS: dict[str, Rows] = {
    "organization": Rows(
        Domain.DIRECTORY,
        make=lambda org: org,
        universe=lambda: dict(
            (str(pk), path)
            for pk, path in Organization.objects.values_list("pk", "path")
        ),
    ),
    "membership": Rows(
        Domain.ACCESS,
        make=_make_membership,
        universe=lambda: dict(
            (str(pk), path)
            for pk, path in Membership.objects.values_list("pk", "organization__path")
        ),
    ),
    "audit_event": Rows(
        Domain.AUDIT,
        make=_make_event,
        universe=lambda: dict(
            AuditEvent.objects.values_list("hash", "organization_path")
        ),
        key=lambda event: event.hash,
    ),
}


def add_rows(name: str, rows: Rows) -> None:
    ROWS[name] = rows


# --- endpoints --------------------------------------------------------------------------
LIST, READ, CHANGE, CREATE, EXPORT = "list", "read", "change", "create", "export"


@dataclass(frozen=True)
class Endpoint:
    """One way to reach rows of `rows`.

    - list/export: `url` is a string; `extract(client, response)` returns the keys of
      the rows the response shows (following pagination).
    - read/change: `url` is formatted with `pk=row.pk`; change sends `data(row, ctx)`.
    - create: `url` is a string; `data(org, ctx)` builds the body for a row created in
      `org` (the target).
    """

    name: str
    rows: str
    kind: str
    url: str
    via: str = "api"  # "api" or "page"
    method: str = "get"
    data: Callable[[Any, Any], dict] | None = None
    extract: Callable[[Client, Any], set[str]] | None = None
    ok: int = 200
    # Restricts the universe a list is compared with (e.g. a search page).
    universe: Callable[[], dict[str, str]] | None = None

    @property
    def domain(self) -> Domain:
        return ROWS[self.rows].domain


def api_pages(key_field: str = "id") -> Callable[[Client, Any], set[str]]:
    def extract(client, response):
        keys: set[str] = set()
        while True:
            body = response.json()
            keys |= {str(item[key_field]) for item in body["results"]}
            if not body.get("next"):
                return keys
            response = client.get(body["next"])
            assert response.status_code == 200, response.content[:300]

    return extract


def csv_column(index: int) -> Callable[[Client, Any], set[str]]:
    def extract(client, response):
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        return {row[index] for row in rows[1:]}

    return extract


def page_context(name: str, key: Callable[[Any], str] = lambda o: str(o.pk)):
    """Keys of the objects a page lists in context `name`, following ?page=N."""

    def extract(client, response):
        keys: set[str] = set()
        number = 1
        while True:
            listing = response.context[name]
            keys |= {key(obj) for obj in listing}
            if not hasattr(listing, "has_next") or not listing.has_next():
                return keys
            number += 1
            url = response.request["PATH_INFO"]
            query = response.request.get("QUERY_STRING", "")
            query = "&".join(
                p for p in query.split("&") if p and not p.startswith("page=")
            )
            response = client.get(f"{url}?{query}&page={number}")
            assert response.status_code == 200

    return extract


def api_list(name, rows, url, key_field="id") -> Endpoint:
    return Endpoint(name, rows, LIST, url, extract=api_pages(key_field))


def api_read(name, rows, url) -> Endpoint:
    return Endpoint(name, rows, READ, url)


ENDPOINTS: list[Endpoint] = [
    # organizations (directory)
    api_list(
        "api organizations list", "organization", "/api/v1/organizations/?page_size=200"
    ),
    api_read(
        "api organizations retrieve", "organization", "/api/v1/organizations/{pk}/"
    ),
    Endpoint(
        "api organizations export",
        "organization",
        EXPORT,
        "/api/v1/organizations/export/",
        extract=csv_column(0),
    ),
    Endpoint(
        "api organizations partial_update",
        "organization",
        CHANGE,
        "/api/v1/organizations/{pk}/",
        method="patch",
        data=lambda org, ctx: {"short_name": "改"},
    ),
    Endpoint(
        "api organizations create",
        "organization",
        CREATE,
        "/api/v1/organizations/",
        method="post",
        data=lambda org, ctx: {
            "parent": org.pk,
            "name": "矩阵新建单位",
            "kind": "department",
            "level": org.level,
            "region_code": org.region_code,
        },
        ok=201,
    ),
    Endpoint(
        "page org tree search",
        "organization",
        LIST,
        "/accounts/orgs/?q=市",
        via="page",
        extract=page_context("results"),
        universe=lambda: {
            str(pk): path
            for pk, path in Organization.objects.filter(
                name__contains="市"
            ).values_list("pk", "path")
        },
    ),
    Endpoint(
        "page org detail", "organization", READ, "/accounts/orgs/{pk}/", via="page"
    ),
    # memberships (access)
    api_list(
        "api memberships list", "membership", "/api/v1/memberships/?page_size=200"
    ),
    api_read("api memberships retrieve", "membership", "/api/v1/memberships/{pk}/"),
    Endpoint(
        "api memberships end",
        "membership",
        CHANGE,
        "/api/v1/memberships/{pk}/end/",
        method="post",
        data=lambda m, ctx: {},
    ),
    # The security administrator revokes the API tokens of the person holding a role.
    Endpoint(
        "api auth tokens revoke-user",
        "membership",
        CHANGE,
        "/api/v1/auth/tokens/revoke-user/",
        method="post",
        data=lambda m, ctx: {"user": m.user_id},
    ),
    Endpoint(
        "api memberships create",
        "membership",
        CREATE,
        "/api/v1/memberships/",
        method="post",
        data=lambda org, ctx: {
            "user": ctx.spare.pk,
            "organization": org.pk,
            "role": "liaison",
        },
        ok=201,
    ),
    Endpoint(
        "page memberships",
        "membership",
        LIST,
        "/accounts/access/?active=all",
        via="page",
        extract=page_context("page"),
    ),
    # audit events (audit)
    api_list(
        "api audit-events list",
        "audit_event",
        "/api/v1/audit-events/?page_size=200",
        "hash",
    ),
    Endpoint(
        "api audit-events retrieve",
        "audit_event",
        READ,
        "/api/v1/audit-events/{pk}/",
    ),
    Endpoint(
        "api audit-events export",
        "audit_event",
        EXPORT,
        "/api/v1/audit-events/export/",
        extract=csv_column(12),  # the hash column
    ),
    Endpoint(
        "page audit list",
        "audit_event",
        LIST,
        "/audit/",
        via="page",
        extract=page_context("page", key=lambda e: e.hash),
    ),
    Endpoint(
        "page audit export",
        "audit_event",
        EXPORT,
        "/audit/export.csv",
        via="page",
        extract=csv_column(12),  # the hash column
    ),
]


def add_endpoints(*endpoints: Endpoint) -> None:
    names = {e.name for e in ENDPOINTS}
    for endpoint in endpoints:
        if endpoint.name not in names:
            ENDPOINTS.append(endpoint)


# --- running the matrix ---------------------------------------------------------------------
@dataclass
class Context:
    """What the matrix needs: the client signed in as the user under test (session and
    token), where that user holds `role`, the target organizations by name, and a
    spare user (for creates)."""

    client: Client
    role: Role
    at: Organization
    targets: dict[str, Organization]
    spare: Any
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)

    def row(self, rows: str, target: str):
        per_kind = self.rows.setdefault(rows, {})
        if target not in per_kind:
            org = None if target == "platform" else self.targets[target]
            per_kind[target] = ROWS[rows].make(org)
        return per_kind[target]


def _request(client: Client, endpoint: Endpoint, url: str, body: dict | None):
    if endpoint.method == "get":
        return client.get(url)
    return getattr(client, endpoint.method)(
        url, data=json.dumps(body or {}), content_type="application/json"
    )


def _path_of(row) -> str:
    if isinstance(row, Organization):
        return row.path
    if isinstance(row, AuditEvent):
        return row.organization_path
    return row.organization.path


def check_endpoint(ctx: Context, endpoint: Endpoint) -> list[str]:
    """Run one endpoint for the user of `ctx`; return the mismatches (empty: all good).

    Each request runs in a savepoint that is rolled back, so a change made by one
    probe does not leak into the next.
    """
    problems: list[str] = []
    role, domain = ctx.role, endpoint.domain

    def run(url, body=None):
        with transaction.atomic():
            response = _request(ctx.client, endpoint, url, body)
            keys = None
            if response.status_code == 200 and endpoint.extract is not None:
                keys = endpoint.extract(ctx.client, response)
            transaction.set_rollback(True)
        return response, keys

    if endpoint.kind in (LIST, EXPORT):
        action = V if endpoint.kind == LIST else E
        # Make sure the platform-wide and per-target rows exist before comparing.
        for target in [*ctx.targets, "platform"]:
            ctx.row(endpoint.rows, target)
        universe = (endpoint.universe or ROWS[endpoint.rows].universe)()
        if not has_any(role, action, domain):
            # API lists answer an empty list; pages and exports refuse: 404 when the
            # domain is invisible, 403 when it is visible but not exportable.
            if endpoint.kind == LIST and endpoint.via == "api":
                want_status = 200
            else:
                want_status = 403 if has_any(role, V, domain) else 404
        else:
            want_status = 200
        response, keys = run(endpoint.url)
        if response.status_code != want_status:
            return [
                f"{endpoint.name}: status {response.status_code}, expected {want_status}"
            ]
        if want_status == 200:
            want = {
                k
                for k, path in universe.items()
                if may(role, ctx.at, action, domain, path)
            }
            keys = keys or set()
            extra, missing = keys - want, want - keys
            if extra:
                problems.append(
                    f"{endpoint.name}: shows {len(extra)} rows out of scope"
                )
            if missing:
                problems.append(f"{endpoint.name}: hides {len(missing)} rows in scope")
            if not want and has_any(role, action, domain):
                problems.append(
                    f"{endpoint.name}: the fixture has nothing in scope to show"
                )
        return problems

    targets = (
        list(ctx.targets) if endpoint.kind == CREATE else [*ctx.targets, "platform"]
    )
    for target in targets:
        if endpoint.kind == CREATE:
            org = ctx.targets[target]
            url, body, path = endpoint.url, endpoint.data(org, ctx), org.path
        else:
            row = ctx.row(endpoint.rows, target)
            if row is None:
                continue
            url = endpoint.url.format(pk=row.pk)
            body = endpoint.data(row, ctx) if endpoint.data else None
            path = _path_of(row)
        if not may(role, ctx.at, V, domain, path):
            want = 404
        elif endpoint.kind in (CHANGE, CREATE) and not may(
            role, ctx.at, C, domain, path
        ):
            want = 403
        else:
            want = endpoint.ok
        response, _keys = run(url, body)
        if response.status_code != want:
            problems.append(
                f"{endpoint.name} on {target}: status {response.status_code}, expected {want}"
                + (
                    f" ({response.content[:200]!r})"
                    if response.status_code >= 500
                    else ""
                )
            )
    return problems
