"""Builders for assessment tests: rubrics and data go through the services."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from django.utils import timezone

from accounts.models import Role
from assessment.models import Part, Rubric
from assessment.services import rubrics
from moderation.services import publication

_n = itertools.count(1)


def this_year() -> int:
    return timezone.localdate().year


def active_rubric(ns, *, year=None, org=None) -> Rubric:
    """The national default rubric, in force at the province (or `org`)."""
    supervisor = ns.users[Role.SUPERVISOR]
    rubric = rubrics.rubric_create_default(
        organization=org or ns.province, year=year or this_year(), actor=supervisor
    )
    return rubrics.rubric_activate(rubric=rubric, actor=supervisor)


def item(rubric, code):
    return rubric.items.get(code=code)


def unapproved_post(ns, account, *, when=None):
    """A post the platform showed without approval: moderation raises a flag."""
    row, _created = publication.published_post_report(
        actor=ns.users[Role.SUPERVISOR],
        account=account,
        platform_post_id=f"a{next(_n)}",
        text=f"未经审核的发布{next(_n)}。",
        published_at=when or timezone.now(),
    )
    return row.flags.get()


def period_of_year(year=None):
    year = year or this_year()
    return date(year, 1, 1), min(date(year, 12, 31), timezone.localdate())


def fresh(account):
    """Mark an account as posting today (so the idle veto does not apply)."""
    account.last_post_at = timezone.now() - timedelta(hours=1)
    account.save(update_fields=["last_post_at"])
    return account


__all__ = [
    "Part",
    "active_rubric",
    "item",
    "unapproved_post",
    "period_of_year",
    "fresh",
]
