"""API plumbing shared by every app: pagination and the one exception handler."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import ApplicationError
from common.paging import CachedCountPaginator


class Pagination(PageNumberPagination):
    # Large totals are counted once a minute, not on every page (common/paging.py).
    django_paginator_class = CachedCountPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


def _django_validation_payload(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "message_dict"):
        fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        non_field = fields.pop("__all__", None)
        payload = {"code": "invalid", "fields": fields}
        payload["detail"] = " ".join(non_field) if non_field else (
            "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
        )
        return payload
    return {"code": "invalid", "detail": " ".join(str(m) for m in exc.messages)}


def exception_handler(exc, context):
    """Map domain errors to JSON with a stable code and a message per field."""
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        return Response(_django_validation_payload(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        from django.utils.translation import gettext as _

        return Response(
            {"code": "not_found", "detail": _("Not found.")}, status=status.HTTP_404_NOT_FOUND
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" not in response.data:
        # Serializer errors: DRF's per-field lists under "fields".
        fields = _flat(response.data)
        response.data = {"code": "invalid", "detail": _summary(fields), "fields": fields}
    elif response is not None and isinstance(response.data, dict):
        code = getattr(getattr(exc, "detail", None), "code", None) or "error"
        response.data = {"code": code, "detail": str(response.data["detail"])}
    return response


def _flat(errors, prefix: str = "") -> dict[str, list[str]]:
    """DRF nests the errors of list items and nested serializers
    ({"links": {"1": [...]}}, {"people": [{}, {"name": [...]}]}); the documented
    `fields` (common/openapi.py, Error) is one list of messages per field, so a nested
    message is filed under its path: "links.1", "people.1.name"."""
    if isinstance(errors, dict):
        items = errors.items()
    elif isinstance(errors, list | tuple) and any(isinstance(e, dict | list) for e in errors):
        items = ((str(i), e) for i, e in enumerate(errors))
    else:
        messages = errors if isinstance(errors, list | tuple) else [errors]
        return {prefix: [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in items:
        flat.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _summary(fields: dict) -> str:
    parts = []
    for name, messages in fields.items():
        if isinstance(messages, list | tuple):
            parts.append(f"{name}: {' '.join(str(m) for m in messages)}")
        else:
            parts.append(f"{name}: {messages}")
    return "; ".join(parts)
