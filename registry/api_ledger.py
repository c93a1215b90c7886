"""API of the ledger (list, export, import, counterfeit check).

registry/api_urls.py mounts `router.urls` and `urlpatterns` (for plain views) under
/api/v1/."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from django.urls import path, re_path, reverse
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from accounts.api_base import ScopedReadOnlyViewSet
from common.errors import ServiceUnavailable, ValidationFailed
from common.openapi import XLSX
from registry import counterfeit, ledger
from registry.models import MediaAccount
from registry.services import ledger_import

router = DefaultRouter()


class LedgerRowSerializer(serializers.ModelSerializer):
    platform = serializers.CharField(source="platform.code")
    platform_name = serializers.CharField(source="platform.name")
    organization_name = serializers.CharField(source="organization.name")
    supervising_organization_name = serializers.CharField(
        source="supervising_organization.name"
    )
    operators = serializers.SerializerMethodField()
    liaison_name = serializers.SerializerMethodField()
    idle_days = serializers.SerializerMethodField()

    class Meta:
        model = MediaAccount
        fields = [
            "id",
            "display_name",
            "platform",
            "platform_name",
            "platform_account_id",
            "profile_url",
            "organization",
            "organization_name",
            "region_code",
            "supervising_organization",
            "supervising_organization_name",
            "category",
            "verification",
            "status",
            "operators",
            "liaison",
            "liaison_name",
            "followers",
            "last_post_at",
            "idle_days",
            "opened_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_operators(self, obj) -> list[str]:
        return [str(user) for user in obj.operators.all()]

    def get_liaison_name(self, obj) -> str:
        return str(obj.liaison) if obj.liaison_id else ""

    def get_idle_days(self, obj) -> int | None:
        """Days since the last post, or since the opening date when it never posted."""
        from registry.selectors import silent_days

        return silent_days(obj)


@extend_schema(tags=["ledger"])
class LedgerViewSet(ScopedReadOnlyViewSet):
    """The ledger: media accounts of the caller's jurisdiction, filtered and sorted.

    `org` limits to an organization and everything below it (404 for an organization
    outside the caller's scope); `sort` is one of name, platform, status, followers,
    last_post, organization (prefix "-" for descending).
    """

    queryset = MediaAccount.objects.select_related(
        "platform", "organization", "supervising_organization", "liaison"
    )
    serializer_class = LedgerRowSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ledger.LedgerFilter

    def narrow_queryset(self, queryset):
        if self.action == "retrieve":
            return queryset.prefetch_related("operators")
        return queryset

    def list(self, request, *args, **kwargs):
        # Page the ids first (a narrow sort without joins), then load those rows:
        # on a province of 10,000 accounts this is several times faster than
        # sorting the joined rows (bench/bench_registry.py).
        queryset = self.filter_queryset(self.get_queryset())
        ids = self.paginate_queryset(queryset.values_list("pk", flat=True))
        rows = ledger.accounts_in_order(list(ids))
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "file_format",
                OpenApiTypes.STR,
                enum=["xlsx", "csv"],
                default="xlsx",
                description=(
                    "XLSX (default) or CSV (UTF-8 with BOM). Above "
                    "EXPORT_SYNC_MAX_ROWS rows (default 5,000) the answer is 202 "
                    "with an export job (status_url, then download_url)."
                ),
            )
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)
        },
    )
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request):
        """The filtered ledger as a file (about 30 columns). Needs the export right:
        outsourced operators get 403."""
        from common import exports

        file_format = request.query_params.get("file_format", "xlsx")
        return exports.respond(
            request, "ledger", request.query_params, file_format, api=True
        )


router.register("ledger", LedgerViewSet, basename="ledger")


# --- import ---------------------------------------------------------------------------
StageSerializer = inline_serializer(
    name="LedgerImportStage",
    fields={
        "id": serializers.UUIDField(),
        "state": serializers.ChoiceField(
            choices=["queued", "running", "checked", "imported", "failed"]
        ),
        "filename": serializers.CharField(),
        "total": serializers.IntegerField(),
        "processed": serializers.IntegerField(),
        "percent": serializers.IntegerField(),
        "good": serializers.IntegerField(),
        "bad": serializers.IntegerField(),
        "imported": serializers.IntegerField(),
        "file_errors": serializers.ListField(child=serializers.CharField()),
        "warnings": serializers.ListField(child=serializers.CharField()),
        "errors": serializers.ListField(child=serializers.DictField()),
    },
)


def _stage_payload(stage: dict) -> dict:
    return {
        **ledger_import.stage_progress(stage),
        "filename": stage["filename"],
        "file_errors": stage.get("file_errors", []),
        "warnings": stage.get("warnings", []),
        "errors": stage.get("errors", []),
    }


class ImportTemplateView(APIView):
    @extend_schema(
        tags=["ledger"],
        parameters=[
            OpenApiParameter("file_format", OpenApiTypes.STR, enum=["xlsx", "csv"])
        ],
        responses={
            (200, XLSX): OpenApiResponse(OpenApiTypes.BINARY),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY),
        },
    )
    def get(self, request):
        """The import template with Chinese column headers."""
        ledger_import.import_roles_check(request.user)
        if request.query_params.get("file_format") == "csv":
            response = HttpResponse(
                ledger_import.template_csv(), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = (
                'attachment; filename="ledger-import-template.csv"'
            )
            return response
        response = HttpResponse(
            ledger_import.template_xlsx(),
            content_type=XLSX,
        )
        response["Content-Disposition"] = (
            'attachment; filename="ledger-import-template.xlsx"'
        )
        return response


class ImportUploadView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=["ledger"],
        request={
            "multipart/form-data": inline_serializer(
                name="LedgerImportUpload", fields={"file": serializers.FileField()}
            )
        },
        responses={202: StageSerializer, 503: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        """Dry run: upload an XLSX/CSV. Its bounds are checked at once (400 past a
        limit); it is kept and checked in the background (202; poll the stage).
        When the task broker does not answer: 503 with the stage's `id`, the file
        kept; POST ledger-import/<id>/retry/ later."""
        upload = request.FILES.get("file")
        if upload is None:
            message = "Upload a file in the field “file”."
            raise ValidationFailed(message, fields={"file": [message]})
        if upload.size > ledger_import.MAX_BYTES:
            message = "The file is too large."
            raise ValidationFailed(message, fields={"file": [message]})
        stage = ledger_import.import_stage(
            user=request.user, filename=upload.name, data=upload.read()
        )
        return _queued(request, stage)


def _queued(request, stage: dict) -> Response:
    from registry.views.ledger import start_check

    try:
        stage = start_check(stage, request.user)
    except ServiceUnavailable as exc:
        return Response(
            {**exc.as_dict(), "id": stage["id"], "state": "queued"}, status=exc.status
        )
    return Response(_stage_payload(stage), status=202)


class ImportRetryView(APIView):
    @extend_schema(
        tags=["ledger"],
        request=None,
        responses={202: StageSerializer, 503: OpenApiTypes.OBJECT},
    )
    def post(self, request, stage_id: uuid.UUID):
        """Queue the check of a kept file again after a 503 (no second check of a
        file already queued)."""
        return _queued(request, ledger_import.stage_load(str(stage_id), request.user))


class ImportStageView(APIView):
    @extend_schema(tags=["ledger"], responses={200: StageSerializer})
    def get(self, request, stage_id: uuid.UUID):
        """Progress and, once checked, the report of every bad row."""
        return Response(
            _stage_payload(ledger_import.stage_load(str(stage_id), request.user))
        )


class ImportConfirmView(APIView):
    @extend_schema(tags=["ledger"], request=None, responses={200: StageSerializer})
    def post(self, request, stage_id: uuid.UUID):
        """Import the good rows of a checked file in one transaction (409 when the
        registry changed since the check; nothing is written then)."""
        stage = ledger_import.media_account_import(
            stage_id=str(stage_id), actor=request.user
        )
        return Response(_stage_payload(stage))


# --- counterfeit check ----------------------------------------------------------------
COUNTERFEIT_QUEUED = inline_serializer(
    name="CounterfeitCheckQueued",
    fields={
        "id": serializers.CharField(),
        "state": serializers.CharField(),
        "status_url": serializers.CharField(),
    },
)
COUNTERFEIT_STATE = inline_serializer(
    name="CounterfeitCheckState",
    fields={
        "id": serializers.CharField(),
        "state": serializers.ChoiceField(choices=["queued", "running", "done", "failed"]),
        "error": serializers.CharField(),
        "checked": serializers.IntegerField(allow_null=True),
        "results": serializers.ListField(child=serializers.DictField()),
    },
)


class CounterfeitCheckResultView(APIView):
    @extend_schema(
        tags=["ledger"],
        parameters=[OpenApiParameter(
            "result_id", str, OpenApiParameter.PATH, pattern="^[0-9a-f]{32}$",
            description="The id answered by POST counterfeit-check/ with a file.",
        )],
        responses={200: COUNTERFEIT_STATE},
    )
    def get(self, request, result_id: str):
        """The check of an uploaded list (queued by POST counterfeit-check/ with a
        file): its state, and the results once done. Only its uploader sees it."""
        from accounts.scoping import Action
        from common.errors import NotFound
        from registry.views.ledger import _require_business

        _require_business(request.user, Action.VIEW)
        state = counterfeit.upload_state(request.user.pk, result_id)
        if state is None:
            raise NotFound(_("Not found."))
        data = (counterfeit.result_data(request.user.pk, result_id) or []
                if state["state"] == "done" else [])
        return Response({
            "id": result_id, "state": state["state"], "error": state.get("error", ""),
            "checked": len(data) if state["state"] == "done" else None, "results": data,
        })


class CounterfeitCheckView(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        tags=["ledger"],
        request=inline_serializer(
            name="CounterfeitCheckRequest",
            fields={
                "candidates": serializers.ListField(
                    child=serializers.CharField(),
                    help_text="Names and/or profile URLs, one per item.",
                )
            },
        ),
        responses={
            200: inline_serializer(
                name="CounterfeitCheckResult",
                fields={
                    "checked": serializers.IntegerField(),
                    "results": serializers.ListField(child=serializers.DictField()),
                },
            ),
            202: COUNTERFEIT_QUEUED,
        },
    )
    def post(self, request):
        """Rank candidate accounts against the registered accounts of the caller's
        jurisdiction (findings first, most alike first)."""
        from accounts.scoping import Action
        from registry.views.ledger import _require_business

        _require_business(request.user, Action.VIEW)
        raw = request.data.get("candidates") if hasattr(request.data, "get") else None
        upload = request.FILES.get("file") if hasattr(request, "FILES") else None
        if upload is not None:
            # An uploaded list is checked in a task: 202 with where to read the result.
            result_id = counterfeit.upload_stage(user=request.user, upload=upload)
            return Response(
                {"id": result_id, "state": "queued",
                 "status_url": reverse("counterfeit-check-result", args=[result_id])},
                status=202,
            )
        if isinstance(raw, list):
            text = "\n".join(str(item).replace("\n", " ") for item in raw)
        elif isinstance(raw, str):
            text = raw
        else:
            text = ""
        candidates = counterfeit.parse_candidates(text)
        if not candidates:
            message = "Give at least one name or profile URL in “candidates”."
            raise ValidationFailed(message, fields={"candidates": [message]})
        results = counterfeit.counterfeit_check(
            user=request.user, candidates=candidates
        )
        return Response(
            {"checked": len(results), "results": [r.as_dict() for r in results]}
        )


urlpatterns: list = [
    path(
        "ledger-import/template/",
        ImportTemplateView.as_view(),
        name="ledger-import-template",
    ),
    path("ledger-import/", ImportUploadView.as_view(), name="ledger-import"),
    path(
        "ledger-import/<uuid:stage_id>/",
        ImportStageView.as_view(),
        name="ledger-import-stage",
    ),
    path(
        "ledger-import/<uuid:stage_id>/retry/",
        ImportRetryView.as_view(),
        name="ledger-import-retry",
    ),
    path(
        "ledger-import/<uuid:stage_id>/confirm/",
        ImportConfirmView.as_view(),
        name="ledger-import-confirm",
    ),
    path(
        "counterfeit-check/", CounterfeitCheckView.as_view(), name="counterfeit-check"
    ),
    re_path(
        r"^counterfeit-check/(?P<result_id>[0-9a-f]{32})/$",
        CounterfeitCheckResultView.as_view(),
        name="counterfeit-check-result",
    ),
]
