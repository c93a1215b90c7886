"""Media accounts and the platforms they live on.

Hot path: the ledger lists and counts accounts of a subtree, so each account keeps a
copy of its sponsoring organization's path (`org_path`, indexed for prefix search)
and region code; the registry services keep them in step when an account moves.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organization
from accounts.querysets import ScopedQuerySet


class PlatformQuerySet(models.QuerySet):
    def visible_to(self, user, action="view"):
        """Platforms are reference data every signed-in user reads; only system
        administrators change them (in the admin, through registry.services)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self if action == "view" else self.none()


class Platform(models.Model):
    """A platform accounts are opened on. Data, so administrators can add platforms."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    url_patterns = models.JSONField(
        _("profile URL patterns"),
        default=list,
        blank=True,
        help_text=_(
            "Regular expressions matching profile URLs; the named group "
            "(?P<account_id>...) captures the canonical account id."
        ),
    )
    profile_url_template = models.CharField(
        _("profile URL template"), max_length=200, blank=True,
        help_text=_("e.g. https://weibo.com/u/{account_id}"),
    )
    max_post_length = models.PositiveIntegerField(_("maximum post length"), null=True, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    objects = PlatformQuerySet.as_manager()
    scope_domain = "directory"
    scope_path_field = ""

    class Meta:
        verbose_name = _("platform")
        verbose_name_plural = _("platforms")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class AccountCategory(models.TextChoices):
    INSTITUTIONAL = "institutional", _("Institutional")
    OFFICIAL = "official", _("Official in office")
    LEADER = "leader", _("Leader")


class VerificationStatus(models.TextChoices):
    VERIFIED = "verified", _("Verified")
    PENDING = "pending", _("Verification pending")
    UNVERIFIED = "unverified", _("Not verified")


class AccountStatus(models.TextChoices):
    PENDING = "pending", _("Pending filing")
    # "Active" of an account reads 正常 in Chinese, unlike an active role (有效).
    ACTIVE = "active", pgettext_lazy("media account status", "Active")
    RECTIFYING = "rectifying", _("Rectifying")
    SUSPENDED = "suspended", _("Suspended")
    CANCELLED = "cancelled", _("Cancelled")
    # The opening filing was rejected or withdrawn: the account was never opened. The
    # row stays as the record of the filing; it no longer holds the platform id.
    NOT_OPENED = "not_opened", _("Not opened")


# Accounts in these statuses no longer hold their platform id: the same platform
# account may be filed again (see the unique constraint on MediaAccount).
RELEASED_STATUSES = (AccountStatus.CANCELLED, AccountStatus.NOT_OPENED)


class AccountOrigin(models.TextChoices):
    """How the account came into the registry."""

    FILING = "filing", _("Opening filing")
    # A supervisor recorded an existing account as it is (存量登记, ledger import).
    STOCKTAKE = "stocktake", _("Stocktake of existing accounts")


class MediaAccountQuerySet(ScopedQuerySet):
    def in_subtree(self, org: Organization):
        return self.filter(org_path__startswith=org.path)


class MediaAccount(models.Model):
    platform = models.ForeignKey(
        Platform, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("platform")
    )
    display_name = models.CharField(_("display name"), max_length=100)
    platform_account_id = models.CharField(_("platform account id"), max_length=128)
    profile_url = models.URLField(_("profile URL"), max_length=500, blank=True)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="media_accounts",
        verbose_name=_("sponsoring organization"),
    )
    supervising_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="supervised_accounts",
        verbose_name=_("supervising organization"),
    )
    supervising_overridden = models.BooleanField(
        _("supervising organization set by hand"), default=False
    )
    category = models.CharField(
        _("category"), max_length=16, choices=AccountCategory.choices,
        default=AccountCategory.INSTITUTIONAL,
    )
    verification = models.CharField(
        _("real-name verification"), max_length=12, choices=VerificationStatus.choices,
        default=VerificationStatus.PENDING,
    )
    status = models.CharField(
        _("status"), max_length=12, choices=AccountStatus.choices, default=AccountStatus.PENDING
    )
    operators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="operated_accounts",
        verbose_name=_("operators"),
    )
    liaison = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="liaison_accounts", verbose_name=_("liaison"),
    )
    origin = models.CharField(
        _("recorded by"), max_length=10, choices=AccountOrigin.choices,
        default=AccountOrigin.FILING,
    )
    last_post_at = models.DateTimeField(_("last post"), null=True, blank=True)
    followers = models.PositiveIntegerField(_("followers"), default=0)
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    # Denormalized from `organization` for one-index subtree queries (see module doc).
    org_path = models.CharField(max_length=255, editable=False)
    region_code = models.CharField(max_length=6, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MediaAccountQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("media account")
        verbose_name_plural = _("media accounts")
        constraints = [
            # The same platform account cannot be registered twice (a cancelled or
            # never-opened one may be filed again: RELEASED_STATUSES).
            models.UniqueConstraint(
                fields=["platform", "platform_account_id"],
                condition=~Q(status__in=["cancelled", "not_opened"]),
                name="media_account_unique_platform_id",
            ),
        ]
        indexes = [
            models.Index(
                fields=["org_path", "status"],
                name="account_path_status_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
            models.Index(fields=["org_path", "id"], name="account_path_id_idx",
                         opclasses=["varchar_pattern_ops", ""]),
            models.Index(fields=["organization", "platform", "status"], name="account_org_platform_idx"),
            models.Index(fields=["status", "last_post_at"], name="account_status_lastpost_idx"),
            # The ledger's sorts, each with id as tie-breaker (issue 9): read in order,
            # filtered by the scope, stopped at the page. org_path is COLLATE "C" on
            # PostgreSQL (migration 0006), so a plain btree serves both the prefix
            # (LIKE 'path%') and ORDER BY org_path.
            models.Index(fields=["org_path", "id"], name="account_path_order_idx"),
            models.Index(fields=["followers", "id"], name="account_followers_idx"),
            models.Index(fields=["display_name", "id"], name="account_name_idx"),
            models.Index(fields=["last_post_at", "id"], name="account_lastpost_idx"),
            # account_cleanup_order_idx (the overview's clean-up list) is created by
            # migration 0013 in SQL: NULLS FIRST has a vendor-specific spelling.
            # The search box: platform id exactly (any case) or by prefix.
            models.Index(Upper("platform_account_id"), name="account_pid_upper_idx"),
            models.Index(fields=["platform_account_id"], name="account_pid_prefix_idx",
                         opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.platform})"


# --- filings ------------------------------------------------------------------------
class FilingKind(models.TextChoices):
    OPEN = "open", _("Open")
    CHANGE = "change", _("Change")
    SUSPEND = "suspend", _("Suspend")
    CANCEL = "cancel", _("Cancel")


class FilingStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class LeaderSignoff(models.TextChoices):
    """The sponsoring unit's principal leader signs an opening or a closure off in the
    system before the supervising organization decides it (DOMAIN.md rule 8)."""

    NOT_NEEDED = "", _("Not needed")
    PENDING = "pending", _("Awaiting the principal leader")
    APPROVED = "approved", _("Signed off by the principal leader")
    REFUSED = "refused", _("Refused by the principal leader")


# The whole workflow: a filing is submitted, then approved or rejected by the
# supervisor, or withdrawn by its filer, once.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    FilingStatus.SUBMITTED: frozenset(
        {FilingStatus.APPROVED, FilingStatus.REJECTED, FilingStatus.WITHDRAWN}
    ),
}
FINAL_STATUSES = frozenset(
    {FilingStatus.APPROVED, FilingStatus.REJECTED, FilingStatus.WITHDRAWN}
)

# Which account statuses each kind of filing may start from.
KIND_FROM_STATUSES: dict[str, frozenset[str]] = {
    FilingKind.OPEN: frozenset({AccountStatus.PENDING, AccountStatus.SUSPENDED}),
    FilingKind.CHANGE: frozenset(
        {AccountStatus.ACTIVE, AccountStatus.RECTIFYING, AccountStatus.SUSPENDED}
    ),
    FilingKind.SUSPEND: frozenset({AccountStatus.ACTIVE, AccountStatus.RECTIFYING}),
    FilingKind.CANCEL: frozenset(
        {AccountStatus.ACTIVE, AccountStatus.RECTIFYING, AccountStatus.SUSPENDED}
    ),
}


class FilingSequence(models.Model):
    """The last filing number given per region and year; locked while numbering."""

    region_code = models.CharField(max_length=6)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region_code", "year"], name="filing_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.region_code}-{self.year}: {self.last_number}"


class FilingPolicy(models.Model):
    """Per-organization override of the filing deadline; applies to the organization's
    subtree (the nearest ancestor's policy wins)."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="filing_policy",
        verbose_name=_("organization"),
    )
    due_working_days = models.PositiveSmallIntegerField(_("filing due within (working days)"))

    class Meta:
        verbose_name = _("filing policy")
        verbose_name_plural = _("filing policies")

    def __str__(self) -> str:
        return f"{self.organization}: {self.due_working_days}"


class ActivityPolicy(models.Model):
    """Per-organization idle and clean-up thresholds (DOMAIN.md rules 23 and 31);
    applies to the organization's subtree, the nearest ancestor's policy wins, like
    FilingPolicy. Without one: settings.REGISTRY_IDLE_DAYS / REGISTRY_CLEANUP_DAYS
    (the national 15 and 90 days). Read through
    `registry.selectors.activity_thresholds_for` (one lookup, used by other apps)."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="activity_policy",
        verbose_name=_("organization"),
    )
    idle_days = models.PositiveSmallIntegerField(
        _("idle after (days without a post)"), validators=[MinValueValidator(1)]
    )
    cleanup_days = models.PositiveSmallIntegerField(
        _("on the clean-up list after (days without a post)"),
        validators=[MinValueValidator(1)],
    )

    class Meta:
        verbose_name = _("activity policy")
        verbose_name_plural = _("activity policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(cleanup_days__gte=models.F("idle_days")),
                name="activity_policy_cleanup_after_idle",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.idle_days}/{self.cleanup_days}"


class StaffingPolicy(models.Model):
    """Per-organization minimum of operators per account (DOMAIN.md rule 5);
    applies to the organization's subtree, the nearest ancestor's policy wins. Without
    one: settings.REGISTRY_MIN_OPERATORS by the sponsoring organization's level (2 at
    province and city level, 1 below)."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="staffing_policy",
        verbose_name=_("organization"),
    )
    min_operators = models.PositiveSmallIntegerField(
        _("minimum operators per account"), validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("staffing policy")
        verbose_name_plural = _("staffing policies")

    def __str__(self) -> str:
        return f"{self.organization}: {self.min_operators}"


class FilingQuerySet(ScopedQuerySet):
    def pending(self):
        return self.filter(status=FilingStatus.SUBMITTED)


class Filing(models.Model):
    """One filing (备案) of an account event with the supervising organization.

    A record: created by `filing_submit`, decided once by `filing_transition`, never
    edited or deleted afterwards. `before`/`after` keep what it changed.
    """

    number = models.CharField(_("filing number"), max_length=24, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=FilingKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=FilingStatus.choices, default=FilingStatus.SUBMITTED
    )
    account = models.ForeignKey(
        MediaAccount, on_delete=models.PROTECT, related_name="filings", verbose_name=_("account")
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="filings",
        verbose_name=_("sponsoring organization"),
    )
    supervising_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="supervised_filings",
        verbose_name=_("supervising organization"),
    )
    org_path = models.CharField(max_length=255, editable=False)
    region_code = models.CharField(max_length=6, editable=False)
    event_date = models.DateField(_("date of the event"))
    note = models.TextField(_("note"), blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    exemption = models.ForeignKey(
        "AccountExemption", null=True, blank=True, on_delete=models.PROTECT,
        related_name="filings", verbose_name=_("exemption"),
    )
    # Cancellation evidence (DOMAIN.md rule 8).
    announcement_url = models.URLField(_("announcement URL"), max_length=500, blank=True)
    announcement_text = models.TextField(_("announcement text"), blank=True)
    announced_on = models.DateField(_("announced on"), null=True, blank=True)
    # The principal leader's sign-off (openings and closures, DOMAIN.md rule 8):
    # given in the system by the leader (registry.services.signoff), never typed in by
    # the filer. `principal_leader` is who decided, `leader_approved_on` the day.
    leader_signoff = models.CharField(
        _("principal leader's sign-off"), max_length=8, choices=LeaderSignoff.choices,
        default=LeaderSignoff.NOT_NEEDED, db_default=LeaderSignoff.NOT_NEEDED, blank=True,
    )
    principal_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("principal leader"),
    )
    leader_approved_on = models.DateField(_("leader approved on"), null=True, blank=True)
    leader_decided_at = models.DateTimeField(_("leader decided at"), null=True, blank=True)
    # Database defaults too: the bulk SQL of generate_scale inserts without them.
    leader_comment = models.TextField(_("leader's comment"), blank=True, default="", db_default="")
    deregistered_on = models.DateField(_("de-registered on the platform"), null=True, blank=True)

    # Routing by level (分级备案, DOMAIN.md rule 1), fixed at submission: the
    # supervisors of `decider_organization` (the supervising organization, or the
    # nearest organization above it that has supervisors) decide; those of
    # `escalation_organization` (the next level up) see and may decide the filing
    # only once it is overdue (registry.services.routing).
    decider_organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("decided by supervisors of"),
    )
    escalation_organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("escalates to"),
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="filings_submitted",
        verbose_name=_("filed by"),
    )
    submitted_at = models.DateTimeField(_("filed at"))
    due_at = models.DateTimeField(_("due at"))
    due_provisional = models.BooleanField(default=False)
    is_late = models.BooleanField(_("late"), default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="filings_decided", verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)

    objects = FilingQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "org_path"

    class Meta:
        verbose_name = _("filing")
        verbose_name_plural = _("filings")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            # One filing at a time per account: a second waits for the first decision.
            models.UniqueConstraint(
                fields=["account"], condition=Q(status="submitted"),
                name="filing_one_pending_per_account",
            ),
        ]
        indexes = [
            models.Index(
                fields=["org_path", "status", "submitted_at"], name="filing_path_status_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops", ""],
            ),
            models.Index(fields=["account", "submitted_at"], name="filing_account_idx"),
            # The filings list's default order (newest first).
            models.Index(fields=["submitted_at", "id"], name="filing_submitted_idx"),
            # The ledger's "filing overdue" filter hashes the accounts with a late filing
            # (registry.ledger.filing_overdue_q): a few percent of all filings, read from
            # this small index instead of a scan of every filing (bench/RESULTS.md).
            models.Index(
                fields=["account"], condition=Q(is_late=True), name="filing_late_account_idx"
            ),
            # A principal leader's sign-off queue (few rows at any time).
            models.Index(
                fields=["organization", "submitted_at"], condition=Q(leader_signoff="pending"),
                name="filing_leader_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} · {self.get_kind_display()}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class ExemptionQuerySet(ScopedQuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class AccountExemption(models.Model):
    """A supervisor's recorded permission for an organization to keep more than one
    active account on a platform (DOMAIN.md rule 2: "in principle" one)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="account_exemptions",
        verbose_name=_("organization"),
    )
    platform = models.ForeignKey(
        Platform, on_delete=models.PROTECT, related_name="+", verbose_name=_("platform")
    )
    reason = models.TextField(_("reason"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("granted by"),
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = ExemptionQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "organization__path"

    class Meta:
        verbose_name = _("exemption")
        verbose_name_plural = _("exemptions")
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "platform"], condition=Q(revoked_at__isnull=True),
                name="exemption_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.platform}"


# --- credential custody ----------------------------------------------------------------
class CredentialCustody(models.Model):
    """Who holds an account's credentials and when they were last changed. No
    passwords are stored here, ever (DOMAIN.md rule 9)."""

    account = models.OneToOneField(
        MediaAccount, on_delete=models.CASCADE, related_name="custody", verbose_name=_("account")
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="credential_custodies", verbose_name=_("held by"),
    )
    last_changed_on = models.DateField(_("credentials last changed on"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "account__org_path"

    class Meta:
        verbose_name = _("credential custody")
        verbose_name_plural = _("credential custody")

    def __str__(self) -> str:
        return str(self.account)

    @property
    def organization(self):
        return self.account.organization


class RotationTaskQuerySet(ScopedQuerySet):
    def open(self):
        return self.filter(done_at__isnull=True)


class RotationTask(models.Model):
    """Change an account's credentials: opened when one of its operators' roles ends."""

    account = models.ForeignKey(
        MediaAccount, on_delete=models.CASCADE, related_name="rotation_tasks",
        verbose_name=_("account"),
    )
    departed_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("person who left"),
    )
    membership_id = models.BigIntegerField(_("ended role"))
    opened_at = models.DateTimeField(_("opened at"))
    due_at = models.DateTimeField(_("due at"))
    # Counted over a year without calendar data (DESIGN.md "Time"); recomputed with
    # the deadline when the calendar changes (registry.services.deadlines).
    due_provisional = models.BooleanField(default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("done by"),
    )

    objects = RotationTaskQuerySet.as_manager()
    scope_domain = "business"
    scope_path_field = "account__org_path"

    class Meta:
        verbose_name = _("credential rotation task")
        verbose_name_plural = _("credential rotation tasks")
        ordering = ["due_at", "id"]
        constraints = [
            # The hook may run twice for one ended role: one task per account and role.
            models.UniqueConstraint(
                fields=["account", "membership_id"], name="rotation_once_per_role"
            ),
        ]
        indexes = [models.Index(fields=["done_at", "due_at"], name="rotation_open_due_idx")]

    def __str__(self) -> str:
        return f"{self.account} · {self.departed_user}"

    @property
    def organization(self):
        return self.account.organization

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        return self.done_at is None and self.due_at < timezone.now()


class RegistryFigures(models.Model):
    """The registry overview's figures for one organization's whole subtree (its own
    accounts and those of every organization below it), so that a dashboard over a
    large jurisdiction reads one row per root of the scope instead of counting the
    accounts and filings on each view (issue 9).

    Kept by `registry.services.figures.figures_rollup`, a set-based job run every few
    minutes (config/schedule.py): the idle and overdue figures depend on the clock,
    not only on writes, so a short-interval roll-up keeps all of them current in one
    pass. The overview uses them only for scopes of at least COUNT_CACHE_MIN_ROWS
    accounts and only while they are fresh (REGISTRY_FIGURES_MAX_AGE_SECONDS); small
    jurisdictions are counted live, exact at once. Not tenant data of its own: read
    through registry.selectors.registry_overview, which takes the paths from the
    user's scope."""

    organization = models.OneToOneField(
        Organization, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    path = models.CharField(max_length=255, unique=True)
    total = models.PositiveIntegerField(default=0)
    # {status: n} and {platform id: n} over every account: the overview's two
    # breakdowns.
    by_status = models.JSONField(default=dict)
    by_platform = models.JSONField(default=dict)
    idle = models.PositiveIntegerField(default=0)
    cleanup = models.PositiveIntegerField(default=0)
    filing_overdue = models.PositiveIntegerField(default=0)
    filings_pending = models.PositiveIntegerField(default=0)
    filings_pending_past_due = models.PositiveIntegerField(default=0)
    filings_late = models.PositiveIntegerField(default=0)
    rotations_open = models.PositiveIntegerField(default=0)
    rotations_overdue = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    COUNTERS = (
        "idle",
        "cleanup",
        "filing_overdue",
        "filings_pending",
        "filings_pending_past_due",
        "filings_late",
        "rotations_open",
        "rotations_overdue",
    )

    class Meta:
        verbose_name = _("registry figures")
        verbose_name_plural = _("registry figures")

    def __str__(self) -> str:
        return f"{self.path} ({self.total})"
