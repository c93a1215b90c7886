"""Pages of the ledger (list, export, import, counterfeit check).

Included by registry/urls.py under the "registry" namespace with no prefix, so the
paths here carry their own (e.g. "ledger/")."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
