"""REST API of supervision. Every viewset inherits the scoped base
(accounts.api_base): rows outside the user's scope answer 404. Thin: parse, call a
service, render."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers as drf
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api_base import ScopedModelViewSet
from accounts.models import Organization
from accounts.scoping import Action, memberships_of, scope_for
from common.errors import NotFound, PermissionDenied, ValidationFailed
from common.exports import csv_stream
from registry.models import MediaAccount
from supervision import selectors
from supervision import serializers as s
from supervision.models import (
    AccountPost,
    EmergencyPlan,
    Finding,
    Inspection,
    InspectionItem,
    MetricSnapshot,
    OpinionEvent,
    RectificationOrder,
    SummonsInterview,
)
from supervision.services import (
    activity,
    events,
    findings,
    inspections,
    rectification,
    sweeps,
)


def _data(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _org(user, org_id, field="organization") -> Organization:
    """A visible organization (404 otherwise), or, when none is named, the
    organization of the user's only membership."""
    if org_id is None:
        orgs = {m.organization for m in memberships_of(user)}
        if len(orgs) != 1:
            raise ValidationFailed(
                _("Name the organization."), fields={field: [_("Required.")]}
            )
        return orgs.pop()
    org = Organization.objects.filter(pk=org_id).first()
    if org is None or not scope_for(user, Action.VIEW).contains(org):
        # SECURITY: another jurisdiction's organization answers like a missing one.
        raise NotFound(_("Not found."))
    return org


def _visible(model_qs, user, pk, field):
    if pk is None:
        return None
    obj = model_qs.visible_to(user).filter(pk=pk).first()
    if obj is None:
        raise NotFound(_("Not found."))
    return obj


def _supervisor_first(request) -> None:
    """The order of refusals for the supervisors' creates: a target (finding,
    account or organization named in the body) outside the user's scope answers 404,
    a target the user sees but does not supervise 403, both before the body is
    validated (400), so a read-only user learns nothing from a malformed body."""
    user, data = request.user, request.data
    target = None
    for field, queryset in (
        ("finding", Finding.objects),
        ("account", MediaAccount.objects),
        ("organization", None),
    ):
        raw = data.get(field) if hasattr(data, "get") else None
        if raw in (None, ""):
            continue
        try:
            pk = int(raw)
        except (TypeError, ValueError):
            continue
        if queryset is None:
            target = Organization.objects.filter(pk=pk).first()
            if target is None or not scope_for(user, Action.VIEW).contains(target):
                raise NotFound(_("Not found."))
        else:
            row = (
                queryset.visible_to(user)
                .select_related("organization")
                .filter(pk=pk)
                .first()
            )
            if row is None:
                raise NotFound(_("Not found."))
            target = row.organization
        break
    if target is not None:
        findings.require_supervisor_over(user, target)
    else:
        selectors.require_supervisor(user)


class _Filtered:
    """Simple query-parameter filters shared by the lists."""

    filters: tuple[str, ...] = ()

    def apply_filters(self, queryset):
        params = self.request.query_params
        for name in self.filters:
            value = params.get(name)
            if value:
                field = {
                    "organization": "organization_id",
                    "account": "account_id",
                }.get(name, name)
                if field.endswith("_id") and not value.isdigit():
                    raise ValidationFailed(
                        _("Not a number."), fields={name: [_("Not a number.")]}
                    )
                queryset = queryset.filter(**{field: value})
        return queryset


class AccountPostViewSet(ScopedModelViewSet):
    """Activity: published posts per account. POST a batch (`rows`) as a collector;
    the answer is a per-row report."""

    queryset = AccountPost.objects.all()
    serializer_class = s.AccountPostSerializer
    change_actions = frozenset({"create"})

    def narrow_queryset(self, queryset):
        account = self.request.query_params.get("account")
        if account:
            if not account.isdigit():
                raise ValidationFailed(
                    _("Not a number."), fields={"account": [_("Not a number.")]}
                )
            queryset = queryset.filter(account_id=account)
        return queryset.order_by("-published_at", "-id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            s.AccountPostSerializer(page, many=True).data
        )

    def create(self, request):
        _require_change_somewhere(self)
        data = _data(s.BatchSerializer, request)
        report = activity.activity_ingest(actor=request.user, rows=data["rows"])
        code = (
            status.HTTP_400_BAD_REQUEST
            if report["rejected"] == report["received"]
            else status.HTTP_200_OK
        )
        return Response(report, status=code)


def _require_change_somewhere(view) -> None:
    """Collectors report for accounts they may change: 404 for users who see no
    business data, 403 for read-only ones (before the body is read)."""
    if view.user_scope(Action.CHANGE).is_empty:
        if view.user_scope().is_empty:
            raise NotFound(_("Not found."))
        raise PermissionDenied(_("You may not do this in this organization."))


class MetricSnapshotViewSet(AccountPostViewSet):
    """Daily metric snapshots per account; POST a batch as a collector."""

    queryset = MetricSnapshot.objects.all()
    serializer_class = s.MetricSnapshotSerializer

    def narrow_queryset(self, queryset):
        account = self.request.query_params.get("account")
        if account:
            if not account.isdigit():
                raise ValidationFailed(
                    _("Not a number."), fields={"account": [_("Not a number.")]}
                )
            queryset = queryset.filter(account_id=account)
        return queryset.order_by("-day", "-id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            s.MetricSnapshotSerializer(page, many=True).data
        )

    def create(self, request):
        _require_change_somewhere(self)
        data = _data(s.BatchSerializer, request)
        report = activity.metrics_ingest(actor=request.user, rows=data["rows"])
        code = (
            status.HTTP_400_BAD_REQUEST
            if report["rejected"] == report["received"]
            else status.HTTP_200_OK
        )
        return Response(report, status=code)


class FindingViewSet(_Filtered, ScopedModelViewSet):
    """Findings: list (filters kind, severity, status, organization, account),
    export, raise a manual one, close, dispose, run the sweep now, record a
    counterfeit check."""

    queryset = Finding.objects.all()
    serializer_class = s.FindingSerializer
    change_actions = frozenset({"close", "dispose", "sweep", "counterfeit"})
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filters = ("kind", "severity", "status", "organization", "account", "origin")

    def narrow_queryset(self, queryset):
        queryset = self.apply_filters(queryset)
        return (
            queryset.select_related("organization", "account")
            .with_last_seen()
            .order_by("-seen_at", "-id")
        )

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.FindingSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.FindingSerializer(self.get_object()).data)

    @action(detail=False, methods=["get"])
    def export(self, request):
        rows = self.get_queryset().values_list(
            "id",
            "kind",
            "severity",
            "status",
            "organization__name",
            "account__display_name",
            "first_seen_at",
            "seen_at",
            "closed_at",
            "close_reason",
        )
        return csv_stream(
            "findings.csv",
            [
                _("ID"),
                _("Kind"),
                _("Severity"),
                _("Status"),
                _("Organization"),
                _("Account"),
                _("First seen"),
                _("Last seen"),
                _("Closed"),
                _("Reason closed"),
            ],
            rows.iterator(chunk_size=2000),
        )

    def create(self, request):
        _supervisor_first(request)
        data = _data(s.FindingCreateSerializer, request)
        user = request.user
        account = _visible(MediaAccount.objects, user, data.get("account"), "account")
        organization = (
            _org(user, data["organization"]) if data.get("organization") else None
        )
        inspection = _visible(
            Inspection.objects, user, data.get("inspection"), "inspection"
        )
        finding = findings.finding_raise_manual(
            actor=user,
            kind=data["kind"],
            account=account,
            organization=organization,
            note=data["note"],
            severity=data.get("severity"),
            evidence_url=data.get("evidence_url", ""),
            evidence_file=data.get("evidence_file"),
            inspection=inspection,
        )
        return Response(
            s.FindingSerializer(finding).data, status=status.HTTP_201_CREATED
        )

    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        finding = self.get_object()
        data = _data(s.FindingCloseSerializer, request)
        finding = findings.finding_close(finding=finding, actor=request.user, **data)
        return Response(s.FindingSerializer(finding).data)

    @action(detail=True, methods=["post"])
    def dispose(self, request, pk=None):
        finding = self.get_object()
        data = _data(s.FindingDisposeSerializer, request)
        finding = findings.finding_dispose(finding=finding, actor=request.user, **data)
        return Response(s.FindingSerializer(finding).data)

    @extend_schema(
        request=None,
        responses=OpenApiResponse(
            response=OpenApiTypes.OBJECT,
            description='Per finding kind, {"opened", "refreshed", "closed"} counts; '
            '{"skipped": true} when another sweep is running.',
        ),
    )
    @action(detail=False, methods=["post"])
    def sweep(self, request):
        """Run the sweeps now (supervisors): the same job beat runs each night."""
        selectors.require_supervisor(request.user)
        return Response(selectors.sweep_now(request.user, sweeps.findings_sweep))

    @extend_schema(
        responses=inline_serializer(
            # Not "CounterfeitCheckResult": the registry's check (no findings) has it.
            "CounterfeitRecordResult",
            {
                "checked": drf.IntegerField(),
                "opened": drf.IntegerField(),
                "findings": drf.ListField(child=drf.DictField()),
            },
        )
    )
    @action(detail=False, methods=["post"], url_path="counterfeit-check")
    def counterfeit(self, request):
        """Run the counterfeit check on pasted names / URLs and store its findings."""
        data = _data(s.CounterfeitRecordSerializer, request)
        org = _org(request.user, data.get("organization"))
        return Response(
            selectors.counterfeit_run(request.user, org, data["candidates"])
        )


class OrderViewSet(_Filtered, ScopedModelViewSet):
    """Rectification orders: issue, answer (with evidence), close, send back,
    order a suspension."""

    queryset = RectificationOrder.objects.all()
    serializer_class = s.OrderSerializer
    change_actions = frozenset({"answer", "close", "send_back", "suspend"})
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filters = ("status", "organization", "account", "finding")

    def narrow_queryset(self, queryset):
        queryset = self.apply_filters(queryset).select_related("organization")
        if self.request.query_params.get("overdue") in ("1", "true"):
            queryset = queryset.filter(overdue_at__isnull=False)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("answers__answered_by")
        return queryset.order_by("-issued_at", "-id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.OrderSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.OrderDetailSerializer(self.get_object()).data)

    def _detail(self, order, code=status.HTTP_200_OK):
        order = (
            RectificationOrder.objects.select_related("organization")
            .prefetch_related("answers__answered_by")
            .get(pk=order.pk)
        )
        return Response(s.OrderDetailSerializer(order).data, status=code)

    def create(self, request):
        _supervisor_first(request)
        data = _data(s.OrderCreateSerializer, request)
        user = request.user
        finding = _visible(Finding.objects, user, data.get("finding"), "finding")
        account = _visible(MediaAccount.objects, user, data.get("account"), "account")
        organization = (
            _org(user, data["organization"]) if data.get("organization") else None
        )
        inspection = _visible(
            Inspection.objects, user, data.get("inspection"), "inspection"
        )
        order = rectification.order_issue(
            actor=user,
            requirement=data["requirement"],
            finding=finding,
            account=account,
            organization=organization,
            inspection=inspection,
            days=data.get("days"),
        )
        return self._detail(order, status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        order = self.get_object()
        data = _data(s.OrderAnswerSerializer, request)
        rectification.order_answer(
            order=order,
            actor=request.user,
            text=data["text"],
            evidence_url=data.get("evidence_url", ""),
            evidence_file=data.get("evidence_file"),
        )
        return self._detail(order)

    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        order = self.get_object()
        data = _data(s.NoteSerializer, request)
        return self._detail(
            rectification.order_close(
                order=order, actor=request.user, note=data["note"]
            )
        )

    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request, pk=None):
        order = self.get_object()
        data = _data(s.ReasonSerializer, request)
        return self._detail(
            rectification.order_send_back(
                order=order, actor=request.user, reason=data["reason"]
            )
        )

    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        order = self.get_object()
        data = _data(s.ReasonSerializer, request)
        return self._detail(
            rectification.order_suspension(
                order=order, actor=request.user, reason=data["reason"]
            )
        )


class SummonsViewSet(ScopedModelViewSet):
    queryset = SummonsInterview.objects.all()
    serializer_class = s.SummonsSerializer

    def narrow_queryset(self, queryset):
        return queryset.order_by("-held_at", "-id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.SummonsSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.SummonsSerializer(self.get_object()).data)

    def create(self, request):
        _supervisor_first(request)
        serializer = s.SummonsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        org = _org(request.user, data["organization"].pk)
        order = data.get("order")
        if order is not None:
            order = _visible(
                RectificationOrder.objects, request.user, order.pk, "order"
            )
        interview = rectification.summons_record(
            actor=request.user,
            organization=org,
            held_at=data["held_at"],
            reason=data["reason"],
            attendees=data["attendees"],
            outcome=data["outcome"],
            order=order,
        )
        return Response(
            s.SummonsSerializer(interview).data, status=status.HTTP_201_CREATED
        )


class InspectionViewSet(ScopedModelViewSet):
    """Inspections: start (sample with a seed), sampled accounts, complete, pass
    rates per platform and level."""

    queryset = Inspection.objects.all()
    serializer_class = s.InspectionSerializer
    change_actions = frozenset({"complete"})

    def narrow_queryset(self, queryset):
        return queryset.order_by("-started_at", "-id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.InspectionSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        inspection = self.get_object()
        data = s.InspectionSerializer(inspection).data
        data["pass_rates"] = inspections.pass_rates(inspection)
        return Response(data)

    def create(self, request):
        _supervisor_first(request)
        data = _data(s.InspectionCreateSerializer, request)
        org = _org(request.user, data["organization"])
        inspection = inspections.inspection_start(
            actor=request.user,
            organization=org,
            title=data["title"],
            sample_percent=data["sample_percent"],
            seed=data.get("seed"),
            window_days=data.get("window_days"),
        )
        return Response(
            s.InspectionSerializer(inspection).data, status=status.HTTP_201_CREATED
        )

    @action(detail=True, methods=["get"])
    def items(self, request, pk=None):
        inspection = self.get_object()
        qs = InspectionItem.objects.filter(inspection=inspection).select_related(
            "account"
        )
        page = self.paginate_queryset(qs.order_by("id"))
        return self.get_paginated_response(
            s.InspectionItemSerializer(page, many=True).data
        )

    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        inspection = inspections.inspection_complete(
            inspection=self.get_object(), actor=request.user
        )
        data = s.InspectionSerializer(inspection).data
        data["pass_rates"] = inspections.pass_rates(inspection)
        return Response(data)


class EventViewSet(ScopedModelViewSet):
    """Public-opinion events: register (timers from the event time), record a timer
    met, close."""

    queryset = OpinionEvent.objects.all()
    serializer_class = s.EventSerializer
    change_actions = frozenset({"timer", "close"})

    def narrow_queryset(self, queryset):
        if self.request.query_params.get("status"):
            queryset = queryset.filter(status=self.request.query_params["status"])
        return queryset.order_by("-occurred_at", "-id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.EventSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.EventSerializer(self.get_object()).data)

    def create(self, request):
        _supervisor_first(request)
        data = _data(s.EventCreateSerializer, request)
        org = _org(request.user, data.pop("organization"))
        event = events.event_register(actor=request.user, organization=org, **data)
        return Response(s.EventSerializer(event).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def timer(self, request, pk=None):
        event = self.get_object()
        data = _data(s.EventTimerSerializer, request)
        event = events.event_record_timer(
            event=event, actor=request.user, timer=data["timer"], at=data.get("at")
        )
        return Response(s.EventSerializer(event).data)

    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        event = events.event_close(event=self.get_object(), actor=request.user)
        return Response(s.EventSerializer(event).data)


class PlanViewSet(ScopedModelViewSet):
    queryset = EmergencyPlan.objects.all()
    serializer_class = s.PlanSerializer

    def list(self, request):
        page = self.paginate_queryset(
            self.get_queryset().order_by("org_path", "event_type")
        )
        return self.get_paginated_response(s.PlanSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(s.PlanSerializer(self.get_object()).data)

    def create(self, request):
        _supervisor_first(request)
        serializer = s.PlanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        org = _org(request.user, data.pop("organization").pk)
        plan = events.plan_save(actor=request.user, organization=org, **data)
        return Response(s.PlanSerializer(plan).data, status=status.HTTP_201_CREATED)


class DashboardView(APIView):
    """The supervisor's dashboard as data: the user's scope, or `?organization=<id>`
    (a visible organization; another one answers 404). Scoping is the dashboard
    selector's (it checks the organization against accounts.scoping)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("organization", OpenApiTypes.INT)],
        responses=OpenApiResponse(
            OpenApiTypes.OBJECT,
            description="The dashboard's figures (supervision.selectors.dashboard_json).",
        ),
    )
    def get(self, request):
        org_id = request.query_params.get("organization")
        if org_id is not None and not org_id.isdigit():
            raise ValidationFailed(
                _("Not a number."), fields={"organization": [_("Not a number.")]}
            )
        data = selectors.dashboard(request.user, int(org_id) if org_id else None)
        return Response(selectors.dashboard_json(data))
