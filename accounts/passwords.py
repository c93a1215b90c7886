"""The password policy (MLPS 2.0 level 3, identification): length, character classes,
no reuse of the last few, expiry with a forced change.

The validators plug into AUTH_PASSWORD_VALIDATORS, so every path that sets a password
(services, Django's forms, the admin) applies them; messages go through gettext.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

CLASSES = (
    ("lower", str.islower),
    ("upper", str.isupper),
    ("digit", str.isdigit),
    ("symbol", lambda c: not c.isalnum() and not c.isspace()),
)


class CharacterClassValidator:
    """At least `min_classes` of: lower-case letters, upper-case letters, digits, symbols."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        found = {name for name, test in CLASSES if any(test(c) for c in password)}
        if len(found) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self):
        return ngettext(
            "The password must mix at least %(n)d kind of character: lower-case letters, "
            "upper-case letters, digits, symbols.",
            "The password must mix at least %(n)d kinds of characters: lower-case letters, "
            "upper-case letters, digits, symbols.",
            self.min_classes,
        ) % {"n": self.min_classes}


class PasswordHistoryValidator:
    """None of the last `depth` passwords: the current one and the `depth - 1` before."""

    def __init__(self, depth: int = 5):
        self.depth = depth

    def validate(self, password, user=None):
        if user is None or user.pk is None:
            return
        from accounts.models import PasswordHistory

        earlier = list(
            PasswordHistory.objects.filter(user_id=user.pk)
            .order_by("-created_at", "-id")
            .values_list("password", flat=True)[: self.depth - 1]
        )
        if user.password:
            earlier.append(user.password)
        if any(check_password(password, encoded) for encoded in earlier if encoded):
            raise ValidationError(self.get_help_text(), code="password_reused")

    def get_help_text(self):
        return _("The password must differ from your last %(n)d passwords.") % {
            "n": self.depth
        }


def max_age() -> timedelta | None:
    days = getattr(settings, "PASSWORD_MAX_AGE_DAYS", 90)
    return timedelta(days=days) if days else None


def change_required(user) -> bool:
    """True when the person must choose a new password before doing anything else."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.must_change_password:
        return True
    age = max_age()
    return bool(
        age
        and user.password_changed_at
        and user.password_changed_at + age < timezone.now()
    )
