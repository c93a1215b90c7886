"""Accounts for ledger tests, created the way the import creates them (denormalized
path and region, supervising organization derived from the tree)."""

from __future__ import annotations

import itertools

from registry.derive import derive_supervising
from registry.models import AccountStatus, MediaAccount, Platform

_ids = itertools.count(100000)


def make_account(
    org, name, *, platform="weibo", status=AccountStatus.ACTIVE, operators=(), **fields
):
    platform_obj = Platform.objects.get(code=platform)
    account = MediaAccount.objects.create(
        platform=platform_obj,
        display_name=name,
        platform_account_id=fields.pop("platform_account_id", str(next(_ids))),
        organization=org,
        supervising_organization=derive_supervising(org),
        status=status,
        org_path=org.path,
        region_code=org.region_code,
        **fields,
    )
    if operators:
        account.operators.set(operators)
    return account
