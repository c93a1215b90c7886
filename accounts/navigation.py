"""Navigation by role: each item names the scope (domain, action) it needs. Apps add
their items in AppConfig.ready with `add_nav_item`, so this module imports no app."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from accounts.scoping import Action, Domain, roles_of, scope_for


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url_name: str
    domain: Domain
    action: Action = Action.VIEW
    roles: frozenset | None = None  # when set, only these roles see the item
    order: int = 100


_ITEMS: list[NavItem] = [
    NavItem("home", _("Home"), "home", Domain.DIRECTORY, order=0),
    NavItem("orgs", _("Organizations"), "accounts:org_tree", Domain.DIRECTORY, order=90),
    NavItem("access", _("Roles and people"), "accounts:membership_list", Domain.ACCESS, order=95),
    NavItem("audit", _("Audit trail"), "audit:event_list", Domain.AUDIT, order=99),
]


def add_nav_item(item: NavItem) -> None:
    if all(existing.key != item.key for existing in _ITEMS):
        _ITEMS.append(item)


def nav_for(user) -> list[dict]:
    if not getattr(user, "is_authenticated", False):
        return []
    held = roles_of(user)
    items = []
    for item in sorted(_ITEMS, key=lambda i: i.order):
        if item.roles is not None and not (held & item.roles):
            continue
        if scope_for(user, item.action, item.domain).is_empty:
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"key": item.key, "label": item.label, "url": url})
    return items
