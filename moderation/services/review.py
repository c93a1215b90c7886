"""Tiered review: one transition service decides every step.

The steps of a round follow from the post's importance (moderation.models.
REVIEW_CHAIN) and are decided in order. Reviewers are resolved from the roles they
hold in the post's organization at the moment they decide. The post row is locked
(select_for_update) for the whole decision, so two concurrent approvals of the same
step serialize: the second finds the step decided and fails with a Conflict.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.scoping import Action, require, roles_of
from audit.services import audit_record, audit_record_bulk
from common.errors import Conflict, PermissionDenied, ValidationFailed
from moderation.models import (
    EXPIRING_STATUSES,
    REVIEW_CHAIN,
    Importance,
    Post,
    PostStatus,
    ReviewStep,
    SignOffSheet,
    StepStatus,
)
from moderation.services.posts import notify_step
from notifications.services import notify


class Decision:
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


# What each decision does to the step and to the post.
STEP_OUTCOME = {
    Decision.APPROVE: StepStatus.APPROVED,
    Decision.REJECT: StepStatus.REJECTED,
    Decision.REQUEST_CHANGES: StepStatus.CHANGES_REQUESTED,
}
POST_OUTCOME = {
    Decision.REJECT: PostStatus.REJECTED,
    Decision.REQUEST_CHANGES: PostStatus.CHANGES_REQUESTED,
}


def _check_reviewer(actor, post: Post, step: ReviewStep) -> str:
    role, _deputy = _check_reviewer_as(actor, post, step)
    return role


def _check_reviewer_as(actor, post: Post, step: ReviewStep):
    """SECURITY: no self-approval, outsourced operators never decide, and the actor
    must hold the step's role in the post's organization right now, or be appointed
    its deputy (代签) for today. Returns (role, the deputy appointment or None)."""
    from moderation.services.deputies import deputy_for

    require(actor, Action.VIEW, post.organization)
    held = roles_of(actor, post.organization)
    if Role.OUTSOURCED_OPERATOR in held:
        raise PermissionDenied(_("Outsourced operators cannot review posts."),
                               code="outsourced_cannot_review")
    authors = set(post.revisions.values_list("created_by_id", flat=True)) | {post.author_id}
    if actor.pk in authors:
        raise PermissionDenied(_("No one reviews their own post."), code="self_review")
    deputy = None
    if step.role not in held:
        deputy = deputy_for(actor, post.organization_id, step.role)
        if deputy is None:
            raise PermissionDenied(
                _("This step needs the %(role)s of the post's organization.")
                % {"role": step.get_role_display()},
                code="not_reviewer",
            )
        if deputy.on_behalf_of_id in authors:
            raise PermissionDenied(
                _("A deputy cannot decide a post written by the person they act for."),
                code="self_review",
            )
    already = ReviewStep.objects.filter(
        post=post, round=post.review_round, decided_by=actor
    ).exclude(pk=step.pk)
    if already.exists() and not sole_holder(actor, post, step.role, authors):
        raise PermissionDenied(_("One person decides one step of a review."),
                               code="one_step_per_person")
    return step.role, deputy


def sole_holder(actor, post: Post, role: str, authors: set[int]) -> bool:
    """Whether `actor` is the only one (besides the authors) holding `role` in the
    post's organization: a township where one person holds two review roles may
    then decide both steps (DOMAIN.md rule 10), recorded as such."""
    from accounts.models import Membership

    others = Membership.objects.active().filter(
        organization=post.organization, role=role, user__is_active=True
    ).exclude(user_id__in=authors | {actor.pk})
    return not others.exists()


def _signoff_number(post: Post) -> str:
    year = timezone.localtime().year
    return f"SQ{year}-{post.organization_id:04d}-{post.pk:06d}-{post.current_revision.number:02d}"


@transaction.atomic
def step_decide(*, post: Post, actor, decision: str, comment: str = "",
                step_role: str | None = None, revision_number: int | None = None) -> ReviewStep:
    """Decide the step the post waits for. `step_role` and `revision_number`, when
    given, name what the reviewer saw: a different current step or revision is a
    Conflict (out of order, decided twice, edited meanwhile) and changes nothing."""
    post = Post.objects.select_for_update(of=("self",)).select_related(
        "organization", "current_revision").get(pk=post.pk)
    if decision not in STEP_OUTCOME:
        raise ValidationFailed(_("Unknown decision."), fields={"decision": [_("Unknown.")]})
    if decision != Decision.APPROVE and not comment.strip():
        raise ValidationFailed(_("Say what must change: a comment is required."),
                               code="comment_required",
                               fields={"comment": [_("A comment is required.")]})
    if post.status != PostStatus.IN_REVIEW:
        raise Conflict(_("This post is not waiting for review."), code="not_in_review")
    steps = list(post.steps.filter(round=post.review_round).order_by("order"))
    current = next((s for s in steps if s.status == StepStatus.PENDING), None)
    if current is None:  # defensive: an in-review post always has a pending step
        raise Conflict(_("This post is not waiting for review."), code="not_in_review")
    if step_role and step_role != current.role:
        decided = any(s.role == step_role and s.status != StepStatus.PENDING for s in steps)
        if decided:
            raise Conflict(_("This step has already been decided."), code="already_decided")
        if any(s.role == step_role for s in steps):
            raise Conflict(
                _("Out of order: the post waits for the %(role)s first.")
                % {"role": current.get_role_display()},
                code="out_of_order",
            )
        raise ValidationFailed(_("This post has no such review step."), code="no_such_step",
                               fields={"step": [_("No such step.")]})
    if revision_number is not None and revision_number != post.current_revision.number:
        raise Conflict(_("The post was edited after you opened it; review the new revision."),
                       code="stale_revision")
    role, deputy = _check_reviewer_as(actor, post, current)
    # A sole holder of two review roles decides both steps (DOMAIN.md rule 10),
    # recorded as such on the decision.
    sole_reviewer = ReviewStep.objects.filter(
        post=post, round=post.review_round, decided_by=actor
    ).exclude(pk=current.pk).exists()
    if decision == Decision.APPROVE and post.approval_expired:
        raise Conflict(
            _("The scheduled publication time has passed; the approval has expired. "
              "The author must set a new time (review restarts)."),
            code="approval_expired",
        )
    now = timezone.now()
    before = {"status": post.status, "step": current.role}
    current.status = STEP_OUTCOME[decision]
    current.decided_by = actor
    current.decided_at = now
    current.comment = comment.strip()[:2000]
    current.revision = post.current_revision  # pinned to what was approved
    current.on_behalf_of = deputy.on_behalf_of if deputy else None
    current.save(update_fields=["status", "decided_by", "decided_at", "comment", "revision",
                                "on_behalf_of"])
    url = reverse("moderation:post_detail", args=[post.pk])
    if decision == Decision.APPROVE:
        following = [s for s in steps if s.order > current.order]
        if following:
            post.awaiting_role = following[0].role
        else:
            post.awaiting_role = ""
            post.status = PostStatus.APPROVED
            post.approved_at = now
            SignOffSheet.objects.create(post=post, revision=post.current_revision,
                                        number=_signoff_number(post), issued_at=now)
    else:
        post.status = POST_OUTCOME[decision]
        post.awaiting_role = ""
        ReviewStep.objects.filter(post=post, round=post.review_round,
                                  status=StepStatus.PENDING).update(status=StepStatus.SUPERSEDED)
    post.save(update_fields=["status", "awaiting_role", "approved_at", "updated_at"])
    audit_record(actor=actor, action=f"moderation.post_{decision}", target=post,
                 organization=post.organization, role=role, before=before,
                 after={"status": post.status, "step": current.role,
                        "revision": post.current_revision.number, "comment": current.comment,
                        "sole_reviewer_of_several_roles": sole_reviewer,
                        "on_behalf_of": deputy.on_behalf_of.username if deputy else None})
    if decision == Decision.APPROVE and post.status == PostStatus.IN_REVIEW:
        notify_step(post)
    else:
        messages = {
            Decision.APPROVE: _("Your post was approved: %(title)s"),
            Decision.REJECT: _("Your post was rejected: %(title)s"),
            Decision.REQUEST_CHANGES: _("Changes were requested on your post: %(title)s"),
        }
        text = messages[decision] % {"title": str(post)}
        if current.comment:
            text = f"{text} — {current.comment}"
        notify(recipients=[post.author], organization=post.organization,
               kind=f"moderation.post_{decision}", message=text, url=url, target=post,
               dedupe_key=f"post-{decision}:{post.pk}:{post.review_round}:{current.order}")
    return current


IMPORTANCE_RANK = {Importance.GENERAL: 0, Importance.IMPORTANT: 1, Importance.MAJOR: 2}


@transaction.atomic
def post_raise_importance(*, post: Post, actor, importance: str) -> Post:
    """The reviewer of the current step raises the post's importance (DOMAIN.md rule
    10: the tier is not the author's alone): the higher tier's steps join the current
    round in their places; steps already decided stay. Lowering is refused."""
    post = Post.objects.select_for_update(of=("self",)).select_related(
        "organization", "current_revision").get(pk=post.pk)
    if post.status != PostStatus.IN_REVIEW:
        raise Conflict(_("This post is not waiting for review."), code="not_in_review")
    steps = list(post.steps.filter(round=post.review_round).order_by("order"))
    current = next(s for s in steps if s.status == StepStatus.PENDING)
    role = _check_reviewer(actor, post, current)
    if importance not in IMPORTANCE_RANK:
        raise ValidationFailed(_("Unknown importance."),
                               fields={"importance": [_("Choose a listed importance.")]})
    if IMPORTANCE_RANK[importance] <= IMPORTANCE_RANK[post.importance]:
        message = _("A reviewer may raise a post's importance, never lower it (it is %(now)s).") % {
            "now": Importance(post.importance).label}
        raise ValidationFailed(message, code="importance_not_raised",
                               fields={"importance": [message]})
    chain = REVIEW_CHAIN[importance]
    by_role = {s.role: s for s in steps}
    added = [ReviewStep(post=post, revision=post.current_revision, round=post.review_round,
                        order=100 + i, role=r)
             for i, r in enumerate(chain) if r not in by_role]
    # Two passes keep (post, round, order) unique while the steps move.
    for i, existing in enumerate(steps):
        ReviewStep.objects.filter(pk=existing.pk).update(order=200 + i)
    ReviewStep.objects.bulk_create(added)
    for step in [*steps, *added]:
        by_role[step.role] = step
    for i, r in enumerate(chain):
        ReviewStep.objects.filter(pk=by_role[r].pk).update(order=i + 1)
    before = {"importance": post.importance, "awaiting_role": post.awaiting_role}
    post.importance = importance
    post.awaiting_role = next(
        r for r in chain if by_role[r].status == StepStatus.PENDING
    )
    post.save(update_fields=["importance", "awaiting_role", "updated_at"])
    audit_record(actor=actor, action="moderation.importance_raise", target=post,
                 organization=post.organization, role=role, before=before,
                 after={"importance": importance, "awaiting_role": post.awaiting_role,
                        "added_steps": [s.role for s in added]})
    notify_step(post)
    return post


def post_approve(*, post: Post, actor, comment: str = "", step_role: str | None = None,
                 revision_number: int | None = None) -> ReviewStep:
    return step_decide(post=post, actor=actor, decision=Decision.APPROVE, comment=comment,
                       step_role=step_role, revision_number=revision_number)


def post_reject(*, post: Post, actor, comment: str, step_role: str | None = None,
                revision_number: int | None = None) -> ReviewStep:
    return step_decide(post=post, actor=actor, decision=Decision.REJECT, comment=comment,
                       step_role=step_role, revision_number=revision_number)


def post_request_changes(*, post: Post, actor, comment: str, step_role: str | None = None,
                         revision_number: int | None = None) -> ReviewStep:
    return step_decide(post=post, actor=actor, decision=Decision.REQUEST_CHANGES,
                       comment=comment, step_role=step_role, revision_number=revision_number)


def post_approvals_expire(now=None) -> int:
    """The periodic job: posts in review or approved whose scheduled publication
    time has passed unpublished lose their approvals (status "expired"; pending
    steps superseded, so they leave the reviewer queue). The author sets a new time
    (an edit: review starts again) and resubmits.

    Set-based and idempotent: one locking SELECT, two UPDATEs, one bulk audit
    insert and one notification call however many posts expire; a second run finds
    nothing. Rows locked by a reviewer deciding right now are skipped and caught by
    the next run. Returns how many posts expired."""
    now = now or timezone.now()
    with transaction.atomic():
        expiring = list(
            Post.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(status__in=EXPIRING_STATUSES, scheduled_at__lt=now)
            .select_related("organization", "author")
            .order_by("id")
        )
        if not expiring:
            return 0
        ids = [p.pk for p in expiring]
        ReviewStep.objects.filter(post_id__in=ids, status=StepStatus.PENDING).update(
            status=StepStatus.SUPERSEDED)
        Post.objects.filter(pk__in=ids).update(status=PostStatus.EXPIRED, awaiting_role="",
                                               updated_at=now)
        audit_record_bulk(
            actor=None, action="moderation.approval_expire", targets=expiring,
            organization_of=lambda p: p.organization,
            after_of=lambda p: {"before": p.status, "status": PostStatus.EXPIRED,
                                "scheduled_at": p.scheduled_at.isoformat(),
                                "revision_id": p.current_revision_id},
        )
        if len(expiring) == 1:
            post = expiring[0]
            message = _("The scheduled publication time of your post passed before "
                        "publication; its approval expired: %(title)s. Set a new time "
                        "and submit it again.") % {"title": str(post)}
            url, target = reverse("moderation:post_detail", args=[post.pk]), post
        else:
            message = _("The scheduled publication time of some of your posts passed "
                        "before publication; their approvals expired. Set new times and "
                        "submit them again.")
            url, target = reverse("moderation:post_list") + "?mine=1&status=expired", None
        notify(recipients=list({p.author_id: p.author for p in expiring}.values()),
               organization=expiring[0].organization, kind="moderation.approval_expired",
               message=message, url=url, target=target,
               dedupe_key=f"approval-expired:{now.isoformat()}")
    return len(expiring)
