"""Drafting, editing and submitting posts. Every edit makes a new revision; an edit
of a post in review or approved restarts its review."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import Membership, Role
from accounts.scoping import Action, require, roles_of
from audit.services import audit_record, audit_security_event
from common.errors import Conflict, PermissionDenied, ValidationFailed
from common.uploads import max_upload_bytes, upload_check
from moderation import prechecks
from moderation.models import (
    DRAFTER_ROLES,
    EDITABLE_STATUSES,
    REVIEW_CHAIN,
    Importance,
    Post,
    PostAttachment,
    PostKind,
    PostRevision,
    PostStatus,
    ReviewStep,
    StepStatus,
)
from notifications.services import notify
from registry.models import AccountStatus, MediaAccount

MAX_TEXT_LENGTH = 20000
MAX_LINKS = 20
MAX_ATTACHMENTS = 9


def max_attachment_bytes() -> int:
    return getattr(settings, "MODERATION_MAX_ATTACHMENT_BYTES", None) or max_upload_bytes()


EDITABLE_FIELDS = (
    "title", "text", "links", "column_tag", "importance", "is_repost", "repost_source",
    "scheduled_at",
)


def _state(post: Post) -> dict:
    return {
        "status": post.status,
        "revision": post.current_revision.number if post.current_revision_id else None,
        "importance": post.importance,
    }


def _check_fields(data: dict) -> None:
    errors: dict[str, list] = {}
    text = data.get("text")
    if text is not None:
        if not str(text).strip():
            errors["text"] = [_("The text cannot be empty.")]
        elif len(text) > MAX_TEXT_LENGTH:
            errors["text"] = [
                _("The text is too long: %(n)s characters, at most %(max)s.")
                % {"n": len(text), "max": MAX_TEXT_LENGTH}
            ]
    if "importance" in data and data["importance"] not in Importance.values:
        errors["importance"] = [_("Unknown importance.")]
    links = data.get("links")
    if links is not None:
        if not isinstance(links, list) or len(links) > MAX_LINKS:
            errors["links"] = [_("At most %(n)s links.") % {"n": MAX_LINKS}]
        elif any(not str(u).startswith(("http://", "https://")) for u in links):
            errors["links"] = [_("Each link must start with http:// or https://.")]
    if data.get("is_repost") and not str(data.get("repost_source", "")).strip():
        errors["repost_source"] = [_("A repost must name its source.")]
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), fields=errors)


def _resolve_accounts(organization, account_ids, actor) -> list[MediaAccount]:
    """The post's target accounts: active accounts of the post's own organization.

    SECURITY: an account the actor cannot see answers exactly like a missing one."""
    ids = []
    for value in account_ids or []:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise ValidationFailed(
                _("Unknown account."), fields={"account_ids": [_("Unknown account: %s") % value]}
            ) from None
    if not ids:
        raise ValidationFailed(_("Choose at least one target account."),
                               fields={"account_ids": [_("Choose at least one account.")]})
    visible = MediaAccount.objects.visible_to(actor) if actor is not None else MediaAccount.objects
    accounts = {a.pk: a for a in visible.select_related("platform").filter(pk__in=ids)}
    unknown = [i for i in ids if i not in accounts]
    foreign = [i for i in ids if i in accounts and accounts[i].organization_id != organization.pk]
    inactive = [i for i in ids if i in accounts and accounts[i].status != AccountStatus.ACTIVE]
    if unknown:
        raise ValidationFailed(_("Unknown account."), code="unknown_account",
                               fields={"account_ids": [_("Unknown account.")]})
    if foreign:
        raise ValidationFailed(
            _("A post can only target its own organization's accounts."),
            code="foreign_account",
            fields={"account_ids": [_("This account belongs to another organization.")]},
        )
    if inactive:
        raise ValidationFailed(_("Only active accounts can publish."), code="inactive_account",
                               fields={"account_ids": [_("This account is not active.")]})
    return [accounts[i] for i in dict.fromkeys(ids)]


def _next_revision(post: Post, actor, account_ids: list[int]) -> PostRevision:
    """Caller holds the post row lock."""
    last = post.revisions.aggregate(n=Max("number"))["n"] or 0
    revision = PostRevision.objects.create(
        post=post,
        number=last + 1,
        title=post.title,
        text=post.text,
        links=list(post.links),
        column_tag=post.column_tag,
        importance=post.importance,
        is_repost=post.is_repost,
        repost_source=post.repost_source,
        scheduled_at=post.scheduled_at,
        account_ids=sorted(account_ids),
        attachment_names=list(post.attachments.order_by("id").values_list("name", flat=True)),
        created_by=actor,
    )
    post.current_revision = revision
    return revision


def _require_drafter(actor, organization) -> str:
    """DOMAIN.md rule 10: only the organization's drafters (operators, outsourced
    operators, the department head) draft and submit its posts; supervisors,
    liaisons and reviewers do not draft for a department. 404 outside the scope,
    403 otherwise (before any body validation)."""
    role = require(actor, Action.CHANGE, organization)
    held = roles_of(actor, organization) & DRAFTER_ROLES
    if not held:
        raise PermissionDenied(
            _("Only the operators and the department head of %(org)s draft its posts.")
            % {"org": organization.name},
            code="not_a_drafter",
        )
    return sorted(held)[0] if role not in held else role


def require_editor(actor, post: Post) -> str:
    """SECURITY: only the drafters of the post's own organization (operators,
    outsourced operators, the department head) change a post. A reviewer who edited
    would become its author and could no longer approve it; a supervisor or anyone
    else sends it back with "request changes" instead. Raises NotFound outside the
    scope, PermissionDenied otherwise."""
    role = require(actor, Action.CHANGE, post.organization)
    if not roles_of(actor, post.organization) & DRAFTER_ROLES:
        raise PermissionDenied(
            _("Only the operators and the department head of %(org)s edit its posts. "
              "To have it changed, request changes with a comment.")
            % {"org": post.organization.name},
            code="not_an_editor",
        )
    return role


def can_edit(user, post: Post) -> bool:
    """Whether the page offers the Edit button: the post can still change, and the
    user is its author or an operator of its organization. (A department head may
    edit through the API too, but is not invited to: editing forfeits their
    approval.)"""
    if post.status not in EDITABLE_STATUSES:
        return False
    held = roles_of(user, post.organization)
    if not held & DRAFTER_ROLES:
        return False
    return post.author_id == user.pk or bool(
        held & {Role.OPERATOR, Role.OUTSOURCED_OPERATOR})


@transaction.atomic
def post_create(
    *, actor, organization, text: str, account_ids: list, title: str = "",
    links: list | None = None, column_tag: str = "", importance: str = Importance.GENERAL,
    is_repost: bool = False, repost_source: str = "", scheduled_at=None,
    kind: str = PostKind.ORIGINAL, corrects: Post | None = None,
) -> Post:
    role = _require_drafter(actor, organization)
    data = dict(title=title, text=text, links=links or [], column_tag=column_tag,
                importance=importance, is_repost=is_repost, repost_source=repost_source,
                scheduled_at=scheduled_at)
    _check_fields(data)
    if kind not in PostKind.values:
        raise ValidationFailed(_("Unknown kind."), fields={"kind": [_("Unknown kind.")]})
    if kind != PostKind.ORIGINAL:
        if corrects is None or corrects.organization_id != organization.pk:
            raise ValidationFailed(
                _("A correction or apology names the original post of the same organization."),
                fields={"corrects": [_("Choose the original post.")]},
            )
    elif corrects is not None:
        raise ValidationFailed(_("Only corrections and apologies link to an original."),
                               fields={"corrects": [_("Not allowed for a post.")]})
    accounts = _resolve_accounts(organization, account_ids, actor)
    post = Post(organization=organization, org_path=organization.path, author=actor,
                kind=kind, corrects=corrects, **data)
    post.full_clean(exclude=["current_revision", "author", "organization", "corrects"])
    post.save()
    post.target_accounts.set(accounts)
    revision = _next_revision(post, actor, [a.pk for a in accounts])
    post.save(update_fields=["current_revision"])
    audit_record(actor=actor, action="moderation.post_create", target=post,
                 organization=organization, role=role,
                 after={**_state(post), "revision": revision.number, "kind": kind})
    return post


def _lock(post: Post) -> Post:
    return Post.objects.select_for_update(of=("self",)).select_related("organization").get(pk=post.pk)


def _restart_review(post: Post, actor, role: str, reason: str) -> None:
    """Close the round in progress: its decisions stay in the history, pinned to the
    revision they were made on, and count for nothing any more."""
    if post.status not in (PostStatus.IN_REVIEW, PostStatus.APPROVED,
                           PostStatus.CHANGES_REQUESTED, PostStatus.EXPIRED):
        return
    before = _state(post)
    ReviewStep.objects.filter(post=post, round=post.review_round,
                              status=StepStatus.PENDING).update(status=StepStatus.SUPERSEDED)
    post.status = PostStatus.DRAFT
    post.awaiting_role = ""
    post.approved_at = None
    audit_record(actor=actor, action="moderation.review_restart", target=post,
                 organization=post.organization, role=role, before=before,
                 after={"status": post.status, "reason": reason})


@transaction.atomic
def post_update(*, post: Post, actor, account_ids: list | None = None, **changes) -> Post:
    """Edit a post: a new revision; review restarts if it was under way or done."""
    post = _lock(post)
    role = require_editor(actor, post)
    if post.status not in EDITABLE_STATUSES:
        raise Conflict(_("A rejected or published post cannot be edited; "
                         "publish a correction instead."), code="not_editable")
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown fields."),
                               fields={k: [_("Unknown field.")] for k in unknown})
    merged = {f: getattr(post, f) for f in EDITABLE_FIELDS} | changes
    _check_fields(merged)
    current_ids = sorted(post.current_revision.account_ids) if post.current_revision else []
    if account_ids is not None:
        accounts = _resolve_accounts(post.organization, account_ids, actor)
        new_ids = sorted(a.pk for a in accounts)
    else:
        accounts, new_ids = None, current_ids
    changed = {f for f in changes if changes[f] != getattr(post, f)}
    if not changed and new_ids == current_ids:
        return post
    _restart_review(post, actor, role, "edit")
    for f in changed:
        setattr(post, f, changes[f])
    if accounts is not None:
        post.target_accounts.set(accounts)
    revision = _next_revision(post, actor, new_ids)
    post.save()
    audit_record(actor=actor, action="moderation.post_update", target=post,
                 organization=post.organization, role=role,
                 after={"revision": revision.number, "changed": sorted(changed)})
    return post


@transaction.atomic
def attachment_add(*, post: Post, actor, upload) -> PostAttachment:
    """Attach a file (a new revision: reviewers must see what changed). The file
    must pass the upload allow-list (common.uploads.upload_check); its sniffed
    content type is kept and is what the download serves."""
    post = _lock(post)
    role = require_editor(actor, post)
    if post.status not in EDITABLE_STATUSES:
        raise Conflict(_("This post can no longer be changed."), code="not_editable")
    if post.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationFailed(_("At most %(n)s attachments.") % {"n": MAX_ATTACHMENTS},
                               fields={"file": [_("Too many attachments.")]})
    # SECURITY: the allow-list by content, the extension agreeing (common.uploads).
    checked = upload_check(upload, field="file", max_bytes=max_attachment_bytes())
    name = checked.name
    attachment = PostAttachment(post=post, file=upload, name=name, size=checked.size,
                                content_type=checked.content_type, uploaded_by=actor)
    attachment.full_clean(exclude=["file"])
    attachment.save()
    _restart_review(post, actor, role, "attachment")
    revision = _next_revision(post, actor, post.current_revision.account_ids)
    post.save()
    audit_record(actor=actor, action="moderation.attachment_add", target=post,
                 organization=post.organization, role=role,
                 after={"name": name, "size": upload.size, "revision": revision.number})
    return attachment


def attachment_download_record(*, attachment: PostAttachment, actor) -> None:
    """A download of an attachment is a security event: drafts under review are not
    public yet, and who read them is what an inquiry asks (MLPS: audited reads)."""
    post = attachment.post
    audit_security_event(
        action="moderation.attachment_download", subject=actor,
        organization=post.organization, target=attachment,
        after={"post": post.pk, "name": attachment.name},
    )


def post_platforms(post: Post) -> list[tuple[str, str, int | None]]:
    return sorted({(a.platform.code, a.platform.name, a.platform.max_post_length)
                   for a in post.target_accounts.select_related("platform")})


def precheck_post(post: Post) -> list[prechecks.Hit]:
    return prechecks.run_prechecks(
        text=post.text, org_path=post.org_path, links=post.links, is_repost=post.is_repost,
        repost_source=post.repost_source, platforms=post_platforms(post),
    )


def reviewers_for(post: Post, role: str):
    """Who may decide a step now: the holders of the role in the post's organization
    (resolved at the time of review), never the author."""
    from accounts.models import User
    from moderation.services.deputies import active_deputies

    holders = Membership.objects.active().filter(
        organization_id=post.organization_id, role=role
    ).values("user_id")
    deputies = active_deputies(post.organization_id, role).values("deputy_id")
    return User.objects.filter(
        Q(pk__in=holders) | Q(pk__in=deputies), is_active=True
    ).exclude(pk=post.author_id)


def notify_step(post: Post) -> None:
    if not post.awaiting_role:
        return
    notify(
        recipients=list(reviewers_for(post, post.awaiting_role)),
        organization=post.organization,
        kind="moderation.review_waiting",
        message=_("A post waits for your review: %(title)s") % {"title": str(post)},
        dedupe_key=f"post-review:{post.pk}:{post.review_round}:{post.awaiting_role}",
        url=reverse("moderation:post_detail", args=[post.pk]),
        target=post,
    )


def notify_emergency(post: Post, chain: list[str]) -> None:
    """The emergency review path: every reviewer of the chain is alerted at once, not
    only the first step's (each step is still decided and recorded in order)."""
    from accounts.models import User

    recipients = User.objects.none()
    for role in chain:
        recipients = recipients | reviewers_for(post, role)
    notify(
        recipients=list(recipients.distinct()),
        organization=post.organization,
        kind="moderation.emergency_review",
        message=_("Emergency review (%(event)s): %(title)s is submitted; be ready to "
                  "decide your step at once.") % {"event": post.event_label,
                                                   "title": str(post)},
        dedupe_key=f"post-emergency:{post.pk}:{post.review_round}",
        url=reverse("moderation:post_detail", args=[post.pk]),
        target=post,
    )


@transaction.atomic
def post_link_event(*, post: Post, actor, event_ref: str) -> Post:
    """Link a draft to an open public-opinion event or emergency (or unlink it with
    an empty `event_ref`): its review then takes the emergency path. Only a drafter
    of the post's organization, before submission; the event must be open and
    cover the post's organization (moderation.emergency)."""
    from moderation.emergency import event_choice

    post = _lock(post)
    role = _require_drafter(actor, post.organization)
    if post.status not in (PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED):
        raise Conflict(_("Only a draft can be linked to an event."), code="not_draft")
    event_ref = (event_ref or "").strip()
    label = ""
    if event_ref:
        choice = event_choice(post.organization, event_ref)
        if choice is None:
            raise ValidationFailed(
                _("No open public-opinion event covering this organization has this "
                  "reference."),
                code="no_such_event",
                fields={"event": [_("Choose an open event.")]},
            )
        label = choice.label[:200]
    before = {"event": post.event_ref}
    post.event_ref, post.event_label = event_ref, label
    post.save(update_fields=["event_ref", "event_label", "updated_at"])
    audit_record(actor=actor, action="moderation.post_link_event", target=post,
                 organization=post.organization, role=role, before=before,
                 after={"event": event_ref, "label": label})
    return post


def _require_reviewers(post: Post, chain: list[str]) -> None:
    """DOMAIN.md rule 10: a submission whose review needs a role nobody but the
    post's authors holds in the organization would wait forever: refuse it, naming
    the vacant role. One query."""
    from accounts.models import Membership
    from moderation.models import ReviewRole

    authors = set(post.revisions.values_list("created_by_id", flat=True)) | {post.author_id}
    holders: dict[str, set[int]] = {}
    for role, user_id in Membership.objects.active().filter(
        organization=post.organization, role__in=chain, user__is_active=True
    ).values_list("role", "user_id"):
        holders.setdefault(role, set()).add(user_id)
    from moderation.services.deputies import active_deputies

    # A deputy appointed for the role (代签) counts, unless acting for an author.
    for role, deputy_id, for_id in active_deputies(post.organization_id, chain).values_list(
        "role", "deputy_id", "on_behalf_of_id"
    ):
        if for_id not in authors:
            holders.setdefault(role, set()).add(deputy_id)
    vacant = [r for r in chain if not (holders.get(r, set()) - authors)]
    if vacant:
        names = "、".join(str(ReviewRole(r).label) for r in vacant)
        message = _(
            "Nobody but the author holds the role of %(roles)s in %(org)s, so the review "
            "could never finish. Ask the security administrator to appoint one."
        ) % {"roles": names, "org": post.organization.name}
        raise ValidationFailed(message, code="reviewer_vacant", fields={"importance": [message]})


@transaction.atomic
def post_submit(*, post: Post, actor, overrides: dict[str, str] | None = None) -> Post:
    """Submit the current revision for review. Hard pre-check hits block; each soft
    hit needs an override with a reason (recorded on the revision)."""
    post = _lock(post)
    role = _require_drafter(actor, post.organization)
    if post.status not in (PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED):
        raise Conflict(_("Only a draft can be submitted."), code="not_draft")
    if post.scheduled_at and post.scheduled_at <= timezone.now():
        raise ValidationFailed(_("The scheduled publication time has passed."),
                               code="schedule_passed",
                               fields={"scheduled_at": [_("Choose a time in the future.")]})
    hits = precheck_post(post)
    hard, soft = prechecks.split_hits(hits)
    if hard:
        raise ValidationFailed(
            _("The pre-checks found problems that must be fixed: %(list)s")
            % {"list": "; ".join(f"{h.message}: {h.term}" for h in hard[:10])},
            code="precheck_blocked",
            fields={"text": [f"{h.message}: {h.term}" for h in hard]},
        )
    overrides = {k: (v or "").strip() for k, v in (overrides or {}).items()}
    missing = sorted({h.key for h in soft if not overrides.get(h.key)})
    if missing:
        # People read the hit's kind and term; the API's `fields` keep the keys.
        named = {h.key: f"{h.message}: {h.term}" for h in soft}
        raise ValidationFailed(
            _("Each soft pre-check hit needs an override with a reason: %(list)s")
            % {"list": pgettext("list separator", ", ").join(named[k] for k in missing)},
            code="override_required",
            fields={"overrides": missing},
        )
    now = timezone.now()
    revision = post.current_revision
    keys = {h.key: h for h in soft}
    revision.precheck_hits = [h.as_dict() for h in hits]
    revision.overrides = [
        {"key": k, "kind": keys[k].kind, "term": keys[k].term, "reason": overrides[k][:500],
         "by": actor.pk, "by_label": str(actor), "at": now.isoformat()}
        for k in sorted(keys)
    ]
    revision.save(update_fields=["precheck_hits", "overrides"])
    chain = REVIEW_CHAIN[post.importance]
    _require_reviewers(post, chain)
    post.review_round += 1
    ReviewStep.objects.bulk_create([
        ReviewStep(post=post, revision=revision, round=post.review_round, order=i + 1, role=r)
        for i, r in enumerate(chain)
    ])
    before = _state(post)
    post.status = PostStatus.IN_REVIEW
    post.awaiting_role = chain[0]
    post.submitted_at = now
    post.save(update_fields=["review_round", "status", "awaiting_role", "submitted_at",
                             "updated_at"])
    audit_record(actor=actor, action="moderation.post_submit", target=post,
                 organization=post.organization, role=role, before=before,
                 after={**_state(post), "overrides": revision.overrides})
    notify_step(post)
    if post.event_ref:
        notify_emergency(post, chain)
    return post
