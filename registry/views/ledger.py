"""Pages of the ledger: the list, its exports, the import and the counterfeit check.

Views stay thin: reads through registry.ledger / registry.counterfeit, writes through
registry.services.ledger_import.
"""

from __future__ import annotations

import uuid
from html import escape

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import (
    Http404,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Organization, OrgKind
from accounts.scoping import Action, Domain, scope_for
from common import exports
from common.db import reads_from_replica
from common.errors import (
    ApplicationError,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from common.errors import PermissionDenied as DomainPermissionDenied
from registry import counterfeit, ledger, selectors
from registry.models import AccountStatus, MediaAccount
from registry.services import filings as filing_services
from registry.services import ledger_import

ORG_CHOICES_LIMIT = 400


def _render_error(request, exc: ApplicationError):
    if isinstance(exc, NotFound):
        raise Http404
    template = (
        "403.html"
        if isinstance(exc, DomainPermissionDenied)
        else "registry/ledger_error.html"
    )
    return render(
        request, template, {"exception": exc, "message": exc.message}, status=exc.status
    )


def _require_business(user, action: Action) -> None:
    """404 when the user sees no business data, 403 when they see it but may not act."""
    if scope_for(user, action, Domain.BUSINESS).is_empty:
        if scope_for(user, Action.VIEW, Domain.BUSINESS).is_empty:
            raise NotFound(_("Not found."))
        raise DomainPermissionDenied(_("You may not export from here."))


def _org_options(choices) -> str:
    """The organization <option>s (up to ORG_CHOICES_LIMIT), joined in Python: a
    template loop over them would cost more than the page's queries. What
    `format_html_join` printed, without its per-value `conditional_escape` calls
    (the names are plain text: `escape` is what it applied to them)."""
    return mark_safe(
        "".join(
            f'<option value="{int(pk)}"{" selected" if selected else ""}>'
            f"{escape(name)}</option>"
            for pk, name, selected in choices
        )
    )


def _org_choices(user, selected: str) -> list[tuple[int, str, bool]]:
    """The organization filter's choices: the scope's own top organizations and the
    governments up to two levels below them (province > city > county), bounded.
    Deeper organizations are reached with ?org=<id> (e.g. from the organization
    tree)."""
    scope = scope_for(user, Action.VIEW, Domain.BUSINESS)
    roots = scope.roots()
    if not roots:
        return []
    top = min(len(p) for p in roots) // Organization.steplen
    qs = (
        Organization.objects.filter(scope.q("path"))
        .filter(Q(kind=OrgKind.GOVERNMENT, depth__lte=top + 2) | Q(path__in=roots))
        .order_by("path")
        .values_list("id", "name", "depth")[:ORG_CHOICES_LIMIT]
    )
    rows = list(qs)
    if not rows:
        return []
    top = min(depth for _i, _n, depth in rows)
    return [
        (pk, "\u3000" * (depth - top) + name, str(pk) == selected)
        for pk, name, depth in rows
    ]


# The filter form's <select>s whose choices are fixed in code (all but the
# platforms', read from the database), as Django prints them, by form, field, value
# and language: the same few dozen strings on every page, and the widgets were about
# a tenth of the page's time (issue 9). Per process; a form with errors is printed
# afresh (its widgets carry aria-invalid).
_SELECTS: dict[tuple, str] = {}
_SELECTS_MAX = 2000


def _filter_fields(form) -> list[tuple]:
    """(bound field, its widget's HTML) of the filter form's fields but the search
    and the organization, which the template prints itself."""
    memo = not form.errors
    language = get_language()
    fields = []
    for bound in form:
        if bound.name in ("q", "org"):
            continue
        widget = bound.field.widget
        if not memo or type(widget) is not forms.Select or isinstance(
            bound.field, forms.ModelChoiceField
        ):
            fields.append((bound, str(bound)))
            continue
        key = (type(form), bound.name, repr(bound.value()), language)
        html = _SELECTS.get(key)
        if html is None:
            html = str(bound)
            if len(_SELECTS) >= _SELECTS_MAX:
                _SELECTS.clear()
            _SELECTS[key] = html
        fields.append((bound, html))
    return fields


@login_required
@require_GET
@reads_from_replica
def ledger_list(request):
    try:
        _require_business(request.user, Action.VIEW)
    except ApplicationError as exc:
        return _render_error(request, exc)
    params = request.GET.copy()
    params.setdefault("sort", ledger.DEFAULT_SORT)
    filterset = ledger.ledger_filter(request.user, params, request=request)
    valid = filterset.is_valid()
    qs = filterset.qs if valid else filterset.queryset.none()
    try:
        number = int(request.GET.get("page", 1))
    except ValueError:
        number = 1
    page, accounts = ledger.ledger_page(qs, number)
    idle_days = selectors.activity_thresholds_of_user(request.user).idle_days
    query = request.GET.copy()
    query.pop("page", None)
    selected_org = request.GET.get("org", "")
    org_choices = _org_choices(request.user, selected_org)
    org_label = ""
    if selected_org and not any(selected for _pk, _name, selected in org_choices):
        # The filter already 404'd for an invisible org; this names a visible one.
        org = (
            Organization.objects.filter(pk=selected_org).only("name").first()
            if selected_org.isdigit()
            else None
        )
        org_label = org.name if org else ""
    return render(
        request,
        "registry/ledger.html",
        {
            "filter": filterset,
            "form": filterset.form,
            "filter_fields": _filter_fields(filterset.form),
            "page": page,
            "accounts": accounts,
            "rows_html": _ledger_rows_html(accounts, idle_days),
            "query": query.urlencode(),
            "org_options": _org_options(org_choices),
            "org_selected": selected_org,
            "org_label": org_label,
            "idle_days": idle_days,
            "can_export": not scope_for(
                request.user, Action.EXPORT, Domain.BUSINESS
            ).is_empty,
            "can_import": _can_import(request.user),
        },
    )


STATUS_BADGE = {
    AccountStatus.ACTIVE: "ok",
    AccountStatus.CANCELLED: "off",
    AccountStatus.NOT_OPENED: "off",
    AccountStatus.PENDING: "brand",
}


def _ledger_rows_html(rows, idle_days: int) -> str:
    """The <tr>s of the page's rows, printed in Python, byte for byte what a
    template loop over them printed (tests/registry/test_ledger_html.py keeps that
    loop as the reference). At 50 rows a page the loop (about 650 variables, each
    resolved, localized and escaped by the template engine) was the largest part
    of the page's time (issue 9, load test); here each value is escaped once, and
    the labels of the choices, the translated words and the link are worked out
    once per page.

    Values are escaped as `{{ }}` does under autoescape (Django's `escape` is
    `html.escape`); dates as `|date:"Y-m-d"` in the current time zone."""
    from django.utils.translation import ngettext, pgettext

    link = escape(reverse("registry:account_detail", args=[0])[:-2])  # ".../accounts/"
    labels = {
        field: {
            value: escape(str(label))
            for value, label in MediaAccount._meta.get_field(field).flatchoices
        }
        for field in ("status", "category", "verification")
    }
    separator = pgettext("list separator", ", ")
    supervised_by = escape(_("Supervised by"))
    never = escape(_("Never"))
    out = []
    for a in rows:
        if a.last_post_at:
            day = timezone.localtime(a.last_post_at)
            days = a.idle_days
            label = ngettext("%(days)s day ago", "%(days)s days ago", days) % {
                "days": days
            }
            last_post = (
                f"{day.year:04d}-{day.month:02d}-{day.day:02d}<br>"
                f'<span class="muted{" idle" if days > idle_days else ""}">'
                f"{escape(label)}</span>"
            )
        else:
            last_post = f'<span class="muted">{never}</span>'
        operators = separator.join(a.operators)
        status = labels["status"].get(a.status) or escape(a.status)
        out.append(
            f'<tr>\n    <td><a href="{link}{a.pk}/">{escape(a.display_name)}</a><br>'
            f'<span class="muted">{escape(a.platform_account_id)}</span></td>\n'
            f"    <td>{escape(a.platform)}</td>\n"
            f"    <td>{escape(a.organization)}<br><span class=\"muted\">{supervised_by} "
            f"{escape(a.supervising_organization)}</span></td>\n"
            f'    <td><span class="badge {STATUS_BADGE.get(a.status, "warn")}">'
            f"{status}</span></td>\n"
            f"    <td>{labels['category'].get(a.category) or escape(a.category)}</td>\n"
            f"    <td>{labels['verification'].get(a.verification) or escape(a.verification)}"
            "</td>\n"
            f"    <td>{escape(operators) if operators else _NO_OPERATORS}</td>\n"
            f'    <td class="num">{a.followers}</td>\n'
            f'    <td class="nowrap">{last_post}</td>\n'
            "  </tr>\n  "
        )
    return mark_safe("".join(out))


_NO_OPERATORS = '<span class="muted">—</span>'


def _can_import(user) -> bool:
    try:
        ledger_import.import_roles_check(user)
    except ApplicationError:
        return False
    return True


@login_required
@require_GET
def ledger_export_view(request, file_format: str):
    """The filtered ledger as CSV/XLSX (common/exports.py): the file itself up to
    EXPORT_SYNC_MAX_ROWS rows, else a job with progress and a download link."""
    if file_format not in exports.FORMATS:
        raise Http404
    try:
        return exports.respond(request, "ledger", request.GET, file_format)
    except ApplicationError as exc:
        if isinstance(exc, ValidationFailed):
            return render(
                request,
                "registry/ledger_error.html",
                {"message": exc.message, "errors": exc.fields},
                status=400,
            )
        return _render_error(request, exc)


# --- import ---------------------------------------------------------------------------
def start_check(stage: dict, user) -> dict:
    """Queue the check of a kept file. SECURITY: never parsed here, in the request,
    whatever its size: only the Celery task parses (common.spreadsheets)."""
    return ledger_import.import_queue(stage_id=stage["id"], user=user)


@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request):
    try:
        ledger_import.import_roles_check(request.user)
    except ApplicationError as exc:
        return _render_error(request, exc)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Choose a file to upload.")
        elif upload.size > ledger_import.MAX_BYTES:
            error = _("The file is larger than %(n)d MB.") % {
                "n": ledger_import.MAX_BYTES // (1024 * 1024)
            }
        else:
            try:
                stage = ledger_import.import_stage(
                    user=request.user, filename=upload.name, data=upload.read()
                )
            except ApplicationError as exc:
                error = str(exc.message)
            else:
                try:
                    start_check(stage, request.user)
                except ServiceUnavailable as exc:
                    return _detail(request, stage["id"], exc)
                return redirect("registry:ledger_import_detail", stage["id"])
    status = 400 if error else 200
    return render(
        request,
        "registry/import_upload.html",
        {"error": error, "columns": ledger_import.COLUMNS},
        status=status,
    )


@login_required
@require_GET
def import_template(request, file_format: str = "xlsx"):
    try:
        ledger_import.import_roles_check(request.user)
    except ApplicationError as exc:
        return _render_error(request, exc)
    if file_format == "csv":
        response = HttpResponse(
            ledger_import.template_csv(), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            'attachment; filename="ledger-import-template.csv"'
        )
        return response
    response = HttpResponse(
        ledger_import.template_xlsx(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        'attachment; filename="ledger-import-template.xlsx"'
    )
    return response


@login_required
@require_GET
def import_detail(request, stage_id: uuid.UUID):
    return _detail(request, str(stage_id))


@login_required
@require_POST
def import_retry(request, stage_id: uuid.UUID):
    """Queue the check again after the broker was down (the file was kept)."""
    try:
        ledger_import.import_queue(stage_id=str(stage_id), user=request.user)
    except ServiceUnavailable as exc:
        return _detail(request, str(stage_id), exc)
    except ApplicationError as exc:
        return _render_error(request, exc)
    return redirect("registry:ledger_import_detail", stage_id)


def _detail(request, stage_id: str, unavailable: ServiceUnavailable | None = None):
    """The stage's page; with `unavailable`, a 503 saying the file was kept and
    offering the retry."""
    try:
        stage = ledger_import.stage_load(stage_id, request.user)
    except ApplicationError as exc:
        return _render_error(request, exc)
    errors_by_row: dict[int, list] = {}
    for error in stage["errors"]:
        errors_by_row.setdefault(error["row"], []).append(error)
    return render(
        request,
        "registry/import_detail.html",
        {
            "stage": stage,
            "progress": ledger_import.stage_progress(stage),
            "bad_rows": sorted(errors_by_row.items()),
            "good_preview": stage["good"][:20],
            "unavailable": unavailable,
        },
        status=unavailable.status if unavailable else 200,
    )


@login_required
@require_GET
def import_status(request, stage_id: uuid.UUID):
    try:
        stage = ledger_import.stage_load(str(stage_id), request.user)
    except ApplicationError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    return JsonResponse(ledger_import.stage_progress(stage))


@login_required
@require_POST
def import_confirm(request, stage_id: uuid.UUID):
    try:
        stage = ledger_import.media_account_import(
            stage_id=str(stage_id), actor=request.user
        )
    except ApplicationError as exc:
        if isinstance(exc, NotFound):
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect("registry:ledger_import_detail", stage_id)
    if stage.get("filed"):
        messages.success(
            request,
            _(
                "%(n)d accounts were recorded as pending; their opening filings await "
                "the supervising organization's approval."
            )
            % {"n": stage["filed"]},
        )
    else:
        messages.success(
            request,
            _("%(n)d accounts were imported into the ledger.") % {"n": stage["imported"]},
        )
    return redirect("registry:ledger_import_detail", stage_id)


# --- counterfeit check ----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def counterfeit_check(request):
    try:
        _require_business(request.user, Action.VIEW)
    except ApplicationError as exc:
        return _render_error(request, exc)
    context = {"text": "", "error": "", "findings": None}
    if request.method == "POST":
        text = request.POST.get("candidates", "")
        upload = request.FILES.get("file")
        try:
            if upload is not None:
                # An uploaded list is checked in a task (never parsed in a request).
                result_id = counterfeit.upload_stage(user=request.user, upload=upload)
                return redirect("registry:counterfeit_result", result_id)
            candidates = counterfeit.parse_candidates(text)
        except ApplicationError as exc:
            context["error"] = str(exc.message)
            return render(request, "registry/counterfeit.html", context,
                          status=exc.status if exc.status == 503 else 400)
        context["text"] = request.POST.get("candidates", "")
        if not candidates:
            context["error"] = _("Paste at least one account name or profile URL.")
            return render(request, "registry/counterfeit.html", context, status=400)
        results = counterfeit.counterfeit_check(
            user=request.user, candidates=candidates
        )
        data = [f.as_dict() for f in results]
        result_id = uuid.uuid4().hex
        counterfeit.result_store(request.user.pk, result_id, data)
        context.update(_result_context(request.user, result_id, data))
    return render(request, "registry/counterfeit.html", context)


def _result_context(user, result_id: str, data: list[dict]) -> dict:
    return {
        "findings": [d for d in data if d["is_finding"]],
        "others": [d for d in data if not d["is_finding"]],
        "result_id": result_id,
        "checked": len(data),
        # "File it" leads to the filing form, which only the operators and
        # department heads of an organization may use: others (supervisors,
        # auditors) are told whom to ask instead of meeting a 403.
        "can_file": filing_services.files_for_any(user),
    }


@login_required
@require_http_methods(["GET", "POST"])
def counterfeit_result(request, result_id: str):
    """An uploaded list's check: "checking…" (the page refreshes itself) until the
    task is done, then the same results as a typed-in check. POST queues it again
    (after a broker outage)."""
    try:
        _require_business(request.user, Action.VIEW)
    except ApplicationError as exc:
        return _render_error(request, exc)
    state = counterfeit.upload_state(request.user.pk, result_id)
    if state is None:
        raise Http404
    if request.method == "POST" and state["state"] == "queued":
        try:
            counterfeit.upload_queue(user_id=request.user.pk, result_id=result_id)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("registry:counterfeit_result", result_id)
    context = {"text": "", "error": "", "findings": None, "state": state["state"],
               "result_id": result_id}
    if state["state"] == "failed":
        context["error"] = state.get("error", "")
    elif state["state"] == "done":
        data = counterfeit.result_data(request.user.pk, result_id) or []
        context.update(_result_context(request.user, result_id, data))
    return render(request, "registry/counterfeit.html", context)


@login_required
@require_GET
def counterfeit_export(request, result_id: str):
    try:
        _require_business(request.user, Action.EXPORT)
    except ApplicationError as exc:
        return _render_error(request, exc)
    data = counterfeit.result_data(request.user.pk, result_id)
    if data is None:
        raise Http404
    return exports.response(counterfeit_table(request.user, data), "csv")


def counterfeit_check_table(user, params) -> exports.Table:
    """One check's findings as an export (the "counterfeit_check" kind): `result`
    names the check, else the user's latest. A result is kept under its user only
    (registry.counterfeit), so nobody exports another's check; it was made in the
    user's scope (counterfeit.check_in_scope), and a user who may not export gets
    404/403 as on the page."""
    _require_business(user, Action.EXPORT)
    result_id = str(params.get("result", "")) or counterfeit.latest_result_id(user.pk)
    data = counterfeit.result_data(user.pk, result_id) if result_id else None
    if data is None:
        raise NotFound(_("Not found."))
    return counterfeit_table(user, data)


def counterfeit_table(user, data) -> exports.Table:
    """The findings of one check (kept in the cache for the user) as an export."""
    from common.exports import Column, Table

    header = [
        _("Line"),
        _("Name"),
        _("URL"),
        _("Finding"),
        _("Likeness"),
        _("Reasons"),
        _("Matched account"),
        _("Platform"),
        _("Status"),
        _("Organization"),
    ]
    kinds = counterfeit_kind_labels()
    rows = [
        [
            d["line"],
            d["name"],
            d["url"],
            d["kind"],
            d["likeness"],
            " ".join(d["reasons"]),
            (d["account"] or {}).get("name", ""),
            (d["account"] or {}).get("platform", ""),
            (d["account"] or {}).get("status", ""),
            d["organization"],
        ]
        for d in data
    ]
    columns = [Column(h) for h in header]
    columns[0] = Column(header[0], "number")
    columns[3] = Column(header[3], labels=kinds)
    return Table(
        title=_("Counterfeit check"),
        columns=columns,
        rows=rows,
        count=lambda: len(rows),
        organization=exports.scope_label(user, Action.EXPORT, Domain.BUSINESS),
    )


def counterfeit_kind_labels() -> dict[str, str]:
    return {
        "cancelled": _("Cancelled account still on the platform"),
        "imitation": _("Imitation"),
        "unfiled": _("Unfiled (carries an organization's name)"),
        "registered": _("Registered"),
        "none": _("No match"),
    }
