"""Builders for moderation tests. Media accounts are created directly (the registry
services are written elsewhere); everything with invariants goes through services."""

from __future__ import annotations

import importlib
import itertools

from accounts.models import Role
from moderation.models import Dictionary, Importance, Severity
from moderation.services import dictionaries, posts, review
from registry.models import MediaAccount, Platform

_seq = itertools.count(1)


def platform(code: str) -> Platform:
    """The seeded platform; re-seeded when a transactional test flushed the table."""
    found = Platform.objects.filter(code=code).first()
    if found is not None:
        return found
    seed = importlib.import_module("registry.migrations.0002_seed_platforms")
    for order, (c, name, name_en, patterns, template, max_len) in enumerate(seed.PLATFORMS):
        if c == code:
            return Platform.objects.create(code=c, name=name, name_en=name_en,
                                           url_patterns=patterns, profile_url_template=template,
                                           max_post_length=max_len, sort_order=(order + 1) * 10)
    raise LookupError(code)


def make_account(org, platform_code: str = "weibo", *, status: str = "active",
                 supervising=None, name: str | None = None) -> MediaAccount:
    n = next(_seq)
    return MediaAccount.objects.create(
        platform=platform(platform_code),
        display_name=name or f"{org.name}{platform_code}{n}",
        platform_account_id=f"{platform_code}-{org.pk}-{n}",
        organization=org,
        supervising_organization=supervising or org.get_parent() or org,
        org_path=org.path,
        region_code=org.region_code,
        status=status,
    )


def make_dictionary(world_ns, kind: str, terms: list[tuple[str, str, str]], org=None) -> Dictionary:
    """A dictionary kept by the province supervisor (inherited by the whole tree)."""
    supervisor = world_ns.users[Role.SUPERVISOR]
    d = dictionaries.dictionary_create(actor=supervisor, organization=org or world_ns.province,
                                       name=f"{kind}-{next(_seq)}", kind=kind)
    for term, suggestion, severity in terms:
        dictionaries.term_add(actor=supervisor, dictionary=d, term=term, suggestion=suggestion,
                              severity=severity)
    return d


def make_post(ns, *, account=None, text: str = "今天召开全县安全生产工作会议。",
              importance: str = Importance.GENERAL, author=None, **kw):
    author = author or ns.users[Role.OPERATOR]
    account = account or make_account(ns.city_dept)
    return posts.post_create(actor=author, organization=ns.city_dept, text=text,
                             account_ids=[account.pk], importance=importance, **kw)


def submit(post, ns, overrides=None):
    return posts.post_submit(post=post, actor=post.author, overrides=overrides or {})


def approve_all(post, ns):
    """Every step of the current round, by the holder of each role."""
    post.refresh_from_db()
    while post.status == "in_review":
        review.post_approve(post=post, actor=ns.users[Role(post.awaiting_role)])
        post.refresh_from_db()
    return post


SOFT, HARD = Severity.SOFT, Severity.HARD
