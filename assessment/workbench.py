"""Workbench card of the assessment (common.workbench): the annual assessments frozen
in the auditor's or supervisor's jurisdiction, the latest year first. One query."""

from __future__ import annotations

from django.db.models import Count, Max
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Role
from assessment.models import AssessmentFreeze, FreezeStatus
from common.workbench import STATE_DONE, STATE_INFO, Card, register


def frozen_years(user) -> list[Card]:
    head = (
        AssessmentFreeze.objects.visible_to(user)
        .filter(status=FreezeStatus.FROZEN)
        .order_by()
        .aggregate(n=Count("pk"), latest=Max("year"))
    )
    detail = (
        _("latest: %(year)d") % {"year": head["latest"]}
        if head["latest"]
        else _("no year frozen yet")
    )
    return [
        Card(
            "assessment_years",
            _("Annual assessments frozen"),
            head["n"],
            url=reverse("assessment:freeze_list"),
            state=STATE_DONE if head["n"] else STATE_INFO,
            detail=detail,
            order=20,
        )
    ]


def register_cards() -> None:
    register(
        "assessment_years",
        provider=frozen_years,
        roles={Role.AUDITOR, Role.SUPERVISOR},
        order=20,
    )
