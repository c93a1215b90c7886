"""In the browser: an administrator enrols TOTP (QR code), signs out, signs in with
the code, and the audit trail shows both sign-ins and the enrolment."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role
from audit.models import AuditEvent
from tests.browser import browser_page  # noqa: F401  (fixture)
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(page, base, user):
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form.form-stack button[type=submit]")


def test_administrator_enrols_totp_and_signs_in_with_it(browser_page, live_server, world):  # noqa: F811
    page, base = browser_page, live_server.url
    admin = world.mine.users[Role.AUDIT_ADMIN]

    _sign_in(page, base, admin)
    page.wait_for_url(re.compile(r"/accounts/second-factor/enrol/"))
    assert page.locator("h1").inner_text() == "设置第二因素"
    qr = page.locator("figure.otp-qr svg")
    assert qr.is_visible() and qr.bounding_box()["width"] > 100
    shots = settings.BASE_DIR / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "second-factor-enrol.png"), full_page=True)
    secret = page.locator("#otp-secret").inner_text()
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    from base64 import b32encode

    assert secret == b32encode(device.bin_key).decode()
    page.fill("#id_code", f"{totp(device.bin_key):06d}")
    page.click("form.form-stack button[type=submit]")
    assert page.locator("#recovery-codes li").count() == 10
    page.get_by_role("link", name="继续").click()
    page.wait_for_url(f"{base}/")

    page.locator("details.user-menu > summary").click()
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))

    _sign_in(page, base, admin)
    page.wait_for_url(re.compile(r"/accounts/second-factor/\?"))
    # The next 30-second step's code (the enrolment spent this one; django-otp accepts
    # one step of drift).
    device.refresh_from_db()
    page.fill("#id_code", f"{totp(device.bin_key, drift=1):06d}")
    page.click("form.form-stack button[type=submit]")
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/audit/")
    trail = page.locator("main").inner_text()
    assert "设置第二因素" in trail and "使用第二因素" in trail
    events = AuditEvent.objects.filter(actor_id=admin.pk, occurred_at__gte=timezone.now() - timedelta(minutes=10))
    assert events.filter(action="auth.signed_in").count() == 2
    assert events.filter(action="otp.enrolled").count() == 1
    assert trail.count("登录") >= 2
