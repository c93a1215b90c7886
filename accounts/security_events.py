"""Security events on the audit chain (MLPS 2.0 level 3, security audit): sign-in
success and failure with the address, lockouts, sign-out. The receivers are connected
in AccountsConfig.ready; password, token and second-factor events are written by
their services."""

from __future__ import annotations

from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.dispatch import receiver

from accounts.models import User
from audit.services import audit_security_event


def _channel(request) -> str:
    path = getattr(request, "path", "") or ""
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "web"


def _home(user):
    from accounts.services import home_organization

    return home_organization(user) if user is not None else None


@receiver(user_logged_in, dispatch_uid="security_signed_in")
def signed_in(sender, request, user, **kwargs):
    audit_security_event(
        action="auth.signed_in",
        subject=user,
        organization=_home(user),
        after={"channel": _channel(request)},
    )


@receiver(user_login_failed, dispatch_uid="security_sign_in_failed")
def sign_in_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username") or "")[:150]
    subject = User.objects.filter(username=username).first() if username else None
    audit_security_event(
        action="auth.sign_in_failed",
        subject=subject,
        username=username,
        actor=subject,
        organization=_home(subject),
        after={"username": username, "channel": _channel(request)},
    )


@receiver(user_logged_out, dispatch_uid="security_signed_out")
def signed_out(sender, request, user, **kwargs):
    if user is None:
        return
    audit_security_event(
        action="auth.signed_out",
        subject=user,
        organization=_home(user),
        after={"channel": _channel(request)},
    )


def locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    subject = User.objects.filter(username=username).first() if username else None
    audit_security_event(
        action="auth.locked_out",
        subject=subject,
        username=username or "",
        organization=_home(subject),
        after={"username": username or "", "address": ip_address},
    )


def connect() -> None:
    from axes.signals import user_locked_out

    user_locked_out.connect(locked_out, dispatch_uid="security_locked_out")
