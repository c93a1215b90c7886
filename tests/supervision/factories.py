"""Builders for supervision tests: accounts through the moderation test factory (a
plain row), everything with invariants through the services."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import Role
from registry.models import MediaAccount
from tests.moderation.factories import make_account, platform  # noqa: F401


def idle_account(
    org, *, days: float, status: str = "active", code: str = "weibo", now=None, **kw
) -> MediaAccount:
    """An account whose last post was `days` days before `now`, with enough
    operators and verified, so that only idleness can be found."""
    now = now or timezone.now()
    account = make_account(org, code, status=status, **kw)
    MediaAccount.objects.filter(pk=account.pk).update(
        last_post_at=now - timedelta(days=days),
        verification="verified",
        created_at=now - timedelta(days=400),
    )
    account.refresh_from_db()
    return account


def staff(account, ns) -> None:
    """Two operators, so the staffing detector stays quiet (city level needs 2)."""
    account.operators.add(ns.users[Role.OPERATOR], ns.users[Role.OUTSOURCED_OPERATOR])
