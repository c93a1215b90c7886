"""People-readable names for what the audit trail stores as codes.

Events keep stable codes (`filing.submitted`, `registry.filing`, the role code and, for
scheduled jobs, the actor label "system"); pages show them in the reader's language.
The audit app is a leaf: it knows no other app's actions, so each app registers the
labels of the actions it records from its AppConfig.ready(). Unknown codes show as
themselves (older events, or an app that forgot: tests/audit/test_action_labels.py
fails for the latter). Nothing here changes stored events; they are hash-chained.
"""

from __future__ import annotations

from django.apps import apps
from django.utils.translation import gettext

_ACTION_LABELS: dict[str, object] = {}
_ACTION_GROUPS: dict[str, object] = {}


def register_action_labels(labels: dict[str, object]) -> None:
    """Register `{code: gettext_lazy(label)}`; call from the owning app's ready()."""
    _ACTION_LABELS.update(labels)


def register_action_groups(labels: dict[str, object]) -> None:
    """Name the group of actions `prefix.*` where neither an app nor a model has
    that name (`{"token": gettext_lazy("API tokens")}`): the audit page's filter."""
    _ACTION_GROUPS.update(labels)


def action_groups() -> dict[str, object]:
    return dict(_ACTION_GROUPS)


def registered_actions() -> frozenset[str]:
    return frozenset(_ACTION_LABELS)


def action_label(code: str) -> str:
    """The action's label in the active language, or the code when none is registered."""
    label = _ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def target_type_label(target_type: str) -> str:
    """The target model's verbose name (`registry.filing` -> "filing"), or the code."""
    try:
        return str(apps.get_model(target_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return target_type


def actor_display(event) -> str:
    """"System" in the active language for events without a person, else the copied label."""
    if event.actor_id is None:
        return gettext("System")
    return event.actor_label
