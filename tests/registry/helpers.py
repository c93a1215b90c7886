"""Builders for registry tests: state goes through the services."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from accounts.models import Role
from registry.models import Platform
from registry.services import filings, signoff

_ids = itertools.count(10001)


def platform(code="weibo") -> Platform:
    return Platform.objects.get(code=code)


def operators_of(ns) -> list[int]:
    """The city department's operator and outsourced operator (city level needs 2)."""
    return [ns.users[Role.OPERATOR].pk, ns.users[Role.OUTSOURCED_OPERATOR].pk]


def sign_off(ns, filing):
    """The sponsoring organization's principal leader signs the filing off (rule 8)."""
    signed = signoff.filing_leader_approve(filing=filing, actor=ns.users[Role.PRINCIPAL_LEADER])
    filing.refresh_from_db()
    return signed


def file_open(ns, *, name=None, code="weibo", account_id=None, actor=None, event_date=None,
              signed=True, **extra):
    """An opening filed by the city department's operator and, unless `signed=False`,
    signed off by its principal leader (so it awaits the supervisor)."""
    org = ns.city_dept
    filing = filings.filing_submit_open(
        actor=actor or ns.users[Role.OPERATOR],
        organization=org,
        platform=platform(code),
        platform_account_id=account_id or str(next(_ids) * 1000),
        display_name=name or f"{org.name[:4]}发布",
        event_date=event_date or timezone.localdate() - timedelta(days=1),
        operators=extra.pop("operators", operators_of(ns)),
        **extra,
    )
    if signed:
        sign_off(ns, filing)
    return filing


def active_account(ns, **kwargs):
    filing = file_open(ns, **kwargs)
    filings.filing_approve(filing=filing, actor=ns.city_supervisor)
    filing.account.refresh_from_db()
    return filing.account
