"""Organizations (a tree), people, and the roles people hold in organizations."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from accounts.querysets import ScopedQuerySet
from common.pii import EncryptedCharField

region_code_validator = RegexValidator(
    r"^\d{6}$", _("A region code is six digits (GB/T 2260), e.g. 330000.")
)


class Level(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")
    TOWNSHIP = "township", _("Township")


LEVEL_RANK = {Level.PROVINCE: 1, Level.CITY: 2, Level.COUNTY: 3, Level.TOWNSHIP: 4}


class OrgKind(models.TextChoices):
    GOVERNMENT = "government", _("People's government")
    SUPERVISING_OFFICE = "supervising_office", _("Supervising office")
    DEPARTMENT = "department", _("Department")
    INSTITUTION = "institution", _("Public institution")


class OrganizationQuerySet(MP_NodeQuerySet, ScopedQuerySet):
    def subtree_of(self, org: Organization):
        """The organization and everything below it: one indexed prefix query."""
        return self.filter(path__startswith=org.path)


class OrganizationManager(MP_NodeManager):
    def get_queryset(self):
        return OrganizationQuerySet(self.model).order_by("path")

    def visible_to(self, user, action="view"):
        return self.get_queryset().visible_to(user, action)


class Organization(MP_Node):
    """A government body in the tree province > city > county > township.

    The materialized path (`path`, from treebeard) makes "everything below X" one
    indexed prefix query: `path LIKE 'X.path%'`. Departments and public institutions
    hang under the government of their level and share its level.
    """

    name = models.CharField(_("name"), max_length=120)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    kind = models.CharField(_("kind"), max_length=24, choices=OrgKind.choices)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    region_code = models.CharField(
        _("region code"), max_length=6, validators=[region_code_validator]
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    steplen = 4
    objects = OrganizationManager()
    scope_domain = "directory"
    scope_path_field = "path"

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        indexes = [
            # LIKE 'prefix%' needs a pattern-ops index under non-C collations.
            models.Index(
                fields=["path"], name="org_path_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["region_code"], name="org_region_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def level_rank(self) -> int:
        return LEVEL_RANK[Level(self.level)]


class User(AbstractUser):
    """A person who signs in. What they may do comes from their memberships."""

    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    # Encrypted at rest with a key outside the database; shown masked, revealed only
    # through accounts.services.phone_reveal (audited). common/pii.py.
    phone = EncryptedCharField(_("phone"), blank=True, default="", max_plain_length=20)
    # Password policy (accounts.passwords): when the password was last set, and whether
    # the person must choose a new one at the next sign-in (after a reset by the
    # security administrator). Null: set before the policy existed, counts from now.
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)
    must_change_password = models.BooleanField(_("must change password"), default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class Role(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    OUTSOURCED_OPERATOR = "outsourced_operator", _("Outsourced operator")
    DEPARTMENT_HEAD = "department_head", _("Department head")
    LEADER_IN_CHARGE = "leader_in_charge", _("Leader in charge")
    PRINCIPAL_LEADER = "principal_leader", _("Principal leader")
    CONFIDENTIALITY_REVIEWER = "confidentiality_reviewer", _("Confidentiality reviewer")
    LIAISON = "liaison", _("Liaison")
    SUPERVISOR = "supervisor", _("Supervisor")
    AUDITOR = "auditor", _("Auditor")
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")


class MembershipQuerySet(ScopedQuerySet):
    def active(self):
        return self.filter(is_active=True, organization__is_active=True)


class Membership(models.Model):
    """A role a user holds in an organization.

    SECURITY: an outsourced operator's membership cannot exist without a
    confidentiality agreement on file (date and document); the database enforces it.
    """

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("user")
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("organization"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    started_on = models.DateField(_("started on"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    agreement_signed_on = models.DateField(
        _("confidentiality agreement signed on"), null=True, blank=True
    )
    agreement_document = models.CharField(
        _("confidentiality agreement document"),
        max_length=200,
        blank=True,
        help_text=_("Document number or archive reference of the signed agreement."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()
    scope_domain = "access"
    scope_path_field = "organization__path"

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "role"],
                condition=Q(is_active=True),
                name="membership_unique_active_role",
            ),
            models.CheckConstraint(
                condition=~Q(role="outsourced_operator")
                | (Q(agreement_signed_on__isnull=False) & ~Q(agreement_document="")),
                name="membership_outsourced_needs_agreement",
                violation_error_message=_(
                    "An outsourced operator needs a confidentiality agreement on file "
                    "(date and document)."
                ),
            ),
        ]
        indexes = [models.Index(fields=["organization", "role"], name="membership_org_role_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organization}"


class PasswordHistory(models.Model):
    """Hashes of a person's earlier passwords, so the last few are not reused."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="password_history", verbose_name=_("user")
    )
    password = models.CharField(_("password hash"), max_length=128)
    created_at = models.DateTimeField(_("set at"), auto_now_add=True)

    class Meta:
        verbose_name = _("earlier password")
        verbose_name_plural = _("earlier passwords")
        indexes = [models.Index(fields=["user", "-created_at"], name="pwhistory_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.created_at:%Y-%m-%d}"


class SecondFactorRule(models.Model):
    """Whether the holders of a role must sign in with a second factor (TOTP).

    The three administrator roles always must (MLPS 2.0 level 3); for every other role
    a row here overrides the default of settings.SECOND_FACTOR_DEFAULT_ROLES.
    """

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, unique=True)
    required = models.BooleanField(_("second factor required"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("second-factor rule")
        verbose_name_plural = _("second-factor rules")

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.required}"
