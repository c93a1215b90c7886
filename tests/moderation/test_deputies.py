"""DOMAIN.md rule 10 and issue 7 item 8: deputies (代签). The principal leader appoints
someone to decide a review role's steps for a period; their decisions record on whose
behalf; a role held by nobody but covered by a deputy is not vacant; outside the period
or once ended the deputy cannot decide."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Membership, Role
from audit.models import AuditEvent
from common.errors import Conflict, PermissionDenied, ValidationFailed
from moderation.models import Importance, ReviewDeputy, ReviewStep
from moderation.selectors import review_queue
from moderation.services import deputies, review
from moderation.signoff import signoff_rows
from tests.factories import make_user
from tests.moderation.factories import approve_all, make_post, submit

pytestmark = pytest.mark.django_db


def _appoint(ns, deputy, role=Role.LEADER_IN_CHARGE, days=7, **kw):
    today = timezone.localdate()
    return deputies.deputy_appoint(
        actor=ns.users[Role.PRINCIPAL_LEADER], organization=ns.city_dept, role=role,
        deputy=deputy, starts_on=kw.pop("starts_on", today),
        ends_on=kw.pop("ends_on", today + timedelta(days=days)), reason="出差", **kw,
    )


def test_a_deputy_decides_the_step_on_behalf_of_the_holder(world):
    ns = world.mine
    deputy = make_user(ns.city_dept, Role.DEPARTMENT_HEAD, username="deputy-head-2")
    appointment = _appoint(ns, deputy)
    assert appointment.on_behalf_of == ns.users[Role.LEADER_IN_CHARGE]
    post = make_post(ns, importance=Importance.IMPORTANT)
    submit(post, ns)
    review.post_approve(post=post, actor=ns.users[Role.DEPARTMENT_HEAD])
    post.refresh_from_db()
    assert post.awaiting_role == Role.LEADER_IN_CHARGE
    assert review_queue(deputy).filter(pk=post.pk).exists()
    step = review.post_approve(post=post, actor=deputy)
    assert step.decided_by == deputy and step.on_behalf_of == ns.users[Role.LEADER_IN_CHARGE]
    event = AuditEvent.objects.filter(action="moderation.post_approve").latest("id")
    assert event.after["on_behalf_of"] == ns.users[Role.LEADER_IN_CHARGE].username
    approve_all(post, ns)
    rows = {s.role: s for s in signoff_rows(post.signoffs.get())}
    assert rows[Role.LEADER_IN_CHARGE].on_behalf_of_id == ns.users[Role.LEADER_IN_CHARGE].pk


def test_outside_the_period_or_once_ended_the_deputy_cannot_decide(world):
    ns = world.mine
    deputy = make_user(ns.city_dept, Role.DEPARTMENT_HEAD, username="deputy-head-3")
    appointment = _appoint(ns, deputy, days=2)
    post = make_post(ns, importance=Importance.IMPORTANT)
    submit(post, ns)
    review.post_approve(post=post, actor=ns.users[Role.DEPARTMENT_HEAD])
    with time_machine.travel(timezone.now() + timedelta(days=5)):
        with pytest.raises(PermissionDenied):
            review.post_approve(post=post, actor=deputy)
    deputies.deputy_end(actor=ns.users[Role.PRINCIPAL_LEADER], appointment=appointment)
    with pytest.raises(PermissionDenied):
        review.post_approve(post=post, actor=deputy)
    with pytest.raises(Conflict):
        deputies.deputy_end(actor=ns.users[Role.PRINCIPAL_LEADER], appointment=appointment)
    assert not ReviewStep.objects.filter(decided_by=deputy).exists()


def test_a_vacant_role_covered_by_a_deputy_is_not_vacant(world):
    """Rule 10: a submission whose review role nobody holds is refused, unless a
    deputy is appointed for it."""
    ns = world.mine
    holder = ns.users[Role.LEADER_IN_CHARGE]
    deputy = make_user(ns.city_dept, Role.DEPARTMENT_HEAD, username="deputy-head-4")
    _appoint(ns, deputy)
    account_services.membership_end(
        actor=None, membership=Membership.objects.get(user=holder, role=Role.LEADER_IN_CHARGE)
    )
    # The appointment acted for the leader who has now left: it no longer covers them,
    # but a fresh one cannot be made without a holder; the deputy still counts today.
    post = make_post(ns, importance=Importance.IMPORTANT)
    submit(post, ns)  # not refused: the deputy covers the role
    ReviewDeputy.objects.update(ended_at=timezone.now())
    other = make_post(ns, importance=Importance.IMPORTANT)
    with pytest.raises(ValidationFailed) as exc:
        submit(other, ns)
    assert exc.value.code == "reviewer_vacant"


def test_only_the_principal_leader_appoints_and_the_rules_of_an_appointment(world):
    ns = world.mine
    deputy = make_user(ns.city_dept, Role.DEPARTMENT_HEAD, username="deputy-head-5")
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):
        deputies.deputy_appoint(
            actor=ns.users[Role.LEADER_IN_CHARGE], organization=ns.city_dept,
            role=Role.LEADER_IN_CHARGE, deputy=deputy, starts_on=today, ends_on=today,
        )
    cases = [
        ({"ends_on": today - timedelta(days=1)}, "ends_on"),
        ({"starts_on": today - timedelta(days=1)}, "starts_on"),
        ({"ends_on": today + timedelta(days=200)}, "ends_on"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationFailed) as exc:
            _appoint(ns, deputy, **kwargs)
        assert field in exc.value.fields, field
    outsider = make_user(world.other.city_dept, Role.DEPARTMENT_HEAD)
    with pytest.raises(ValidationFailed) as exc:
        _appoint(ns, outsider)
    assert "deputy" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        _appoint(ns, ns.users[Role.OUTSOURCED_OPERATOR])
    assert "deputy" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        _appoint(ns, ns.users[Role.LEADER_IN_CHARGE])  # already holds the role
    assert "deputy" in exc.value.fields
    assert not ReviewDeputy.objects.exists()


def test_deputies_page_and_api(world):
    ns = world.mine
    leader = ns.users[Role.PRINCIPAL_LEADER]
    deputy = make_user(ns.city_dept, Role.DEPARTMENT_HEAD, username="deputy-head-6")
    today = timezone.localdate()
    page = Client()
    page.force_login(leader)
    r = page.post("/moderation/deputies/", {
        "organization": ns.city_dept.pk, "role": Role.LEADER_IN_CHARGE, "deputy": deputy.pk,
        "starts_on": today.isoformat(), "ends_on": (today - timedelta(days=1)).isoformat(),
    })
    assert r.status_code == 400 and 'id="field-ends_on"' in r.content.decode()
    r = page.post("/moderation/deputies/", {
        "organization": ns.city_dept.pk, "role": Role.LEADER_IN_CHARGE, "deputy": deputy.pk,
        "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=3)).isoformat(),
        "reason": "外出学习",
    })
    assert r.status_code == 302
    appointment = ReviewDeputy.objects.get()
    assert 'data-deputy="deputy-head-6"' in page.get("/moderation/deputies/").content.decode()

    api = APIClient()
    api.force_authenticate(world.other.users[Role.PRINCIPAL_LEADER])
    assert api.get(f"/api/v1/review-deputies/{appointment.pk}/").status_code == 404
    assert api.post(f"/api/v1/review-deputies/{appointment.pk}/end/").status_code == 404
    api.force_authenticate(ns.users[Role.OPERATOR])
    assert api.post(f"/api/v1/review-deputies/{appointment.pk}/end/").status_code == 403
    api.force_authenticate(leader)
    listed = api.get("/api/v1/review-deputies/").json()["results"]
    assert [d["id"] for d in listed] == [appointment.pk]
    r = api.post(f"/api/v1/review-deputies/{appointment.pk}/end/")
    assert r.status_code == 200 and r.json()["ended_at"]
    r = api.post("/api/v1/review-deputies/", {
        "organization": ns.city_dept.pk, "role": "confidentiality_reviewer", "deputy": deputy.pk,
        "starts_on": today.isoformat(), "ends_on": today.isoformat(),
    }, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["on_behalf_of"] == ns.users[Role.CONFIDENTIALITY_REVIEWER].pk
