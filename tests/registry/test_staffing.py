"""Staffing and custody upkeep (DOMAIN rules 5 and 9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from accounts.models import Membership, Role
from accounts.services import membership_end
from common.errors import ValidationFailed
from notifications.models import Notification
from registry.ledger import ledger_filter
from registry.models import StaffingPolicy
from registry.services import rules
from registry.services.custody import custody_set
from registry.services.staffing import (
    custody_gaps_by_organization,
    custody_upkeep_sweep,
)
from tests.registry.helpers import active_account

pytestmark = pytest.mark.django_db


def _end(ns, role):
    membership_end(actor=None, membership=Membership.objects.get(
        user=ns.users[role], organization=ns.city_dept, role=role))


def test_an_ended_role_leaves_the_accounts_and_raises_a_shortfall(world):
    """DOMAIN rule 5: when an operator's role ends the person is no longer listed on
    the accounts; below the minimum (2 at city level) the organization and its
    supervising level are told, and the ledger lists the account as understaffed."""
    ns = world.mine
    account = active_account(ns)
    outsourced = ns.users[Role.OUTSOURCED_OPERATOR]
    assert outsourced in account.operators.all()
    _end(ns, Role.OUTSOURCED_OPERATOR)
    assert outsourced not in account.operators.all()
    told = set(Notification.objects.filter(kind="registry.staffing_shortfall")
               .values_list("recipient", flat=True))
    assert ns.city_supervisor.pk in told and ns.users[Role.DEPARTMENT_HEAD].pk in told
    assert ns.users[Role.SUPERVISOR].pk not in told  # not the province
    supervisor = ns.city_supervisor
    listed = ledger_filter(supervisor, {"understaffed": "true"}).qs
    assert list(listed.values_list("pk", flat=True)) == [account.pk]


def test_the_minimum_is_a_per_organization_policy(world):
    """DOMAIN rule 5: the seed defaults (2 at city level) unless a policy up the tree
    says otherwise."""
    ns = world.mine
    assert rules.minimum_operators(ns.city_dept) == 2
    assert rules.minimum_operators(ns.county_dept) == 1
    StaffingPolicy.objects.create(organization=ns.city, min_operators=3)
    assert rules.minimum_operators(ns.city_dept) == 3
    assert rules.minimum_operators(ns.county_dept) == 3


def test_outsourced_staff_cannot_hold_credentials(world):
    """DOMAIN rule 9 ("security cannot be outsourced")."""
    ns = world.mine
    account = active_account(ns)
    with pytest.raises(ValidationFailed) as exc:
        custody_set(actor=ns.users[Role.OPERATOR], account=account,
                    holder=ns.users[Role.OUTSOURCED_OPERATOR], last_changed_on=None)
    assert exc.value.code == "outsourced_custody"
    custody_set(actor=ns.users[Role.OPERATOR], account=account,
                holder=ns.users[Role.OPERATOR], last_changed_on=None)


def test_the_daily_job_lists_custody_gaps_and_tells_once_a_day(world):
    """DOMAIN rule 9: accounts without a holder and rotations past due are listed
    and notified by the daily job (once per day)."""
    ns = world.mine
    account = active_account(ns)
    _end(ns, Role.OUTSOURCED_OPERATOR)  # opens a rotation task
    gaps = custody_gaps_by_organization()
    assert gaps[ns.city_dept.pk]["no_holder"] == 1
    assert gaps[ns.city_dept.pk]["rotation_overdue"] == 0
    task = account.rotation_tasks.get()
    with time_machine.travel(task.due_at + timedelta(days=1), tick=False):
        assert custody_gaps_by_organization()[ns.city_dept.pk]["rotation_overdue"] == 1
        assert custody_upkeep_sweep() == 1
        custody_upkeep_sweep()
        notes = Notification.objects.filter(kind="registry.custody_gaps",
                                            recipient=ns.city_supervisor)
        assert notes.count() == 1
