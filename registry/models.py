"""Media accounts and the platforms they live on.

Hot path: the ledger lists and counts accounts of a subtree, so each account keeps a
copy of its sponsoring organization's path (`org_path`, indexed for prefix search)
and region code; the registry services keep them in step when an account moves.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from accounts.querysets import ScopedQuerySet


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
    ACTIVE = "active", _("Active")
    RECTIFYING = "rectifying", _("Rectifying")
    SUSPENDED = "suspended", _("Suspended")
    CANCELLED = "cancelled", _("Cancelled")


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
            # The same platform account cannot be registered twice (a cancelled one
            # may be filed again).
            models.UniqueConstraint(
                fields=["platform", "platform_account_id"],
                condition=~Q(status="cancelled"),
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
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.platform})"
