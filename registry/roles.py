"""Who may register accounts in the registry, and how: the one table read by filing
and by the ledger import (DOMAIN.md rules 1 and 4; "management cannot be
outsourced").

- `file`: file openings, changes, suspensions and cancellations for the sponsoring
  organization where the role is held (the supervising level decides them);
- `import_filed`: import a sheet of the own organization's accounts, each recorded
  as *pending* with an opening filing that goes through approval;
- `import_stocktake`: a supervisor records existing accounts of the jurisdiction as
  they are (a stocktake, 存量登记): active at once, marked as stocktaken on the
  account and in the audit trail, every registry rule checked per row.
"""

from __future__ import annotations

from accounts.models import Role

FILE = "file"
IMPORT_FILED = "import_filed"
IMPORT_STOCKTAKE = "import_stocktake"

REGISTRY_ROLE_RIGHTS: dict[str, frozenset[str]] = {
    Role.OPERATOR: frozenset({FILE, IMPORT_FILED}),
    Role.DEPARTMENT_HEAD: frozenset({FILE, IMPORT_FILED}),
    Role.SUPERVISOR: frozenset({IMPORT_STOCKTAKE}),
}


def roles_with(right: str) -> frozenset[str]:
    return frozenset(role for role, rights in REGISTRY_ROLE_RIGHTS.items() if right in rights)


FILER_ROLES = roles_with(FILE)
IMPORT_FILED_ROLES = roles_with(IMPORT_FILED)
IMPORT_STOCKTAKE_ROLES = roles_with(IMPORT_STOCKTAKE)
IMPORT_ROLES = IMPORT_FILED_ROLES | IMPORT_STOCKTAKE_ROLES
