"""Domain errors with stable codes; the API handler maps them to 400/403/404/409."""

from __future__ import annotations


class ApplicationError(Exception):
    """A refused operation. `code` is stable (tests import it); `message` is for people.

    `fields` maps a field name to a list of messages, so forms and the API can show
    each message beside the field it concerns.
    """

    code = "invalid"
    status = 400

    def __init__(self, message, *, code: str | None = None, fields: dict | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}

    def as_dict(self) -> dict:
        data = {"code": self.code, "detail": str(self.message)}
        if self.fields:
            data["fields"] = {k: [str(m) for m in v] for k, v in self.fields.items()}
        return data


class ValidationFailed(ApplicationError):
    code = "invalid"
    status = 400


class PermissionDenied(ApplicationError):
    """The user sees the object but may not do this to it."""

    code = "forbidden"
    status = 403


class NotFound(ApplicationError):
    """Missing, or outside the user's scope: the two are indistinguishable on purpose."""

    code = "not_found"
    status = 404


class Conflict(ApplicationError):
    """The object is not in a state that allows this (already done, changed meanwhile)."""

    code = "conflict"
    status = 409


class ServiceUnavailable(ApplicationError):
    """A service the request needs (the task broker) does not answer; try again later.
    Nothing the user sent was lost (the caller says what was kept)."""

    code = "unavailable"
    status = 503
