"""The filing workflow (备案): the sponsoring organization files, the supervising
organization approves or rejects; the change takes effect only on approval.

`filing_submit` creates a filing (numbered per region and year, due date from the
working-day calendar, rules checked); `filing_transition` is the one way a filing's
status changes; `filing_approve` and `filing_reject` are thin wrappers.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization, Role, User
from accounts.scoping import (
    Action,
    acting_role,
    memberships_of,
    require,
    roles_of,
    scope_for,
)
from audit.services import audit_record, audit_record_bulk
from common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from notifications.services import notify
from registry import roles
from registry.derive import derive_supervising
from registry.models import (
    ALLOWED_TRANSITIONS,
    KIND_FROM_STATUSES,
    RELEASED_STATUSES,
    AccountCategory,
    AccountExemption,
    AccountStatus,
    Filing,
    FilingKind,
    FilingPolicy,
    FilingSequence,
    FilingStatus,
    LeaderSignoff,
    MediaAccount,
    Platform,
    VerificationStatus,
)
from registry.services import routing, rules, signoff
from registry.services.accounts import account_state
from workcalendar.calendar import END_OF_DAY, SHANGHAI, add_working_days

# "Management cannot be outsourced": operators and the department head file (the
# one table of registry rights: registry.roles).
FILER_ROLES = roles.FILER_ROLES
CHANGEABLE_FIELDS = (
    "display_name", "profile_url", "category", "verification", "liaison", "operators",
    "organization",
)


# --- who may file, who may decide ------------------------------------------------------
def require_filer(actor: User, organization: Organization) -> str:
    """404 outside the actor's scope, 403 when they see it but do not file for it."""
    require(actor, Action.CHANGE, organization)
    held = roles_of(actor, organization) & FILER_ROLES
    if not held:
        raise PermissionDenied(
            _("Only the sponsoring organization's operators or department head file."),
            code="not_filer",
        )
    return sorted(held)[0]


def can_file(user, organization: Organization) -> bool:
    return bool(roles_of(user, organization) & FILER_ROLES)


def files_for_any(user) -> bool:
    """Whether the user files for some organization (the filing form is theirs)."""
    return any(m.role in FILER_ROLES for m in memberships_of(user))


def supervisor_role_over(user, org_path: str) -> bool:
    """Whether the user is a supervisor of an organization at or above `org_path`."""
    return any(
        m.role == Role.SUPERVISOR and org_path.startswith(m.organization.path)
        for m in memberships_of(user)
    )


def can_decide(user, filing: Filing) -> bool:
    return (
        filing.status == FilingStatus.SUBMITTED
        and filing.leader_signoff != LeaderSignoff.PENDING
        and user.pk != filing.submitted_by_id
        and routing.is_decider(user, filing)
    )


def _require_decider(actor: User, filing: Filing) -> None:
    """404 outside the actor's scope; 403 unless they are a supervisor of the
    filing's deciding organization (or of the level above once it is overdue,
    DOMAIN.md rule 1)."""
    if not scope_for(actor, Action.VIEW).contains_path(filing.org_path):
        raise NotFound(_("Not found."))
    if not routing.is_decider(actor, filing):
        decider = filing.decider_organization
        raise PermissionDenied(
            _("Filings are decided by the supervisors of %(org)s; the level above decides "
              "only once a filing is overdue.")
            % {"org": decider.name if decider else filing.supervising_organization.name},
            code="not_supervisor",
        )
    if actor.pk == filing.submitted_by_id:
        raise PermissionDenied(_("Nobody decides their own filing."), code="own_filing")


# --- numbers and deadlines ---------------------------------------------------------------
def _next_number(region_code: str, year: int) -> str:
    """Caller holds a transaction; the sequence row lock serializes numbering."""
    FilingSequence.objects.get_or_create(region_code=region_code, year=year)
    seq = FilingSequence.objects.select_for_update().get(region_code=region_code, year=year)
    seq.last_number += 1
    seq.save(update_fields=["last_number"])
    return f"{region_code}-{year}-{seq.last_number:04d}"


def due_working_days(organization: Organization) -> int:
    """The nearest policy on the organization or above it, else the setting."""
    paths = [organization.path[: i * Organization.steplen] for i in range(1, organization.depth + 1)]
    policy = (
        FilingPolicy.objects.filter(organization__path__in=paths)
        .order_by("-organization__depth")
        .values_list("due_working_days", flat=True)
        .first()
    )
    return policy if policy is not None else settings.REGISTRY_FILING_DUE_WORKING_DAYS


def filing_due_at(organization: Organization, event_date: date) -> tuple[datetime, bool]:
    """End of the Nth working day after the event (DOMAIN.md rules 32 and 35)."""
    result = add_working_days(event_date, due_working_days(organization), organization.region_code)
    return datetime.combine(result.date, END_OF_DAY, tzinfo=SHANGHAI), result.provisional


# --- notifications ---------------------------------------------------------------------
def notify_submitted(filing: Filing) -> None:
    # DOMAIN.md rule 1: the deciding level only, not every supervisor above.
    recipients = [
        u for u in routing.filing_recipients(filing) if u.pk != filing.submitted_by_id
    ]
    notify(
        recipients=recipients,
        organization=filing.supervising_organization,
        kind="registry.filing_submitted",
        message=_("%(org)s filed %(kind)s of %(account)s (%(number)s) for your approval.")
        % {
            "org": filing.organization.name,
            "kind": filing.get_kind_display(),
            "account": filing.account.display_name,
            "number": filing.number,
        },
        dedupe_key=f"registry.filing:{filing.pk}:submitted",
        url=reverse("registry:filing_detail", args=[filing.pk]),
        target=filing,
    )


def notify_decided(filing: Filing) -> None:
    if filing.status == FilingStatus.APPROVED:
        message = _("Filing %(number)s (%(account)s) was approved.")
    else:
        message = _("Filing %(number)s (%(account)s) was rejected: %(reason)s")
    notify(
        recipients=[filing.submitted_by],
        organization=filing.organization,
        kind="registry.filing_decided",
        message=message
        % {
            "number": filing.number,
            "account": filing.account.display_name,
            "reason": filing.decision_reason,
        },
        dedupe_key=f"registry.filing:{filing.pk}:decided",
        url=reverse("registry:filing_detail", args=[filing.pk]),
        target=filing,
    )


def _notify_withdrawn(filing: Filing, actor: User) -> None:
    """The supervisors who had the filing in their queue (the same people
    `notify_submitted` told) learn it no longer awaits them."""
    recipients = [
        u
        for u in routing.filing_recipients(filing)
        if u.pk not in (filing.submitted_by_id, actor.pk)
    ]
    notify(
        recipients=recipients,
        organization=filing.supervising_organization,
        kind="registry.filing_withdrawn",
        message=_(
            "%(org)s withdrew filing %(number)s (%(account)s); it no longer awaits your "
            "approval."
        )
        % {
            "org": filing.organization.name,
            "number": filing.number,
            "account": filing.account.display_name,
        },
        dedupe_key=f"registry.filing:{filing.pk}:withdrawn",
        url=reverse("registry:filing_detail", args=[filing.pk]),
        target=filing,
    )


# --- submitting ---------------------------------------------------------------------------
def _filing_state(f: Filing) -> dict:
    return {
        "number": f.number,
        "kind": f.kind,
        "status": f.status,
        "account": f.account_id,
        "event_date": f.event_date,
        "due_at": f.due_at,
        "is_late": f.is_late,
        "warnings": f.warnings,
    }


def _create_filing(
    *,
    actor: User,
    role: str,
    kind: str,
    account: MediaAccount,
    event_date: date,
    before: dict | None,
    after: dict | None,
    report: rules.RuleReport,
    note: str = "",
    exemption: AccountExemption | None = None,
    **extra,
) -> Filing:
    now = timezone.now()
    if signoff.needs_signoff(kind):
        signoff.require_leader(account.organization, filer=actor)
        extra["leader_signoff"] = LeaderSignoff.PENDING
    if event_date > timezone.localdate(now):
        raise ValidationFailed(
            _("The date of the event cannot lie in the future."),
            fields={"event_date": [_("Enter the date it happened (today or earlier).")]},
        )
    org = account.organization
    due_at, provisional = filing_due_at(org, event_date)
    decider, escalation = routing.decision_levels(account.supervising_organization)
    filing = Filing(
        number=_next_number(org.region_code, timezone.localtime(now, SHANGHAI).year),
        kind=kind,
        account=account,
        organization=org,
        supervising_organization=account.supervising_organization,
        decider_organization=decider,
        escalation_organization=escalation,
        org_path=org.path,
        region_code=org.region_code,
        event_date=event_date,
        note=note,
        before=before,
        after=after,
        warnings=report.warnings,
        exemption=exemption,
        submitted_by=actor,
        submitted_at=now,
        due_at=due_at,
        due_provisional=provisional,
        is_late=now > due_at,
        **extra,
    )
    try:
        with transaction.atomic():
            filing.save(force_insert=True)
    except IntegrityError as exc:
        raise Conflict(
            _("This account already has a filing awaiting approval; wait for its decision."),
            code="filing_pending",
        ) from exc
    audit_record(
        actor=actor,
        action="filing.submitted",
        target=filing,
        organization=org,
        role=role,
        after=_filing_state(filing),
    )
    if filing.leader_signoff == LeaderSignoff.PENDING:
        signoff.notify_leaders([filing])  # the supervisors are told once it is signed
    else:
        notify_submitted(filing)
    return filing


def _check_kind_allowed(kind: str, account: MediaAccount) -> None:
    if account.status not in KIND_FROM_STATUSES[kind]:
        raise Conflict(
            _("A %(kind)s filing is not possible for an account that is %(status)s.")
            % {"kind": FilingKind(kind).label, "status": account.get_status_display()},
            code="wrong_account_status",
        )


def _operators_from(ids) -> list[int]:
    try:
        return [int(i) for i in ids or []]
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            _("Operators are given by user id."), fields={"operators": [_("Choose people.")]}
        ) from exc


def _user_or_error(user_id, field_name: str, organization: Organization) -> User | None:
    if user_id in (None, ""):
        return None
    user = User.objects.filter(
        pk=user_id, is_active=True, memberships__organization=organization,
        memberships__is_active=True,
    ).first()
    if user is None:
        raise ValidationFailed(
            _("Choose a person of %(org)s.") % {"org": organization.name},
            fields={field_name: [_("Choose a person of %(org)s.") % {"org": organization.name}]},
        )
    return user


@transaction.atomic
def filing_submit_open(
    *,
    actor: User,
    organization: Organization,
    platform: Platform,
    platform_account_id: str,
    display_name: str,
    event_date: date,
    operators: list[int],
    profile_url: str = "",
    category: str = AccountCategory.INSTITUTIONAL,
    verification: str = VerificationStatus.PENDING,
    liaison: int | None = None,
    note: str = "",
) -> Filing:
    """File the opening of a new account. The account is recorded as pending filing
    (so nobody else can register it) and becomes active on approval."""
    role = require_filer(actor, organization)
    platform_account_id = (platform_account_id or "").strip()
    display_name = (display_name or "").strip()
    field_errors: dict[str, list[str]] = {}
    if not platform_account_id:
        field_errors["platform_account_id"] = [_("Enter the account id on the platform.")]
    if not display_name:
        field_errors["display_name"] = [_("Enter the account's name.")]
    if category not in AccountCategory.values:
        field_errors["category"] = [_("Choose a listed category.")]
    if verification not in VerificationStatus.values:
        field_errors["verification"] = [_("Choose a listed verification status.")]
    if field_errors:
        raise ValidationFailed(" ".join(m for ms in field_errors.values() for m in ms), fields=field_errors)
    existing = (
        MediaAccount.objects.filter(platform=platform, platform_account_id=platform_account_id)
        .exclude(status__in=RELEASED_STATUSES)
        .select_related("organization")
        .first()
    )
    if existing is not None:
        # SECURITY: name the sponsoring organization only when the actor may see it.
        if scope_for(actor, Action.VIEW).contains_path(existing.org_path):
            message = _("This %(platform)s account is already registered by %(org)s.") % {
                "platform": platform.name, "org": existing.organization.name}
        else:
            message = _("This %(platform)s account is already registered.") % {
                "platform": platform.name}
        raise Conflict(
            message, code="already_registered", fields={"platform_account_id": [message]}
        )
    operator_ids = _operators_from(operators)
    liaison_user = _user_or_error(liaison, "liaison", organization)

    report = rules.RuleReport()
    exemption = rules.check_one_per_platform(
        report, organization=organization, platform=platform, account=None
    )
    rules.check_operators(
        report, organization=organization, operator_ids=operator_ids, on=timezone.localdate()
    )
    report.raise_if_errors()
    rules.check_name_consistency(
        report, organization=organization, display_name=display_name, platform=platform,
        account=None,
    )
    rules.check_name_related(report, organization=organization, display_name=display_name)
    rules.check_verification(report, verification=verification)

    account = MediaAccount(
        platform=platform,
        platform_account_id=platform_account_id,
        display_name=display_name,
        profile_url=profile_url,
        organization=organization,
        supervising_organization=derive_supervising(organization),
        category=category,
        verification=verification,
        status=AccountStatus.PENDING,
        liaison=liaison_user,
        org_path=organization.path,
        region_code=organization.region_code,
    )
    try:
        account.full_clean(exclude=["org_path", "region_code"])
    except Exception as exc:  # django ValidationError
        fields = getattr(exc, "message_dict", {"__all__": [str(exc)]})
        raise ValidationFailed(
            # The messages only (translated by Django); field names are code, not UI.
            " ".join(str(m) for ms in fields.values() for m in ms), fields=fields
        ) from exc
    try:
        with transaction.atomic():
            account.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent registration of the same account
        message = _("This %(platform)s account is already registered.") % {"platform": platform.name}
        raise Conflict(
            message, code="already_registered", fields={"platform_account_id": [message]}
        ) from exc
    account.operators.set(operator_ids)
    audit_record(
        actor=actor,
        action="media_account.recorded",
        target=account,
        role=role,
        after=account_state(account, operator_ids=operator_ids),
    )
    after = account_state(account, operator_ids=operator_ids) | {"status": AccountStatus.ACTIVE}
    return _create_filing(
        actor=actor, role=role, kind=FilingKind.OPEN, account=account, event_date=event_date,
        before=None, after=after, report=report, note=note, exemption=exemption,
    )


@transaction.atomic
def filing_submit_reopen(*, actor: User, account: MediaAccount, event_date: date, note: str = "") -> Filing:
    """File the opening of an account that is pending filing without a filing on the
    way (e.g. imported as not yet filed), or re-open a suspended one. A rejected or
    withdrawn opening has made its account NOT_OPENED: that is filed anew instead."""
    account = MediaAccount.objects.select_for_update().select_related("organization", "platform").get(pk=account.pk)
    role = require_filer(actor, account.organization)
    _check_kind_allowed(FilingKind.OPEN, account)
    operator_ids = sorted(account.operators.values_list("pk", flat=True))
    report = rules.RuleReport()
    exemption = rules.check_one_per_platform(
        report, organization=account.organization, platform=account.platform, account=account
    )
    rules.check_operators(
        report, organization=account.organization, operator_ids=operator_ids,
        on=timezone.localdate(),
    )
    report.raise_if_errors()
    rules.check_name_consistency(
        report, organization=account.organization, display_name=account.display_name,
        platform=account.platform, account=account,
    )
    rules.check_name_related(report, organization=account.organization, display_name=account.display_name)
    before = account_state(account, operator_ids=operator_ids)
    return _create_filing(
        actor=actor, role=role, kind=FilingKind.OPEN, account=account, event_date=event_date,
        before=before, after=before | {"status": AccountStatus.ACTIVE}, report=report, note=note,
        exemption=exemption,
    )


@transaction.atomic
def filing_submit_change(
    *, actor: User, account: MediaAccount, changes: dict, event_date: date, note: str = ""
) -> Filing:
    """File a change of the account's facts; `changes` maps CHANGEABLE_FIELDS to their
    new values (liaison and organization by id, operators as a list of ids)."""
    account = MediaAccount.objects.select_for_update().select_related("organization", "platform").get(pk=account.pk)
    role = require_filer(actor, account.organization)
    _check_kind_allowed(FilingKind.CHANGE, account)
    unknown = set(changes) - set(CHANGEABLE_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed by a filing: %(f)s") % {"f": ", ".join(sorted(unknown))},
            fields={name: [_("Not changeable here.")] for name in sorted(unknown)},
        )
    current = account_state(account)
    target_org = account.organization
    after: dict = {}
    for name, value in changes.items():
        if name == "operators":
            value = sorted(set(_operators_from(value)))
        elif name in ("liaison", "organization"):
            value = int(value) if value not in (None, "") else None
        elif isinstance(value, str):
            value = value.strip()
        if value != current[name]:
            after[name] = value
    if not after:
        raise ValidationFailed(
            _("Nothing would change; enter the new values."), code="nothing_changed"
        )
    if "organization" in after:
        if after["organization"] is None:
            raise ValidationFailed(
                _("Choose the new sponsoring organization."),
                fields={"organization": [_("Choose an organization.")]},
            )
        target_org = Organization.objects.filter(pk=after["organization"]).first()
        if target_org is None:
            raise NotFound(_("Not found."))
        require(actor, Action.CHANGE, target_org)
    if "display_name" in after and not after["display_name"]:
        raise ValidationFailed(
            _("Enter the account's name."), fields={"display_name": [_("Enter the account's name.")]}
        )
    if "category" in after and after["category"] not in AccountCategory.values:
        raise ValidationFailed(_("Choose a listed category."), fields={"category": [_("Choose a listed category.")]})
    if "verification" in after and after["verification"] not in VerificationStatus.values:
        raise ValidationFailed(
            _("Choose a listed verification status."),
            fields={"verification": [_("Choose a listed verification status.")]},
        )
    if "liaison" in after:
        _user_or_error(after["liaison"], "liaison", target_org)
    report = rules.RuleReport()
    exemption = None
    if "operators" in after or "organization" in after:
        rules.check_operators(
            report, organization=target_org,
            operator_ids=after.get("operators", current["operators"]), on=timezone.localdate(),
        )
    if "organization" in after:
        exemption = rules.check_one_per_platform(
            report, organization=target_org, platform=account.platform, account=account
        )
    report.raise_if_errors()
    if "display_name" in after or "organization" in after:
        name = after.get("display_name", account.display_name)
        rules.check_name_consistency(
            report, organization=target_org, display_name=name, platform=account.platform,
            account=account,
        )
        rules.check_name_related(report, organization=target_org, display_name=name)
    rules.check_verification(report, verification=after.get("verification", account.verification))
    if "operators" in after or "organization" in after:
        rules.check_operator_agreements(
            report, organization=target_org,
            operator_ids=after.get("operators", current["operators"]), on=timezone.localdate(),
        )
    before = {name: current[name] for name in after}
    return _create_filing(
        actor=actor, role=role, kind=FilingKind.CHANGE, account=account, event_date=event_date,
        before=before, after=after, report=report, note=note, exemption=exemption,
    )


@transaction.atomic
def filing_submit_suspend(*, actor: User, account: MediaAccount, event_date: date, note: str = "") -> Filing:
    account = MediaAccount.objects.select_for_update().select_related("organization").get(pk=account.pk)
    role = require_filer(actor, account.organization)
    _check_kind_allowed(FilingKind.SUSPEND, account)
    if not (note or "").strip():
        raise ValidationFailed(
            _("Say why the account is suspended."), fields={"note": [_("Enter the reason.")]}
        )
    return _create_filing(
        actor=actor, role=role, kind=FilingKind.SUSPEND, account=account, event_date=event_date,
        before={"status": account.status}, after={"status": AccountStatus.SUSPENDED},
        report=rules.RuleReport(), note=note,
    )


@transaction.atomic
def filing_submit_cancel(
    *,
    actor: User,
    account: MediaAccount,
    event_date: date,
    announcement_url: str = "",
    announcement_text: str = "",
    announced_on: date | None = None,
    deregistered_on: date | None = None,
    note: str = "",
) -> Filing:
    account = MediaAccount.objects.select_for_update().select_related("organization").get(pk=account.pk)
    role = require_filer(actor, account.organization)
    _check_kind_allowed(FilingKind.CANCEL, account)
    report = rules.RuleReport()
    rules.check_cancellation(
        report,
        organization=account.organization,
        announcement_url=announcement_url,
        announcement_text=announcement_text,
        announced_on=announced_on,
        deregistered_on=deregistered_on,
        today=timezone.localdate(),
    )
    report.raise_if_errors()
    return _create_filing(
        actor=actor, role=role, kind=FilingKind.CANCEL, account=account, event_date=event_date,
        before={"status": account.status}, after={"status": AccountStatus.CANCELLED},
        report=report, note=note,
        announcement_url=(announcement_url or "").strip(),
        announcement_text=(announcement_text or "").strip(),
        announced_on=announced_on,
        deregistered_on=deregistered_on,
    )


def filing_submit(*, actor: User, kind: str, **data) -> Filing:
    """Dispatch by kind (the API and forms call this)."""
    if kind == FilingKind.OPEN:
        if data.get("account") is not None:
            return filing_submit_reopen(
                actor=actor, account=data["account"], event_date=data["event_date"],
                note=data.get("note", ""),
            )
        data.pop("account", None)
        return filing_submit_open(actor=actor, **data)
    if kind == FilingKind.CHANGE:
        return filing_submit_change(actor=actor, **data)
    if kind == FilingKind.SUSPEND:
        return filing_submit_suspend(actor=actor, **data)
    if kind == FilingKind.CANCEL:
        return filing_submit_cancel(actor=actor, **data)
    raise ValidationFailed(_("Unknown kind of filing."), fields={"kind": [_("Choose a listed kind.")]})


# --- deciding -----------------------------------------------------------------------------
def _move(account: MediaAccount, organization: Organization) -> list[str]:
    """Keep the denormalized path and region in step with the sponsoring organization."""
    account.organization = organization
    account.org_path = organization.path
    account.region_code = organization.region_code
    fields = ["organization", "org_path", "region_code"]
    if not account.supervising_overridden:
        account.supervising_organization = derive_supervising(organization)
        fields.append("supervising_organization")
    return fields


def _apply(filing: Filing, account: MediaAccount, actor: User, role: str) -> None:
    """Make the filed change take effect. Caller holds both row locks."""
    if account.status not in KIND_FROM_STATUSES[filing.kind]:
        raise Conflict(
            _("The account's status changed since filing (it is now %(status)s); reject this "
              "filing and file again.") % {"status": account.get_status_display()},
            code="wrong_account_status",
        )
    before = account_state(account)
    fields: list[str] = ["status", "updated_at"]
    if filing.kind == FilingKind.OPEN:
        report = rules.RuleReport()
        # Re-checked at approval: two openings may have been pending side by side.
        rules.check_one_per_platform(
            report, organization=account.organization, platform=account.platform,
            account=account, include_pending=False,
        )
        report.raise_if_errors()
        account.status = AccountStatus.ACTIVE
        if account.opened_on is None:
            account.opened_on = filing.event_date
            fields.append("opened_on")
        action = "media_account.opened"
    elif filing.kind == FilingKind.CHANGE:
        after = filing.after or {}
        for name in ("display_name", "profile_url", "category", "verification"):
            if name in after:
                setattr(account, name, after[name])
                fields.append(name)
        if "liaison" in after:
            account.liaison_id = after["liaison"]
            fields.append("liaison")
        if "organization" in after:
            fields += _move(account, Organization.objects.get(pk=after["organization"]))
        if "operators" in after:
            account.operators.set(after["operators"])
        action = "media_account.changed"
    elif filing.kind == FilingKind.SUSPEND:
        account.status = AccountStatus.SUSPENDED
        action = "media_account.suspended"
    else:
        account.status = AccountStatus.CANCELLED
        action = "media_account.cancelled"
    account.full_clean(exclude=["org_path", "region_code", "operators"], validate_constraints=False)
    account.save(update_fields=fields)
    audit_record(
        actor=actor,
        action=action,
        target=account,
        organization=account.organization,
        role=role,
        before=before,
        after=account_state(account) | {"filing": filing.number},
    )


def release_unopened(filing: Filing, account: MediaAccount, actor: User, role: str) -> None:
    """An opening filing of a pending account was rejected or withdrawn: the account
    was never opened. It becomes NOT_OPENED (kept as the filing's record) and no
    longer holds its platform id, so the organization can file the account again.
    Caller holds both row locks."""
    if filing.kind != FilingKind.OPEN or account.status != AccountStatus.PENDING:
        return  # a re-opening of a suspended account leaves it suspended
    before = account_state(account)
    account.status = AccountStatus.NOT_OPENED
    account.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="media_account.not_opened",
        target=account,
        organization=account.organization,
        role=role,
        before=before,
        after=account_state(account) | {"filing": filing.number},
    )


def approval_warnings(filing: Filing, account: MediaAccount | None = None) -> list[dict]:
    """Warnings the supervisor sees when deciding, computed on the state of now: the
    account is not real-name verified (rule 3); an operator lacks a confidentiality
    agreement as outsourced staff. Recorded with the approval in the audit trail."""
    if filing.kind not in (FilingKind.OPEN, FilingKind.CHANGE):
        return []
    account = account or filing.account
    after = filing.after or {}
    report = rules.RuleReport()
    rules.check_verification(report, verification=after.get("verification", account.verification))
    operator_ids = after.get("operators")
    if operator_ids is None:
        operator_ids = list(account.operators.values_list("pk", flat=True))
    organization = (
        Organization.objects.get(pk=after["organization"])
        if "organization" in after
        else account.organization
    )
    rules.check_operator_agreements(
        report, organization=organization, operator_ids=operator_ids, on=timezone.localdate()
    )
    return report.warnings


TRANSITION_AUDIT_ACTIONS = {
    FilingStatus.APPROVED: "filing.approved",
    FilingStatus.REJECTED: "filing.rejected",
    FilingStatus.WITHDRAWN: "filing.withdrawn",
}


@transaction.atomic
def filing_transition(*, filing: Filing, to_status: str, actor: User, reason: str = "") -> Filing:
    """The one way a filing's status changes. Locks the filing (a second, concurrent
    decision waits, then finds it decided and gets Conflict), checks the transition
    table and the actor's right (a supervisor approves or rejects; whoever files for
    the sponsoring organization withdraws), applies the change on approval, releases
    a never-opened account on rejection or withdrawal, audits, notifies."""
    f = (
        Filing.objects.select_for_update()
        .select_related("organization", "supervising_organization", "submitted_by")
        .get(pk=filing.pk)
    )
    if to_status == FilingStatus.WITHDRAWN:
        role = require_filer(actor, f.organization)
    else:
        _require_decider(actor, f)
        role = acting_role(actor, Action.CHANGE, f.organization) or Role.SUPERVISOR
    if to_status not in ALLOWED_TRANSITIONS.get(f.status, frozenset()):
        raise Conflict(_("This filing has already been decided."), code="already_decided")
    if to_status != FilingStatus.WITHDRAWN and f.leader_signoff == LeaderSignoff.PENDING:
        raise Conflict(
            _("The principal leader of %(org)s has not signed this filing off yet; it can "
              "be decided once they have.") % {"org": f.organization.name},
            code="awaiting_leader",
        )
    reason = (reason or "").strip()
    if to_status == FilingStatus.REJECTED and not reason:
        raise ValidationFailed(
            _("Give the reason for rejecting the filing."),
            code="reason_required",
            fields={"reason": [_("Enter the reason.")]},
        )
    account = (
        MediaAccount.objects.select_for_update()
        .select_related("organization", "platform")
        .get(pk=f.account_id)
    )
    f.account = account
    before = _filing_state(f)
    decision_warnings = []
    if to_status == FilingStatus.APPROVED:
        decision_warnings = approval_warnings(f, account)
        _apply(f, account, actor, role)
    else:
        release_unopened(f, account, actor, role)
    f.status = to_status
    f.decided_by = actor
    f.decided_at = timezone.now()
    f.decision_reason = reason
    f.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    audit_record(
        actor=actor,
        action=TRANSITION_AUDIT_ACTIONS[to_status],
        target=f,
        organization=f.organization,
        role=role,
        before=before,
        after=_filing_state(f) | {"reason": reason, "decision_warnings": decision_warnings},
    )
    if to_status == FilingStatus.WITHDRAWN:
        _notify_withdrawn(f, actor)
    else:
        notify_decided(f)
    return f


def filing_approve(*, filing: Filing, actor: User, reason: str = "") -> Filing:
    return filing_transition(filing=filing, to_status=FilingStatus.APPROVED, actor=actor, reason=reason)


def filing_reject(*, filing: Filing, actor: User, reason: str) -> Filing:
    return filing_transition(filing=filing, to_status=FilingStatus.REJECTED, actor=actor, reason=reason)


def filing_withdraw(*, filing: Filing, actor: User, reason: str = "") -> Filing:
    """The filer takes back a filing awaiting approval (an opening withdrawn releases
    the account's platform id, see `release_unopened`)."""
    return filing_transition(filing=filing, to_status=FilingStatus.WITHDRAWN, actor=actor, reason=reason)


def can_withdraw(user, filing: Filing) -> bool:
    return filing.status == FilingStatus.SUBMITTED and can_file(user, filing.organization)


# --- exemptions ---------------------------------------------------------------------------
@transaction.atomic
def exemption_grant(
    *, actor: User, organization: Organization, platform: Platform, reason: str
) -> AccountExemption:
    """A supervisor over `organization` records that it may keep more than one account
    on `platform`."""
    require(actor, Action.CHANGE, organization)
    if not supervisor_role_over(actor, organization.path):
        raise PermissionDenied(
            _("Only a supervisor of the supervising organization records exemptions."),
            code="not_supervisor",
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Give the reason for the exemption."), fields={"reason": [_("Enter the reason.")]}
        )
    if AccountExemption.objects.active().filter(organization=organization, platform=platform).exists():
        raise Conflict(
            _("%(org)s already has an exemption for %(platform)s.")
            % {"org": organization.name, "platform": platform.name},
            code="exemption_exists",
        )
    exemption = AccountExemption(
        organization=organization, platform=platform, reason=reason, granted_by=actor
    )
    exemption.save()
    audit_record(
        actor=actor,
        action="exemption.granted",
        target=exemption,
        role=Role.SUPERVISOR,
        after={"organization": organization.pk, "platform": platform.code, "reason": reason},
    )
    return exemption


@transaction.atomic
def exemption_revoke(*, actor: User, exemption: AccountExemption) -> AccountExemption:
    e = AccountExemption.objects.select_for_update().select_related("organization").get(pk=exemption.pk)
    require(actor, Action.CHANGE, e.organization)
    if not supervisor_role_over(actor, e.organization.path):
        raise PermissionDenied(
            _("Only a supervisor of the supervising organization records exemptions."),
            code="not_supervisor",
        )
    if e.revoked_at is not None:
        raise Conflict(_("This exemption has already been revoked."), code="already_revoked")
    e.revoked_at = timezone.now()
    e.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor, action="exemption.revoked", target=e, role=Role.SUPERVISOR,
        after={"revoked_at": e.revoked_at},
    )
    return e


__all__ = [
    "filing_submit", "filing_submit_open", "filing_submit_reopen", "filing_submit_change",
    "filing_submit_suspend", "filing_submit_cancel", "filing_transition", "filing_approve",
    "filing_reject", "filing_withdraw", "can_withdraw", "exemption_grant", "exemption_revoke", "can_decide", "can_file",
]


# --- opening filings in bulk (ledger import by a filer) ---------------------------------
def _reserve_numbers(region_code: str, year: int, n: int) -> list[str]:
    """Caller holds a transaction; `n` consecutive numbers under one row lock."""
    FilingSequence.objects.get_or_create(region_code=region_code, year=year)
    seq = FilingSequence.objects.select_for_update().get(region_code=region_code, year=year)
    first = seq.last_number + 1
    seq.last_number += n
    seq.save(update_fields=["last_number"])
    return [f"{region_code}-{year}-{i:04d}" for i in range(first, first + n)]


def filings_open_many(
    *,
    actor: User,
    accounts: list[MediaAccount],
    event_dates: dict[int, date],
    role_of: dict[int, str],
    warnings_of: dict[int, list[dict]] | None = None,
    note: str = "",
) -> list[Filing]:
    """File the opening of many pending accounts at once (a filer's ledger import):
    the same filing `filing_submit_open` makes for one, set-based. Numbers are
    reserved per region under one lock each, due dates computed once per
    organization and event date, routing once per supervising organization; one
    INSERT of filings, one of audit events, one notification per deciding
    organization. Caller holds the transaction and checked the rules per row."""
    if not accounts:
        return []
    now = timezone.now()
    year = timezone.localtime(now, SHANGHAI).year
    by_region: dict[str, list[MediaAccount]] = {}
    for account in accounts:
        by_region.setdefault(account.region_code, []).append(account)
    numbers: dict[int, str] = {}
    for region, group in by_region.items():
        for account, number in zip(
            group, _reserve_numbers(region, year, len(group)), strict=True
        ):
            numbers[account.pk] = number
    dues: dict[tuple[int, date], tuple[datetime, bool]] = {}
    levels = routing.decision_levels_many(
        list({a.supervising_organization_id: a.supervising_organization for a in accounts}.values())
    )
    rows = []
    for account in accounts:
        event_date = event_dates[account.pk]
        key = (account.organization_id, event_date)
        if key not in dues:
            dues[key] = filing_due_at(account.organization, event_date)
        due_at, provisional = dues[key]
        decider, escalation = levels[account.supervising_organization_id]
        rows.append(Filing(
            number=numbers[account.pk],
            kind=FilingKind.OPEN,
            account=account,
            organization=account.organization,
            supervising_organization=account.supervising_organization,
            decider_organization=decider,
            escalation_organization=escalation,
            org_path=account.org_path,
            region_code=account.region_code,
            event_date=event_date,
            note=note,
            before=None,
            after=account_state(account, operator_ids=[]) | {"status": AccountStatus.ACTIVE},
            warnings=(warnings_of or {}).get(account.pk, []),
            submitted_by=actor,
            submitted_at=now,
            due_at=due_at,
            due_provisional=provisional,
            is_late=now > due_at,
            leader_signoff=(
                LeaderSignoff.PENDING if signoff.needs_signoff(FilingKind.OPEN)
                else LeaderSignoff.NOT_NEEDED
            ),
        ))
    Filing.objects.bulk_create(rows, batch_size=1000)
    by_role: dict[str, list[Filing]] = {}
    for f in rows:
        by_role.setdefault(role_of[f.organization_id], []).append(f)
    for role, group in by_role.items():
        audit_record_bulk(
            actor=actor,
            action="filing.submitted",
            targets=group,
            organization_of=lambda f: f.organization,
            after_of=_filing_state,
            role=role,
        )
    if rows[0].leader_signoff == LeaderSignoff.PENDING:
        notify_leaders_many(rows)
    else:
        notify_submitted_many(rows)
    return rows


def notify_submitted_many(rows: list[Filing]) -> None:
    """One notification per deciding organization for a batch of filings."""
    by_decider: dict[int, list[Filing]] = {}
    for f in rows:
        by_decider.setdefault(f.decider_organization_id, []).append(f)
    for org_id, group in by_decider.items():
        if len(group) == 1:
            notify_submitted(group[0])
            continue
        recipients = [
            u for u in routing.supervisors_of_org(org_id) if u.pk != group[0].submitted_by_id
        ]
        notify(
            recipients=recipients,
            organization=group[0].supervising_organization,
            kind="registry.filing_submitted",
            message=_("%(org)s filed the opening of %(n)s accounts (%(first)s...) for your "
                      "approval.")
            % {"org": group[0].organization.name, "n": len(group), "first": group[0].number},
            dedupe_key=f"registry.filing:{group[0].pk}:submitted",
            url=reverse("registry:filing_queue"),
        )


def notify_leaders_many(rows: list[Filing]) -> None:
    """One notification per sponsoring organization's principal leaders."""
    by_org: dict[int, list[Filing]] = {}
    for f in rows:
        by_org.setdefault(f.organization_id, []).append(f)
    for org_id, group in by_org.items():
        notify(
            recipients=list(signoff.leaders_of([org_id], exclude=group[0].submitted_by_id)),
            organization=group[0].organization,
            kind="registry.filing_signoff_waiting",
            message=_("%(n)s opening filings (%(first)s...) await your sign-off.")
            % {"n": len(group), "first": group[0].number},
            dedupe_key=f"registry.filing:{group[0].pk}:signoff",
            url=reverse("registry:signoff_queue"),
        )
