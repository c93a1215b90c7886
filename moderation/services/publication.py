"""Publication records, posts reported by platform collectors, and flags."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from accounts.models import Membership, Role
from accounts.scoping import Action, require, roles_of
from audit.services import audit_record
from common.errors import Conflict, PermissionDenied, ValidationFailed
from moderation.models import (
    DirectiveTarget,
    Flag,
    FlagKind,
    MatchStatus,
    Post,
    PostRevision,
    PostStatus,
    Publication,
    PublishedPost,
    SignOffSheet,
)
from notifications.services import notify
from registry.models import AccountStatus, MediaAccount
from registry.services.accounts import url_on_platform
from registry.services.activity import media_account_record_posts

# Texts at least this similar are taken to be the same post, edited on the platform.
SIMILAR_ENOUGH = 80.0
_STRIP = re.compile(r"[\s\u3000]+")


def normalize_text(text: str) -> str:
    """Compare what readers see: NFKC (full-width to half-width), no whitespace."""
    return _STRIP.sub("", unicodedata.normalize("NFKC", text or "")).strip()


@transaction.atomic
def post_mark_published(*, post: Post, actor, account: MediaAccount, url: str,
                        published_at=None) -> Publication:
    """Record that the approved revision went out on one of the post's accounts."""
    post = Post.objects.select_for_update(of=("self",)).select_related(
        "organization", "current_revision").get(pk=post.pk)
    role = require(actor, Action.CHANGE, post.organization)
    if post.status not in (PostStatus.APPROVED, PostStatus.PUBLISHED):
        raise Conflict(_("Only a fully approved post can be published."), code="not_approved")
    if not SignOffSheet.objects.filter(revision=post.current_revision).exists():
        raise Conflict(_("The current revision has not been approved."), code="not_approved")
    if post.status == PostStatus.APPROVED and post.approval_expired:
        raise Conflict(
            _("The scheduled publication time has passed; the approval has expired."),
            code="approval_expired",
        )
    if account.pk not in post.current_revision.account_ids:
        raise ValidationFailed(_("This account is not a target of the post."),
                               code="not_a_target",
                               fields={"account": [_("Not a target of this post.")]})
    if not url or not url.startswith(("http://", "https://")):
        raise ValidationFailed(_("Give the URL of the post on the platform."),
                               fields={"url": [_("Enter a valid URL.")]})
    if Publication.objects.filter(post=post, account=account).exists():
        raise Conflict(_("Already recorded as published on this account."),
                       code="already_published")
    publication = Publication(post=post, revision=post.current_revision, account=account,
                              url=url, published_at=published_at or timezone.now(),
                              recorded_by=actor)
    publication.full_clean(exclude=["post", "revision", "account", "recorded_by"])
    publication.save()
    before = post.status
    post.status = PostStatus.PUBLISHED
    post.save(update_fields=["status", "updated_at"])
    # Activity truth (DOMAIN.md rule 23): the account posted.
    media_account_record_posts(latest={account.pk: publication.published_at})
    audit_record(actor=actor, action="moderation.post_publish", target=post,
                 organization=post.organization, role=role, before={"status": before},
                 after={"status": post.status, "account": account.pk, "url": url,
                        "revision": post.current_revision.number})
    return publication


def _match(account: MediaAccount, text: str) -> tuple[str, PostRevision | None, float]:
    """Find the approved revision the reported text is. Candidates: approved
    revisions (those with a sign-off sheet) of posts targeting the account."""
    wanted = normalize_text(text)
    candidates = (
        PostRevision.objects.filter(signoff__isnull=False, post__target_accounts=account)
        .order_by("-id")
        .only("id", "text")[:200]
    )
    best, best_score = None, 0.0
    for revision in candidates:
        if normalize_text(revision.text) == wanted:
            return MatchStatus.MATCHED, revision, 100.0
        score = fuzz.ratio(normalize_text(revision.text), wanted)
        if score > best_score:
            best, best_score = revision, score
    if best is not None and best_score >= SIMILAR_ENOUGH:
        return MatchStatus.DIFFERS, best, best_score
    return MatchStatus.UNMATCHED, None, best_score


def supervisors_of(account: MediaAccount):
    from accounts.models import User

    return User.objects.filter(
        pk__in=Membership.objects.active()
        .filter(organization_id=account.supervising_organization_id, role=Role.SUPERVISOR)
        .values("user_id")
    )


@transaction.atomic
def published_post_report(*, actor, account: MediaAccount, platform_post_id: str, text: str,
                          url: str = "", published_at=None) -> tuple[PublishedPost, bool]:
    """A collector reports a post seen on a platform. Idempotent by platform and
    platform post id: a repeated report returns the first and changes nothing.
    Returns (row, created)."""
    role = require(actor, Action.CHANGE, account.organization) if actor else ""
    platform_post_id = (platform_post_id or "").strip()
    if not platform_post_id or len(platform_post_id) > 128:
        raise ValidationFailed(_("A platform post id is required."),
                               fields={"platform_post_id": [_("Required (at most 128).")]})
    if not (text or "").strip():
        raise ValidationFailed(_("The text is required."), fields={"text": [_("Required.")]})
    existing = PublishedPost.objects.filter(platform_id=account.platform_id,
                                            platform_post_id=platform_post_id).first()
    if existing is not None:
        return existing, False
    status, revision, score = _match(account, text)
    target = None
    if status == MatchStatus.UNMATCHED:
        target = _directed_repost(account, text, url or "")
        if target is not None:
            status, score = MatchStatus.DIRECTED_REPOST, 100.0
    row = PublishedPost(platform_id=account.platform_id, platform_post_id=platform_post_id,
                        account=account, org_path=account.org_path, text=text, url=url or "",
                        published_at=published_at or timezone.now(), reported_by=actor,
                        match_status=status, matched_revision=revision, similarity=score,
                        directive_target=target)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # a concurrent report of the same post won
        return PublishedPost.objects.get(platform_id=account.platform_id,
                                         platform_post_id=platform_post_id), False
    audit_record(actor=actor, action="moderation.published_post_report", target=row,
                 organization=account.organization, role=role,
                 after={"match": status, "revision": revision.pk if revision else None,
                        "directive_target": target.pk if target else None})
    # Activity truth (DOMAIN.md rule 23): whatever it was, the account posted.
    media_account_record_posts(latest={account.pk: row.published_at})
    if account.status == AccountStatus.CANCELLED:
        # DOMAIN.md rule 32: its own finding, whatever the text matched.
        _flag(row, account, FlagKind.CANCELLED_ACCOUNT_POSTED)
    elif status == MatchStatus.DIRECTED_REPOST:
        _reconcile_repost(target, row, actor)
    elif status != MatchStatus.MATCHED:
        _flag(row, account, FlagKind.UNAPPROVED_PUBLICATION
              if status == MatchStatus.UNMATCHED else FlagKind.TEXT_DIFFERS)
    return row, True


# Directives whose targets a collector report may be the repost of.
REPOST_LOOKBACK_DAYS = 30
_MIN_TITLE = 4


def _directed_repost(account: MediaAccount, text: str, url: str) -> DirectiveTarget | None:
    """The directive target this reported post is the repost of, if any (DOMAIN.md
    rule 15): a target of this account whose confirmed repost URL is the reported
    URL, or whose directive's source URL or title the reported text carries. One
    query over the account's recent targets."""
    since = timezone.now() - timedelta(days=REPOST_LOOKBACK_DAYS)
    targets = list(
        DirectiveTarget.objects.filter(account=account, directive__issued_at__gte=since)
        .select_related("directive")
        .order_by("-directive__issued_at", "-id")[:50]
    )
    wanted = normalize_text(text)
    for target in targets:
        directive = target.directive
        if url and target.repost_url and url == target.repost_url:
            return target
        if directive.source_url and (directive.source_url in text or directive.source_url == url):
            return target
        title = normalize_text(directive.title)
        if len(title) >= _MIN_TITLE and title in wanted:
            return target
    return None


def _reconcile_repost(target: DirectiveTarget, row: PublishedPost, actor) -> None:
    """A collector saw the repost: confirm the target with the reported URL when the
    operator has not yet (through the one confirmation service, so its checks and
    audit apply); nothing is flagged."""
    if target.confirmed_at is not None or actor is None or not row.url:
        return
    if not url_on_platform(target.platform, row.url):
        return
    from moderation.services.directives import target_confirm

    target_confirm(target=target, actor=actor, repost_url=row.url)


def _flag(row: PublishedPost, account: MediaAccount, kind: str) -> Flag:
    message = {
        FlagKind.UNAPPROVED_PUBLICATION: _("%(account)s published a post that was never approved."),
        FlagKind.TEXT_DIFFERS: _(
            "%(account)s published a text that differs from the approved revision."
        ),
        FlagKind.CANCELLED_ACCOUNT_POSTED: _(
            "%(account)s is cancelled in the registry but posted again on the platform."
        ),
    }[kind] % {"account": account.display_name}
    flag = Flag.objects.create(kind=kind, organization=account.organization,
                               org_path=account.org_path, published_post=row,
                               message=message[:300])
    audit_record(actor=None, action="moderation.flag_raise", target=flag,
                 organization=account.organization, after={"kind": kind})
    notify(recipients=list(supervisors_of(account)),
           organization=account.supervising_organization, kind=f"moderation.{kind}",
           message=message, dedupe_key=f"flag:{flag.pk}",
           url=reverse("moderation:flag_list"), target=flag)
    return flag


@transaction.atomic
def flag_resolve(*, flag: Flag, actor, resolution: str) -> Flag:
    flag = Flag.objects.select_for_update(of=("self",)).select_related("organization").get(pk=flag.pk)
    role = require(actor, Action.CHANGE, flag.organization)
    if Role.SUPERVISOR not in roles_of(actor):
        raise PermissionDenied(_("Only supervisors resolve flags."), code="not_supervisor")
    if flag.resolved_at:
        raise Conflict(_("This flag is already resolved."), code="already_resolved")
    if not resolution.strip():
        raise ValidationFailed(_("Say how it was resolved."),
                               fields={"resolution": [_("Required.")]})
    flag.resolved_at = timezone.now()
    flag.resolved_by = actor
    flag.resolution = resolution.strip()[:2000]
    flag.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    audit_record(actor=actor, action="moderation.flag_resolve", target=flag,
                 organization=flag.organization, role=role,
                 after={"resolution": flag.resolution})
    return flag
