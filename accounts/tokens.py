"""API tokens (django-rest-knox): stored as SHA-512 digests, expiring after idle time
(REST_KNOX TOKEN_TTL, pushed on with use) and at an absolute limit
(AUTO_REFRESH_MAX_TTL), revocable by their owner and by the security administrator,
revoked on password change and deactivation. Every issue and revocation is on the
audit chain (the first 8 characters of the token's lookup key name it; never the
token)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from knox.models import AuthToken

from accounts.models import User
from accounts.scoping import Action, Domain, require
from audit.services import audit_security_event
from common.errors import NotFound


def _home(user):
    from accounts.services import home_organization

    return home_organization(user)


@transaction.atomic
def token_issue(*, user: User) -> tuple[AuthToken, str]:
    """A new token for `user` (after the password and, where required, the second
    factor were checked by the caller). Returns the row and the token, shown once."""
    instance, token = AuthToken.objects.create(user=user)
    audit_security_event(
        action="token.issued",
        subject=user,
        organization=_home(user),
        after={"token": instance.token_key[:8], "expiry": instance.expiry},
    )
    return instance, token


@transaction.atomic
def token_revoke(*, actor: User, token: AuthToken) -> None:
    """Revoke one token: its owner, or the security administrator over the owner."""
    owner = token.user
    if actor.pk != owner.pk:
        org = _home(owner)
        if org is None:
            raise NotFound(_("Not found."))
        require(actor, Action.CHANGE, org, Domain.ACCESS)
    key = token.token_key[:8]
    token.delete()
    audit_security_event(
        action="token.revoked",
        actor=actor,
        subject=owner,
        organization=_home(owner),
        after={"token": key},
    )


@transaction.atomic
def tokens_revoke_all(*, user: User, actor: User | None = None, reason: str) -> int:
    """Revoke every token of `user`; `actor` None means the platform (password change,
    deactivation), otherwise the security administrator, checked over the owner."""
    if actor is not None and actor.pk != user.pk:
        org = _home(user)
        if org is None:
            raise NotFound(_("Not found."))
        require(actor, Action.CHANGE, org, Domain.ACCESS)
    count, _detail = AuthToken.objects.filter(user=user).delete()
    if count:
        audit_security_event(
            action="token.revoked",
            actor=actor,
            subject=user,
            organization=_home(user),
            after={"all": True, "count": count, "reason": reason},
        )
    return count
