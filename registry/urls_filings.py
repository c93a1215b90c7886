"""Pages of accounts, filings, exemptions and credential custody."""

urlpatterns: list = []
