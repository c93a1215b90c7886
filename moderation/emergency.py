"""The emergency review path (issue 11, item 6; DOMAIN.md on public-opinion events):
a post linked to an open public-opinion event or emergency still goes through every
review step of its chain, each recorded, but every reviewer of the chain is alerted
at once when it is submitted (not one step after another), and reviewer queues put
it first.

The events live in supervision, which stands above moderation, so moderation does
not import them: supervision registers a source here (supervision.apps) that lists
the open events covering an organization. Without a source (supervision not
installed) no post can be linked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class EventChoice:
    ref: str  # stable reference, e.g. "opinion-event:12"
    label: str  # what people read (copied onto the post)


_sources: list[Callable[[object], list[EventChoice]]] = []


def register_event_source(source: Callable[[object], list[EventChoice]]) -> None:
    """`source(organization)` returns the open events a post of that organization
    may be linked to (one query)."""
    if source not in _sources:
        _sources.append(source)


def events_for(organization) -> list[EventChoice]:
    return [choice for source in _sources for choice in source(organization)]


def event_choice(organization, ref: str) -> EventChoice | None:
    """The open event `ref` if a post of `organization` may be linked to it."""
    return next((c for c in events_for(organization) if c.ref == ref), None)
