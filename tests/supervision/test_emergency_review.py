"""The emergency review path (issue 11, item 6): a post linked to an open
public-opinion event keeps every review step, recorded in order, but all its
reviewers are alerted at once at submission and it comes first in their queues."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from audit.models import AuditEvent
from common.errors import Conflict, ValidationFailed
from moderation import emergency, selectors
from moderation.models import Importance, ReviewStep
from notifications.models import Notification
from supervision.services import events
from tests.moderation.factories import approve_all, make_post, submit

pytestmark = pytest.mark.django_db


def _event(ns, *, org=None, title="暴雨红色预警"):
    return events.event_register(
        actor=ns.users[Role.SUPERVISOR], organization=org or ns.province, title=title,
        level="major", occurred_at=timezone.now() - timedelta(hours=1))


def test_linked_post_alerts_every_reviewer_at_once_and_keeps_its_steps(world):
    ns = world.mine
    event = _event(ns)
    post = make_post(ns, importance=Importance.MAJOR)
    ref = f"opinion-event:{event.pk}"
    assert [c.ref for c in emergency.events_for(post.organization)] == [ref]
    from moderation.services import posts

    posts.post_link_event(post=post, actor=post.author, event_ref=ref)
    post.refresh_from_db()
    assert post.event_ref == ref and "暴雨红色预警" in post.event_label
    assert AuditEvent.objects.filter(action="moderation.post_link_event").count() == 1
    submit(post, ns)
    chain = list(ReviewStep.objects.filter(post=post).order_by("order")
                 .values_list("role", flat=True))
    assert len(chain) >= 3  # a major post: head, leader in charge, principal, ...
    alerted = set(Notification.objects.filter(kind="moderation.emergency_review")
                  .values_list("recipient_id", flat=True))
    assert alerted == {ns.users[Role(role)].pk for role in chain}
    # Every step is still decided, in order, and recorded.
    approve_all(post, ns)
    post.refresh_from_db()
    assert post.status == "approved"
    assert ReviewStep.objects.filter(post=post, status="approved").count() == len(chain)


def test_an_unlinked_post_alerts_only_the_first_step(world):
    ns = world.mine
    _event(ns)
    post = make_post(ns, importance=Importance.MAJOR)
    submit(post, ns)
    assert not Notification.objects.filter(kind="moderation.emergency_review").exists()


def test_emergency_posts_come_first_in_the_queue(world):
    ns = world.mine
    event = _event(ns)
    from moderation.services import posts

    older = make_post(ns, title="普通稿件")
    submit(older, ns)
    urgent = make_post(ns, title="应急稿件")
    posts.post_link_event(post=urgent, actor=urgent.author,
                          event_ref=f"opinion-event:{event.pk}")
    submit(urgent, ns)
    head = ns.users[Role.DEPARTMENT_HEAD]
    assert [p.pk for p in selectors.review_queue(head)][:2] == [urgent.pk, older.pk]
    client = Client()
    client.force_login(head)
    page = client.get("/moderation/queue/").content.decode()
    assert "data-emergency" in page


def test_only_open_events_covering_the_organization(world):
    ns = world.mine
    from moderation.services import posts

    other_event = _event(world.other, title="乙省事件")
    post = make_post(ns)
    with pytest.raises(ValidationFailed) as err:
        posts.post_link_event(post=post, actor=post.author,
                              event_ref=f"opinion-event:{other_event.pk}")
    assert err.value.code == "no_such_event"
    closed = _event(ns, title="已结束事件")
    events.event_close(event=closed, actor=ns.users[Role.SUPERVISOR])
    with pytest.raises(ValidationFailed):
        posts.post_link_event(post=post, actor=post.author,
                              event_ref=f"opinion-event:{closed.pk}")
    post.refresh_from_db()
    assert post.event_ref == ""


def test_a_submitted_post_cannot_be_relinked(world):
    ns = world.mine
    event = _event(ns)
    from moderation.services import posts

    post = make_post(ns)
    submit(post, ns)
    with pytest.raises(Conflict):
        posts.post_link_event(post=post, actor=post.author,
                              event_ref=f"opinion-event:{event.pk}")


def test_api_and_page_link_the_event(world):
    ns = world.mine
    event = _event(ns)
    post = make_post(ns)
    ref = f"opinion-event:{event.pk}"
    client = Client()
    client.force_login(post.author)
    page = client.get(f"/moderation/posts/{post.pk}/").content.decode()
    assert 'id="event-form"' in page and ref in page
    r = client.post(f"/moderation/posts/{post.pk}/link-event/", {"event": ref})
    assert r.status_code == 302
    post.refresh_from_db()
    assert post.event_ref == ref
    api = APIClient()
    api.force_authenticate(post.author)
    r = api.post(f"/api/v1/posts/{post.pk}/link-event/", {"event": ""}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["event_ref"] == ""
    r = api.post(f"/api/v1/posts/{post.pk}/link-event/", {"event": "opinion-event:0"},
                 format="json")
    assert r.status_code == 400 and "event" in r.json()["fields"]
    # Another organization's post: 404, nothing changes.
    stranger = APIClient()
    stranger.force_authenticate(world.other.users[Role.OPERATOR])
    r = stranger.post(f"/api/v1/posts/{post.pk}/link-event/", {"event": ref},
                      format="json")
    assert r.status_code == 404
