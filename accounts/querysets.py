"""The queryset base of every tenant-owned model (kept apart from scoping.py so that
models can use it without an import cycle)."""

from django.db import models


class ScopedQuerySet(models.QuerySet):
    """Querysets of tenant-owned models. Models declare:

    - `scope_domain`: the accounts.scoping.Domain their rows belong to;
    - `scope_path_field`: the lookup of the owning organization's path
      (e.g. "organization__path", or a denormalized "org_path" on hot tables).
    """

    def visible_to(self, user, action="view"):
        from accounts.scoping import scope_for

        model = self.model
        scope = scope_for(user, action, model.scope_domain)
        return self.filter(scope.q(model.scope_path_field))

    def dangerously_all(self):
        """Every row, unscoped: for sweeps and system jobs only, never for a user."""
        return self.all()
