"""Every stored working-day deadline follows the calendar (DOMAIN rule 35): a holiday
added in the admin moves open filings and open credential rotations (as it moves
repost directives), through workcalendar's one registry of deadline kinds, and a
deadline counted over a year without calendar data carries a provisional mark."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Membership, Role
from accounts.services import membership_end
from registry.models import Filing, RotationTask
from tests.registry.helpers import active_account, file_open
from workcalendar.calendar import SHANGHAI
from workcalendar.models import CalendarYear
from workcalendar.services import calendar_year_save, deadline_kinds

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def eager_celery(monkeypatch):
    from config.celery import app

    monkeypatch.setitem(app.conf, "CELERY_TASK_ALWAYS_EAGER", True)
    monkeypatch.setitem(app.conf, "CELERY_TASK_EAGER_PROPAGATES", True)
    return app


def test_every_deadline_kind_is_registered_in_one_registry():
    """DOMAIN rule 35: filings, rotations and directive targets register how to
    recompute their deadlines with workcalendar."""
    names = {kind.name for kind in deadline_kinds()}
    assert {"registry.filing", "registry.rotation", "moderation.directive_target"} <= names


def test_a_holiday_added_in_the_admin_moves_open_filing_and_rotation(
    world, client, eager_celery, django_capture_on_commit_callbacks
):
    """DOMAIN rule 35: after a system administrator adds a holiday in the admin, an
    open filing and an open rotation due across it move by one working day, and the
    pages show the new dates."""
    ns = world.mine
    operator = ns.users[Role.OPERATOR]
    with time_machine.travel(MONDAY, tick=False):
        account = active_account(ns)
        filing = file_open(ns, code="douyin", event_date=date(2026, 3, 6))
        membership_end(
            actor=None,
            membership=Membership.objects.get(
                user=ns.users[Role.OUTSOURCED_OPERATOR], organization=ns.city_dept
            ),
        )
        task = RotationTask.objects.get(account=account)
        assert filing.due_at.astimezone(SHANGHAI).date() == date(2026, 3, 13)
        assert task.due_at.astimezone(SHANGHAI).date() == date(2026, 3, 12)

        client.force_login(ns.users[Role.SYSTEM_ADMIN])
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/admin/workcalendar/specialday/add/",
                {"date": "2026-03-10", "region_code": "", "kind": "holiday", "name": "临时假日"},
            )
        assert response.status_code == 302, response.content[:500]

        filing.refresh_from_db()
        task.refresh_from_db()
        assert filing.due_at.astimezone(SHANGHAI).date() == date(2026, 3, 16)
        assert task.due_at.astimezone(SHANGHAI).date() == date(2026, 3, 13)

        client.force_login(operator)
        page = client.get(reverse("registry:filing_detail", args=[filing.pk])).content.decode()
        assert "2026-03-16" in page and "2026-03-13" not in page
        page = client.get(reverse("registry:rotation_list")).content.decode()
        assert "2026-03-13" in page and "2026-03-12" not in page


def test_deadlines_in_a_year_without_data_are_provisional_until_it_is_entered(
    world, eager_celery, django_capture_on_commit_callbacks
):
    """DOMAIN rule 35 / DESIGN "Time": counted over 2027 (no calendar data yet) the
    filing and rotation deadlines are provisional; once the year's calendar is
    declared, a recompute clears the mark."""
    ns = world.mine
    assert not CalendarYear.objects.filter(year=2027, region_code="").exists()
    with time_machine.travel(datetime(2026, 12, 29, 10, 0, tzinfo=SHANGHAI), tick=False):
        account = active_account(ns)
        filing = file_open(ns, code="douyin", event_date=date(2026, 12, 28))
        membership_end(
            actor=None,
            membership=Membership.objects.get(
                user=ns.users[Role.OUTSOURCED_OPERATOR], organization=ns.city_dept
            ),
        )
        task = RotationTask.objects.get(account=account)
        assert filing.due_provisional and task.due_provisional
        with django_capture_on_commit_callbacks(execute=True):
            calendar_year_save(
                actor=ns.users[Role.SYSTEM_ADMIN], year=CalendarYear(year=2027, region_code="")
            )
    filing.refresh_from_db()
    task.refresh_from_db()
    assert not filing.due_provisional and not task.due_provisional
    assert Filing.objects.filter(pk=filing.pk, due_provisional=False).exists()
