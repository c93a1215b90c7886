"""In the browser: the security administrator opens 系统管理 > 用户管理, creates a user
with the first role (the outsourced operator's missing agreement is refused beside
its fields, in Chinese), is refused a grant that breaks 三员分立, deactivates the
person and lifts a lockout; each step lands in the audit trail (issue 13, item 7)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, Role, User
from audit.models import AuditEvent
from tests.browser import browser_page  # noqa: F401  (fixture)
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser
TEMP = "Temp-Passw0rd-2026!"


def test_security_administrator_manages_users_in_the_browser(
    browser_page,  # noqa: F811
    live_server,
    world,
):
    page, base, ns = browser_page, live_server.url, world.mine
    admin = ns.users[Role.SECURITY_ADMIN]
    device = TOTPDevice.objects.create(user=admin, name="app", confirmed=True)
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/second-factor/"))
    page.fill("#id_code", f"{totp(device.bin_key):06d}")
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(f"{base}/")

    # 系统管理 > 用户管理
    page.locator("details.navmenu[data-menu=system] > summary").click()
    page.locator("details.navmenu[data-menu=system] a[data-key=users]").click()
    page.wait_for_url(f"{base}/accounts/users/")
    total = page.locator(".list-total")
    assert total.get_attribute("data-total") == str(len(ns.users) + 1)
    assert "13" in total.inner_text()
    page.click("#user-create")
    form = page.locator("#user-create-form")
    form.locator("#id_username").fill("wang.wu")
    form.locator("#id_display_name").fill("王五")
    form.locator("#id_password").fill(TEMP)
    form.locator("#id_password_again").fill(TEMP)
    form.locator("#id_organization").select_option(str(ns.city_dept.pk))
    form.locator("#id_role").select_option(Role.OUTSOURCED_OPERATOR)
    form.locator("button[type=submit].primary").click()
    page.locator(".field-error").first.wait_for()
    assert "保密协议" in page.locator("#user-create-form .alert").inner_text()
    assert not User.objects.filter(username="wang.wu").exists()
    form = page.locator("#user-create-form")
    form.locator("#id_password").fill(TEMP)
    form.locator("#id_password_again").fill(TEMP)
    form.locator("#id_agreement_signed_on").fill("2026-11-02")
    form.locator("#id_agreement_document").fill("BM-2026-118")
    form.locator("button[type=submit].primary").click()
    page.wait_for_url(re.compile(r"/accounts/users/\d+/$"))
    person = User.objects.get(username="wang.wu")
    assert person.must_change_password
    assert page.locator("#user-roles tr[data-role=outsourced_operator]").count() == 1

    # 三员分立: an outsourced operator cannot also be the audit administrator.
    grant = page.locator("#grant-form")
    grant.locator("#id_organization").select_option(str(ns.province.pk))
    grant.locator("#id_role").select_option(Role.AUDIT_ADMIN)
    grant.locator("button[type=submit].primary").click()
    page.locator("#grant-form .field-error").first.wait_for()
    assert "三员分立" in page.locator("#grant-form").inner_text()
    assert not Membership.objects.filter(user=person, role=Role.AUDIT_ADMIN).exists()

    # Deactivate; the status reads 已停用.
    page.click("#deactivate-button")
    page.locator(".message.success").wait_for()
    assert "已停用" in page.locator("#user-status").inner_text()
    assert not User.objects.get(pk=person.pk).is_active

    # A locked-out operator is found by the status filter and unlocked.
    operator = ns.users[Role.OPERATOR]
    AccessAttempt.objects.create(
        username=operator.username,
        ip_address="203.0.113.9",
        user_agent="x",
        failures_since_start=5,
        attempt_time=timezone.now() - timedelta(minutes=2),
    )
    page.goto(f"{base}/accounts/users/?status=locked")
    rows = page.locator("#user-table tbody tr")
    assert rows.count() == 1
    rows.first.locator("a").first.click()
    page.click("#unlock-button")
    page.locator(".message.success").wait_for()
    assert not AccessAttempt.objects.filter(username=operator.username).exists()

    actions = set(
        AuditEvent.objects.filter(actor_id=admin.pk).values_list("action", flat=True)
    )
    assert {
        "user.created",
        "membership.granted",
        "user.deactivated",
        "auth.unlocked",
    } <= actions
