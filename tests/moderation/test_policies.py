"""Repost policies: read by everyone with business data, set by supervisors of their
jurisdiction (audited), saved by the admin through the same service; a change
applies to directives issued afterwards only."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from accounts.models import Role, User
from audit.models import AuditEvent
from common.errors import NotFound, PermissionDenied, ValidationFailed
from moderation.models import DeadlineUnit, RepostPolicy
from moderation.services import directives, policies
from tests.factories import token_for
from tests.moderation.factories import make_account, platform

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def _api(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {token_for(user)}")


def _policy(org, code="douyin", amount=120, actor=None):
    return RepostPolicy.objects.create(platform=platform(code), organization=org,
                                       unit=DeadlineUnit.MINUTES, amount=amount)


def test_supervisor_sets_a_policy_for_the_subtree_audited(world):
    ns = world.mine
    api = _api(ns.users[Role.SUPERVISOR])
    r = api.post("/api/v1/repost-policies/", {"platform": "douyin", "organization": ns.city.pk,
                                              "unit": "minutes", "amount": 90},
                 content_type="application/json")
    assert r.status_code == 201, r.content
    policy = RepostPolicy.objects.get(pk=r.json()["id"])
    assert (policy.organization, policy.amount, policy.warn_before_minutes) == (ns.city, 90, 15)
    event = AuditEvent.objects.get(action="moderation.repost_policy_create",
                                   target_id=str(policy.pk))
    assert event.actor_id == ns.users[Role.SUPERVISOR].pk and event.role == Role.SUPERVISOR
    r = api.patch(f"/api/v1/repost-policies/{policy.pk}/", {"amount": 45},
                  content_type="application/json")
    assert r.status_code == 200 and r.json()["amount"] == 45
    event = AuditEvent.objects.get(action="moderation.repost_policy_update")
    assert event.before["amount"] == 90 and event.after["amount"] == 45
    # The county below inherits it; the effective answer names it.
    r = api.get(f"/api/v1/repost-policies/effective/?organization={ns.county_dept.pk}")
    by_platform = {p["platform"]: p for p in r.json()["policies"]}
    assert by_platform["douyin"]["id"] == policy.pk
    assert by_platform["weibo"]["is_national_default"] is True


def test_who_may_change_policies(world):
    ns = world.mine
    city_policy = _policy(ns.city)
    cases = [
        (ns.users[Role.OPERATOR], ns.city_dept, PermissionDenied),
        (ns.users[Role.PRINCIPAL_LEADER], ns.city_dept, PermissionDenied),
        (ns.users[Role.AUDITOR], ns.city, PermissionDenied),
        (ns.city_supervisor, ns.province, NotFound),  # above their jurisdiction
        (world.other.users[Role.SUPERVISOR], ns.city, NotFound),
        (ns.users[Role.SYSTEM_ADMIN], ns.city, NotFound),
    ]
    for actor, org, error in cases:
        with pytest.raises(error):
            policies.repost_policy_save(actor=actor, policy=RepostPolicy(
                platform=platform("kuaishou"), organization=org, unit="minutes", amount=30))
        if actor is ns.city_supervisor:
            continue  # their own city's policy is theirs to change (below)
        city_policy.amount = 5
        with pytest.raises((PermissionDenied, NotFound)):
            policies.repost_policy_save(actor=actor, policy=city_policy)
    city_policy.refresh_from_db()
    assert city_policy.amount == 120
    assert not RepostPolicy.objects.filter(platform__code="kuaishou").exists()
    # The city supervisor manages their own city and below.
    city_policy.amount = 5
    policies.repost_policy_save(actor=ns.city_supervisor, policy=city_policy)
    policies.repost_policy_save(actor=ns.city_supervisor, policy=RepostPolicy(
        platform=platform("kuaishou"), organization=ns.county, unit="working_days", amount=2))
    # National defaults: not through the API, not by a supervisor.
    weibo_default = RepostPolicy.objects.get(platform__code="weibo", organization=None)
    weibo_default.amount = 600
    with pytest.raises(PermissionDenied) as exc:
        policies.repost_policy_save(actor=ns.users[Role.SUPERVISOR], policy=weibo_default)
    assert exc.value.code == "national_default"
    r = _api(ns.users[Role.SUPERVISOR]).patch(
        f"/api/v1/repost-policies/{weibo_default.pk}/", {"amount": 600},
        content_type="application/json")
    assert r.status_code == 403
    weibo_default.refresh_from_db()
    assert weibo_default.amount == 60


def test_bad_input_is_refused_field_by_field(world):
    ns = world.mine
    api = _api(ns.users[Role.SUPERVISOR])
    for body, field in [
        ({"platform": "douyin", "organization": ns.city.pk, "unit": "minutes", "amount": 0},
         "amount"),
        ({"platform": "douyin", "organization": ns.city.pk, "unit": "working_days",
          "amount": 99}, "amount"),
        ({"platform": "nope", "organization": ns.city.pk, "unit": "minutes", "amount": 5},
         "platform"),
        ({"platform": "douyin", "organization": ns.city.pk, "unit": "hours", "amount": 5},
         "unit"),
        ({"platform": "douyin", "unit": "minutes", "amount": 5}, "organization"),
        ({"platform": "douyin", "organization": ns.city.pk, "unit": "minutes", "amount": 5,
          "warn_before_minutes": 5000}, "warn_before_minutes"),
    ]:
        r = api.post("/api/v1/repost-policies/", body, content_type="application/json")
        assert r.status_code == 400, (body, r.content)
        assert field in r.json()["fields"], (body, r.json())
    _policy(ns.city)
    r = api.post("/api/v1/repost-policies/", {"platform": "douyin", "organization": ns.city.pk,
                                              "unit": "minutes", "amount": 5},
                 content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "policy_exists"
    r = api.post("/api/v1/repost-policies/", {"platform": "douyin", "organization": 999999,
                                              "unit": "minutes", "amount": 5},
                 content_type="application/json")
    assert r.status_code == 404
    assert RepostPolicy.objects.filter(organization__isnull=False).count() == 1


def test_national_defaults_listed_for_business_roles_only(world):
    ns = world.mine
    defaults = set(RepostPolicy.objects.filter(organization=None).values_list("pk", flat=True))
    assert defaults
    for role in Role:
        r = _api(ns.users[role]).get("/api/v1/repost-policies/?page_size=100")
        assert r.status_code == 200
        ids = {row["id"] for row in r.json()["results"]}
        if role in {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}:
            assert ids == set(), role
        else:
            assert defaults <= ids, role


def test_policy_change_affects_new_directives_only(world):
    """Even a later calendar edit (which recomputes open working-day deadlines) uses
    the rules the directive was issued under."""
    from workcalendar.models import DayKind, SpecialDay
    from workcalendar.services import special_day_save

    ns = world.mine
    make_account(ns.city_dept, "wechat_subscription")
    supervisor = ns.users[Role.SUPERVISOR]
    issued = datetime(2025, 3, 3, 10, 0, tzinfo=SH)  # Monday
    with time_machine.travel(issued, tick=False):
        first = directives.directive_issue(actor=supervisor, organization=ns.province,
                                           title="一", source_url="https://www.gov.cn/1")
    assert first.targets.get().due_at == datetime(2025, 3, 4, 23, 59, 59, tzinfo=SH)
    policies.repost_policy_save(actor=supervisor, policy=RepostPolicy(
        platform=platform("wechat_subscription"), organization=ns.province,
        unit="working_days", amount=3))
    with time_machine.travel(issued, tick=False):
        second = directives.directive_issue(actor=supervisor, organization=ns.province,
                                            title="二", source_url="https://www.gov.cn/2")
    assert second.targets.get().due_at == datetime(2025, 3, 6, 23, 59, 59, tzinfo=SH)
    special_day_save(actor=None, day=SpecialDay(date=date(2025, 3, 4), region_code="",
                                                kind=DayKind.HOLIDAY, name="测试"))
    directives.directive_deadlines_recompute()
    # The first keeps its 1 working day (moved by the holiday only), the second its 3.
    assert first.targets.get().due_at == datetime(2025, 3, 5, 23, 59, 59, tzinfo=SH)
    assert second.targets.get().due_at == datetime(2025, 3, 7, 23, 59, 59, tzinfo=SH)


def test_admin_saves_through_the_service(world):
    ns = world.mine
    admin = User.objects.create_superuser(username="root", password="pw-123456789")
    client = Client()
    client.force_login(admin)
    r = client.post("/admin/moderation/repostpolicy/add/", {
        "platform": platform("bilibili").pk, "organization": ns.city.pk,
        "unit": "minutes", "amount": "240", "warn_before_minutes": "30"})
    assert r.status_code == 302, r.content[:500]
    policy = RepostPolicy.objects.get(platform__code="bilibili")
    assert AuditEvent.objects.filter(action="moderation.repost_policy_create",
                                     target_id=str(policy.pk), actor_id=admin.pk).exists()
    r = client.post(f"/admin/moderation/repostpolicy/{policy.pk}/change/", {
        "unit": "minutes", "amount": "0", "warn_before_minutes": "30"})
    assert r.status_code == 200  # the form again, with the service's message
    policy.refresh_from_db()
    assert policy.amount == 240
    # In English: the Chinese catalogue translates the note.
    r = client.get(f"/admin/moderation/repostpolicy/{policy.pk}/change/",
                   HTTP_ACCEPT_LANGUAGE="en")
    assert "directives issued after it is saved" in r.content.decode()
    with pytest.raises(ValidationFailed):
        policies.repost_policy_save(actor=admin, policy=RepostPolicy(
            platform=platform("bilibili"), organization=ns.city, unit="minutes", amount=5))
    assert timedelta(minutes=policy.amount) == timedelta(hours=4)
