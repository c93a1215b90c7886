"""Builders for test data. State with invariants goes through the services."""

from __future__ import annotations

import itertools
from datetime import date

from accounts import services
from accounts.models import Level, Organization, OrgKind, Role, User

PASSWORD = "correct-horse-battery-9"
_seq = itertools.count(1)


def make_org(parent: Organization | None, name: str, *, kind=OrgKind.GOVERNMENT, level=None, region_code=None):
    if parent is not None:
        level = level or parent.level
        region_code = region_code or parent.region_code
    return services.organization_create(
        actor=None,
        parent=parent,
        name=name,
        kind=kind,
        level=level or Level.PROVINCE,
        region_code=region_code or "990000",
    )


def make_user(org: Organization, role: str | None = None, *, username: str | None = None, **grant):
    username = username or f"user{next(_seq)}"
    user = services.user_create(actor=None, organization=org, username=username, password=PASSWORD)
    if role:
        if role == Role.OUTSOURCED_OPERATOR:
            grant.setdefault("agreement_signed_on", date(2026, 1, 5))
            grant.setdefault("agreement_document", "BM-2026-001")
        services.membership_grant(actor=None, user=user, organization=org, role=role, **grant)
    return User.objects.get(pk=user.pk)


def token_for(user) -> str:
    """An API token for `user` (django-rest-knox: only its digest is stored)."""
    from knox.models import AuthToken

    return AuthToken.objects.create(user=user)[1]
