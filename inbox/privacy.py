"""Masking of personal data (ID-card and mobile numbers) in messages shown to roles
that do not handle them (rule: privacy, issue 10 point 11)."""

from __future__ import annotations

import re

from accounts.models import Role

# 18-digit resident ID (last may be X) and mainland mobile numbers; landlines with
# an area code too.
_ID_CARD = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?)\d{4}(\d{3,4})(?!\d)")

# Roles that work the message in its handling organization see the numbers (they
# must call back); everybody else sees them masked.
HANDLING_ROLES = frozenset({Role.OPERATOR, Role.DEPARTMENT_HEAD, Role.LIAISON,
                            Role.LEADER_IN_CHARGE, Role.PRINCIPAL_LEADER})


def mask(text: str) -> str:
    if not text:
        return text
    text = _ID_CARD.sub(lambda m: m.group(1) + "*" * 8 + m.group(2), text)
    text = _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    return _LANDLINE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def may_reveal(user, organization_id: int) -> bool:
    """Whether `user` sees personal numbers of messages handled by the organization
    (a handling role held in that organization itself)."""
    return any(m_role in HANDLING_ROLES for m_role in _roles_in(user, organization_id))


def _roles_in(user, organization_id: int) -> set:
    from accounts.scoping import memberships_of

    return {Role(m.role) for m in memberships_of(user) if m.organization_id == organization_id}


def shown(user, text: str, organization_id: int) -> str:
    return text if may_reveal(user, organization_id) else mask(text)

