"""Rules checked at filing time (DOMAIN.md rules 2, 5, 8). Hard rules add field
errors (the filing is refused with ValidationFailed); soft rules add warnings,
which are stored on the filing and shown to the supervisor.

Each rule has a stable code; tests import them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, Role
from common.errors import ValidationFailed
from registry.models import (
    RELEASED_STATUSES,
    AccountExemption,
    AccountStatus,
    FilingStatus,
    MediaAccount,
    Platform,
)

ONE_PER_PLATFORM = "one_per_platform"
NAME_INCONSISTENT = "name_inconsistent"
NAME_UNRELATED = "name_unrelated"
OPERATORS_BELOW_MINIMUM = "operators_below_minimum"
OPERATOR_NOT_MEMBER = "operator_not_member"
OUTSOURCED_WITHOUT_AGREEMENT = "outsourced_without_agreement"
CANCEL_EVIDENCE_MISSING = "cancel_evidence_missing"
NOT_VERIFIED = "not_verified"
OPERATOR_AGREEMENT_MISSING = "operator_agreement_missing"

LIVE_STATUSES = (AccountStatus.ACTIVE, AccountStatus.RECTIFYING)
OPERATOR_ROLES = (Role.OPERATOR, Role.OUTSOURCED_OPERATOR)


@dataclass
class RuleReport:
    errors: dict[str, list[str]] = field(default_factory=dict)
    codes: list[str] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)

    def error(self, code: str, field_name: str, message: str) -> None:
        self.errors.setdefault(field_name, []).append(str(message))
        self.codes.append(code)

    def warn(self, code: str, message: str) -> None:
        self.warnings.append({"code": code, "message": str(message)})

    def raise_if_errors(self) -> None:
        if self.errors:
            messages = [m for ms in self.errors.values() for m in ms]
            raise ValidationFailed(" ".join(messages), code=self.codes[0], fields=self.errors)


# --- one account per organization per platform (hard, unless exempted) ----------------
def check_one_per_platform(
    report: RuleReport,
    *,
    organization: Organization,
    platform: Platform,
    account: MediaAccount | None,
    include_pending: bool = True,
) -> AccountExemption | None:
    """Returns the exemption that allows a second account, if one is needed and exists.
    `include_pending` also counts accounts whose opening is awaiting approval."""
    others = MediaAccount.objects.filter(organization=organization, platform=platform)
    if account is not None and account.pk:
        others = others.exclude(pk=account.pk)
    live = Q(status__in=LIVE_STATUSES)
    if include_pending:
        live |= Q(status=AccountStatus.PENDING, filings__status=FilingStatus.SUBMITTED)
    existing = others.filter(live).values_list("display_name", flat=True).first()
    if existing is None:
        return None
    exemption = AccountExemption.objects.active().filter(
        organization=organization, platform=platform
    ).first()
    if exemption is not None:
        return exemption
    report.error(
        ONE_PER_PLATFORM,
        "platform",
        _("%(org)s already has an account on %(platform)s (%(name)s). An organization "
          "keeps one account per platform unless the supervising organization records "
          "an exemption.")
        % {"org": organization.name, "platform": platform.name, "name": existing},
    )
    return None


# --- names: consistent across platforms, related to the organization (warnings) -----
def _normalize(name: str) -> str:
    return re.sub(r"[\s·•・\-_]+", "", name or "").lower()


def check_name_consistency(
    report: RuleReport,
    *,
    organization: Organization,
    display_name: str,
    platform: Platform,
    account: MediaAccount | None,
) -> None:
    others = (
        MediaAccount.objects.filter(organization=organization)
        .exclude(status__in=RELEASED_STATUSES)
        .exclude(platform=platform)
        .select_related("platform")
    )
    if account is not None and account.pk:
        others = others.exclude(pk=account.pk)
    different = [
        f"{a.display_name} ({a.platform.name})"
        for a in others[:20]
        if _normalize(a.display_name) != _normalize(display_name)
    ]
    if different:
        report.warn(
            NAME_INCONSISTENT,
            _("Names should be consistent across platforms; this organization's other "
              "accounts are named: %(names)s.")
            % {"names": "、".join(different)},
        )


_ORG_SUFFIXES = ("人民政府办公厅", "人民政府办公室", "人民政府", "办公厅", "办公室")


def _keywords(org: Organization) -> list[str]:
    """Words an account name of `org` may share: its short name, its name without the
    generic suffixes, and the names of the governments above it (the region)."""
    ancestor_paths = [org.path[: i * Organization.steplen] for i in range(1, org.depth)]
    chain = list(Organization.objects.filter(path__in=ancestor_paths).only("name", "short_name"))
    words = []
    for o in [org, *chain]:
        for raw in (o.short_name, o.name):
            word = raw or ""
            for suffix in _ORG_SUFFIXES:
                if word.endswith(suffix) and len(word) > len(suffix):
                    word = word[: -len(suffix)]
                    break
            if word:
                words.append(word)
    return words


def _shares_with(name: str, word: str) -> bool:
    if len(word) < 2:
        return word in name
    return any(word[i : i + 2] in name for i in range(len(word) - 1))


def check_name_related(
    report: RuleReport, *, organization: Organization, display_name: str
) -> None:
    name = _normalize(display_name)
    if any(_shares_with(name, _normalize(w)) for w in _keywords(organization)):
        return
    report.warn(
        NAME_UNRELATED,
        _("The name %(name)s does not show which organization or region the account "
          "belongs to; it should clearly relate to %(org)s and its duties.")
        % {"name": display_name, "org": organization.short_name or organization.name},
    )


# --- operators: staffing minimum, outsourced staff need an agreement (hard) -----------
def minimum_operators(organization: Organization) -> int:
    """The staffing minimum of an account of `organization` (rule 5): the nearest
    StaffingPolicy at or above it, else the default of its level. One query."""
    from registry.models import StaffingPolicy

    step = Organization.steplen
    paths = [organization.path[: i * step] for i in range(1, len(organization.path) // step + 1)]
    policy = (
        StaffingPolicy.objects.filter(organization__path__in=paths)
        .order_by("-organization__depth")
        .values_list("min_operators", flat=True)
        .first()
    )
    if policy is not None:
        return policy
    return int(settings.REGISTRY_MIN_OPERATORS.get(organization.level, 1))


def check_operators(
    report: RuleReport, *, organization: Organization, operator_ids: list[int], on: date
) -> None:
    memberships = Membership.objects.active().filter(
        organization=organization, user_id__in=operator_ids, role__in=OPERATOR_ROLES
    ).select_related("user")
    by_user: dict[int, list[Membership]] = {}
    for m in memberships:
        by_user.setdefault(m.user_id, []).append(m)
    valid = 0
    names = {m.user_id: str(m.user) for m in memberships}
    for user_id in dict.fromkeys(operator_ids):
        held = by_user.get(user_id, [])
        if not held:
            report.error(
                OPERATOR_NOT_MEMBER,
                "operators",
                _("Person #%(id)s is not an operator of %(org)s.")
                % {"id": user_id, "org": organization.name},
            )
            continue
        if any(m.role == Role.OPERATOR for m in held):
            valid += 1
            continue
        # Only an outsourced role: the agreement must be on file by now.
        m = held[0]
        if not m.agreement_document or not m.agreement_signed_on or m.agreement_signed_on > on:
            report.error(
                OUTSOURCED_WITHOUT_AGREEMENT,
                "operators",
                _("%(name)s is an outsourced operator without a confidentiality agreement "
                  "on file; outsourced staff may run an account only under a signed agreement.")
                % {"name": names[user_id]},
            )
            continue
        valid += 1
    needed = minimum_operators(organization)
    if valid < needed:
        report.error(
            OPERATORS_BELOW_MINIMUM,
            "operators",
            _("An account of a %(level)s-level organization needs at least %(n)s operators "
              "(%(have)s named).")
            % {"level": organization.get_level_display(), "n": needed, "have": valid},
        )


# --- warnings at filing and at approval (DOMAIN.md rule 3; outsourced staff) ---------
def check_verification(report: RuleReport, *, verification: str) -> None:
    """Rule 3: accounts must be real-name verified on the platform (a warning: a new
    account is often verified after it opens)."""
    from registry.models import VerificationStatus

    if verification != VerificationStatus.VERIFIED:
        report.warn(
            NOT_VERIFIED,
            _("The account is not real-name verified on the platform (%(state)s); "
              "government accounts must be verified.")
            % {"state": VerificationStatus(verification).label},
        )


def check_operator_agreements(
    report: RuleReport, *, organization: Organization, operator_ids: list[int], on: date
) -> None:
    """Operators who may run the account only as outsourced staff and have no valid
    confidentiality agreement on file now (their outsourced role ended, or the
    agreement is dated later): a warning at filing and at approval. One query."""
    if not operator_ids:
        return
    held: dict[int, list[Membership]] = {}
    for m in Membership.objects.active().filter(
        organization=organization, user_id__in=operator_ids
    ).select_related("user"):
        held.setdefault(m.user_id, []).append(m)
    from accounts.models import User

    lacking = []
    for user_id in dict.fromkeys(operator_ids):
        roles = held.get(user_id, [])
        if any(m.role == Role.OPERATOR for m in roles):
            continue
        outsourced = [m for m in roles if m.role == Role.OUTSOURCED_OPERATOR]
        if outsourced and all(
            m.agreement_document and m.agreement_signed_on and m.agreement_signed_on <= on
            for m in outsourced
        ):
            continue
        lacking.append(user_id)
    if lacking:
        names = [str(u) for u in User.objects.filter(pk__in=lacking).order_by("username")]
        report.warn(
            OPERATOR_AGREEMENT_MISSING,
            _("These operators have no confidentiality agreement on file as outsourced "
              "staff of %(org)s: %(names)s. Outsourced staff may run an account only "
              "under a signed agreement.")
            % {"org": organization.name, "names": "、".join(names)},
        )


# --- cancellation: announcement and de-registration (hard); the principal leader signs
# the closure off in the system (registry.services.signoff) -----------------------------
def check_cancellation(
    report: RuleReport,
    *,
    organization: Organization,
    announcement_url: str,
    announcement_text: str,
    announced_on: date | None,
    deregistered_on: date | None,
    today: date,
) -> None:
    def missing(field_name, message):
        report.error(CANCEL_EVIDENCE_MISSING, field_name, message)

    if not (announcement_url or "").strip() and not (announcement_text or "").strip():
        missing(
            "announcement_url",
            _("Record the public announcement of the closure (its address or its text)."),
        )
    if announced_on is None:
        missing("announced_on", _("Enter the date the closure was announced."))
    if deregistered_on is None:
        missing(
            "deregistered_on",
            _("Enter the date the account was de-registered on the platform."),
        )
    for name, value in (
        ("announced_on", announced_on),
        ("deregistered_on", deregistered_on),
    ):
        if value is not None and value > today:
            missing(name, _("This date lies in the future."))
