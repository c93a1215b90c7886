"""Scoped reads of moderation: lists with constant query counts, the reviewer
queue, revision diffs, directive progress."""

from __future__ import annotations

from django.db.models import Count, F, Prefetch, Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from accounts.models import Membership, Role
from accounts.scoping import Action, scope_for
from moderation.models import (
    DirectiveTarget,
    Flag,
    Importance,
    Post,
    PostRevision,
    PostStatus,
    RepostDirective,
    ReviewRole,
    ReviewStep,
)
from registry.models import MediaAccount

REVIEW_ROLES = set(ReviewRole.values)


def post_list(user, *, mine: bool = False, status: str | None = None):
    qs = (
        Post.objects.visible_to(user, Action.VIEW)
        .select_related("organization", "author", "current_revision")
        .prefetch_related("target_accounts__platform")
    )
    if mine:
        qs = qs.filter(author=user)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def review_queue(user):
    """What waits on the user: in-review posts whose current step needs a role the
    user holds in the post's organization, never their own, oldest first.

    SECURITY: outsourced operators get nothing (they never review); the role is
    re-checked at decision time by the review service."""
    pairs = list(
        Membership.objects.active()
        .filter(user=user, role__in=REVIEW_ROLES)
        .values_list("organization_id", "role")
    )
    outsourced = set(
        Membership.objects.active()
        .filter(user=user, role=Role.OUTSOURCED_OPERATOR)
        .values_list("organization_id", flat=True)
    )
    cond = Q()
    for org_id, role in pairs:
        if org_id not in outsourced:
            cond |= Q(organization_id=org_id, awaiting_role=role)
    if not cond:
        return Post.objects.none()
    return (
        Post.objects.filter(cond, status=PostStatus.IN_REVIEW)
        .exclude(author=user)
        .select_related("organization", "author", "current_revision")
        .order_by("submitted_at", "id")
    )


def post_detail(user, pk: int) -> Post:
    from accounts.scoping import get_visible_or_404

    return get_visible_or_404(
        Post.objects.select_related("organization", "author", "current_revision", "corrects")
        .prefetch_related(
            "target_accounts__platform",
            "attachments",
            Prefetch("revisions", queryset=PostRevision.objects.select_related("created_by")),
            Prefetch("steps", queryset=ReviewStep.objects.select_related("decided_by",
                                                                         "revision")),
            "publications__account__platform",
            "signoffs__revision",
        ),
        user,
        pk=pk,
    )


def current_steps(post: Post) -> list[ReviewStep]:
    return [s for s in post.steps.all() if s.round == post.review_round]


# SECURITY: bounded work per request. difflib's SequenceMatcher is quadratic: a
# 20,000-character post held a web worker past its timeout. diff-match-patch (Myers'
# O(ND) with common prefix/suffix and half-match speed-ups) stops refining at the
# deadline and returns a coarser but still exact diff; bench/ measures it.
DIFF_TIMEOUT_SECONDS = 0.1


def revision_diff_html(old: str, new: str) -> str:
    """Character-level diff of two texts as HTML: <del> for removed, <ins> for added.
    Chinese has no word boundaries, so characters are the unit; the semantic clean-up
    merges fragments into readable runs."""
    from diff_match_patch import diff_match_patch

    dmp = diff_match_patch()
    dmp.Diff_Timeout = DIFF_TIMEOUT_SECONDS
    diffs = dmp.diff_main(old, new)
    dmp.diff_cleanupSemantic(diffs)
    out = []
    for op, text in diffs:
        if op == dmp.DIFF_EQUAL:
            out.append(escape(text))
        elif op == dmp.DIFF_DELETE:
            out.append(f"<del>{escape(text)}</del>")
        else:
            out.append(f"<ins>{escape(text)}</ins>")
    return mark_safe("".join(out).replace("\n", "<br>"))  # noqa: S308 - every part escaped


# The revision fields the diff compares besides the text, with their form labels.
DIFF_FIELDS = (
    ("title", _("Title")),
    ("column_tag", _("Column or topic")),
    ("importance", _("Importance")),
    ("is_repost", _("This is a repost")),
    ("repost_source", _("Repost source")),
    ("scheduled_at", _("Scheduled publication")),
    ("links", _("Links")),
    ("account_ids", _("Target accounts")),
    ("attachment_names", _("Attachments")),
)


def _add_displays(fields: list[dict]) -> None:
    """Readable values for the page (`from_display`, `to_display`): labels instead of
    codes, account names instead of ids (one query, only when the accounts changed)."""
    names = {}
    accounts = [f for f in fields if f["field"] == "account_ids"]
    if accounts:
        ids = set(accounts[0]["from"] or []) | set(accounts[0]["to"] or [])
        names = {pk: f"{name} · {platform}" for pk, name, platform in
                 MediaAccount.objects.filter(pk__in=ids)
                 .values_list("pk", "display_name", "platform__name")}

    def show(name, value) -> str:
        if value in (None, "", []):
            return "—"
        if name == "importance":
            return str(Importance(value).label) if value in Importance.values else value
        if name == "is_repost":
            return str(_("Yes") if value else _("No"))
        if name == "scheduled_at":
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        separator = pgettext("list separator", ", ")
        if name == "account_ids":
            return separator.join(names.get(pk, f"#{pk}") for pk in value)
        if isinstance(value, list):
            return separator.join(str(v) for v in value)
        return str(value)

    for f in fields:
        f["from_display"] = show(f["field"], f["from"])
        f["to_display"] = show(f["field"], f["to"])


def revision_pair_diff(post: Post, from_number: int | None, to_number: int | None) -> dict:
    revisions = {r.number: r for r in post.revisions.all()}
    if not revisions:
        return {}
    to_number = to_number if to_number in revisions else max(revisions)
    if from_number not in revisions:
        # Default: what changed since the last revision a reviewer approved, or the
        # previous revision.
        approved = [s.revision.number for s in post.steps.all()
                    if s.status == "approved" and s.revision.number < to_number]
        from_number = max(approved) if approved else max(to_number - 1, min(revisions))
    old, new = revisions[from_number], revisions[to_number]
    fields = []
    for name, label in DIFF_FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            fields.append({"field": name, "from": a, "to": b, "label": str(label)})
    _add_displays(fields)
    return {
        "from": from_number,
        "to": to_number,
        "html": revision_diff_html(old.text, new.text),
        "fields": fields,
    }


def directive_list(user):
    """Directives the user sees: those issued in their scope and those targeting
    accounts in it (RepostDirective.objects.visible_to). `targets_seen` and
    `confirmed` count only the targets the user sees, so an operator reads the
    progress of their own accounts, a supervisor that of their jurisdiction."""
    seen = scope_for(user, Action.VIEW).q("targets__org_path")
    return (
        RepostDirective.objects.visible_to(user)
        .select_related("organization", "issued_by")
        .annotate(
            targets_seen=Count("targets", filter=seen),
            confirmed=Count("targets", filter=seen & Q(targets__confirmed_at__isnull=False)),
            open_overdue=Count("targets", filter=seen & Q(targets__confirmed_at__isnull=True,
                                                          targets__due_at__lt=timezone.now())),
        )
        .order_by("-id")
    )


def directive_progress(directive: RepostDirective, user) -> dict:
    """Completion by organization, in one aggregate query over the targets the user
    may see."""
    now = timezone.now()
    rows = (
        DirectiveTarget.objects.visible_to(user)
        .filter(directive=directive)
        .values("organization_id", "organization__name", "organization__path")
        .annotate(
            total=Count("id"),
            confirmed=Count("id", filter=Q(confirmed_at__isnull=False)),
            late=Count("id", filter=Q(confirmed_at__isnull=False, confirmed_at__gt=F("due_at"))),
            overdue=Count("id", filter=Q(confirmed_at__isnull=True, due_at__lt=now)),
        )
        .order_by("organization__path")  # the tree's order: a province before its cities
    )
    by_org = [
        {"organization": r["organization_id"], "name": r["organization__name"],
         "total": r["total"], "confirmed": r["confirmed"], "late": r["late"],
         "overdue": r["overdue"]}
        for r in rows
    ]
    total = sum(r["total"] for r in by_org)
    confirmed = sum(r["confirmed"] for r in by_org)
    return {
        "directive": directive.pk,
        "total": total,
        "confirmed": confirmed,
        "overdue": sum(r["overdue"] for r in by_org),
        "percent": round(100 * confirmed / total, 1) if total else 0.0,
        "organizations": by_org,
        "as_of": now.isoformat(),
    }


def my_targets(user):
    """Open directive targets on accounts of the user's own organizations."""
    return (
        DirectiveTarget.objects.visible_to(user, Action.CHANGE)
        .select_related("directive", "account__platform", "organization")
        .order_by("confirmed_at", "due_at")
    )


def flag_list(user, *, open_only: bool = True):
    qs = Flag.objects.visible_to(user).select_related(
        "organization", "published_post__account__platform", "resolved_by")
    if open_only:
        qs = qs.filter(resolved_at__isnull=True)
    return qs.order_by("-id")


OPERATING_ROLES = (Role.OPERATOR, Role.OUTSOURCED_OPERATOR)


def operated_accounts_q(user, prefix: str = "account__") -> Q:
    """Accounts the user operates: named among the account's operators, or holding an
    operator role in the account's organization (the same people the directive
    notifications reach). Built from the memberships cached on the user: no query."""
    from accounts.scoping import memberships_of

    orgs = [m.organization_id for m in memberships_of(user) if m.role in OPERATING_ROLES]
    cond = Q(**{f"{prefix}operators": user})
    if orgs:
        cond |= Q(**{f"{prefix}organization_id__in": orgs})
    return cond


def targets_to_repost(user):
    """Open directive targets on accounts the user operates, overdue first."""
    ids = DirectiveTarget.objects.filter(operated_accounts_q(user), confirmed_at__isnull=True)
    return (
        DirectiveTarget.objects.visible_to(user, Action.CHANGE)
        .filter(pk__in=ids.values("pk"))
        .select_related("directive", "account__platform", "organization")
        .order_by("due_at", "id")
    )
