from __future__ import annotations

from datetime import date

from audit.models import AuditEvent


def events_visible(user, action: str = "view"):
    return AuditEvent.objects.visible_to(user, action)


def events_filtered(
    qs,
    *,
    action: str = "",
    actor: str = "",
    target_type: str = "",
    since: date | None = None,
    until: date | None = None,
):
    if action.endswith("."):  # a group: "membership." is every membership action
        qs = qs.filter(action__startswith=action)
    elif action:
        qs = qs.filter(action=action)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if target_type:
        qs = qs.filter(target_type=target_type)
    if since:
        qs = qs.filter(occurred_at__date__gte=since)
    if until:
        qs = qs.filter(occurred_at__date__lte=until)
    return qs
