"""Second factor (TOTP through django-otp, recovery codes as django-otp static
tokens): who must use it, enrolment, verification, reset.

SECURITY: MLPS 2.0 level 3 asks for two factors for administrators. The three
administrator roles, staff and superusers (the Django admin) always need one; every
other role follows SecondFactorRule, defaulting to settings.SECOND_FACTOR_DEFAULT_ROLES
(supervisors). Sessions signed in with a password alone may reach only the enrolment
and verification pages until the second factor is given (SecondFactorMiddleware).
"""

from __future__ import annotations

import segno
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, SecondFactorRule, User
from accounts.scoping import ADMIN_ROLES, Action, Domain, require, roles_of
from audit.services import audit_record, audit_security_event
from common.errors import NotFound, ValidationFailed

RECOVERY_CODES = 10
_CACHE_KEY = "accounts:second-factor-rules"


def required_roles() -> frozenset[str]:
    """Roles whose holders need a second factor (one cached query)."""
    rules = cache.get(_CACHE_KEY)
    if rules is None:
        rules = dict(SecondFactorRule.objects.values_list("role", "required"))
        # No expiry: second_factor_rule_set deletes the key, so every request after the
        # first costs no query (a timed expiry made query counts depend on the clock).
        cache.set(_CACHE_KEY, rules, None)
    defaults = set(getattr(settings, "SECOND_FACTOR_DEFAULT_ROLES", ()))
    optional = {r for r in Role.values if r not in ADMIN_ROLES and rules.get(r, r in defaults)}
    return frozenset({str(r) for r in ADMIN_ROLES} | optional)


def second_factor_required(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.is_staff:
        return True
    return bool({str(r) for r in roles_of(user)} & required_roles())


def rule_rows() -> list[dict]:
    """Each role with whether its holders need a second factor and why: mandatory
    (administrators), a rule set by the security administrator, or the default
    (SECOND_FACTOR_DEFAULT_ROLES). One query."""
    rules = dict(SecondFactorRule.objects.values_list("role", "required"))
    defaults = set(getattr(settings, "SECOND_FACTOR_DEFAULT_ROLES", ()))
    rows = []
    for value, label in Role.choices:
        if value in ADMIN_ROLES:
            rows.append({"role": value, "label": label, "required": True, "source": "mandatory"})
        elif value in rules:
            rows.append({"role": value, "label": label, "required": rules[value],
                         "source": "rule"})
        else:
            rows.append({"role": value, "label": label, "required": value in defaults,
                         "source": "default"})
    return rows


def _home(user):
    from accounts.services import home_organization

    return home_organization(user)


@transaction.atomic
def second_factor_rule_set(*, actor: User | None, role: str, required: bool) -> SecondFactorRule:
    """Turn the second factor on or off for a business role (platform-wide)."""
    if role not in Role.values:
        raise ValidationFailed(_("Unknown role: %(role)s") % {"role": role})
    if role in ADMIN_ROLES and not required:
        message = _("Administrators always sign in with a second factor.")
        raise ValidationFailed(message, code="second_factor_mandatory", fields={"role": [message]})
    if actor is not None and not (roles_of(actor) & {Role.SECURITY_ADMIN}):
        raise NotFound(_("Not found."))
    rule, _created = SecondFactorRule.objects.update_or_create(
        role=role, defaults={"required": required}
    )
    transaction.on_commit(lambda: cache.delete(_CACHE_KEY))
    cache.delete(_CACHE_KEY)
    audit_security_event(
        action="otp.rule_set",
        actor=actor,
        subject=actor,
        username="system",
        organization=_home(actor) if actor else None,
        target=rule,
        after={"role": role, "required": required},
    )
    return rule


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled (made on first call)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The provisioning URI as an inline SVG QR code (segno: no image service)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2)


def secret_base32(device: TOTPDevice) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode()


@transaction.atomic
def second_factor_enrol(*, request, user: User, code: str) -> list[str]:
    """Confirm the pending TOTP device with a code from the authenticator app; return
    fresh recovery codes (shown once). Verifies the session as well."""
    device = pending_device(user)
    if not device.verify_token((code or "").strip()):
        message = _("The code is wrong or has expired; enter the current six digits.")
        raise ValidationFailed(message, code="otp_wrong", fields={"code": [message]})
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    otp_login(request, device)
    audit_security_event(
        action="otp.enrolled", subject=user, organization=_home(user), after={"device": "totp"}
    )
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [StaticToken.random_token() for _i in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=c) for c in codes)
    return codes


def second_factor_check(*, user: User, code: str):
    """The device that accepts `code` (TOTP or an unused recovery code), or None.
    django-otp throttles repeated failures per device."""
    code = (code or "").strip().replace(" ", "")
    if not code:
        return None
    return match_token(user, code)


def second_factor_verify(*, request, user: User, code: str, channel: str = "web"):
    """Check the code; record the use or the refusal on the audit chain (a refusal is
    recorded even though the caller's request fails, so this is not atomic)."""
    device = second_factor_check(user=user, code=code)
    if device is None:
        audit_security_event(
            action="otp.failed", subject=user, organization=_home(user), after={"channel": channel}
        )
        message = _("The code is wrong or has expired.")
        raise ValidationFailed(message, code="otp_wrong", fields={"code": [message]})
    method = "recovery" if isinstance(device, StaticDevice) else "totp"
    if request is not None:
        otp_login(request, device)
    audit_security_event(
        action="otp.verified",
        subject=user,
        organization=_home(user),
        after={"method": method, "channel": channel},
    )
    return device


def has_second_factor(user: User) -> bool:
    return user_has_device(user, confirmed=True)


@transaction.atomic
def second_factor_reset(*, actor: User | None, user: User) -> None:
    """The security administrator clears a person's devices (a lost phone); the person
    enrols again at the next sign-in."""
    org = _home(user)
    role = ""
    if actor is not None:
        if org is None:
            raise NotFound(_("Not found."))
        role = require(actor, Action.CHANGE, org, Domain.ACCESS)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(
        actor=actor,
        action="otp.reset",
        target=user,
        organization=org,
        role=role,
        platform_wide=org is None,
    )
