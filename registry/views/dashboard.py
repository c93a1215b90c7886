"""The registry dashboard: the accounts of the user's jurisdiction at a glance, each
number a link into the ledger (or filings, rotation tasks) with the matching filter."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from accounts.scoping import Action, scope_for
from common.db import reads_from_replica
from registry import selectors
from registry.models import AccountStatus
from registry.views import page


def _ledger(**params) -> str:
    return f"{reverse('registry:ledger')}?{urlencode(params)}"


@page
@reads_from_replica
def dashboard(request):
    if scope_for(request.user, Action.VIEW).is_empty:
        raise Http404
    overview = selectors.registry_overview(request.user)
    statuses = [
        {
            "value": value,
            "label": label,
            "n": overview["by_status"].get(value, 0),
            "url": _ledger(status=value),
        }
        for value, label in AccountStatus.choices
    ]
    platforms = [
        {
            "code": row["platform__code"],
            "name": row["platform__name"],
            "n": row["n"],
            "url": _ledger(platform=row["platform__code"]),
        }
        for row in overview["by_platform"]
    ]
    filings_url = reverse("registry:filing_list")
    links = {
        "all": reverse("registry:ledger"),
        # No `idle_days`: the ledger applies each organization's own policy.
        "idle": _ledger(idle="true"),
        "cleanup": _ledger(cleanup="true", sort="last_post"),
        "filing_overdue": _ledger(filing_overdue="true"),
        "pending": f"{filings_url}?{urlencode({'status': 'submitted'})}",
        "late": f"{filings_url}?{urlencode({'late': '1'})}",
        "rotations": reverse("registry:rotation_list"),
    }
    return render(
        request,
        "registry/dashboard.html",
        {**overview, "statuses": statuses, "platforms": platforms, "links": links},
    )
