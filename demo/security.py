"""Demo sign-in factors: business roles sign in with a password alone (the per-role
second-factor rule switched off, see README "Security"); the three demo administrators
get a TOTP device whose secret is printed, so anyone trying the demo can add it to an
authenticator app and sign in as every role. Idempotent."""

from __future__ import annotations

import hashlib
from base64 import b32encode

from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, SecondFactorRule, User
from accounts.scoping import ADMIN_ROLES
from accounts.second_factor import second_factor_rule_set

DEMO_ADMINS = ["demo-sysadmin", "demo-secadmin", "demo-auditadmin"]


def _demo_key(username: str) -> bytes:
    # Demo only: a fixed secret per demo administrator, the same on every machine.
    return hashlib.sha256(f"govmedia-demo-totp:{username}".encode()).digest()[:20]


def seed(*, stdout) -> int:
    created = 0
    business = [r for r in Role.values if r not in ADMIN_ROLES]
    for role in business:
        if not SecondFactorRule.objects.filter(role=role, required=False).exists():
            second_factor_rule_set(actor=None, role=role, required=False)
            created += 1
    stdout.write("Demo second factor: business roles sign in with a password alone.")
    for username in DEMO_ADMINS:
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        key = _demo_key(username)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(
                user=user, name="demo", confirmed=True, key=key.hex()
            )
            created += 1
        secret = b32encode(device.bin_key).decode()
        stdout.write(f"  {username}: TOTP secret {secret}  ({device.config_url})")
    return created
