"""Helpers shared by supervision's pages."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.scoping import Action, scope_for
from common.errors import ApplicationError


def require_business_view(user) -> None:
    """Pages of business data refuse (404) users who see none of it."""
    if scope_for(user, Action.VIEW).is_empty:
        raise Http404


def error(request, exc: ApplicationError) -> None:
    text = str(exc.message)
    if exc.fields:
        text += " " + "；".join(str(m) for msgs in exc.fields.values() for m in msgs)
    messages.error(request, text)


def parse_local(value: str) -> datetime | None:
    """A datetime-local input (Asia/Shanghai) as an aware datetime."""
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
