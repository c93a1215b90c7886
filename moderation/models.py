"""Posts and their revisions, pre-check dictionaries, tiered review, publication
records, flags, and repost directives.

Hot tables (posts, directive targets) keep a copy of the owning organization's path
(`org_path`) so that "everything below X" is one indexed prefix query.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, Role
from accounts.querysets import ScopedQuerySet
from registry.models import MediaAccount, Platform

PATH_OPS = ["varchar_pattern_ops"]


# --- Pre-check dictionaries ------------------------------------------------------------
class TermKind(models.TextChoices):
    SENSITIVE = "sensitive", _("Sensitive word")
    BANNED = "banned", _("Banned word")
    COMMON_ERROR = "common_error", _("Common error")
    ADVERTISING = "advertising", _("Advertising word")
    APPROVED_SOURCE = "approved_source", _("Approved source")
    ALLOWED_DOMAIN = "allowed_domain", _("Allowed link domain")


# Kinds matched inside the text (the others are lists consulted by other checks).
MATCHED_KINDS = {
    TermKind.SENSITIVE,
    TermKind.BANNED,
    TermKind.COMMON_ERROR,
    TermKind.ADVERTISING,
}


class Severity(models.TextChoices):
    HARD = "hard", _("Blocks submission")
    SOFT = "soft", _("Needs an override with a reason")


class Dictionary(models.Model):
    """A list of terms kept by an organization; it applies to the organization and
    everything below it. `version` is bumped by every change of its terms, so the
    pre-check matcher of an organization chain is rebuilt only when one changed."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("organization")
    )
    org_path = models.CharField(max_length=255, editable=False)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=TermKind.choices)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("dictionary")
        verbose_name_plural = _("dictionaries")
        ordering = ["org_path", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "name"], name="dictionary_unique_name"
            )
        ]
        indexes = [
            models.Index(fields=["org_path"], name="dictionary_path_idx", opclasses=PATH_OPS)
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Term(models.Model):
    dictionary = models.ForeignKey(Dictionary, on_delete=models.CASCADE, related_name="terms")
    term = models.CharField(_("term"), max_length=200)
    suggestion = models.CharField(_("suggestion"), max_length=200, blank=True)
    severity = models.CharField(
        _("severity"), max_length=4, choices=Severity.choices, default=Severity.SOFT
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("term")
        verbose_name_plural = _("terms")
        constraints = [
            models.UniqueConstraint(fields=["dictionary", "term"], name="term_unique_in_dictionary")
        ]

    def __str__(self) -> str:
        return self.term


# --- Posts -----------------------------------------------------------------------------
class Importance(models.TextChoices):
    GENERAL = "general", _("General")
    IMPORTANT = "important", _("Important")
    MAJOR = "major", _("Major")


class PostKind(models.TextChoices):
    ORIGINAL = "original", _("Post")
    CORRECTION = "correction", _("Correction")
    APOLOGY = "apology", _("Apology")


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")
    # The scheduled publication time passed before publication: the approvals (and
    # a review in progress) lapsed; the author sets a new time and resubmits.
    EXPIRED = "expired", _("Approval expired")


EDITABLE_STATUSES = {
    PostStatus.DRAFT,
    PostStatus.IN_REVIEW,
    PostStatus.CHANGES_REQUESTED,
    PostStatus.APPROVED,
    PostStatus.EXPIRED,
}
# Statuses whose approvals lapse when the scheduled publication time passes.
EXPIRING_STATUSES = (PostStatus.IN_REVIEW, PostStatus.APPROVED)
# Who edits a post: the drafters of its organization. A reviewer who edits becomes
# an author of the post and can no longer approve it; a supervisor higher up the
# tree sends it back instead of rewriting it.
DRAFTER_ROLES = frozenset({Role.OPERATOR, Role.OUTSOURCED_OPERATOR, Role.DEPARTMENT_HEAD})
FINAL_STATUSES = {PostStatus.REJECTED, PostStatus.PUBLISHED}


class ReviewRole(models.TextChoices):
    DEPARTMENT_HEAD = Role.DEPARTMENT_HEAD.value, Role.DEPARTMENT_HEAD.label
    LEADER_IN_CHARGE = Role.LEADER_IN_CHARGE.value, Role.LEADER_IN_CHARGE.label
    PRINCIPAL_LEADER = Role.PRINCIPAL_LEADER.value, Role.PRINCIPAL_LEADER.label
    CONFIDENTIALITY_REVIEWER = (
        Role.CONFIDENTIALITY_REVIEWER.value,
        Role.CONFIDENTIALITY_REVIEWER.label,
    )


# Review is sequential: the tier chain by importance, then the confidentiality review
# last, so the confidentiality reviewer signs the text every leader has approved
# (a parallel confidentiality step could approve a text a leader then sends back).
REVIEW_CHAIN: dict[str, list[str]] = {
    Importance.GENERAL: [ReviewRole.DEPARTMENT_HEAD, ReviewRole.CONFIDENTIALITY_REVIEWER],
    Importance.IMPORTANT: [
        ReviewRole.DEPARTMENT_HEAD,
        ReviewRole.LEADER_IN_CHARGE,
        ReviewRole.CONFIDENTIALITY_REVIEWER,
    ],
    Importance.MAJOR: [
        ReviewRole.DEPARTMENT_HEAD,
        ReviewRole.LEADER_IN_CHARGE,
        ReviewRole.PRINCIPAL_LEADER,
        ReviewRole.CONFIDENTIALITY_REVIEWER,
    ],
}


class PostQuerySet(ScopedQuerySet):
    def in_subtree(self, org: Organization):
        return self.filter(org_path__startswith=org.path)


class Post(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("organization")
    )
    org_path = models.CharField(max_length=255, editable=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="authored_posts",
        verbose_name=_("author"),
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=PostKind.choices, default=PostKind.ORIGINAL
    )
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        verbose_name=_("corrects"),
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    text = models.TextField(_("text"))
    links = models.JSONField(_("links"), default=list, blank=True)
    column_tag = models.CharField(_("column or topic"), max_length=60, blank=True)
    importance = models.CharField(
        _("importance"), max_length=10, choices=Importance.choices, default=Importance.GENERAL
    )
    is_repost = models.BooleanField(_("repost"), default=False)
    repost_source = models.CharField(_("repost source"), max_length=200, blank=True)
    scheduled_at = models.DateTimeField(_("scheduled publication"), null=True, blank=True)
    target_accounts = models.ManyToManyField(
        MediaAccount, related_name="posts", verbose_name=_("target accounts")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PostStatus.choices, default=PostStatus.DRAFT
    )
    current_revision = models.ForeignKey(
        "PostRevision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The public-opinion event or emergency the post answers (moderation.emergency):
    # its reference and its title as copied when linked. A linked post takes the
    # emergency review path (every reviewer alerted at once, first in the queues).
    event_ref = models.CharField(_("linked event"), max_length=40, blank=True,
                                 default="", db_default="")
    event_label = models.CharField(max_length=200, blank=True, default="", db_default="")
    # The review round in progress; each (re)submission opens a new round.
    review_round = models.PositiveIntegerField(default=0)
    # The role whose decision the post waits for ("" when none): the reviewer queue
    # is one indexed query on it.
    awaiting_role = models.CharField(max_length=32, blank=True, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PostQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["org_path", "status"], name="post_path_status_idx",
                         opclasses=["varchar_pattern_ops", "varchar_pattern_ops"]),
            models.Index(fields=["organization", "awaiting_role", "submitted_at"],
                         name="post_queue_idx"),
            models.Index(fields=["author", "-id"], name="post_author_idx"),
            # The expiry sweep: scheduled posts whose approvals can still lapse.
            models.Index(fields=["scheduled_at"], name="post_expiring_idx",
                         condition=Q(status__in=["in_review", "approved"],
                                     scheduled_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.title or self.text[:30]

    @property
    def awaiting_role_label(self) -> str:
        """The label of the role the post waits for (the step name shown to people)."""
        return Role(self.awaiting_role).label if self.awaiting_role else ""

    @property
    def approval_expired(self) -> bool:
        """Approvals lapse once the scheduled publication time has passed unpublished."""
        if self.status == PostStatus.EXPIRED:
            return True
        return (
            self.scheduled_at is not None
            and self.status in EXPIRING_STATUSES
            and self.scheduled_at < timezone.now()
        )


def attachment_path(instance, filename):
    return f"moderation/{instance.post.organization_id}/{instance.post_id}/{filename}"


class PostAttachment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    # SECURITY: the type sniffed from the content at upload (common.uploads), served
    # as is; empty for files attached before the check, served as octet-stream.
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class PostRevision(models.Model):
    """An immutable snapshot of a post; every edit makes the next number."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("revision"))
    title = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    links = models.JSONField(default=list, blank=True)
    column_tag = models.CharField(max_length=60, blank=True)
    importance = models.CharField(max_length=10, choices=Importance.choices)
    is_repost = models.BooleanField(default=False)
    repost_source = models.CharField(max_length=200, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    account_ids = models.JSONField(default=list)
    attachment_names = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Filled at submission: what the pre-checks found, and the operator's overrides
    # of soft hits ({key, kind, term, reason, by, at}) shown to every reviewer.
    precheck_hits = models.JSONField(default=list, blank=True)
    overrides = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["post", "number"]
        constraints = [
            models.UniqueConstraint(fields=["post", "number"], name="revision_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.post_id} r{self.number}"

    @property
    def overrides_shown(self) -> list[dict]:
        """The overrides with `kind_label`, the term kind's label (the stored `kind`
        is a code)."""
        return [
            {**o, "kind_label": TermKind(o["kind"]).label
             if o.get("kind") in TermKind.values else o.get("kind", "")}
            for o in self.overrides
        ]


class StepStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    SUPERSEDED = "superseded", _("Superseded by an edit")


class ReviewStep(models.Model):
    """One reviewer decision in one review round, pinned to the revision reviewed."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="steps")
    revision = models.ForeignKey(PostRevision, on_delete=models.PROTECT, related_name="steps")
    round = models.PositiveIntegerField()
    order = models.PositiveSmallIntegerField()
    role = models.CharField(_("step"), max_length=32, choices=ReviewRole.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=StepStatus.choices, default=StepStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    # Decided by a deputy (代签) for this person (ReviewDeputy).
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("on behalf of"),
    )

    class Meta:
        verbose_name = _("review step")
        verbose_name_plural = _("review steps")
        ordering = ["post", "round", "order"]
        constraints = [
            models.UniqueConstraint(fields=["post", "round", "order"], name="step_unique_order")
        ]

    def __str__(self) -> str:
        return f"{self.post_id}#{self.round}.{self.order} {self.role}"


class ReviewDeputy(models.Model):
    """A deputy (代签): someone the principal leader appoints, for a period, to decide
    one review role's steps in the organization on behalf of its holder. The deputy's
    decisions record `on_behalf_of` (ReviewStep, the audit trail, the sign-off sheet).
    Appointed and ended through moderation.services.deputies only."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("organization")
    )
    org_path = models.CharField(max_length=255, editable=False)
    role = models.CharField(_("review role"), max_length=32, choices=ReviewRole.choices)
    deputy = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("deputy"),
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("on behalf of"),
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    appointed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("appointed by"),
    )
    appointed_at = models.DateTimeField(_("appointed at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("review deputy")
        verbose_name_plural = _("review deputies")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="deputy_period_order"
            ),
            models.CheckConstraint(
                condition=~Q(deputy=models.F("on_behalf_of")), name="deputy_not_self"
            ),
        ]
        indexes = [models.Index(fields=["organization", "role", "ends_on"], name="deputy_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.deputy} → {self.get_role_display()} ({self.starts_on}–{self.ends_on})"

    def active_on(self, day) -> bool:
        return self.ended_at is None and self.starts_on <= day <= self.ends_on


class SignOffSheet(models.Model):
    """The numbered sign-off sheet (审签单) of an approved revision."""

    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="signoffs")
    revision = models.OneToOneField(
        PostRevision, on_delete=models.PROTECT, related_name="signoff"
    )
    number = models.CharField(_("number"), max_length=40, unique=True)
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sign-off sheet")
        verbose_name_plural = _("sign-off sheets")

    def __str__(self) -> str:
        return self.number


class Publication(models.Model):
    """An operator's record that an approved revision went out on one account."""

    post = models.ForeignKey(Post, on_delete=models.PROTECT, related_name="publications")
    revision = models.ForeignKey(PostRevision, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(MediaAccount, on_delete=models.PROTECT, related_name="+")
    url = models.URLField(_("platform URL"), max_length=500)
    published_at = models.DateTimeField(_("published at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        constraints = [
            models.UniqueConstraint(fields=["post", "account"], name="publication_once_per_account")
        ]

    def __str__(self) -> str:
        return self.url


class MatchStatus(models.TextChoices):
    MATCHED = "matched", _("Matches an approved revision")
    DIFFERS = "differs", _("Text differs from the approved revision")
    UNMATCHED = "unmatched", _("No approved revision")
    # A repost a directive ordered: reconciled against the directive target, not
    # against the account's own approved posts (DOMAIN.md rule 15).
    DIRECTED_REPOST = "repost", _("Repost ordered by a directive")


class PublishedPost(models.Model):
    """A post a platform collector saw on an account (reported through the API)."""

    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="+")
    platform_post_id = models.CharField(_("platform post id"), max_length=128)
    account = models.ForeignKey(MediaAccount, on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=255, editable=False)
    text = models.TextField(_("text"))
    url = models.URLField(_("URL"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("published at"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_at = models.DateTimeField(auto_now_add=True)
    match_status = models.CharField(max_length=12, choices=MatchStatus.choices)
    matched_revision = models.ForeignKey(
        PostRevision, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    similarity = models.FloatField(default=0)
    directive_target = models.ForeignKey(
        "DirectiveTarget", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="reported_posts", verbose_name=_("directive target"),
    )

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("published post")
        verbose_name_plural = _("published posts")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "platform_post_id"], name="published_post_unique"
            )
        ]
        indexes = [
            models.Index(fields=["org_path"], name="pubpost_path_idx", opclasses=PATH_OPS)
        ]

    def __str__(self) -> str:
        return f"{self.platform_id}:{self.platform_post_id}"


class FlagKind(models.TextChoices):
    UNAPPROVED_PUBLICATION = "unapproved_publication", _("Published without approval")
    TEXT_DIFFERS = "text_differs", _("Published text differs from the approved text")
    # DOMAIN.md rule 32: a cancelled account that posts again is a finding.
    CANCELLED_ACCOUNT_POSTED = "cancelled_account_posted", _("A cancelled account posted")


class Flag(models.Model):
    """Something a supervisor must look at."""

    kind = models.CharField(_("kind"), max_length=32, choices=FlagKind.choices)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=255, editable=False)
    published_post = models.ForeignKey(
        PublishedPost, null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    message = models.CharField(_("message"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    resolution = models.TextField(_("resolution"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "published_post"], name="flag_once")
        ]
        indexes = [
            models.Index(fields=["org_path", "resolved_at"], name="flag_path_idx",
                         opclasses=["varchar_pattern_ops", ""])
        ]

    def __str__(self) -> str:
        return self.message


# --- Repost directives -----------------------------------------------------------------
class DeadlineUnit(models.TextChoices):
    MINUTES = "minutes", _("Minutes")
    WORKING_DAYS = "working_days", _("Working days")


class RepostPolicyQuerySet(ScopedQuerySet):
    def visible_to(self, user, action="view"):
        """Policies of organizations in the user's scope; for viewing, also the
        national defaults (they apply to everyone with business data). Nobody changes
        a national default through the API (migrations and the admin do)."""
        from accounts.scoping import scope_for

        scope = scope_for(user, action, self.model.scope_domain)
        if action != "view" or scope.is_empty:
            return self.filter(scope.q(self.model.scope_path_field))
        return self.filter(scope.q(self.model.scope_path_field) | Q(organization__isnull=True))


POLICY_CHANGE_NOTE = _(
    "A policy applies to directives issued after it is saved: each target's deadline "
    "is computed once, when the directive is issued, and is not moved by later "
    "policy changes."
)


class RepostPolicy(models.Model):
    """How long accounts on a platform have to repost. A row without organization is
    the national default; an organization's row applies to its subtree (the nearest
    one wins). Changed only through moderation.services.policies."""

    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("platform"))
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("organization"),
        help_text=_("Empty: the national default. Otherwise it applies to the "
                    "organization and everything below it."),
    )
    unit = models.CharField(_("unit"), max_length=14, choices=DeadlineUnit.choices,
                            help_text=POLICY_CHANGE_NOTE)
    amount = models.PositiveIntegerField(_("amount"))
    warn_before_minutes = models.PositiveIntegerField(_("warn before (minutes)"), default=15)

    objects = RepostPolicyQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "organization__path"

    class Meta:
        verbose_name = _("repost policy")
        verbose_name_plural = _("repost policies")
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "organization"], name="repost_policy_unique"
            ),
            models.UniqueConstraint(
                fields=["platform"], condition=Q(organization__isnull=True),
                name="repost_policy_unique_default",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform}: {self.amount} {self.get_unit_display()}"


class RepostDirectiveQuerySet(ScopedQuerySet):
    def visible_to(self, user, action="view"):
        """A directive is seen by the issuing organization's scope (as any business
        row) and, for viewing, also by every organization it targets: the operator
        who must repost sees the directive, though it was issued higher up the tree.
        Changing, exporting etc. stay with the issuing scope.

        SECURITY: the targets are filtered by the same scope (accounts.scoping), so
        a directive is visible through a target only to those who see that target;
        the directive's other targets stay filtered by DirectiveTarget.visible_to."""
        from accounts.scoping import Action, scope_for

        scope = scope_for(user, action, self.model.scope_domain)
        issued = scope.q(self.model.scope_path_field)
        if action != Action.VIEW or scope.is_empty:
            return self.filter(issued)
        # A subtree root sees the directives whose reach holds it (one index lookup
        # per root, whatever the number of targets: issue 9); an organization of
        # its own only, those with a target on it exactly.
        targeted = Q(pk__in=DirectiveReach.objects.filter(
            path__in=list(scope.subtree_paths)).values("directive_id"))
        if scope.own_paths:
            targeted |= Q(pk__in=DirectiveTarget.objects.filter(
                org_path__in=list(scope.own_paths)).values("directive_id"))
        return self.filter(issued | targeted)

    def visible_to_sql(self, user, alias: str = "d") -> tuple[str, list]:
        """visible_to(user) for viewing as a plain SQL condition over the directive
        table aliased `alias` (PostgreSQL; moderation.selectors.directive_page):
        the same three branches from the same scope. Kept beside visible_to so
        that a change of the rule changes both (tests/moderation/
        test_directive_visibility_sql.py compares them user by user)."""
        from accounts.scoping import Action, scope_for

        scope = scope_for(user, Action.VIEW, self.model.scope_domain)
        issued, params = scope.sql(f"{alias}.org_path")
        if scope.is_empty:
            return issued, params
        parts = [issued]
        if scope.subtree_paths:
            parts.append(f"{alias}.id IN (SELECT directive_id FROM "
                         "moderation_directivereach WHERE path = ANY(%s))")
            params.append(list(scope.subtree_paths))
        if scope.own_paths:
            parts.append(f"{alias}.id IN (SELECT directive_id FROM "
                         "moderation_directivetarget WHERE org_path = ANY(%s))")
            params.append(list(scope.own_paths))
        return "(" + " OR ".join(parts) + ")", params


class RepostDirective(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=255, editable=False)
    post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.PROTECT, related_name="directives"
    )
    title = models.CharField(_("title"), max_length=200)
    source_url = models.URLField(_("source URL"), max_length=500)
    note = models.TextField(_("note"), blank=True)
    selection = models.JSONField(default=dict, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    issued_at = models.DateTimeField()
    target_count = models.PositiveIntegerField(default=0)
    # Stored completion counters (issue 9): kept by target_confirm in the same
    # transaction as the confirmation, and by the repost sweep in the same
    # transaction as its marking (`overdue` = marked overdue, not confirmed), so a
    # directive list reads them instead of counting targets on each view.
    confirmed_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    late_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    overdue_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    # The repost policies in force at issue ({platform id: [unit, amount, warn
    # minutes]}): a calendar edit recomputes open deadlines with these, so a later
    # policy change never moves an issued directive's deadlines.
    deadline_rules = models.JSONField(default=dict, blank=True, editable=False)

    objects = RepostDirectiveQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("repost directive")
        verbose_name_plural = _("repost directives")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["org_path"], name="directive_path_idx", opclasses=PATH_OPS)
        ]

    def __str__(self) -> str:
        return self.title


class DirectiveReach(models.Model):
    """The organizations a directive reaches: each organization holding one of its
    targets and every ancestor of those, one row each (written with the targets at
    issue, which never change afterwards). "Directives with a target in my subtree"
    is then `path = <root>` in this table's unique index, instead of a range over
    every target of the subtree (issue 9). Derived data of the directive, read only
    by RepostDirective.objects.visible_to."""

    directive = models.ForeignKey(RepostDirective, on_delete=models.CASCADE,
                                  related_name="+")
    path = models.CharField(max_length=255)

    class Meta:
        verbose_name = _("directive reach")
        verbose_name_plural = _("directive reach")
        constraints = [
            models.UniqueConstraint(fields=["path", "directive"], name="reach_once"),
        ]

    def __str__(self) -> str:
        return f"{self.directive_id}@{self.path}"


class DirectiveTarget(models.Model):
    """One account that must repost. The deadline is computed once, at issue time."""

    directive = models.ForeignKey(RepostDirective, on_delete=models.CASCADE,
                                  related_name="targets")
    account = models.ForeignKey(MediaAccount, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=255, editable=False)
    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField(_("due at"))
    warn_at = models.DateTimeField()
    provisional = models.BooleanField(default=False)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    repost_url = models.URLField(_("repost URL"), max_length=500, blank=True)
    # Set once by the sweep; their being set is what makes the sweep idempotent.
    warned_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("directive target")
        verbose_name_plural = _("directive targets")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["directive", "account"], name="target_once")
        ]
        indexes = [
            # The sweep: open targets by deadline; partial, so it only holds open rows.
            models.Index(fields=["due_at"], name="target_open_due_idx",
                         condition=Q(confirmed_at__isnull=True, overdue_at__isnull=True)),
            models.Index(fields=["warn_at"], name="target_open_warn_idx",
                         condition=Q(confirmed_at__isnull=True, warned_at__isnull=True,
                                     overdue_at__isnull=True)),
            # Path first, directive second: "directives with a target in my
            # subtree" reads the index alone (no table rows), issue 9.
            models.Index(fields=["org_path", "directive"], name="target_path_directive_idx",
                         opclasses=[PATH_OPS[0], ""]),
            # The targets list's default order and the completion board (by directive,
            # grouped by organization).
            models.Index(fields=["due_at", "id"], name="target_due_order_idx"),
            models.Index(fields=["directive", "organization"], name="target_board_idx"),
            models.Index(fields=["overdue_at"], name="target_overdue_idx"),
            models.Index(fields=["warned_at"], name="target_warned_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.directive_id} → {self.account_id}"

    @property
    def is_overdue(self) -> bool:
        if self.confirmed_at:
            return self.confirmed_at > self.due_at
        return timezone.now() > self.due_at
