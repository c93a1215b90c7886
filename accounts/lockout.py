"""Sign-in throttling that cannot be turned against a person.

axes locks a (username, address) pair after 5 failures in 15 minutes
(settings.AXES_LOCKOUT_PARAMETERS), so failures from elsewhere never lock the person
out of their own desk. When one username fails from several addresses within those 15
minutes (a distributed guess), every sign-in for that username must answer a captcha
as well: slow for the attacker, one extra field for the person.
"""

from __future__ import annotations

from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone


def captcha_required(username: str | None) -> bool:
    if not username or not getattr(settings, "AXES_ENABLED", True):
        return False
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    addresses = (
        AccessAttempt.objects.filter(
            username=username, attempt_time__gte=since, failures_since_start__gt=0
        )
        .values("ip_address")
        .distinct()
        .count()
    )
    return addresses >= settings.SECURITY_CAPTCHA_AFTER_ADDRESSES


def captcha_answer_ok(key: str, answer: str) -> bool:
    """Check a captcha answered through the API (key from GET /captcha/refresh/).
    One try per captcha: the challenge is spent whether the answer is right or not."""
    from captcha.models import CaptchaStore

    store = CaptchaStore.objects.filter(
        hashkey=key, expiration__gt=timezone.now()
    ).first()
    if store is None:
        return False
    store.delete()
    return store.response == (answer or "").strip().lower()


def lockout_clear(*, actor, username: str) -> int:
    """The security administrator lifts the lockouts (and the captcha) of a username
    before the 15 minutes are over; returns how many address records were cleared.
    Audited as "auth.unlocked"."""
    from django.db import transaction
    from django.utils.translation import gettext as _

    from accounts.models import User
    from accounts.scoping import Action, Domain, require
    from accounts.services import home_organization
    from audit.services import audit_security_event
    from common.errors import NotFound

    with transaction.atomic():
        user = User.objects.filter(username=username).first()
        org = home_organization(user) if user is not None else None
        role = ""
        if actor is not None:
            if org is None:
                raise NotFound(_("Not found."))
            role = require(actor, Action.CHANGE, org, Domain.ACCESS)
        count, _detail = AccessAttempt.objects.filter(username=username).delete()
        audit_security_event(
            action="auth.unlocked",
            actor=actor,
            subject=user,
            username=username,
            organization=org,
            role=role,
            after={"username": username, "addresses": count},
        )
    return count
