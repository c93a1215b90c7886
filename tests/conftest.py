"""Every test gets a small province: its own organization tree with users in every
role, and an *other* province whose data must stay invisible."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.cache import cache

from accounts.models import Level, OrgKind, Role
from tests.factories import make_org, make_user


@pytest.fixture(autouse=True)
def _own_audit_anchors(settings, tmp_path):
    """Each test anchors the audit chain in a file of its own (its database is its own)."""
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "audit-anchors.jsonl")


@pytest.fixture(autouse=True)
def _isolated_cache():
    cache.clear()
    yield
    cache.clear()


def build_province(prefix: str, code: str) -> SimpleNamespace:
    province = make_org(None, f"{prefix}省人民政府", level=Level.PROVINCE, region_code=code)
    office = make_org(province, f"{prefix}省政府办公厅", kind=OrgKind.SUPERVISING_OFFICE)
    city = make_org(province, f"{prefix}一市人民政府", level=Level.CITY, region_code=code[:2] + "0100")
    city_dept = make_org(city, f"{prefix}一市公安局", kind=OrgKind.DEPARTMENT)
    county = make_org(city, f"{prefix}一县人民政府", level=Level.COUNTY, region_code=code[:2] + "0121")
    county_dept = make_org(county, f"{prefix}一县教育局", kind=OrgKind.DEPARTMENT)
    ns = SimpleNamespace(
        province=province, office=office, city=city, city_dept=city_dept, county=county,
        county_dept=county_dept,
    )
    # One user per role. Workers sit in the city department; supervisors, auditors
    # and administrators at the province.
    ns.users = {}
    for role in Role:
        org = province if role in {
            Role.SUPERVISOR, Role.AUDITOR, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN
        } else city_dept
        ns.users[role] = make_user(org, role, username=f"{prefix}-{role}")
    ns.city_supervisor = make_user(city, Role.SUPERVISOR, username=f"{prefix}-city-supervisor")
    return ns


@pytest.fixture
def world(db):
    """`world.mine` is the province under test; `world.other` is a foreign province."""
    return SimpleNamespace(mine=build_province("甲", "330000"), other=build_province("乙", "440000"))


def _force_login_with_second_factor(original):
    """`Client.force_login` stands for a completed sign-in: for people who need a second
    factor (accounts.second_factor) the session is verified with a TOTP device too.
    The sign-in steps themselves are tested through the real pages."""

    def force_login(self, user, backend=None):
        original(self, user, backend)
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts.second_factor import second_factor_required

        if not second_factor_required(user):
            return
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    return force_login


def pytest_configure(config):
    from django.test import Client

    Client.force_login = _force_login_with_second_factor(Client.force_login)
    # A read-replica alias on the same server (a test mirror of default), so the
    # router (common/db.py) is tested; off unless a test sets READ_REPLICA_ENABLED.
    from django.conf import settings as dj_settings

    if "replica" not in dj_settings.DATABASES:
        replica = dict(dj_settings.DATABASES["default"])
        replica["TEST"] = {**replica.get("TEST", {}), "MIRROR": "default"}
        dj_settings.DATABASES["replica"] = replica

    # Argon2 is deliberately slow; tests that check hashing restore it explicitly
    # (tests/accounts/test_auth.py). Everything else signs in with a fast hasher.
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Business roles sign in with a password alone, as in the demo (seed_demo); the
    # administrators' second factor is mandatory whatever this says, and
    # tests/accounts/test_second_factor.py checks the production default (supervisors).
    settings.SECOND_FACTOR_DEFAULT_ROLES = []
    # A session is touched once a minute (common.middleware.SessionRefreshMiddleware);
    # on a loaded machine a test's setup can take a minute, which would add that write
    # to a query count. Tests of the idle timeout set 60 themselves.
    settings.SESSION_REFRESH_SECONDS = 3600
    # One cache per test process: the development file cache under var/ is shared with
    # `make run` and with other test runs, whose clear() would make tests flaky.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}
    }


def pytest_collection_modifyitems(config, items):
    _restore_reference_data(items)


def _restore_reference_data(items):
    """Transactional tests (live server, concurrency) end with a flush that empties
    every table, including the reference data migrations seed (platforms, the
    working-day calendar, repost policies). Ask pytest-django to restore that data
    afterwards (serialized rollback), so later tests still find it."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        marker = item.get_closest_marker("django_db")
        transactional = "transactional_db" in fixtures or "live_server" in fixtures or (
            marker is not None and marker.kwargs.get("transaction")
        )
        if transactional:
            extra = {}
            if marker is not None and marker.kwargs.get("databases"):
                extra["databases"] = marker.kwargs["databases"]
            item.add_marker(
                pytest.mark.django_db(transaction=True, serialized_rollback=True, **extra),
                append=False,
            )
