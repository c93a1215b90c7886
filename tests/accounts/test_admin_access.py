"""The Django admin: open to the three administrator roles, each seeing only what it
administers (accounts.scoping.ROLE_ADMIN_PERMISSIONS); closed to everyone else."""

from datetime import date

import pytest

from accounts.models import Role
from audit.models import AuditEvent
from workcalendar.models import SpecialDay


def _login(client, world, role):
    client.force_login(world.mine.users[role])


@pytest.mark.parametrize(
    "role",
    [r for r in Role if r not in {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}],
)
def test_business_roles_cannot_enter_the_admin(client, world, role):
    _login(client, world, role)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.get("/admin/workcalendar/specialday/").status_code == 302


@pytest.mark.parametrize(
    "role, allowed, refused",
    [
        (
            Role.SYSTEM_ADMIN,
            ["/admin/workcalendar/specialday/", "/admin/workcalendar/calendaryear/",
             "/admin/registry/platform/", "/admin/accounts/organization/"],
            ["/admin/audit/auditevent/", "/admin/accounts/membership/",
             "/admin/registry/mediaaccount/"],
        ),
        (
            Role.SECURITY_ADMIN,
            ["/admin/accounts/membership/", "/admin/axes/accessattempt/"],
            ["/admin/workcalendar/specialday/", "/admin/audit/auditevent/",
             "/admin/registry/mediaaccount/"],
        ),
        (
            Role.AUDIT_ADMIN,
            ["/admin/audit/auditevent/"],
            ["/admin/workcalendar/specialday/", "/admin/accounts/membership/",
             "/admin/registry/platform/", "/admin/registry/mediaaccount/"],
        ),
    ],
)
def test_each_administrator_sees_only_what_it_administers(client, world, role, allowed, refused):
    _login(client, world, role)
    assert client.get("/admin/").status_code == 200
    for url in allowed:
        assert client.get(url).status_code == 200, url
    for url in refused:
        assert client.get(url).status_code == 403, url


def test_system_admin_adds_a_2027_holiday_in_the_admin_audited(client, world):
    _login(client, world, Role.SYSTEM_ADMIN)
    events = AuditEvent.objects.count()
    response = client.post(
        "/admin/workcalendar/specialday/add/",
        {"date": "2027-10-01", "region_code": "", "kind": "holiday", "name": "National Day"},
    )
    assert response.status_code == 302, response.content[:500]
    assert SpecialDay.objects.filter(date=date(2027, 10, 1), kind="holiday").exists()
    assert AuditEvent.objects.count() == events + 1
    assert AuditEvent.objects.order_by("-id").first().action == "calendar.day_saved"


def test_system_admin_sees_only_people_of_its_province(client, world):
    _login(client, world, Role.SYSTEM_ADMIN)
    page = client.get("/admin/accounts/user/").content.decode()
    assert "甲-operator" in page
    assert "乙-operator" not in page


def test_third_party_names_are_chinese_in_the_admin(client, world):
    """axes, knox, otp, captcha name themselves in English only; the admin shows
    the platform's names (config.admin.THIRD_PARTY_*)."""
    from django.apps import apps
    from django.utils import translation

    from config.admin import THIRD_PARTY_APP_NAMES, THIRD_PARTY_MODEL_NAMES

    with translation.override("zh-hans"):
        for label in THIRD_PARTY_APP_NAMES:
            name = str(apps.get_app_config(label).verbose_name)
            assert name.isascii() is False, label
        for label in THIRD_PARTY_MODEL_NAMES:
            meta = apps.get_model(label)._meta
            assert not str(meta.verbose_name).isascii(), label
            assert not str(meta.verbose_name_plural).isascii(), label
    _login(client, world, Role.SECURITY_ADMIN)
    client.cookies["django_language"] = "zh-hans"
    html = client.get("/admin/").content.decode()
    assert "登录防护" in html and "Axes" not in html
