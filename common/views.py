"""Error pages that API clients can read: JSON under /api/, the usual pages elsewhere."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults


def bad_request(request, exception=None):
    """Django's 400 (also raised before any view runs, e.g. a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE): JSON with a stable code for the API; 413 for a body
    that is too large."""
    too_large = isinstance(exception, RequestDataTooBig | TooManyFieldsSent)
    if request.path.startswith("/api/"):
        if too_large:
            return JsonResponse(
                {
                    "code": "too_large",
                    "detail": _("The request is too large (at most %(mb)d MB).")
                    % {"mb": _max_mb()},
                },
                status=413,
            )
        return JsonResponse({"code": "bad_request", "detail": _("Bad request.")}, status=400)
    response = defaults.bad_request(request, exception)
    if too_large:
        response.status_code = 413
    return response


def page_not_found(request, exception=None):
    """Django's 404 for a URL no route matches (`/api/v1/posts/1.5/`: the routers take
    no dot in an id): under /api/ the documented Error, as a view's own 404 is, and
    the same for what does not exist and what may not be seen."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def _max_mb() -> int:
    from django.conf import settings

    return max(1, settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024))
