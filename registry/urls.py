"""Pages of registry. Each sub-area keeps its own urls module, included here under
the one "registry" namespace."""

from django.urls import include, path

app_name = "registry"

urlpatterns = [
    path("", include("registry.urls_filings")),
    path("", include("registry.urls_ledger")),
]
