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

from accounts.models import Membership, Organization, Role, User
from accounts.scoping import Action, Domain, forget, require
from audit.services import audit_record
from common.errors import Conflict, ValidationFailed

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
    _clean(user, exclude=["password"])
    user.save()
    audit_record(
        actor=actor,
        action="user.created",
        target=user,
        organization=organization,
        role=role,
        after={"username": username, "display_name": display_name},
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
    if Membership.objects.filter(user=user, organization=organization, role=role, is_active=True).exists():
        raise Conflict(_("This person already holds this role here."), code="duplicate_role")
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
