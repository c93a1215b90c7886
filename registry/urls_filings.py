"""Pages of accounts, filings, exemptions and credential custody."""

from django.urls import path

from registry.views import custody, dashboard, filings

urlpatterns = [
    path("overview/", dashboard.dashboard, name="dashboard"),
    path("accounts/", filings.account_list, name="account_list"),
    path("accounts/<int:pk>/", filings.account_detail, name="account_detail"),
    path("accounts/<int:pk>/history/", filings.account_history, name="account_history"),
    path("accounts/<int:pk>/file/<str:kind>/", filings.filing_file, name="filing_file"),
    path("accounts/<int:pk>/custody/", custody.custody_edit, name="custody_edit"),
    path("parse-url/", filings.parse_url, name="parse_url"),
    path("filings/", filings.filing_list, name="filing_list"),
    path("filings/export/", filings.filing_export, name="filing_export"),
    path("filings/new/", filings.filing_new, name="filing_new"),
    path("filings/queue/", filings.filing_queue, name="filing_queue"),
    path("filings/<int:pk>/", filings.filing_detail, name="filing_detail"),
    path("filings/<int:pk>/decide/", filings.filing_decide, name="filing_decide"),
    path("filings/<int:pk>/withdraw/", filings.filing_withdraw, name="filing_withdraw"),
    path("filings/<int:pk>/sign-off/", filings.filing_sign_off, name="filing_sign_off"),
    path("filings/sign-off/", filings.signoff_queue, name="signoff_queue"),
    path("exemptions/", filings.exemption_list, name="exemption_list"),
    path("exemptions/<int:pk>/revoke/", filings.exemption_revoke, name="exemption_revoke"),
    path("rotations/", custody.rotation_list, name="rotation_list"),
    path("rotations/<int:pk>/done/", custody.rotation_done, name="rotation_done"),
]
