"""Request context (client IP) for audit events, set by RequestContextMiddleware."""

from contextvars import ContextVar

current_ip: ContextVar[str | None] = ContextVar("audit_current_ip", default=None)
