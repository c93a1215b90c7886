"""The home workbench (工作台): to-do cards registered by each app, per role.

An app registers a card provider for the roles whose work it shows, usually in its
``AppConfig.ready``::

    from common.workbench import Card, register

    def reposts_due(user):
        counts = selectors.repost_counts_for_operator(user)     # ONE query
        return [Card("reposts_due", _("Reposts to do"), counts["open"],
                     url=..., state=STATE_OVERDUE if counts["overdue"] else STATE_DUE,
                     detail=...)]

    register("reposts_due", provider=reposts_due, roles={"operator"}, order=30)

Contract of a provider: ``provider(user) -> iterable of Card``; it runs a fixed
number of queries (an aggregate, never a query per row), so the home page's query
count does not grow with the data. A user holding several matching roles gets each
provider once. ``url`` opens the filtered list behind the count.

This module stands on the ground floor and imports no app: which roles a user holds
is handed to it by ``accounts`` (``set_roles_of``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

# The one status palette (static/css/app.css, README "Status palette"): these are
# the CSS class suffixes `status-<state>`.
STATE_OVERDUE = "overdue"  # red: overdue, breached, veto
STATE_DUE = "due"  # amber: due soon, waiting
STATE_DONE = "done"  # green: done, nothing to do
STATE_CLOSED = "closed"  # grey: closed, not applicable
STATE_INFO = ""  # neutral


@dataclass
class Card:
    key: str
    title: str
    count: int | None
    url: str = ""
    state: str = STATE_INFO
    detail: str = ""
    order: int = 100

    @property
    def css(self) -> str:
        return f"status-{self.state}" if self.state else ""


@dataclass(frozen=True)
class Provider:
    key: str
    provide: Callable[[object], Iterable[Card]]
    roles: frozenset[str]
    order: int = 100


_PROVIDERS: dict[str, Provider] = {}
_roles_of: Callable[[object], set[str]] | None = None


def register(
    key: str, *, provider: Callable[[object], Iterable[Card]], roles: Iterable[str],
    order: int = 100,
) -> None:
    """Register a card provider for holders of any of ``roles`` (role values)."""
    _PROVIDERS.setdefault(key, Provider(key, provider, frozenset(str(r) for r in roles), order))


def unregister(key: str) -> None:
    _PROVIDERS.pop(key, None)


def set_roles_of(function: Callable[[object], set[str]]) -> None:
    """``function(user) -> set of role values``; set once by accounts."""
    global _roles_of
    _roles_of = function


def providers_for(user) -> list[Provider]:
    if not getattr(user, "is_authenticated", False) or _roles_of is None:
        return []
    held = _roles_of(user)
    return sorted(
        (p for p in _PROVIDERS.values() if p.roles & held), key=lambda p: (p.order, p.key)
    )


def state_for(*, overdue: int = 0, due: int = 0, total: int | None = None) -> str:
    """The palette state of a to-do count: red when any is overdue, amber when any is
    due, green when there is nothing to do."""
    if overdue:
        return STATE_OVERDUE
    if due or total:
        return STATE_DUE
    return STATE_DONE


def cards_for(user) -> list[Card]:
    cards: list[Card] = []
    for provider in providers_for(user):
        for card in provider.provide(user) or ():
            if card.order == 100:
                card.order = provider.order
            cards.append(card)
    return sorted(cards, key=lambda c: c.order)
