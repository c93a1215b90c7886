"""Pages of the ledger (list, export, import, counterfeit check).

Included by registry/urls.py under the "registry" namespace with no prefix, so the
paths here carry their own (e.g. "ledger/")."""

from django.urls import path

from registry.views import ledger

urlpatterns = [
    path("ledger/", ledger.ledger_list, name="ledger"),
    path(
        "ledger/export.<str:file_format>",
        ledger.ledger_export_view,
        name="ledger_export",
    ),
    path("ledger/import/", ledger.import_upload, name="ledger_import"),
    path(
        "ledger/import/template.<str:file_format>",
        ledger.import_template,
        name="ledger_import_template",
    ),
    path(
        "ledger/import/<uuid:stage_id>/",
        ledger.import_detail,
        name="ledger_import_detail",
    ),
    path(
        "ledger/import/<uuid:stage_id>/status.json",
        ledger.import_status,
        name="ledger_import_status",
    ),
    path(
        "ledger/import/<uuid:stage_id>/retry/",
        ledger.import_retry,
        name="ledger_import_retry",
    ),
    path(
        "ledger/import/<uuid:stage_id>/confirm/",
        ledger.import_confirm,
        name="ledger_import_confirm",
    ),
    path("counterfeit/", ledger.counterfeit_check, name="counterfeit"),
    path("counterfeit/<str:result_id>/", ledger.counterfeit_result, name="counterfeit_result"),
    path(
        "counterfeit/<str:result_id>.csv",
        ledger.counterfeit_export,
        name="counterfeit_export",
    ),
]
