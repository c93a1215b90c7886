"""Changes to organizations, people and roles. Each checks the actor's right through
accounts.scoping and writes an audit event in the same transaction.

`actor=None` means the platform itself (installation, demo seeding, scheduled jobs):
those calls skip the scope check but are still audited as "system".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, PasswordHistory, Role, User
from accounts.scoping import ADMIN_ROLES, Action, Domain, forget, require
from audit.services import audit_record
from common.errors import Conflict, NotFound, ValidationFailed

# Apps that must act when a role ends (e.g. the registry opens credential-rotation
# tasks) register a callback here in AppConfig.ready. Called inside the transaction.
_ON_MEMBERSHIP_ENDED: list[Callable[..., None]] = []


def on_membership_ended(fn: Callable[..., None]) -> Callable[..., None]:
    if fn not in _ON_MEMBERSHIP_ENDED:
        _ON_MEMBERSHIP_ENDED.append(fn)
    return fn


def _org_state(org: Organization) -> dict:
    return {
        "name": org.name,
        "short_name": org.short_name,
        "kind": org.kind,
        "level": org.level,
        "region_code": org.region_code,
        "is_active": org.is_active,
    }


def _clean(instance, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ValidationFailed(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()),
            fields=exc.message_dict,
        ) from exc


@transaction.atomic
def organization_create(
    *,
    actor: User | None,
    parent: Organization | None,
    name: str,
    kind: str,
    level: str,
    region_code: str,
    short_name: str = "",
) -> Organization:
    """Add an organization under `parent` (a root province when parent is None, which
    only the platform itself may do)."""
    if parent is None and actor is not None:
        raise ValidationFailed(
            _("Only the platform installer creates top-level organizations."),
            fields={"parent": [_("Choose the organization this one belongs to.")]},
        )
    role = ""
    if actor is not None:
        role = require(actor, Action.CHANGE, parent, Domain.DIRECTORY)
    org = Organization(
        name=name, short_name=short_name, kind=kind, level=level, region_code=region_code
    )
    _clean(org, exclude=["path", "depth", "numchild"])
    org = Organization.add_root(instance=org) if parent is None else parent.add_child(instance=org)
    audit_record(
        actor=actor,
        action="organization.created",
        target=org,
        organization=org,
        role=role,
        after=_org_state(org),
    )
    return org


@transaction.atomic
def organization_update(*, actor: User | None, organization: Organization, **changes) -> Organization:
    allowed = {"name", "short_name", "kind", "level", "region_code", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed here: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    org = Organization.objects.select_for_update().get(pk=organization.pk)
    role = ""
    if actor is not None:
        role = require(actor, Action.CHANGE, org, Domain.DIRECTORY)
    before = _org_state(org)
    for key, value in changes.items():
        setattr(org, key, value)
    _clean(org, exclude=["path", "depth", "numchild"])
    org.save(update_fields=list(changes))
    audit_record(
        actor=actor,
        action="organization.updated",
        target=org,
        role=role,
        before=before,
        after=_org_state(org),
    )
    return org


def _user_new(
    *, username: str, password: str, display_name: str, email: str, must_change: bool
) -> User:
    """Build, validate and save a new sign-in (the caller audits it)."""
    if User.objects.filter(username=username).exists():
        raise Conflict(
            _("The username %(username)s is taken.") % {"username": username},
            fields={"username": [_("This username is taken.")]},
        )
    user = User(username=username, display_name=display_name, email=email)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), fields={"password": exc.messages}) from exc
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.must_change_password = must_change
    _clean(user, exclude=["password"])
    user.save()
    return user


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    organization: Organization,
    username: str,
    password: str,
    display_name: str = "",
    email: str = "",
) -> User:
    """Create a sign-in for a person of `organization` (system administrators)."""
    role = ""
    if actor is not None:
        role = require(actor, Action.CHANGE, organization, Domain.DIRECTORY)
    user = _user_new(
        username=username, password=password, display_name=display_name, email=email,
        must_change=False,
    )
    audit_record(
        actor=actor,
        action="user.created",
        target=user,
        organization=organization,
        role=role,
        after={"username": username, "display_name": display_name},
    )
    return user


@transaction.atomic
def user_enrol(
    *,
    actor: User | None,
    organization: Organization,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    email: str = "",
    agreement_signed_on: date | None = None,
    agreement_document: str = "",
) -> User:
    """The security administrator creates a person's sign-in together with their first
    role in `organization` (one transaction: a refused role creates no sign-in).

    The password is temporary: the person chooses their own at the first sign-in.
    A person is visible to the security administrator only through a role, which is
    why the sign-in is never created without one here. Audited as "user.created"
    and "membership.granted"; the role rules are membership_grant's."""
    acting = ""
    if actor is not None:
        acting = require(actor, Action.CHANGE, organization, Domain.ACCESS)
    if role not in Role.values:
        raise ValidationFailed(
            _("Unknown role: %(role)s") % {"role": role},
            fields={"role": [_("Choose a listed role.")]},
        )
    user = _user_new(
        username=username, password=password, display_name=display_name, email=email,
        must_change=True,
    )
    audit_record(
        actor=actor,
        action="user.created",
        target=user,
        organization=organization,
        role=acting,
        after={"username": username, "display_name": display_name},
    )
    membership_grant(
        actor=actor,
        user=user,
        organization=organization,
        role=role,
        agreement_signed_on=agreement_signed_on,
        agreement_document=agreement_document,
    )
    return user


def _membership_state(m: Membership) -> dict:
    return {
        "user": m.user.username,
        "role": m.role,
        "is_active": m.is_active,
        "started_on": m.started_on,
        "ended_on": m.ended_on,
        "agreement_signed_on": m.agreement_signed_on,
        "agreement_document": m.agreement_document,
    }


def duty_of(role: str) -> str:
    """The duty a role belongs to: each administrator role is a duty of its own, every
    other role is business. One person holds roles of one duty only (三员分立)."""
    return role if role in ADMIN_ROLES else "business"


def separation_check(*, user: User, role: str) -> None:
    """Refuse a grant that would give `user` two duties (三员分立).

    SECURITY: MLPS 2.0 level 3 separates the system, security and audit
    administrators: one person holds at most one administrator role, and no
    business role beside it. Holding the same administrator role in several
    organizations is one duty and allowed.
    """
    held = set(Membership.objects.filter(user=user, is_active=True).values_list("role", flat=True))
    clash = sorted(h for h in held if duty_of(h) != duty_of(role))
    if not clash:
        return
    held_label = "、".join(str(Role(h).label) for h in clash)
    if role in ADMIN_ROLES:
        message = _(
            "Separation of the three administrators: %(user)s already holds %(held)s; "
            "an administrator role cannot be held together with any other role."
        )
    else:
        message = _(
            "Separation of the three administrators: %(user)s holds %(held)s and "
            "therefore cannot also hold a business role."
        )
    message = message % {"user": user, "held": held_label}
    raise Conflict(message, code="separation_of_duties", fields={"role": [message]})


@transaction.atomic
def membership_grant(
    *,
    actor: User | None,
    user: User,
    organization: Organization,
    role: str,
    started_on: date | None = None,
    agreement_signed_on: date | None = None,
    agreement_document: str = "",
) -> Membership:
    """Give `user` a role in `organization` (security administrators)."""
    acting = ""
    if actor is not None:
        acting = require(actor, Action.CHANGE, organization, Domain.ACCESS)
        if actor.pk == user.pk:
            raise ValidationFailed(
                _("Nobody grants roles to themselves."), fields={"user": [_("Choose another person.")]}
            )
    if role not in Role.values:
        raise ValidationFailed(
            _("Unknown role: %(role)s") % {"role": role}, fields={"role": [_("Choose a listed role.")]}
        )
    if role == Role.OUTSOURCED_OPERATOR and (not agreement_signed_on or not agreement_document):
        raise ValidationFailed(
            _("An outsourced operator needs a confidentiality agreement on file (date and document)."),
            code="agreement_missing",
            fields={
                "agreement_signed_on": [_("Enter the date the agreement was signed.")],
                "agreement_document": [_("Enter the agreement's document number.")],
            },
        )
    # Serialize grants to one person, so two concurrent grants cannot together break
    # the separation of duties (the database constraint catches it too on PostgreSQL).
    User.objects.select_for_update().filter(pk=user.pk).first()
    if Membership.objects.filter(user=user, organization=organization, role=role, is_active=True).exists():
        raise Conflict(_("This person already holds this role here."), code="duplicate_role")
    separation_check(user=user, role=role)
    m = Membership(
        user=user,
        organization=organization,
        role=role,
        started_on=started_on or timezone.localdate(),
        agreement_signed_on=agreement_signed_on,
        agreement_document=agreement_document,
    )
    _clean(m)
    m.save()
    forget(user)
    audit_record(
        actor=actor,
        action="membership.granted",
        target=m,
        organization=organization,
        role=acting,
        after=_membership_state(m),
        target_label=f"{user} · {m.get_role_display()}",
    )
    return m


@transaction.atomic
def membership_end(*, actor: User | None, membership: Membership, ended_on: date | None = None) -> Membership:
    """End a role (leaving, moving, resigning). Registered apps react in the same
    transaction (credential rotation for the accounts the person ran)."""
    m = Membership.objects.select_for_update().select_related("user", "organization").get(pk=membership.pk)
    role = ""
    if actor is not None:
        role = require(actor, Action.CHANGE, m.organization, Domain.ACCESS)
    if not m.is_active:
        raise Conflict(_("This role has already ended."), code="already_ended")
    before = _membership_state(m)
    m.is_active = False
    m.ended_on = ended_on or timezone.localdate()
    m.save(update_fields=["is_active", "ended_on"])
    forget(m.user)
    audit_record(
        actor=actor,
        action="membership.ended",
        target=m,
        organization=m.organization,
        role=role,
        before=before,
        after=_membership_state(m),
        target_label=f"{m.user} · {m.get_role_display()}",
    )
    for callback in _ON_MEMBERSHIP_ENDED:
        callback(membership=m, actor=actor)
    return m


# --- passwords (accounts.passwords holds the policy) ---------------------------------
PASSWORD_HISTORY_DEPTH = 5
_ON_CREDENTIALS_CHANGED: list[Callable[..., None]] = []


def on_credentials_changed(fn: Callable[..., None]) -> Callable[..., None]:
    """Register a callback run (inside the transaction) when a person's password
    changes or their sign-in is deactivated: API tokens are revoked there."""
    if fn not in _ON_CREDENTIALS_CHANGED:
        _ON_CREDENTIALS_CHANGED.append(fn)
    return fn


def home_organization(user: User) -> Organization | None:
    """The organization a person's security events are filed under: that of their
    first active role (None for a person without roles: a platform-wide event)."""
    m = (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("organization")
        .order_by("organization__path", "id")
        .first()
    )
    return m.organization if m else None


def _set_password(user: User, new_password: str, *, must_change: bool) -> None:
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationFailed(
            " ".join(exc.messages), fields={"new_password": exc.messages}
        ) from exc
    if user.password:
        PasswordHistory.objects.create(user=user, password=user.password)
        keep = list(
            PasswordHistory.objects.filter(user=user)
            .order_by("-created_at", "-id")
            .values_list("id", flat=True)[:PASSWORD_HISTORY_DEPTH]
        )
        PasswordHistory.objects.filter(user=user).exclude(id__in=keep).delete()
    user.set_password(new_password)
    user.password_changed_at = timezone.now()
    user.must_change_password = must_change
    user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    # SECURITY: a new password ends every API token issued under the old one.
    from accounts.tokens import tokens_revoke_all

    tokens_revoke_all(user=user, reason="password_changed")
    for callback in _ON_CREDENTIALS_CHANGED:
        callback(user=user)


@transaction.atomic
def user_password_change(*, user: User, old_password: str, new_password: str) -> User:
    """A person changes their own password (self-service; also the forced change)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.check_password(old_password):
        message = _("The current password is wrong.")
        raise ValidationFailed(message, code="wrong_password", fields={"old_password": [message]})
    _set_password(user, new_password, must_change=False)
    org = home_organization(user)
    audit_record(
        actor=user,
        action="user.password_changed",
        target=user,
        organization=org,
        platform_wide=org is None,
    )
    return user


@transaction.atomic
def user_password_reset(*, actor: User | None, user: User, new_password: str) -> User:
    """The security administrator sets a temporary password; the person must choose
    their own at the next sign-in."""
    user = User.objects.select_for_update().get(pk=user.pk)
    org = home_organization(user)
    role = ""
    if actor is not None:
        if org is None:
            raise NotFound(_("Not found."))
        role = require(actor, Action.CHANGE, org, Domain.ACCESS)
        if actor.pk == user.pk:
            raise ValidationFailed(
                _("Change your own password on your password page."),
                fields={"user": [_("Choose another person.")]},
            )
    _set_password(user, new_password, must_change=True)
    audit_record(
        actor=actor,
        action="user.password_reset",
        target=user,
        organization=org,
        role=role,
        platform_wide=org is None,
    )
    return user


@transaction.atomic
def user_deactivate(*, actor: User | None, user: User) -> User:
    """Switch off a person's sign-in (leaving the platform); their API tokens end."""
    user = User.objects.select_for_update().get(pk=user.pk)
    org = home_organization(user)
    role = ""
    if actor is not None:
        if org is None:
            raise NotFound(_("Not found."))
        role = require(actor, Action.CHANGE, org, Domain.ACCESS)
        if actor.pk == user.pk:
            raise ValidationFailed(
                _("Nobody deactivates themselves."), fields={"user": [_("Choose another person.")]}
            )
    if not user.is_active:
        raise Conflict(_("This sign-in is already deactivated."), code="already_inactive")
    user.is_active = False
    user.save(update_fields=["is_active"])
    from accounts.tokens import tokens_revoke_all

    tokens_revoke_all(user=user, reason="deactivated")
    audit_record(
        actor=actor,
        action="user.deactivated",
        target=user,
        organization=org,
        role=role,
        before={"is_active": True},
        after={"is_active": False},
        platform_wide=org is None,
    )
    return user


@transaction.atomic
def user_reactivate(*, actor: User | None, user: User) -> User:
    """Switch a deactivated sign-in back on. Its roles are as they were left; API
    tokens ended with the deactivation stay ended."""
    user = User.objects.select_for_update().get(pk=user.pk)
    org = home_organization(user)
    role = ""
    if actor is not None:
        if org is None:
            raise NotFound(_("Not found."))
        role = require(actor, Action.CHANGE, org, Domain.ACCESS)
        if actor.pk == user.pk:
            raise ValidationFailed(
                _("Nobody reactivates themselves."),
                fields={"user": [_("Choose another person.")]},
            )
    if user.is_active:
        raise Conflict(_("This sign-in is already active."), code="already_active")
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="user.reactivated",
        target=user,
        organization=org,
        role=role,
        before={"is_active": False},
        after={"is_active": True},
        platform_wide=org is None,
    )
    return user


@transaction.atomic
def phone_reveal(*, actor: User, user: User) -> str:
    """The full phone number of `user`, for someone who may see the people of their
    organization (or the person themself). Pages and exports show it masked; each
    reveal is an audit event (MLPS level 3: personal information, common/pii.py)."""
    org = home_organization(user)
    role = ""
    if actor.pk != user.pk:
        if org is None:
            raise NotFound(_("Not found."))
        role = require(actor, Action.VIEW, org, Domain.ACCESS)
    audit_record(
        actor=actor,
        action="pii.phone_revealed",
        target=user,
        organization=org,
        role=role,
        platform_wide=org is None,
        after={"field": "phone"},
    )
    return user.phone
