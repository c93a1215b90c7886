"""Warnings at filing and at approval: accounts not real-name verified, operators
without a confidentiality agreement as outsourced staff."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Membership, Role
from accounts.services import membership_end
from audit.models import AuditEvent
from registry.services import filings, rules
from tests.registry.helpers import file_open

pytestmark = pytest.mark.django_db


def codes(warnings) -> set[str]:
    return {w["code"] for w in warnings}


def test_an_unverified_account_is_warned_at_filing_and_approval(world, client):
    """DOMAIN rule 3: accounts must be real-name verified; the filer and the deciding
    supervisor are warned, and the approval records the warning."""
    ns = world.mine
    f = file_open(ns, verification="pending")
    assert rules.NOT_VERIFIED in codes(f.warnings)
    client.force_login(ns.city_supervisor)
    page = client.get(reverse("registry:filing_detail", args=[f.pk])).content.decode()
    assert 'id="decision-warnings"' in page
    filings.filing_approve(filing=f, actor=ns.city_supervisor)
    event = AuditEvent.objects.get(action="filing.approved", target_id=str(f.pk))
    assert rules.NOT_VERIFIED in codes(event.after["decision_warnings"])

    verified = file_open(ns, code="douyin", verification="verified")
    assert rules.NOT_VERIFIED not in codes(verified.warnings)


def test_an_outsourced_operator_without_an_agreement_is_warned_at_approval(world):
    """DOMAIN "outsourced operators": outsourced staff run an account only under a
    signed confidentiality agreement; when the outsourced role (and with it the
    agreement on file) ended after filing, the supervisor is warned at approval."""
    ns = world.mine
    f = file_open(ns, verification="verified")
    assert rules.OPERATOR_AGREEMENT_MISSING not in codes(filings.approval_warnings(f))
    membership_end(
        actor=None,
        membership=Membership.objects.get(
            user=ns.users[Role.OUTSOURCED_OPERATOR], organization=ns.city_dept
        ),
    )
    warnings = filings.approval_warnings(f)
    assert rules.OPERATOR_AGREEMENT_MISSING in codes(warnings)
    assert str(ns.users[Role.OUTSOURCED_OPERATOR]) in warnings[-1]["message"]
