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


class SessionRefreshMiddleware:
    """Keep the idle timeout without writing the session on every request.

    With SESSION_SAVE_EVERY_REQUEST off, a session is saved only when it changes, and
    its expiry is SESSION_COOKIE_AGE after that save. For a signed-in user this
    stamps the session at most once every SESSION_REFRESH_SECONDS (60): that change
    saves it and pushes the expiry on. An idle user is thus signed out between
    SESSION_COOKIE_AGE and SESSION_COOKIE_AGE + 60 s after their last request; other
    requests read the session (from the cache with Redis) and write nothing.
    """

    KEY = "_refreshed"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import time

        from django.conf import settings

        session = getattr(request, "session", None)
        if session is not None and session.get("_auth_user_id"):
            now = int(time.time())
            every = int(getattr(settings, "SESSION_REFRESH_SECONDS", 60))
            if now - int(session.get(self.KEY, 0)) >= every:
                session[self.KEY] = now
        return self.get_response(request)


def stamp_session_on_login(sender, request, user, **kwargs):
    """Sign-in saves the session anyway: stamp it then, so the first page after
    sign-in does not write it again."""
    import time

    session = getattr(request, "session", None)
    if session is not None:
        session[SessionRefreshMiddleware.KEY] = int(time.time())


class BrokerUnavailableMiddleware:
    """A request whose work could not be queued because the task broker does not
    answer gets 503 with a clear message instead of a 500. What the request saved
    stays saved (the rows are committed before their tasks are queued, and the
    reapers queue them again once the broker is back, e.g. export jobs)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from kombu.exceptions import OperationalError

        if not isinstance(exception, OperationalError):
            return None
        import logging

        logging.getLogger(__name__).error("task broker unavailable: %s", exception)
        message = _(
            "The background service is not answering. What you submitted was kept and "
            "will be processed when it is back; try again in a few minutes."
        )
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "broker_unavailable", "detail": message}, status=503)
        from django.shortcuts import render

        return render(request, "503.html", {"message": message}, status=503)
