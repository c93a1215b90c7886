"""REST API of the assessment. Every viewset inherits the scoped base
(accounts.api_base): out-of-scope rows answer 404. Writes are for supervisors: the
permission is checked before the body is read (403, audited, for anyone else)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action, api_view
from rest_framework.response import Response

from accounts.api_base import ScopedModelViewSet
from accounts.models import Organization
from accounts.scoping import Action, memberships_of, scope_for
from assessment import selectors
from assessment import serializers as s
from assessment.models import (
    AccountScore,
    AssessmentFreeze,
    Circular,
    CircularPart,
    ManualEntry,
    MonthlyArchive,
    OrgScore,
    Rubric,
    RubricItem,
    ScoreEvidence,
    ScoreLine,
    ScoreRun,
)
from assessment.services import rubrics, scoring
from assessment.services.common import record_refusal
from common.errors import NotFound, PermissionDenied, ValidationFailed
from registry.models import MediaAccount


def _data(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def require_assessor_role(request, what: str) -> None:
    """Before reading a write's body: only supervisors change assessment data. Anyone
    else who sees business data gets 403 (and the refusal is audited); a user who
    sees none gets 404."""
    user = request.user
    if scope_for(user, Action.VIEW).is_empty:
        raise NotFound(_("Not found."))
    if not selectors.is_assessor(user):
        memberships = memberships_of(user)
        if memberships:
            org = memberships[0].organization
            record_refusal(actor=user, organization=org, target=org, what=what)
        raise PermissionDenied(
            _("Only a supervisor of this organization may change assessment data.")
        )


def _visible_org(user, pk) -> Organization:
    org = Organization.objects.filter(pk=pk).first()
    if org is None or not scope_for(user, Action.VIEW).contains(org):
        raise NotFound(_("Not found."))
    return org


class RubricViewSet(ScopedModelViewSet):
    """Rubrics per year and supervising organization, with their items."""

    queryset = Rubric.objects.all()
    serializer_class = s.RubricSerializer
    change_actions = frozenset({"items", "activate", "new_version"})

    def narrow_queryset(self, queryset):
        queryset = queryset.select_related("organization")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("items")
        year = self.request.query_params.get("year")
        if year and year.isdigit():
            queryset = queryset.filter(year=int(year))
        return queryset.order_by("-year", "org_path", "-version")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.RubricSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.RubricDetailSerializer(self.get_object()).data)

    def create(self, request):
        """A draft from the national default rubric."""
        require_assessor_role(request, "rubric_create")
        data = _data(s.RubricCreateSerializer, request)
        org = _visible_org(request.user, data["organization"])
        rubric = rubrics.rubric_create_default(
            organization=org,
            year=data["year"],
            actor=request.user,
            name=data.get("name", ""),
        )
        return Response(
            s.RubricDetailSerializer(rubric).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request, pk=None):
        require_assessor_role(request, "rubric_update")
        rubric = self.get_object()
        data = _data(s.RubricUpdateSerializer, request)
        rubric = rubrics.rubric_update(rubric=rubric, actor=request.user, **data)
        return Response(s.RubricDetailSerializer(rubric).data)

    @action(detail=True, methods=["post"])
    def items(self, request, pk=None):
        """Add an item, or change one (`item`: its id)."""
        require_assessor_role(request, "rubric_item_save")
        rubric = self.get_object()
        data = _data(s.RubricItemWriteSerializer, request)
        item = None
        if "item" in data:
            item = RubricItem.objects.filter(rubric=rubric, pk=data.pop("item")).first()
            if item is None:
                raise NotFound(_("Not found."))
        rubrics.rubric_item_save(rubric=rubric, actor=request.user, item=item, **data)
        rubric.refresh_from_db()
        return Response(
            s.RubricDetailSerializer(rubric).data,
            status=status.HTTP_200_OK if item else status.HTTP_201_CREATED,
        )

    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        require_assessor_role(request, "rubric_activate")
        rubric = self.get_object()
        rubric = rubrics.rubric_activate(rubric=rubric, actor=request.user)
        return Response(s.RubricDetailSerializer(rubric).data)

    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request, pk=None):
        require_assessor_role(request, "rubric_new_version")
        rubric = self.get_object()
        copy = rubrics.rubric_new_version(rubric=rubric, actor=request.user)
        return Response(
            s.RubricDetailSerializer(copy).data, status=status.HTTP_201_CREATED
        )


class ScoreRunViewSet(ScopedModelViewSet):
    """Score runs: a subtree, a period, a rubric. Creating one starts a Celery job;
    poll the run for `status` and `progress`."""

    queryset = ScoreRun.objects.all()
    serializer_class = s.ScoreRunSerializer

    def narrow_queryset(self, queryset):
        return queryset.select_related("organization").order_by("-period_start", "-id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.ScoreRunSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.ScoreRunSerializer(self.get_object()).data)

    def create(self, request):
        require_assessor_role(request, "score_run_request")
        data = _data(s.ScoreRunCreateSerializer, request)
        org = _visible_org(request.user, data["organization"])
        rubric = None
        if data.get("rubric"):
            rubric = (
                Rubric.objects.visible_to(request.user)
                .filter(pk=data["rubric"])
                .first()
            )
            if rubric is None:
                raise NotFound(_("Not found."))
        run = scoring.score_run_request(
            organization=org,
            period_start=data["period_start"],
            period_end=data["period_end"],
            actor=request.user,
            rubric=rubric,
        )
        return Response(s.ScoreRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class AccountScoreViewSet(ScopedModelViewSet):
    """Account scores (filter by `run`, `level`, `result` = passed/failed/vetoed);
    one score lists its lines with the evidence rows behind each."""

    queryset = AccountScore.objects.all()
    serializer_class = s.AccountScoreSerializer

    def narrow_queryset(self, queryset):
        params = self.request.query_params
        if self.action == "retrieve":
            return queryset.prefetch_related(
                Prefetch(
                    "lines",
                    queryset=ScoreLine.objects.order_by("id").prefetch_related(
                        Prefetch(
                            "evidence", queryset=ScoreEvidence.objects.order_by("id")
                        )
                    ),
                )
            )
        run = params.get("run")
        if run and run.isdigit():
            queryset = queryset.filter(run_id=int(run))
        if params.get("level"):
            queryset = queryset.filter(level=params["level"])
        result = params.get("result")
        if result == "vetoed":
            queryset = queryset.filter(vetoed=True)
        elif result == "failed":
            queryset = queryset.filter(passed=False)
        elif result == "passed":
            queryset = queryset.filter(passed=True)
        return queryset.order_by("run_id", "level", "rank_in_level", "id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        context = {"indices": selectors.score_indices(page)}
        return self.get_paginated_response(
            s.AccountScoreSerializer(page, many=True, context=context).data
        )

    def retrieve(self, request, pk=None):
        score = self.get_object()
        context = {"indices": selectors.score_indices([score])}
        return Response(s.AccountScoreDetailSerializer(score, context=context).data)


class OrgScoreViewSet(ScopedModelViewSet):
    """Organization figures per run, ranked within each level (filter by `run`)."""

    queryset = OrgScore.objects.all()
    serializer_class = s.OrgScoreSerializer

    def narrow_queryset(self, queryset):
        run = self.request.query_params.get("run")
        if run and run.isdigit():
            queryset = queryset.filter(run_id=int(run))
        return queryset.order_by("run_id", "level", "rank_in_level", "id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        context = {"indices": selectors.org_score_indices(page)}
        return self.get_paginated_response(
            s.OrgScoreSerializer(page, many=True, context=context).data
        )

    def retrieve(self, request, pk=None):
        row = self.get_object()
        context = {"indices": selectors.org_score_indices([row])}
        return Response(s.OrgScoreSerializer(row, context=context).data)


class ManualEntryViewSet(ScopedModelViewSet):
    """Manual findings with evidence, for manual rubric items."""

    queryset = ManualEntry.objects.all()
    serializer_class = s.ManualEntrySerializer

    def narrow_queryset(self, queryset):
        return queryset.order_by("-occurred_on", "-id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            s.ManualEntrySerializer(page, many=True).data
        )

    def retrieve(self, request, pk=None):
        return Response(s.ManualEntrySerializer(self.get_object()).data)

    def create(self, request):
        require_assessor_role(request, "manual_entry_create")
        data = _data(s.ManualEntryCreateSerializer, request)
        account = (
            MediaAccount.objects.visible_to(request.user)
            .select_related("organization")
            .filter(pk=data["account"])
            .first()
        )
        item = (
            RubricItem.objects.select_related("rubric")
            .filter(pk=data["item"], rubric__in=Rubric.objects.visible_to(request.user))
            .first()
        )
        if account is None or item is None:
            raise NotFound(_("Not found."))
        entry = rubrics.manual_entry_create(
            item=item,
            account=account,
            occurred_on=data["occurred_on"],
            points=data.get("points"),
            evidence=data["evidence"],
            evidence_url=data.get("evidence_url", ""),
            actor=request.user,
        )
        return Response(
            s.ManualEntrySerializer(entry).data, status=status.HTTP_201_CREATED
        )


class FreezeViewSet(ScopedModelViewSet):
    """Frozen years (annual assessment). POST a done whole-year `run` to freeze it;
    `reopen` with a `reason`."""

    queryset = AssessmentFreeze.objects.all()
    serializer_class = s.FreezeSerializer
    change_actions = frozenset({"reopen"})

    def narrow_queryset(self, queryset):
        return queryset.select_related("organization").order_by(
            "-year", "org_path", "-version"
        )

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.FreezeSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.FreezeSerializer(self.get_object()).data)

    def create(self, request):
        from assessment.services.freeze import year_freeze

        require_assessor_role(request, "year_freeze")
        data = _data(s.RunRefSerializer, request)
        run = ScoreRun.objects.visible_to(request.user).filter(pk=data["run"]).first()
        if run is None:
            raise NotFound(_("Not found."))
        freeze = year_freeze(run=run, actor=request.user)
        return Response(s.FreezeSerializer(freeze).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        from assessment.services.freeze import year_reopen

        require_assessor_role(request, "year_reopen")
        freeze = self.get_object()
        data = _data(s.ReasonSerializer, request)
        freeze = year_reopen(freeze=freeze, actor=request.user, reason=data["reason"])
        return Response(s.FreezeSerializer(freeze).data)


class CircularViewSet(ScopedModelViewSet):
    """Monthly circulars of the organizations in scope (their parts: circular-parts).
    POST a done one-month `run` to generate a draft; `transition` to reviewed,
    published or back to draft."""

    queryset = Circular.objects.all()
    serializer_class = s.CircularSerializer
    change_actions = frozenset({"transition"})

    def narrow_queryset(self, queryset):
        return queryset.order_by("-month", "org_path")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.CircularSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.CircularSerializer(self.get_object()).data)

    def create(self, request):
        from assessment.services.circulars import circular_generate

        require_assessor_role(request, "circular_generate")
        data = _data(s.RunRefSerializer, request)
        run = ScoreRun.objects.visible_to(request.user).filter(pk=data["run"]).first()
        if run is None:
            raise NotFound(_("Not found."))
        circular = circular_generate(run=run, actor=request.user)
        return Response(
            s.CircularSerializer(circular).data, status=status.HTTP_201_CREATED
        )

    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        from assessment.services.circulars import circular_transition

        require_assessor_role(request, "circular_transition")
        circular = self.get_object()
        data = _data(s.TransitionSerializer, request)
        circular = circular_transition(
            circular=circular,
            to=data["to"],
            actor=request.user,
            note=data.get("note", ""),
        )
        return Response(s.CircularSerializer(circular).data)


class CircularPartViewSet(ScopedModelViewSet):
    """The parts of circulars: an organization sees its own once published."""

    queryset = CircularPart.objects.all()
    serializer_class = s.CircularPartSerializer

    def narrow_queryset(self, queryset):
        circular = self.request.query_params.get("circular")
        if circular and circular.isdigit():
            queryset = queryset.filter(circular_id=int(circular))
        return queryset.order_by("-circular_id", "org_path")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            s.CircularPartSerializer(page, many=True).data
        )

    def retrieve(self, request, pk=None):
        return Response(s.CircularPartSerializer(self.get_object()).data)


class MonthlyArchiveViewSet(ScopedModelViewSet):
    """Monthly archives (download the zip from the archives page)."""

    queryset = MonthlyArchive.objects.all()
    serializer_class = s.MonthlyArchiveSerializer

    def narrow_queryset(self, queryset):
        return queryset.order_by("-month", "org_path", "-version")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            s.MonthlyArchiveSerializer(page, many=True).data
        )

    def retrieve(self, request, pk=None):
        return Response(s.MonthlyArchiveSerializer(self.get_object()).data)


# --- communication indices (analytics, rule 30) ---------------------------------------------
MAX_INDEX_DAYS = 366


def _index_period(params) -> tuple:
    from datetime import date, timedelta

    from django.utils import timezone

    errors = {}
    today = timezone.localdate()
    values = {}
    for name, default in (("from", today - timedelta(days=29)), ("to", today)):
        raw = params.get(name, "")
        try:
            values[name] = date.fromisoformat(raw) if raw else default
        except ValueError:
            errors[name] = [_("A date (YYYY-MM-DD).")]
    if not errors and values["from"] > values["to"]:
        errors["from"] = [_("The start is after the end.")]
    if not errors and (values["to"] - values["from"]).days >= MAX_INDEX_DAYS:
        errors["to"] = [_("At most %(n)d days.") % {"n": MAX_INDEX_DAYS}]
    for name in ("limit", "offset"):
        raw = params.get(name, "")
        if raw and not (raw.isdigit() and int(raw) <= 100000):
            errors[name] = [_("A whole number.")]
    if errors:
        raise ValidationFailed(_("Please correct the marked fields."), fields=errors)
    limit = min(max(int(params.get("limit") or 100), 1), 1000)
    return values["from"], values["to"], limit, int(params.get("offset") or 0)


@extend_schema(
    parameters=[
        OpenApiParameter("organization", OpenApiTypes.INT),
        OpenApiParameter("from", OpenApiTypes.DATE),
        OpenApiParameter("to", OpenApiTypes.DATE),
        OpenApiParameter("limit", OpenApiTypes.INT),
        OpenApiParameter("offset", OpenApiTypes.INT),
    ],
    responses=s.CommunicationIndicesSerializer,
)
@api_view(["GET"])
def communication_indices_view(request):
    """`GET /api/v1/communication-indices/?organization=<id>&from=&to=`: the WCI
    (WeChat) and BCI (Weibo) of the accounts the user sees below the organization
    (default: the user's first organization in scope) over the period (default:
    the last 30 days, at most 366), and the mean per organization. Analytics from
    the daily metric snapshots, never part of a score (assessment/indices.py)."""
    from assessment import indices

    scope = scope_for(request.user, Action.VIEW)
    if scope.is_empty:
        raise NotFound(_("Not found."))
    named = request.query_params.get("organization", "")
    if named:
        org = Organization.objects.filter(
            pk=int(named) if named.isdigit() else 0
        ).first()
        if org is None or not scope.contains(org):
            raise NotFound(_("Not found."))
    else:
        org = (
            Organization.objects.filter(path__in=scope.roots()).order_by("path").first()
        )
    start, end, limit, offset = _index_period(request.query_params)
    accounts = MediaAccount.objects.visible_to(request.user).filter(
        org_path__startswith=org.path
    )
    found = indices.account_indices(accounts.values("pk"), start, end)
    ranked = sorted(found.values(), key=lambda i: (-i.value, i.account_id))
    shown = ranked[offset : offset + limit]
    labels = dict(
        MediaAccount.objects.filter(pk__in=[i.account_id for i in shown]).values_list(
            "pk", "display_name"
        )
    )
    by_org = indices.organization_means(found)
    org_labels = dict(
        Organization.objects.filter(pk__in=list(by_org)).values_list("pk", "name")
    )
    data = {
        "organization": org.pk,
        "period_start": start,
        "period_end": end,
        "formula": indices.FORMULA,
        "organizations": [
            {
                "organization": o.organization_id,
                "organization_label": org_labels.get(o.organization_id, ""),
                "wci": o.wci,
                "wci_accounts": o.wci_accounts,
                "bci": o.bci,
                "bci_accounts": o.bci_accounts,
            }
            for o in sorted(by_org.values(), key=lambda o: o.organization_id)
        ],
        "accounts_total": len(ranked),
        "accounts": [
            {
                "account": i.account_id,
                "account_label": labels.get(i.account_id, ""),
                "organization": i.organization_id,
                "kind": i.kind,
                "value": i.value,
                "days": i.days,
            }
            for i in shown
        ],
    }
    return Response(s.CommunicationIndicesSerializer(data).data)
