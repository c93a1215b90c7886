"""Two reviewers approving the same step at the same moment: exactly one wins."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from accounts.models import Role
from common.errors import Conflict, PermissionDenied
from moderation.models import StepStatus
from moderation.services import review
from tests.factories import make_user
from tests.moderation.factories import make_post, submit

pytestmark = pytest.mark.postgres


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_of_one_step(world):
    if connection.vendor != "postgresql":
        reason = "needs PostgreSQL row locks (SQLite serializes writers anyway)"
        print(reason)
        pytest.skip(reason)
    ns = world.mine
    second_head = make_user(ns.city_dept, Role.DEPARTMENT_HEAD)
    post = submit(make_post(ns), ns)
    barrier = threading.Barrier(2)
    outcomes = []

    def approve(user):
        try:
            barrier.wait()
            review.post_approve(post=post, actor=user, step_role="department_head")
            outcomes.append("ok")
        except (Conflict, PermissionDenied) as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(u,))
               for u in (ns.users[Role.DEPARTMENT_HEAD], second_head)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_decided", "ok"]
    post.refresh_from_db()
    assert post.steps.filter(status=StepStatus.APPROVED).count() == 1
    assert post.awaiting_role == "confidentiality_reviewer"
