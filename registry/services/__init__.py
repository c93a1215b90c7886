"""Writes of the registry, split by subdomain: accounts (URL parsing, platforms),
rules (checks at filing time), filings (the workflow), custody (credentials).
Ledger import/export lives in ledger_*.py."""
