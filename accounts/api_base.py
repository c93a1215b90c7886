"""The one base class of every API viewset: it owns scoping.

Subclasses set `queryset` (of a model with a ScopedQuerySet) and may narrow it in
`narrow_queryset`; they cannot override get_queryset, get_object or get_permissions
(refused at class creation), so no endpoint can forget to scope.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import permissions, viewsets

from accounts.scoping import Action, require, scope_for
from common.errors import NotFound, PermissionDenied

_OWNED = ("get_queryset", "get_object", "get_permissions")
_WRITE_ACTIONS = {"create", "update", "partial_update", "destroy"}


class ScopedViewSetMixin:
    """Scoping for DRF viewsets.

    - Lists show only rows the user may VIEW (or EXPORT, for actions listed in
      `export_actions`).
    - A row outside the VIEW scope answers 404; a row the user sees but may not
      change answers 403 for write actions (`create`, `update`, ..., and the custom
      actions listed in `change_actions`).
    """

    change_actions: frozenset[str] = frozenset()
    export_actions: frozenset[str] = frozenset({"export"})
    permission_classes = [permissions.IsAuthenticated]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _OWNED:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} overrides {name}; narrow the queryset in "
                    "narrow_queryset() instead so scoping stays in one place."
                )

    # -- hooks for subclasses ---------------------------------------------------------
    def narrow_queryset(self, queryset):
        return queryset

    # -- owned -------------------------------------------------------------------------
    def scope_action(self) -> Action:
        name = getattr(self, "action", None)
        if name in self.export_actions:
            return Action.EXPORT
        if name in _WRITE_ACTIONS or name in self.change_actions:
            return Action.CHANGE
        return Action.VIEW

    def get_queryset(self):
        base = self.queryset.all()
        action = Action.EXPORT if self.scope_action() == Action.EXPORT else Action.VIEW
        if action == Action.EXPORT and self.user_scope(Action.EXPORT).is_empty:
            # Same rule as for objects: a domain the user cannot see at all answers
            # 404; one they see but may not export from answers 403 (an empty file
            # would hide the refusal, e.g. from an outsourced operator).
            if self.user_scope(Action.VIEW).is_empty:
                raise NotFound(_("Not found."))
            raise PermissionDenied(_("You may not export from here."))
        return self.narrow_queryset(base.visible_to(self.request.user, action))

    def get_object(self):
        obj = super().get_object()  # 404 outside the VIEW scope
        action = self.scope_action()
        if action != Action.VIEW:
            model = type(obj)
            allowed = (
                model._default_manager.filter(pk=obj.pk)
                .visible_to(self.request.user, action)
                .exists()
            )
            if not allowed:
                raise PermissionDenied(_("You may not do this in this organization."))
        return obj

    def get_permissions(self):
        return [permission() for permission in self.permission_classes]

    # -- helpers for create ----------------------------------------------------------
    def require_in(self, organization, action: Action = Action.CHANGE):
        """For creates: the target organization must be in the user's scope."""
        require(self.request.user, action, organization, self.queryset.model.scope_domain)

    def user_scope(self, action: Action = Action.VIEW):
        return scope_for(self.request.user, action, self.queryset.model.scope_domain)


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    """Base for viewsets that add their own create/update actions through services."""
