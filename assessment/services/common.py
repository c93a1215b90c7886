"""What every assessment service checks first: who may change assessment data.

Rubrics, runs, manual entries, freezes and circulars are changed by supervisors of
the organization (or above it). Auditors are read-only over their province: a refused
change is answered 403 *and* written to the audit trail (issue 12: "an auditor trying
to change anything: refused and audited"), in its own transaction so that the
refusal survives the rollback of the request.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Organization, Role
from accounts.scoping import Action, acting_role, memberships_of, require
from audit.services import audit_record
from common.errors import PermissionDenied

ASSESSORS = frozenset({Role.SUPERVISOR})


def record_refusal(*, actor, organization: Organization, target, what: str) -> None:
    """Append the refusal to the audit trail, committed even if the caller's
    transaction rolls back (on_commit of an outer atomic block would lose it)."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="assessment.change_refused",
            target=target,
            organization=organization,
            role=acting_role(actor, Action.VIEW, organization) if actor else "",
            after={"attempted": what},
        )


def require_assessor(
    actor, organization: Organization, *, target=None, what: str
) -> str:
    """404 when the organization is invisible; 403 (audited) when the actor sees it but
    is not a supervisor there. Returns the acting role. Call *before* the atomic block
    of the change so that the refusal is recorded on its own."""
    try:
        role = require(actor, Action.CHANGE, organization)
    except PermissionDenied:
        record_refusal(
            actor=actor,
            organization=organization,
            target=target or organization,
            what=what,
        )
        raise
    del role  # an operator's role in the organization itself does not make an assessor
    reaches = [
        m
        for m in memberships_of(actor)
        if m.role in ASSESSORS and organization.path.startswith(m.organization.path)
    ]
    if not reaches:
        record_refusal(
            actor=actor,
            organization=organization,
            target=target or organization,
            what=what,
        )
        raise PermissionDenied(
            _("Only a supervisor of this organization may change assessment data.")
        )
    return Role.SUPERVISOR
