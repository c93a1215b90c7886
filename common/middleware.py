"""Input hygiene shared by every page and endpoint."""

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _


class RejectNulMiddleware:
    """Answer 400 to input carrying a NUL character.

    PostgreSQL cannot store NUL in text, so such input would otherwise end as a 500
    deep inside a query. File uploads are not inspected (binary files may hold NUL).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            message = _("The input contains a NUL character (\\0), which is not allowed.")
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "invalid", "detail": message}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request) -> bool:
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in v for v in values)
            for key, values in request.GET.lists()
        ):
            return True
        if request.method in {"POST", "PUT", "PATCH"}:
            # Media types are case-insensitive (RFC 9110): APPLICATION/JSON is JSON.
            content_type = request.META.get("CONTENT_TYPE", "").lower()
            if content_type.startswith("application/json"):
                body = request.body
                return b"\\u0000" in body or b"\x00" in body
            if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                return any(
                    "\x00" in key or any("\x00" in v for v in values)
                    for key, values in request.POST.lists()
                )
        return False
