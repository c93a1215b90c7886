"""Pages of the assessment: rubrics and their editor, score runs with drill-down to
the evidence, manual entries. Thin: parse, call a service, render."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Level, Organization
from accounts.scoping import Action, get_visible_or_404, scope_for
from assessment import indices, lists, selectors
from assessment.models import Part, RubricItem, RunStatus
from assessment.services import rubrics, scoring
from assessment.sources import SOURCES
from common import exports
from common.errors import ApplicationError, NotFound, PermissionDenied
from common.listing import PAGE_SIZES, paginate, sort_key
from registry.models import MediaAccount


def _visible(queryset, user, action=Action.VIEW, **lookup):
    """get_visible_or_404 for pages: a refused action answers 403, not a 500."""
    from django.core.exceptions import PermissionDenied as DjangoDenied

    try:
        return get_visible_or_404(queryset, user, action, **lookup)
    except PermissionDenied as exc:
        raise DjangoDenied(str(exc.message)) from exc


def _require_business_view(user) -> None:
    if not selectors.can_view_business(user):
        raise Http404


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise ApplicationError(
            _("%(field)s: enter a date as YYYY-MM-DD.") % {"field": field}
        ) from None


def _org(user, value) -> Organization:
    try:
        org = Organization.objects.get(pk=int(value))
    except (TypeError, ValueError, Organization.DoesNotExist):
        raise Http404 from None
    if not scope_for(user, Action.VIEW).contains(org):
        raise Http404
    return org


def _fail(request, exc: ApplicationError) -> None:
    if isinstance(exc, NotFound):
        raise Http404
    if isinstance(exc, PermissionDenied):
        from django.core.exceptions import PermissionDenied as DjangoDenied

        raise DjangoDenied(str(exc.message))
    details = [f"{m}" for msgs in exc.fields.values() for m in msgs]
    text = str(exc.message)
    messages.error(
        request,
        text
        if not details or text in details
        else f"{text} {' '.join(d for d in details if d != text)}",
    )


def _export_kind(user, kind: str) -> str:
    """The list's export kind for the page's export links, when the user may export."""
    return "" if scope_for(user, Action.EXPORT).is_empty else kind


@login_required
def index(request):
    _require_business_view(request.user)
    runs = Paginator(selectors.run_list(request.user), 20).get_page(
        request.GET.get("page")
    )
    today = timezone.localdate()
    return render(
        request,
        "assessment/index.html",
        {
            "runs": runs,
            "export_kind": _export_kind(request.user, "score_runs"),
            "rubrics": selectors.rubric_list(request.user)[:12],
            "freezes": selectors.freeze_list(request.user)[:6],
            "assessor_orgs": selectors.assessor_orgs(request.user),
            "year": today.year,
            "month_start": today.replace(day=1).isoformat(),
            "today": today.isoformat(),
        },
    )


# --- rubrics ---------------------------------------------------------------------------------
@login_required
def rubric_list(request):
    _require_business_view(request.user)
    page = Paginator(selectors.rubric_list(request.user), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "assessment/rubric_list.html",
        {
            "page": page,
            "assessor_orgs": selectors.assessor_orgs(request.user),
            "year": timezone.localdate().year,
            "export_kind": _export_kind(request.user, "rubrics"),
        },
    )


@login_required
@require_POST
def rubric_create(request):
    org = _org(request.user, request.POST.get("organization"))
    try:
        year = int(request.POST.get("year") or 0)
    except ValueError:
        year = 0
    try:
        rubric = rubrics.rubric_create_default(
            organization=org, year=year, actor=request.user
        )
    except ApplicationError as exc:
        _fail(request, exc)
        return redirect("assessment:rubric_list")
    messages.success(request, _("Draft rubric created from the national default."))
    return redirect("assessment:rubric_detail", rubric.pk)


@login_required
def rubric_detail(request, pk: int):
    rubric = selectors.rubric_detail(request.user, pk)
    items = list(rubric.items.all())
    can_edit = (
        rubric.is_editable
        and selectors.is_assessor(request.user)
        and scope_for(request.user, Action.CHANGE).contains(rubric.organization)
    )
    return render(
        request,
        "assessment/rubric_detail.html",
        {
            "rubric": rubric,
            "items": items,
            "can_edit": can_edit,
            "can_assess": selectors.is_assessor(request.user),
            "sources": selectors.source_choices(),
            "parts": Part.choices,
            "deduction_total": sum(
                (i.cap * i.weight for i in items if i.part == Part.DEDUCTION), start=0
            ),
            "unavailable": {c for c, s in SOURCES.items() if not s.available},
        },
    )


@login_required
@require_POST
def rubric_action(request, pk: int, action: str):
    rubric = selectors.rubric_detail(request.user, pk)
    post = request.POST
    try:
        if action == "update":
            rubrics.rubric_update(
                rubric=rubric,
                actor=request.user,
                name=post.get("name", rubric.name),
                pass_mark=post.get("pass_mark", rubric.pass_mark),
                bonus_threshold=post.get("bonus_threshold", rubric.bonus_threshold),
                bonus_cap=post.get("bonus_cap", rubric.bonus_cap),
                engagement_opt_in=post.get("engagement_opt_in") == "on",
                engagement_opt_in_reason=post.get("engagement_opt_in_reason", ""),
            )
            messages.success(request, _("Saved."))
        elif action == "item":
            item = None
            if post.get("item"):
                item = RubricItem.objects.filter(
                    rubric=rubric, pk=post.get("item")
                ).first()
                if item is None:
                    raise Http404
            rubrics.rubric_item_save(
                rubric=rubric,
                actor=request.user,
                item=item,
                **{
                    f: post.get(f)
                    for f in (
                        "code",
                        "name",
                        "part",
                        "source",
                        "points",
                        "cap",
                        "weight",
                        "params",
                    )
                    if f in post
                },
            )
            messages.success(request, _("Item saved."))
        elif action == "delete-item":
            item = RubricItem.objects.filter(rubric=rubric, pk=post.get("item")).first()
            if item is None:
                raise Http404
            rubrics.rubric_item_delete(item=item, actor=request.user)
            messages.success(request, _("Item removed."))
        elif action == "activate":
            rubrics.rubric_activate(rubric=rubric, actor=request.user)
            messages.success(request, _("The rubric is in force."))
        elif action == "version":
            copy = rubrics.rubric_new_version(rubric=rubric, actor=request.user)
            messages.success(request, _("New draft version created."))
            return redirect("assessment:rubric_detail", copy.pk)
        else:
            raise Http404
    except ApplicationError as exc:
        _fail(request, exc)
    return redirect("assessment:rubric_detail", rubric.pk)


# --- runs and scores -----------------------------------------------------------------------------
@login_required
@require_POST
def run_create(request):
    org = _org(request.user, request.POST.get("organization"))
    try:
        start = _date(request.POST.get("period_start"), _("From"))
        end = _date(request.POST.get("period_end"), _("To"))
        run = scoring.score_run_request(
            organization=org, period_start=start, period_end=end, actor=request.user
        )
    except ApplicationError as exc:
        _fail(request, exc)
        return redirect("assessment:index")
    messages.success(
        request, _("Scores are being computed; this page shows the progress.")
    )
    return redirect("assessment:run_detail", run.pk)


@login_required
def run_detail(request, pk: int):
    run = selectors.run_detail(request.user, pk)
    level = request.GET.get("level", "")
    result = request.GET.get("result", "")
    q = (request.GET.get("q") or "").strip()[:60]
    scores = selectors.account_scores(
        request.user, run, level=level, result=result, q=q
    )
    page = Paginator(scores, 50).get_page(request.GET.get("page"))
    orgs = Paginator(selectors.org_scores(request.user, run), 50).get_page(
        request.GET.get("orgpage")
    )
    # Analytics beside the score (rule 30): one query for each table's page.
    account_idx = indices.account_indices(
        [s.account_id for s in page], run.period_start, run.period_end
    )
    org_idx = indices.organization_indices(
        selectors.run_account_ids(run, [o.organization_id for o in orgs]),
        run.period_start,
        run.period_end,
    )
    page.object_list = [(s, account_idx.get(s.account_id)) for s in page]
    orgs.object_list = [(o, org_idx.get(o.organization_id)) for o in orgs]
    from urllib.parse import urlencode

    query = urlencode(
        {k: v for k, v in {"level": level, "result": result, "q": q}.items() if v}
    )
    return render(
        request,
        "assessment/run_detail.html",
        {
            "run": run,
            "page": page,
            "orgs": orgs,
            "levels": Level.choices,
            "level": level,
            "result": result,
            "q": q,
            "query": query,
            "running": run.status in (RunStatus.PENDING, RunStatus.RUNNING),
            "unavailable": [
                i for i in run.items if i["code"] in run.unavailable_sources
            ],
            "items": run.items,
        },
    )


@login_required
def score_detail(request, pk: int):
    score = selectors.score_detail(request.user, pk)
    return render(
        request,
        "assessment/score_detail.html",
        {
            "score": score,
            "run": score.run,
            "index": indices.account_indices(
                [score.account_id], score.run.period_start, score.run.period_end
            ).get(score.account_id),
            "lines": selectors.score_lines(score),
            "unavailable": [
                i for i in score.run.items if i["code"] in score.run.unavailable_sources
            ],
        },
    )


# --- manual entries -----------------------------------------------------------------------------
@login_required
def manual_list(request):
    _require_business_view(request.user)
    if request.method == "POST":
        post = request.POST
        try:
            item = RubricItem.objects.select_related("rubric").get(
                pk=int(post.get("item"))
            )
            account = _visible(
                MediaAccount.objects.select_related("organization"),
                request.user,
                pk=int(post.get("account") or 0),
            )
            if not scope_for(request.user, Action.VIEW).contains(
                item.rubric.organization
            ):
                raise Http404
            rubrics.manual_entry_create(
                item=item,
                account=account,
                occurred_on=_date(post.get("occurred_on"), _("Date")),
                points=post.get("points"),
                evidence=post.get("evidence", ""),
                evidence_url=post.get("evidence_url", ""),
                actor=request.user,
            )
            messages.success(request, _("Entry recorded."))
            return redirect("assessment:manual_list")
        except (RubricItem.DoesNotExist, ValueError, TypeError):
            raise Http404 from None
        except ApplicationError as exc:
            _fail(request, exc)
    page = Paginator(selectors.manual_entries(request.user), 30).get_page(
        request.GET.get("page")
    )
    manual_items = (
        RubricItem.objects.filter(
            rubric__in=selectors.rubric_list(request.user).filter(status="active"),
            source="manual",
        )
        .select_related("rubric")
        .order_by("rubric__year", "order")
    )
    return render(
        request,
        "assessment/manual_list.html",
        {
            "page": page,
            "manual_items": manual_items,
            "can_assess": selectors.is_assessor(request.user),
            "today": timezone.localdate().isoformat(),
            "export_kind": _export_kind(request.user, "manual_entries"),
        },
    )


# --- the annual assessment ---------------------------------------------------------------------
@login_required
def freeze_list(request):
    _require_business_view(request.user)
    from assessment.models import ScoreRun

    sort, order = sort_key(request, lists.FREEZE_SORTS, "-year")
    page = paginate(request, selectors.freeze_list(request.user).order_by(*order))
    whole_year_runs = []
    if selectors.is_assessor(request.user):
        whole_year_runs = list(
            ScoreRun.objects.visible_to(request.user, Action.CHANGE)
            .filter(
                status=RunStatus.DONE,
                frozen=False,
                period_start__month=1,
                period_start__day=1,
                period_end__month=12,
                period_end__day=31,
            )
            .select_related("organization")
            .order_by("-period_start", "-id")[:20]
        )
    return render(
        request,
        "assessment/freeze_list.html",
        {
            "page": page,
            "page_sizes": PAGE_SIZES,
            "sort": sort,
            "runs": whole_year_runs,
            "can_assess": selectors.is_assessor(request.user),
        },
    )


@login_required
@require_POST
def freeze_create(request):
    from assessment.services import freeze as freezing

    run = selectors.run_detail(request.user, _int(request.POST.get("run")))
    try:
        frozen = freezing.year_freeze(run=run, actor=request.user)
    except ApplicationError as exc:
        _fail(request, exc)
        return redirect("assessment:freeze_list")
    messages.success(request, _("The year is frozen."))
    return redirect("assessment:freeze_detail", frozen.pk)


@login_required
def freeze_detail(request, pk: int):
    freeze = _visible(
        selectors.freeze_list(request.user).model.objects.select_related(
            "organization", "run", "run__rubric", "frozen_by", "reopened_by"
        ),
        request.user,
        pk=pk,
    )
    from assessment.models import FreezeStatus, OrgScore

    orgs = (
        OrgScore.objects.visible_to(request.user)
        .filter(run=freeze.run)
        .order_by("level", "rank_in_level", "id")
    )
    org_page = Paginator(orgs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "assessment/freeze_detail.html",
        {
            "freeze": freeze,
            "run": freeze.run,
            "org_page": org_page,
            "is_frozen": freeze.status == FreezeStatus.FROZEN,
            "can_assess": selectors.is_assessor(request.user),
            "can_export": not scope_for(request.user, Action.EXPORT).is_empty,
            "unavailable": [
                i
                for i in freeze.run.items
                if i["code"] in freeze.run.unavailable_sources
            ],
            "jobs": selectors.export_jobs(request.user, freeze),
        },
    )


@login_required
@require_POST
def freeze_reopen(request, pk: int):
    from assessment.models import AssessmentFreeze
    from assessment.services import freeze as freezing

    freeze = _visible(
        AssessmentFreeze.objects.select_related("organization"), request.user, pk=pk
    )
    try:
        freezing.year_reopen(
            freeze=freeze, actor=request.user, reason=request.POST.get("reason", "")
        )
        messages.success(request, _("The year is re-opened."))
    except ApplicationError as exc:
        _fail(request, exc)
    return redirect("assessment:freeze_detail", freeze.pk)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


# --- monthly circulars -------------------------------------------------------------------------
@login_required
def circular_list(request):
    _require_business_view(request.user)
    from assessment.models import CircularPart, ScoreRun

    sort, order = sort_key(request, lists.CIRCULAR_SORTS, "-month")
    page = paginate(request, selectors.circular_list(request.user).order_by(*order))
    month_runs = []
    if selectors.is_assessor(request.user):
        month_runs = [
            r
            for r in ScoreRun.objects.visible_to(request.user, Action.CHANGE)
            .filter(status=RunStatus.DONE, period_start__day=1)
            .select_related("organization")
            .order_by("-period_start", "-id")[:40]
            if (r.period_end - r.period_start).days < 31
            and r.period_end.month == r.period_start.month
        ]
    my_parts = (
        CircularPart.objects.visible_to(request.user)
        .filter(circular__status="published")
        .select_related("circular")
        .order_by("-circular__month", "org_path")[:20]
    )
    return render(
        request,
        "assessment/circular_list.html",
        {
            "page": page,
            "page_sizes": PAGE_SIZES,
            "sort": sort,
            "runs": month_runs,
            "my_parts": my_parts,
            "can_assess": selectors.is_assessor(request.user),
        },
    )


@login_required
@require_POST
def circular_create(request):
    from assessment.services import circulars

    run = selectors.run_detail(request.user, _int(request.POST.get("run")))
    try:
        circular = circulars.circular_generate(run=run, actor=request.user)
    except ApplicationError as exc:
        _fail(request, exc)
        return redirect("assessment:circular_list")
    messages.success(request, _("Draft circular generated."))
    return redirect("assessment:circular_detail", circular.pk)


@login_required
def circular_detail(request, pk: int):
    circular = selectors.circular_detail(request.user, pk)
    parts = selectors.circular_parts(request.user, circular)
    return render(
        request,
        "assessment/circular_detail.html",
        {
            "circular": circular,
            "parts": parts,
            "can_assess": selectors.is_assessor(request.user)
            and scope_for(request.user, Action.CHANGE).contains(circular.organization),
        },
    )


@login_required
@require_POST
def circular_action(request, pk: int, to: str):
    from assessment.models import CircularStatus
    from assessment.services import circulars

    circular = selectors.circular_detail(request.user, pk)
    if to not in CircularStatus.values:
        raise Http404
    try:
        circulars.circular_transition(
            circular=circular,
            to=to,
            actor=request.user,
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("Saved."))
    except ApplicationError as exc:
        _fail(request, exc)
    return redirect("assessment:circular_detail", circular.pk)


@login_required
def circular_export(request, pk: int, fmt: str):
    """The circular as XLSX or PDF: the parts the reader may see (bounded by the number
    of organizations, so it is written in the request)."""
    import io
    import tempfile

    from django.http import HttpResponse

    from assessment.exports import write_circular_pdf, write_circular_xlsx

    circular = selectors.circular_detail(request.user, pk)
    if scope_for(request.user, Action.EXPORT).is_empty:
        from django.core.exceptions import PermissionDenied as DjangoDenied

        raise DjangoDenied
    parts = selectors.circular_parts(request.user, circular)
    name = f"circular-{circular.month:%Y-%m}-{circular.pk}"
    if fmt == "xlsx":
        buffer = io.BytesIO()
        write_circular_xlsx(circular, parts, buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    elif fmt == "pdf":
        with tempfile.NamedTemporaryFile(suffix=".pdf") as tmp:
            write_circular_pdf(circular, parts, tmp.name)
            response = HttpResponse(
                open(tmp.name, "rb").read(), content_type="application/pdf"
            )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


# --- monthly archives ----------------------------------------------------------------------------
@login_required
def archive_list(request):
    _require_business_view(request.user)
    sort, order = sort_key(request, lists.ARCHIVE_SORTS, "-month")
    page = paginate(request, selectors.archive_list(request.user).order_by(*order))
    return render(
        request,
        "assessment/archive_list.html",
        {"page": page, "page_sizes": PAGE_SIZES, "sort": sort},
    )


@login_required
def list_export(request, name: str):
    """A list page (years, archives, circulars) as XLSX (default) or CSV, through
    the one export writer; the list's filters do not apply (they have none)."""
    _require_business_view(request.user)
    if name not in lists.KINDS:
        raise Http404
    kind, list_url = lists.KINDS[name]
    try:
        return exports.respond(
            request, kind, request.GET, request.GET.get("file_format", "xlsx")
        )
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from exc
        _fail(request, exc)
        return redirect(list_url)


@login_required
def archive_download(request, pk: int):
    import os

    from django.conf import settings
    from django.http import FileResponse

    from assessment.models import MonthlyArchive

    archive = _visible(
        MonthlyArchive.objects.select_related("organization"),
        request.user,
        Action.EXPORT,
        pk=pk,
    )
    path = os.path.join(settings.MEDIA_ROOT, archive.file_path)
    if not os.path.exists(path):
        raise Http404
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=f"archive-{archive.month:%Y-%m}-{archive.organization_id}"
        f"-v{archive.version}.zip",
    )


@login_required
@require_POST
def freeze_export(request, pk: int):
    """Queue the XLSX of the year, or the PDF of one organization, as an export job
    (progress and the download link show on the year's page)."""
    from assessment import jobs
    from assessment.models import AssessmentFreeze

    freeze = _visible(
        AssessmentFreeze.objects.select_related("organization"),
        request.user,
        Action.EXPORT,
        pk=pk,
    )
    kind = request.POST.get("kind")
    if kind not in ("xlsx", "pdf"):
        raise Http404
    org = freeze.organization
    if kind == "pdf" and request.POST.get("organization"):
        org = _org(request.user, request.POST.get("organization"))
        if not org.path.startswith(freeze.org_path):
            raise Http404
    try:
        jobs.export_request(
            freeze=freeze, kind=kind, organization=org, actor=request.user
        )
        messages.success(request, _("The export is being prepared; it appears below."))
    except ApplicationError as exc:
        _fail(request, exc)
    return redirect("assessment:freeze_detail", freeze.pk)
