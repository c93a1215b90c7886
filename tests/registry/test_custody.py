"""Credential custody: when an operator's role ends, rotation tasks open with a deadline
and stay open until someone records the change."""

from __future__ import annotations

import pytest
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Membership, Role
from audit.models import AuditEvent
from common.errors import Conflict, ValidationFailed
from registry.models import CredentialCustody, RotationTask
from registry.services import custody
from tests.registry.helpers import active_account


def test_role_end_opens_rotation_tasks_until_done(world):
    a1 = active_account(world.mine, code="weibo")
    a2 = active_account(world.mine, code="douyin", name="甲一公安")
    # The staff operator holds a1's credentials (outsourced staff may not: rule 9) and
    # runs both accounts; the role ends.
    leaving = world.mine.users[Role.OPERATOR]
    custody.custody_set(actor=leaving, account=a1, holder=leaving, last_changed_on=None)
    m = Membership.objects.get(user=leaving, role=Role.OPERATOR)
    account_services.membership_end(actor=None, membership=m)
    tasks = RotationTask.objects.filter(departed_user=leaving)
    assert {t.account_id for t in tasks} == {a1.pk, a2.pk}
    assert all(t.due_at > timezone.now() for t in tasks)
    assert AuditEvent.objects.filter(action="credential_rotation.opened").count() == 2
    # running the hook again opens nothing new
    assert custody.rotation_open_for_membership(membership=m) == 0

    operator = world.mine.users[Role.DEPARTMENT_HEAD]
    task = tasks.get(account=a1)
    with pytest.raises(ValidationFailed):
        custody.rotation_complete(actor=operator, task=task, changed_on=timezone.localdate() + timezone.timedelta(days=3))
    custody.rotation_complete(actor=operator, task=task)
    c = CredentialCustody.objects.get(account=a1)
    assert c.last_changed_on == timezone.localdate() and c.holder is None
    with pytest.raises(Conflict):
        custody.rotation_complete(actor=operator, task=task)
    assert RotationTask.objects.open().filter(departed_user=leaving).count() == 1


def test_rotation_page_and_api_show_open_tasks_to_the_sponsoring_organization(world, client):
    a1 = active_account(world.mine)
    m = Membership.objects.get(user=world.mine.users[Role.OUTSOURCED_OPERATOR], role=Role.OUTSOURCED_OPERATOR)
    account_services.membership_end(actor=None, membership=m)
    client.force_login(world.mine.users[Role.DEPARTMENT_HEAD])
    assert a1.display_name in client.get("/registry/rotations/").content.decode()
    task = RotationTask.objects.get(account=a1)
    r = client.post(f"/api/v1/rotation-tasks/{task.pk}/complete/", {}, content_type="application/json")
    assert r.status_code == 200 and r.json()["done_at"]
    client.force_login(world.other.users[Role.OPERATOR])
    assert client.get(f"/api/v1/rotation-tasks/{task.pk}/").status_code == 404
    assert a1.display_name not in client.get("/registry/rotations/?show=all").content.decode()


def test_custody_holder_must_belong_to_the_organization(world):
    a1 = active_account(world.mine)
    with pytest.raises(ValidationFailed):
        custody.custody_set(
            actor=world.mine.users[Role.OPERATOR], account=a1,
            holder=world.other.users[Role.OPERATOR], last_changed_on=None,
        )
