"""What supervision registers with the apps below it when Django starts: menu
items, audit action labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def _open_events(organization):
    """moderation.emergency's source: the open public-opinion events registered at
    the organization or above it (one query)."""
    from moderation.emergency import EventChoice
    from supervision.models import EventLevel, EventStatus, OpinionEvent

    step = organization.steplen
    ancestors = [organization.path[:k] for k in range(step, len(organization.path) + 1,
                                                      step)]
    return [
        EventChoice(f"opinion-event:{pk}", f"{title}（{EventLevel(level).label}）")
        for pk, title, level in OpinionEvent.objects.filter(
            status=EventStatus.OPEN, org_path__in=ancestors
        ).order_by("-occurred_at").values_list("pk", "title", "level")
    ]


def register() -> None:
    from accounts.models import Role
    from moderation.emergency import register_event_source

    register_event_source(_open_events)
    from audit.labels import register_action_labels
    from common.navigation import NavEntry
    from common.navigation import register as register_nav
    from supervision.workbench import register_cards

    register_cards()
    from common import exports

    exports.register("findings", "supervision.views.findings.findings_table")
    exports.register("rectification_orders", "supervision.views.orders.orders_table")
    exports.register("inspections", "supervision.lists.inspections_table")
    exports.register("opinion_events", "supervision.lists.events_table")
    watchers = frozenset({Role.SUPERVISOR, Role.AUDITOR})
    # The oversight menu (监督考核): what supervision observes and follows up.
    register_nav(
        NavEntry(
            "supervision_dashboard",
            _("Supervision dashboard"),
            "supervision:dashboard",
            "oversight",
            roles=watchers,
            order=10,
        ),
        NavEntry(
            "supervision_findings",
            _("Findings"),
            "supervision:finding_list",
            "oversight",
            roles=watchers,
            order=20,
        ),
        NavEntry(
            "supervision_orders",
            _("Rectification orders"),
            "supervision:order_list",
            "oversight",
            roles=watchers,
            order=30,
        ),
        NavEntry(
            "supervision_inspections",
            _("Inspections"),
            "supervision:inspection_list",
            "oversight",
            roles=watchers,
            order=40,
        ),
        NavEntry(
            "supervision_events",
            _("Public-opinion events"),
            "supervision:event_list",
            "oversight",
            roles=watchers,
            order=50,
        ),
    )
    register_action_labels(
        {
            "supervision.activity_ingest": _("Activity reported"),
            "supervision.metrics_ingest": _("Metric snapshots reported"),
            "supervision.finding_raise": _("Finding raised"),
            "supervision.findings_sweep": _("Findings sweep run"),
            "supervision.finding_close": _("Finding closed"),
            "supervision.finding_dispose": _("Counterfeit disposition recorded"),
            "supervision.order_issue": _("Rectification order issued"),
            "supervision.order_answer": _("Rectification answered"),
            "supervision.order_close": _("Rectification verified and closed"),
            "supervision.order_send_back": _("Rectification sent back"),
            "supervision.order_escalate": _("Rectification overdue, escalated"),
            "supervision.order_suspension": _("Suspension ordered"),
            "supervision.account_rectifying": _("Account rectifying"),
            "supervision.account_rectified": _("Account rectification ended"),
            "supervision.summons_record": _("Summons interview recorded"),
            "supervision.inspection_start": _("Inspection started"),
            "supervision.inspection_complete": _("Inspection completed"),
            "supervision.event_register": _("Public-opinion event registered"),
            "supervision.event_timer": _("Public-opinion event timer recorded"),
            "supervision.event_close": _("Public-opinion event closed"),
            "supervision.plan_save": _("Emergency plan saved"),
        }
    )
