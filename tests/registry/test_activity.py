"""Activity truth: the last post time follows what accounts publish, never moves
backwards, and idleness counts from the opening date for an account that never
posted, under per-organization thresholds inherited down the tree."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from moderation.services.publication import post_mark_published, published_post_report
from registry.ledger import idle_q
from registry.models import ActivityPolicy, MediaAccount
from registry.selectors import activity_thresholds_for, registry_overview
from registry.services.activity import media_account_record_posts
from tests.moderation.factories import approve_all, make_account, make_post, submit

pytestmark = pytest.mark.django_db


def _ids(condition) -> set[int]:
    return set(MediaAccount.objects.filter(condition).values_list("pk", flat=True))


def test_record_posts_moves_forward_never_backwards_in_one_update(world):
    """DOMAIN rule 23: the last post time only moves forward (a late or repeated
    report of an older post changes nothing), set-based in one UPDATE."""
    ns = world.mine
    a, b = make_account(ns.city_dept), make_account(ns.county_dept)
    now = timezone.now()
    media_account_record_posts(latest={a.pk: now})
    with CaptureQueriesContext(connection) as queries:
        moved = media_account_record_posts(
            latest={a.pk: now - timedelta(days=3), b.pk: now - timedelta(hours=1)}
        )
    updates = [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert moved == 1
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.last_post_at == now  # not moved backwards
    assert b.last_post_at == now - timedelta(hours=1)
    assert media_account_record_posts(latest={b.pk: now - timedelta(hours=1)}) == 0


def test_recording_a_publication_moves_the_last_post(world):
    """DOMAIN rule 23: a publication recorded in moderation is a post of the account."""
    ns = world.mine
    account = make_account(ns.city_dept)
    post = approve_all(submit(make_post(ns, account=account), ns), ns)
    published_at = timezone.now() - timedelta(minutes=5)
    post_mark_published(post=post, actor=post.author, account=account,
                        url="https://weibo.com/1/2", published_at=published_at)
    account.refresh_from_db()
    assert account.last_post_at == published_at


def test_a_collector_report_moves_the_last_post(world):
    """DOMAIN rule 23: a post a collector saw on the platform counts, whatever it
    matched (here: nothing, so it is also flagged)."""
    ns = world.mine
    account = make_account(ns.city_dept)
    seen = timezone.now() - timedelta(hours=2)
    published_post_report(actor=ns.users[Role.OPERATOR], account=account,
                          platform_post_id="P-1", text="一条未经审核的微博", published_at=seen)
    account.refresh_from_db()
    assert account.last_post_at == seen


def test_an_account_that_never_posted_is_idle_from_its_opening_date(world):
    """DOMAIN rules 23 and 31: a new account is not idle (nor on the clean-up list)
    the day after it opens; it counts from its opening date."""
    ns = world.mine
    today = timezone.localdate()
    fresh = make_account(ns.city_dept)
    fresh.opened_on = today - timedelta(days=1)
    fresh.save(update_fields=["opened_on"])
    quiet = make_account(ns.city_dept, "douyin")
    quiet.opened_on = today - timedelta(days=20)
    quiet.save(update_fields=["opened_on"])
    old = make_account(ns.city_dept, "toutiao")
    old.opened_on = today - timedelta(days=100)
    old.save(update_fields=["opened_on"])
    assert _ids(idle_q()) == {quiet.pk, old.pk}
    assert _ids(idle_q(kind="cleanup")) == {old.pk}
    overview = registry_overview(ns.users[Role.SUPERVISOR])
    assert overview["accounts"]["idle"] == 2
    assert overview["accounts"]["cleanup"] == 1
    assert [a.pk for a in overview["cleanup"]] == [old.pk]


def test_idle_and_cleanup_thresholds_are_inherited_policies(world):
    """DOMAIN rules 23 and 31: thresholds are per-organization policies inherited
    down the tree; the nearest wins; the national 15/90 days apply without one."""
    ns = world.mine
    assert activity_thresholds_for(ns.county_dept) == (15, 90)
    ActivityPolicy.objects.create(organization=ns.city, idle_days=30, cleanup_days=120)
    ActivityPolicy.objects.create(organization=ns.county, idle_days=7, cleanup_days=20)
    assert activity_thresholds_for(ns.city_dept) == (30, 120)
    assert activity_thresholds_for(ns.county_dept) == (7, 20)
    assert activity_thresholds_for(ns.office) == (15, 90)

    now = timezone.now()
    city_acc = make_account(ns.city_dept)
    county_acc = make_account(ns.county_dept)
    province_acc = make_account(ns.office)
    media_account_record_posts(latest={
        city_acc.pk: now - timedelta(days=25),
        county_acc.pk: now - timedelta(days=25),
        province_acc.pk: now - timedelta(days=25),
    })
    # 25 days silent: idle under 15 (province) and 7 (county), not under 30 (city).
    assert _ids(idle_q()) == {county_acc.pk, province_acc.pk}
    # The county's own clean-up threshold (20 days) is passed; 90 and 120 are not.
    assert _ids(idle_q(kind="cleanup")) == {county_acc.pk}
    # A threshold the user types overrides the policies.
    assert _ids(idle_q(26)) == set()
