"""Pages of the registry, one module per sub-area (ledger.py belongs to the ledger)."""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404

from common.errors import NotFound, PermissionDenied


def page(view):
    """Sign-in required; the services' NotFound/PermissionDenied become the pages'
    404/403 (never a 500)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc.message)) from exc
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(str(exc.message)) from exc

    return login_required(wrapper)
