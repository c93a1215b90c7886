"""Sending notifications: `notify` is the only way in. Idempotent by dedupe key."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from notifications.models import Notification


def notify(
    *,
    recipients: Iterable,
    organization,
    kind: str,
    message: str,
    dedupe_key: str,
    url: str = "",
    target=None,
) -> int:
    """Notify each recipient once per `dedupe_key`; returns how many were new.

    Runs in the caller's transaction (set-based: one INSERT). E-mail goes out after
    commit, only where EMAIL_HOST is configured and the recipient has an address.
    """
    recipients = [r for r in recipients if r is not None]
    if not recipients:
        return 0
    target_type = target._meta.label_lower if target is not None else ""
    target_id = str(target.pk) if target is not None else ""
    rows = [
        Notification(
            recipient=r,
            organization=organization,
            kind=kind,
            message=str(message)[:300],
            url=url,
            target_type=target_type,
            target_id=target_id,
            dedupe_key=dedupe_key[:200],
        )
        for r in recipients
    ]
    before = Notification.objects.filter(
        recipient__in=recipients, dedupe_key=dedupe_key[:200]
    ).values_list("recipient_id", flat=True)
    already = set(before)
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    new = [r for r in recipients if r.pk not in already]
    if settings.EMAIL_HOST:
        emails = [r.email for r in new if r.email]
        if emails:
            transaction.on_commit(
                lambda: send_mail(
                    str(message)[:120], str(message), settings.DEFAULT_FROM_EMAIL, emails,
                    fail_silently=True,
                )
            )
    return len(new)


def notification_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the user's own notifications read (all when ids is None)."""
    qs = Notification.objects.for_user(user).unread()
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def notify_many(*, rows: list[Notification]) -> int:
    """The set-based twin of notify() for sweeps that notify many organizations at
    once: unsaved Notification rows (recipient_id, organization_id, kind, message,
    url, target, dedupe_key set) go in with one INSERT; a row whose (recipient,
    dedupe key) exists is skipped. In-app only (sweeps would otherwise send mail in
    bulk). Returns how many were new."""
    if not rows:
        return 0
    keys = {r.dedupe_key for r in rows}
    before = Notification.objects.filter(dedupe_key__in=keys).count()
    Notification.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return Notification.objects.filter(dedupe_key__in=keys).count() - before
