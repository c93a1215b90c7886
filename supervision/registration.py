"""What supervision registers with the apps below it when Django starts: menu
items, audit action labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from accounts.models import Role
    from accounts.navigation import NavItem, add_nav_item
    from accounts.scoping import Domain
    from audit.labels import register_action_labels

    watchers = frozenset({Role.SUPERVISOR, Role.AUDITOR})
    add_nav_item(
        NavItem(
            "supervision_dashboard",
            _("Supervision"),
            "supervision:dashboard",
            Domain.BUSINESS,
            roles=watchers,
            order=15,
        )
    )
    add_nav_item(
        NavItem(
            "supervision_findings",
            _("Findings"),
            "supervision:finding_list",
            Domain.BUSINESS,
            order=16,
        )
    )
    add_nav_item(
        NavItem(
            "supervision_orders",
            _("Rectification"),
            "supervision:order_list",
            Domain.BUSINESS,
            order=17,
        )
    )
    add_nav_item(
        NavItem(
            "supervision_inspections",
            _("Inspections"),
            "supervision:inspection_list",
            Domain.BUSINESS,
            roles=watchers,
            order=18,
        )
    )
    add_nav_item(
        NavItem(
            "supervision_events",
            _("Public-opinion events"),
            "supervision:event_list",
            Domain.BUSINESS,
            order=18,
        )
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
