"""The calendar in Django's admin: the missing-year warning and audited edits."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.test import Client

from accounts.models import User
from audit.models import AuditEvent
from workcalendar.calendar import SHANGHAI, deadline_after
from workcalendar.models import CalendarYear, SpecialDay


@pytest.fixture
def admin_client(db):
    superuser = User.objects.create_superuser(
        "root", "root@example.org", "Lo0ng-pw!xyz"
    )
    client = Client()
    client.force_login(superuser)
    return client


def warnings_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.mark.parametrize(
    "url", ["/admin/workcalendar/specialday/", "/admin/workcalendar/calendaryear/"]
)
def test_changelist_warns_about_a_year_without_data(admin_client, url):
    with time_machine.travel(datetime(2026, 6, 1, 2, 0, tzinfo=UTC), tick=False):
        response = admin_client.get(url)
    assert response.status_code == 200
    messages = warnings_of(response)
    assert len(messages) == 1 and "2027" in messages[0]
    assert "2027" in response.content.decode()


def test_no_warning_once_the_year_is_entered(admin_client):
    CalendarYear.objects.create(year=2027, region_code="")
    with time_machine.travel(datetime(2026, 6, 1, 2, 0, tzinfo=UTC), tick=False):
        response = admin_client.get("/admin/workcalendar/specialday/")
    assert warnings_of(response) == []


def test_adding_a_holiday_in_the_admin_moves_deadlines_and_is_audited(admin_client):
    monday = datetime(2026, 3, 9, 10, 0, tzinfo=SHANGHAI)
    assert deadline_after(monday, 1).due_at.date() == date(2026, 3, 10)
    response = admin_client.post(
        "/admin/workcalendar/specialday/add/",
        {
            "date": "2026-03-10",
            "region_code": "",
            "kind": "holiday",
            "name": "临时假日",
        },
    )
    assert response.status_code == 302, response.content[:500]
    day = SpecialDay.objects.get(date=date(2026, 3, 10), region_code="")
    assert deadline_after(monday, 1).due_at.date() == date(2026, 3, 11)
    event = AuditEvent.objects.get(action="calendar.day_saved", target_id=str(day.pk))
    assert event.actor_label == "root"
    assert event.after["kind"] == "holiday"

    response = admin_client.post(
        f"/admin/workcalendar/specialday/{day.pk}/change/",
        {
            "date": "2026-03-10",
            "region_code": "",
            "kind": "workday",
            "name": "临时假日",
        },
    )
    assert response.status_code == 302
    changed = AuditEvent.objects.filter(
        action="calendar.day_saved", target_id=str(day.pk)
    )
    assert changed.count() == 2
    latest = changed.order_by("-id").first()
    assert latest.before["kind"] == "holiday" and latest.after["kind"] == "workday"


def test_bad_region_code_in_the_admin_is_a_form_error(admin_client):
    response = admin_client.post(
        "/admin/workcalendar/specialday/add/",
        {"date": "2026-03-10", "region_code": "54", "kind": "holiday", "name": ""},
    )
    assert response.status_code == 200
    assert "region_code" in response.context["adminform"].form.errors
    assert not SpecialDay.objects.filter(date=date(2026, 3, 10)).exists()
