"""Pages: accounts, their history, filing (open/change/suspend/cancel), the approval
queue and decisions, exemptions. Views stay thin: forms check input, services decide."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Organization, Role
from accounts.scoping import Action, get_visible_or_404, memberships_of, scope_for
from common.errors import ApplicationError, PermissionDenied
from common.listing import PAGE_SIZES, paginate, sort_key
from registry import forms, selectors
from registry.changes import describe_changes
from registry.lists import account_filters
from registry.models import (
    KIND_FROM_STATUSES,
    AccountStatus,
    Filing,
    FilingKind,
    FilingStatus,
    MediaAccount,
    Platform,
)
from registry.services import filings as filing_services
from registry.services import signoff
from registry.services.accounts import parse_profile_url
from registry.views import page

PAGE_SIZE = 50


def _filer_orgs(user) -> list[Organization]:
    ids = {m.organization_id for m in memberships_of(user) if m.role in filing_services.FILER_ROLES}
    return list(Organization.objects.filter(pk__in=ids).order_by("path"))


def _people_choices(organizations) -> dict:
    from accounts.models import Membership

    rows = (
        Membership.objects.active()
        .filter(organization__in=organizations)
        .select_related("user", "organization")
        .order_by("user__username")
    )
    many = len({m.organization_id for m in rows}) > 1
    operators, everyone = {}, {}
    for m in rows:
        label = f"{m.user} ({m.user.username})" + (f" · {m.organization.name}" if many else "")
        everyone.setdefault(m.user_id, label)
        if m.role in (Role.OPERATOR, Role.OUTSOURCED_OPERATOR):
            suffix = f" · {m.get_role_display()}" if m.role == Role.OUTSOURCED_OPERATOR else ""
            operators.setdefault(m.user_id, label + suffix)
    return {"operators": list(operators.items()), "all": list(everyone.items())}


# --- accounts ---------------------------------------------------------------------------
@page
def account_list(request):
    if scope_for(request.user, Action.VIEW).is_empty:
        raise Http404
    status = request.GET.get("status", "")
    platform = request.GET.get("platform", "")
    text = request.GET.get("q", "").strip()[:60]
    qs = selectors.account_search(request.user, **account_filters(request.GET))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/account_list.html",
        {
            "page": page,
            "statuses": AccountStatus.choices,
            "platforms": selectors.platforms_active(),
            "status": status,
            "platform": platform,
            "query": text,
            "filter_query": urlencode({"status": status, "platform": platform, "q": text}),
            "can_file": bool(_filer_orgs(request.user)),
            "export_kind": (
                "accounts" if not scope_for(request.user, Action.EXPORT).is_empty else ""
            ),
        },
    )


def _visible_account(request, pk) -> MediaAccount:
    return get_visible_or_404(
        MediaAccount.objects.select_related(
            "platform", "organization", "supervising_organization", "liaison"
        ),
        request.user,
        pk=pk,
    )


@page
def account_detail(request, pk: int):
    account = _visible_account(request, pk)
    can_file = filing_services.can_file(request.user, account.organization)
    pending = account.filings.filter(status=FilingStatus.SUBMITTED).first()
    kinds = []
    if can_file and pending is None:
        kinds = [
            (kind, label)
            for kind, label in FilingKind.choices
            if account.status in KIND_FROM_STATUSES[kind]
        ]
    custody = getattr(account, "custody", None) if hasattr(account, "custody") else None
    return render(
        request,
        "registry/account_detail.html",
        {
            "account": account,
            "operators": list(account.operators.order_by("username")),
            "custody": custody,
            "rotations": account.rotation_tasks.open().select_related("departed_user"),
            "pending": pending,
            "kinds": kinds,
            "can_change": scope_for(request.user, Action.CHANGE).contains(account.organization),
            "recent_filings": account.filings.order_by("-submitted_at")[:5],
        },
    )


@page
def account_history(request, pk: int):
    account = _visible_account(request, pk)
    history = selectors.account_history(account)
    for f in history["filings"]:
        f.change_rows = history["changes"][f.pk]
    return render(request, "registry/account_history.html", {"account": account, **history})


# --- filing -------------------------------------------------------------------------------
@page
@require_GET
def parse_url(request):
    """JSON for the filing form's script: platform and account id of a pasted URL."""
    platform = None
    code = request.GET.get("platform", "")
    if code:
        platform = Platform.objects.filter(is_active=True, pk=code if code.isdigit() else None).first()
    try:
        parsed = parse_profile_url(request.GET.get("url", ""), platform=platform)
    except ApplicationError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    return JsonResponse(
        {
            "platform": parsed.platform.pk,
            "platform_code": parsed.platform.code,
            "platform_name": parsed.platform.name,
            "account_id": parsed.account_id,
            "profile_url": parsed.profile_url,
        }
    )


def _prefill(params, organizations: list[Organization]) -> dict:
    """Initial values from the query string (the counterfeit check's "File it" link:
    display_name, profile_url, organization). Each value is checked and dropped when
    it does not fit: the organization must be one the user files for (and so sees),
    the URL fills the platform and account id only when it parses."""
    initial: dict = {}
    name = params.get("display_name", "").strip()
    if name:
        initial["display_name"] = name[:100]
    url = params.get("profile_url", "").strip()
    if url:
        try:
            parsed = parse_profile_url(url)
        except ApplicationError:
            initial["profile_url"] = url[:500]  # shown as given; the form re-checks it
        else:
            initial.update(
                profile_url=parsed.profile_url,
                platform=parsed.platform.pk,
                platform_account_id=parsed.account_id,
            )
    org_id = params.get("organization", "")
    if org_id.isdigit() and int(org_id) in {o.pk for o in organizations}:
        initial["organization"] = int(org_id)
    return initial


@page
def filing_new(request):
    """File the opening of a new account."""
    organizations = _filer_orgs(request.user)
    if not organizations:
        if scope_for(request.user, Action.VIEW).is_empty:
            raise Http404
        raise PermissionDenied(_("Only the sponsoring organization's operators or department head file."))
    people = _people_choices(organizations)
    form = forms.OpenFilingForm(
        request.POST or None, organizations=Organization.objects.filter(pk__in=[o.pk for o in organizations]),
        people=people,
        initial=_prefill(request.GET, organizations) if request.method == "GET" else None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            platform, account_id = data["platform"], data["platform_account_id"].strip()
            profile_url = data["profile_url"].strip()
            if profile_url:
                parsed = parse_profile_url(profile_url, platform=platform)
                platform = parsed.platform
                account_id = parsed.account_id or account_id
                profile_url = parsed.profile_url
            if platform is None:
                raise ApplicationError(
                    _("Choose the platform, or paste a profile URL."),
                    fields={"platform": [_("Choose the platform, or paste a profile URL.")]},
                )
            filing = filing_services.filing_submit_open(
                actor=request.user,
                organization=data["organization"],
                platform=platform,
                platform_account_id=account_id,
                display_name=data["display_name"],
                profile_url=profile_url,
                category=data["category"],
                verification=data["verification"],
                operators=data["operators"],
                liaison=data["liaison"],
                event_date=data["event_date"],
                note=data["note"],
            )
        except ApplicationError as exc:
            forms.apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Filed as %(number)s; the account takes effect when the supervising "
                  "organization approves.") % {"number": filing.number},
            )
            return redirect("registry:filing_detail", filing.pk)
    return render(request, "registry/filing_new.html", {"form": form})


FORM_OF_KIND = {
    FilingKind.CHANGE: forms.ChangeFilingForm,
    FilingKind.SUSPEND: forms.SuspendFilingForm,
    FilingKind.CANCEL: forms.CancelFilingForm,
    FilingKind.OPEN: forms.ReopenFilingForm,
}


@page
def filing_file(request, pk: int, kind: str):
    """File a change, suspension, cancellation or re-opening of an existing account."""
    if kind not in FORM_OF_KIND:
        raise Http404
    account = _visible_account(request, pk)
    filing_services.require_filer(request.user, account.organization)
    form_class = FORM_OF_KIND[kind]
    kwargs: dict = {}
    initial: dict = {}
    if kind == FilingKind.CHANGE:
        # The account may move to another organization in the filer's scope (the
        # service checks the same scope); people of those organizations may run it.
        targets = Organization.objects.filter(
            scope_for(request.user, Action.CHANGE).q("path")
        ).order_by("path")
        kwargs["organizations"] = targets
        kwargs["people"] = _people_choices(
            list({account.organization, *_filer_orgs(request.user)})
        )
        initial = {
            "organization": account.organization_id,
            "display_name": account.display_name,
            "profile_url": account.profile_url,
            "category": account.category,
            "verification": account.verification,
            "operators": list(account.operators.values_list("pk", flat=True)),
            "liaison": account.liaison_id,
        }
    form = form_class(request.POST or None, initial=initial, **kwargs)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if kind == FilingKind.CHANGE:
                event_date, note = data.pop("event_date"), data.pop("note")
                data["organization"] = data["organization"].pk
                filing = filing_services.filing_submit_change(
                    actor=request.user, account=account, changes=data, event_date=event_date,
                    note=note,
                )
            elif kind == FilingKind.CANCEL:
                filing = filing_services.filing_submit_cancel(actor=request.user, account=account, **data)
            elif kind == FilingKind.SUSPEND:
                filing = filing_services.filing_submit_suspend(actor=request.user, account=account, **data)
            else:
                filing = filing_services.filing_submit_reopen(actor=request.user, account=account, **data)
        except ApplicationError as exc:
            forms.apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Filed as %(number)s; it takes effect when the supervising organization "
                  "approves.") % {"number": filing.number},
            )
            return redirect("registry:filing_detail", filing.pk)
    return render(
        request,
        "registry/filing_file.html",
        {"form": form, "account": account, "kind": kind, "kind_label": FilingKind(kind).label},
    )


@page
def filing_list(request):
    if scope_for(request.user, Action.VIEW).is_empty:
        raise Http404
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    qs = selectors.filings_visible(request.user)
    if status in FilingStatus.values:
        qs = qs.filter(status=status)
    if kind in FilingKind.values:
        qs = qs.filter(kind=kind)
    if request.GET.get("late") == "1":
        qs = qs.filter(is_late=True)
    sort, order = sort_key(request, FILING_SORTS, "-filed")
    page = paginate(request, qs.order_by(*order), default=PAGE_SIZE)
    return render(
        request,
        "registry/filing_list.html",
        {
            "page": page,
            "page_sizes": PAGE_SIZES,
            "sort": sort,
            "statuses": FilingStatus.choices,
            "kinds": FilingKind.choices,
            "status": status,
            "kind": kind,
            "late": request.GET.get("late", ""),
            "filter_query": urlencode({"status": status, "kind": kind, "late": request.GET.get("late", "")}),
        },
    )


@page
def filing_queue(request):
    if not selectors.supervised_paths(request.user):
        raise Http404
    qs = selectors.filing_queue(request.user)
    page = paginate(request, qs, default=PAGE_SIZE)
    can_export = not scope_for(request.user, Action.EXPORT).is_empty
    return render(request, "registry/filing_queue.html",
                  {"page": page, "page_sizes": PAGE_SIZES,
                   "export_kind": "filing_queue" if can_export else ""})


FILING_SORTS = {
    "number": ("number", "id"),
    "kind": ("kind", "-id"),
    "filed": ("submitted_at", "id"),
    "due": ("due_at", "id"),
    "status": ("status", "-id"),
}


@page
def filing_export(request):
    """The filing list as XLSX (default) or CSV with the page's filters, through the
    one export writer (the "filings" kind of the API's export)."""
    from common import exports

    if scope_for(request.user, Action.EXPORT).is_empty:
        raise Http404
    params = {}
    if request.GET.get("status") in FilingStatus.values:
        params["status"] = request.GET["status"]
    if request.GET.get("kind") in FilingKind.values:
        params["kind"] = request.GET["kind"]
    if request.GET.get("late") == "1":
        params["is_late"] = "true"
    try:
        return exports.respond(request, "filings", params,
                               request.GET.get("file_format", "xlsx"))
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect("registry:filing_list")


def _visible_filing(request, pk) -> Filing:
    return get_visible_or_404(
        Filing.objects.select_related(
            "account", "account__platform", "organization", "supervising_organization",
            "submitted_by", "decided_by", "principal_leader", "exemption",
        ),
        request.user,
        pk=pk,
    )


@page
def filing_detail(request, pk: int):
    filing = _visible_filing(request, pk)
    can_decide = filing_services.can_decide(request.user, filing)
    return render(
        request,
        "registry/filing_detail.html",
        {
            "filing": filing,
            "changes": describe_changes([filing])[filing.pk],
            "can_decide": can_decide,
            "decision_warnings": filing_services.approval_warnings(filing)
            if can_decide
            else [],
            "can_withdraw": filing_services.can_withdraw(request.user, filing),
            "can_sign": signoff.can_sign(request.user, filing),
            "form": forms.DecisionForm(),
            "withdraw_form": forms.WithdrawForm(),
            "signoff_form": forms.SignoffForm(),
        },
    )


@page
def signoff_queue(request):
    """The principal leader's openings and closures awaiting sign-off, oldest first;
    several can be signed off at once (an imported batch)."""
    qs = signoff.signoff_queue(request.user)
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("filing") if i.isdigit()]
        if not ids:
            messages.error(request, _("Choose the filings to sign off."))
        else:
            count = signoff.filing_leader_approve_many(
                actor=request.user, filing_ids=ids, comment=request.POST.get("comment", "")
            )
            messages.success(
                request,
                ngettext("%(n)d filing signed off; the supervisors decide it now.",
                         "%(n)d filings signed off; the supervisors decide them now.", count)
                % {"n": count},
            )
        return redirect("registry:signoff_queue")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    can_export = not scope_for(request.user, Action.EXPORT).is_empty
    return render(request, "registry/signoff_queue.html",
                  {"page": page, "export_kind": "signoff_queue" if can_export else ""})


@page
@require_POST
def filing_sign_off(request, pk: int):
    filing = _visible_filing(request, pk)
    form = forms.SignoffForm(request.POST)
    decision = request.POST.get("decision")
    if decision not in ("approve", "refuse") or not form.is_valid():
        messages.error(request, _("Choose sign off or refuse."))
        return redirect("registry:filing_detail", filing.pk)
    try:
        signoff.filing_leader_decide(
            filing=filing, actor=request.user, approve=decision == "approve",
            comment=form.cleaned_data["comment"],
        )
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        if exc.status == 403:
            raise
        forms.apply_errors(form, exc)
        return render(
            request,
            "registry/filing_detail.html",
            {
                "filing": filing,
                "changes": describe_changes([filing])[filing.pk],
                "can_sign": signoff.can_sign(request.user, filing),
                "form": forms.DecisionForm(),
                "signoff_form": form,
            },
            status=exc.status,
        )
    if decision == "approve":
        messages.success(request, _("Signed off: the supervisors decide the filing now."))
    else:
        messages.success(request, _("Refused; the filer has been notified."))
    return redirect("registry:filing_detail", filing.pk)


@page
@require_POST
def filing_decide(request, pk: int):
    filing = _visible_filing(request, pk)
    form = forms.DecisionForm(request.POST)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject") or not form.is_valid():
        messages.error(request, _("Choose approve or reject."))
        return redirect("registry:filing_detail", filing.pk)
    try:
        if decision == "approve":
            filing_services.filing_approve(filing=filing, actor=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, _("Approved: the change has taken effect."))
        else:
            filing_services.filing_reject(filing=filing, actor=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, _("Rejected; the filer has been notified."))
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        if exc.status == 403:
            raise
        forms.apply_errors(form, exc)
        return render(
            request,
            "registry/filing_detail.html",
            {
                "filing": filing,
                "changes": describe_changes([filing])[filing.pk],
                "can_decide": filing_services.can_decide(request.user, filing),
                "form": form,
            },
            status=exc.status,
        )
    return redirect("registry:filing_detail", filing.pk)


@page
@require_POST
def filing_withdraw(request, pk: int):
    """The filer takes back a filing awaiting approval."""
    filing = _visible_filing(request, pk)
    form = forms.WithdrawForm(request.POST)
    if form.is_valid():
        try:
            filing_services.filing_withdraw(
                filing=filing, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The filing has been withdrawn."))
            return redirect("registry:filing_detail", filing.pk)
    else:
        messages.error(request, _("The reason is too long."))
    return redirect("registry:filing_detail", filing.pk)


# --- exemptions --------------------------------------------------------------------------
@page
def exemption_list(request):
    paths = selectors.supervised_paths(request.user)
    if scope_for(request.user, Action.VIEW).is_empty:
        raise Http404
    form = None
    if paths:
        cond = Q()
        for p in paths:
            cond |= Q(path__startswith=p)
        orgs = Organization.objects.get_queryset().filter(cond)
        form = forms.ExemptionForm(request.POST or None, organizations=orgs)
        if request.method == "POST" and form.is_valid():
            try:
                filing_services.exemption_grant(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                forms.apply_errors(form, exc)
            else:
                messages.success(request, _("Exemption recorded."))
                return redirect("registry:exemption_list")
    elif request.method == "POST":
        raise PermissionDenied(_("Only a supervisor of the supervising organization records exemptions."))
    qs = selectors.exemptions_visible(request.user).order_by("-granted_at")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    can_export = not scope_for(request.user, Action.EXPORT).is_empty
    return render(request, "registry/exemption_list.html", {
        "page": page, "form": form, "export_kind": "exemptions" if can_export else ""})


@page
@require_POST
def exemption_revoke(request, pk: int):
    from registry.models import AccountExemption

    exemption = get_visible_or_404(AccountExemption.objects.all(), request.user, pk=pk)
    try:
        filing_services.exemption_revoke(actor=request.user, exemption=exemption)
    except ApplicationError as exc:
        if exc.status == 403:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Exemption revoked."))
    return redirect("registry:exemption_list")
