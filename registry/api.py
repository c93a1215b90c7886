"""REST API of the registry: platforms (and profile URL parsing), media accounts,
filings (submit, approve, reject), exemptions, credential custody and rotation tasks.
Every viewset inherits a Scoped*ViewSet; writes go through registry.services."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api_base import ScopedModelViewSet, ScopedReadOnlyViewSet
from accounts.models import Organization, User
from accounts.scoping import Action, get_visible_or_404
from common import exports
from common.errors import ValidationFailed
from registry import selectors
from registry.changes import describe_changes
from registry.filters import FilingFilter, MediaAccountFilter, RotationTaskFilter
from registry.models import (
    AccountCategory,
    AccountExemption,
    CredentialCustody,
    Filing,
    FilingKind,
    MediaAccount,
    Platform,
    RotationTask,
    VerificationStatus,
)
from registry.services import custody as custody_services
from registry.services import filings as filing_services
from registry.services import signoff
from registry.services.accounts import parse_profile_url


# --- platforms ------------------------------------------------------------------------------
class PlatformSerializer(serializers.ModelSerializer):
    class Meta:
        model = Platform
        fields = ["id", "code", "name", "name_en", "url_patterns", "profile_url_template",
                  "max_post_length", "sort_order", "is_active"]


class ParsedUrlSerializer(serializers.Serializer):
    platform = serializers.IntegerField()
    platform_code = serializers.CharField()
    platform_name = serializers.CharField()
    account_id = serializers.CharField(allow_blank=True)
    profile_url = serializers.CharField()


class PlatformViewSet(ScopedReadOnlyViewSet):
    """Platforms accounts live on (reference data)."""

    queryset = Platform.objects.filter(is_active=True)
    serializer_class = PlatformSerializer
    pagination_class = None
    filterset_fields = ["code"]
    ordering = ["sort_order", "code"]

    @extend_schema(
        parameters=[
            OpenApiParameter("url", str, required=True, description="A pasted profile URL."),
            OpenApiParameter("platform", str, required=False, description="Platform code to check against."),
        ],
        responses=ParsedUrlSerializer,
    )
    @action(detail=False, methods=["get"], url_path="parse-url")
    def parse_url(self, request):
        """Platform and canonical account id of a profile URL (400 with a
        `profile_url` field error when unrecognised)."""
        code = request.query_params.get("platform", "")
        platform = None
        if code:
            platform = Platform.objects.filter(code=code, is_active=True).first()
            if platform is None:
                raise ValidationFailed(
                    _("Unknown platform."), fields={"platform": [_("Choose a listed platform.")]}
                )
        parsed = parse_profile_url(request.query_params.get("url", ""), platform=platform)
        return Response(
            {
                "platform": parsed.platform.pk,
                "platform_code": parsed.platform.code,
                "platform_name": parsed.platform.name,
                "account_id": parsed.account_id,
                "profile_url": parsed.profile_url,
            }
        )


# --- media accounts --------------------------------------------------------------------------
class MediaAccountSerializer(serializers.ModelSerializer):
    platform = serializers.CharField(source="platform.code")
    platform_name = serializers.CharField(source="platform.name")
    organization_name = serializers.CharField(source="organization.name")
    supervising_organization_name = serializers.CharField(source="supervising_organization.name")
    operators = serializers.SerializerMethodField()

    class Meta:
        model = MediaAccount
        fields = ["id", "platform", "platform_name", "display_name", "platform_account_id",
                  "profile_url", "organization", "organization_name", "supervising_organization",
                  "supervising_organization_name", "supervising_overridden", "category",
                  "verification", "status", "operators", "liaison", "last_post_at", "followers",
                  "opened_on", "region_code", "created_at", "updated_at"]

    def get_operators(self, obj) -> list[int]:
        return sorted(u.pk for u in obj.operators.all())


class MediaAccountViewSet(ScopedReadOnlyViewSet):
    """Media accounts in the caller's scope. Changes are made by filing."""

    queryset = MediaAccount.objects.select_related(
        "platform", "organization", "supervising_organization"
    ).prefetch_related("operators")
    serializer_class = MediaAccountSerializer
    filterset_class = MediaAccountFilter
    ordering_fields = ["display_name", "org_path", "status", "followers", "last_post_at", "id"]
    ordering = ["org_path", "id"]

    @extend_schema(responses=inline_serializer("AccountHistory", {
        "filings": serializers.ListField(child=serializers.DictField()),
        "events": serializers.ListField(child=serializers.DictField()),
    }), summary="Every filing and audit event of the account")
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Every filing and audit event of the account."""
        account = self.get_object()
        data = selectors.account_history(account)
        return Response(
            {
                "filings": FilingSerializer(data["filings"], many=True).data,
                "events": [
                    {"occurred_at": e.occurred_at, "actor": e.actor_label, "role": e.role,
                     "action": e.action, "target_type": e.target_type, "target_id": e.target_id,
                     "before": e.before, "after": e.after}
                    for e in data["events"]
                ],
            }
        )


# --- filings -------------------------------------------------------------------------------
class FilingListSerializer(serializers.ListSerializer):
    """Renders the human-readable `changes` of all filings at once (names fetched in
    bulk, registry.changes), so a page costs the same queries whatever its length."""

    def to_representation(self, data):
        filings = list(data.all() if hasattr(data, "all") else data)
        self._context = {**self.context, "filing_changes": describe_changes(filings)}
        return super().to_representation(filings)


class FilingSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.display_name", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    changes = serializers.SerializerMethodField(
        help_text="`before`/`after` for people: one entry per field with its translated "
        "label, names instead of ids, choice labels instead of codes, dates formatted, "
        "and whether the value changed."
    )

    class Meta:
        model = Filing
        list_serializer_class = FilingListSerializer
        fields = ["id", "number", "kind", "status", "account", "account_name", "organization",
                  "organization_name", "supervising_organization", "event_date", "note",
                  "before", "after", "changes", "warnings", "exemption", "announcement_url",
                  "announcement_text", "announced_on", "leader_signoff", "principal_leader",
                  "leader_approved_on", "leader_comment",
                  "deregistered_on", "submitted_by", "submitted_at", "due_at", "due_provisional",
                  "is_late", "decided_by", "decided_at", "decision_reason"]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "label": {"type": "string"},
                    "before": {"type": "string", "nullable": True},
                    "after": {"type": "string", "nullable": True},
                    "changed": {"type": "boolean"},
                },
            },
        }
    )
    def get_changes(self, obj) -> list[dict]:
        described = self.context.get("filing_changes")
        if described is None or obj.pk not in described:
            described = describe_changes([obj])
        return [c.as_dict() for c in described[obj.pk]]


class FilingSubmitSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FilingKind.choices)
    event_date = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="")
    account = serializers.IntegerField(required=False, help_text="Existing account (change, suspend, cancel, re-open).")
    # open
    organization = serializers.IntegerField(required=False)
    profile_url = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    platform = serializers.CharField(required=False, allow_blank=True, default="", help_text="Platform code; optional when profile_url is given.")
    platform_account_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=128)
    display_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    category = serializers.ChoiceField(choices=AccountCategory.choices, required=False, default=AccountCategory.INSTITUTIONAL)
    verification = serializers.ChoiceField(choices=VerificationStatus.choices, required=False, default=VerificationStatus.PENDING)
    operators = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)
    liaison = serializers.IntegerField(required=False, allow_null=True, default=None)
    # change
    changes = serializers.DictField(required=False, default=dict)
    # cancel
    announcement_url = serializers.URLField(required=False, allow_blank=True, default="")
    announcement_text = serializers.CharField(required=False, allow_blank=True, default="")
    announced_on = serializers.DateField(required=False, allow_null=True, default=None)
    deregistered_on = serializers.DateField(required=False, allow_null=True, default=None)


class SignoffSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class DecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FilingViewSet(ScopedModelViewSet):
    """Filings: list, retrieve, submit (create), approve, reject. Filings are never
    edited or deleted."""

    queryset = Filing.objects.select_related("account", "account__platform", "organization")
    serializer_class = FilingSerializer
    filterset_class = FilingFilter
    ordering_fields = ["submitted_at", "due_at", "number"]
    ordering = ["-submitted_at", "-id"]
    change_actions = frozenset({"approve", "reject", "withdraw"})

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(FilingSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(FilingSerializer(self.get_object()).data)

    @extend_schema(responses=FilingSerializer(many=True))
    @action(detail=False, methods=["get"])
    def queue(self, request):
        """Filings awaiting the caller's decision, oldest first."""
        page = self.paginate_queryset(selectors.filing_queue(request.user))
        return self.get_paginated_response(FilingSerializer(page, many=True).data)

    @action(detail=False, methods=["get"])
    def export(self, request):
        """Filings you may export (same filters as the list), as CSV (or
        ?file_format=xlsx); a large one answers 202 with a job."""
        return exports.respond(
            request, "filings", request.query_params,
            request.query_params.get("file_format", "csv"), api=True,
        )

    @extend_schema(request=FilingSubmitSerializer, responses={201: FilingSerializer})
    def create(self, request):
        data = FilingSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        kind = v.pop("kind")
        account = None
        if v.get("account") is not None:
            account = get_visible_or_404(MediaAccount.objects.all(), request.user, pk=v["account"])
        common = {"event_date": v["event_date"], "note": v["note"]}
        if kind == FilingKind.OPEN and account is None:
            if v.get("organization") is None:
                raise ValidationFailed(
                    _("Choose the sponsoring organization."),
                    fields={"organization": [_("Choose the sponsoring organization.")]},
                )
            org = get_visible_or_404(Organization.objects.get_queryset(), request.user, pk=v["organization"])
            platform = None
            if v["platform"]:
                platform = Platform.objects.filter(code=v["platform"], is_active=True).first()
                if platform is None:
                    raise ValidationFailed(_("Unknown platform."), fields={"platform": [_("Choose a listed platform.")]})
            account_id, url = v["platform_account_id"], v["profile_url"]
            if url:
                parsed = parse_profile_url(url, platform=platform)
                platform, url = parsed.platform, parsed.profile_url
                account_id = parsed.account_id or account_id
            if platform is None:
                raise ValidationFailed(
                    _("Choose the platform, or give a profile URL."),
                    fields={"platform": [_("Choose the platform, or give a profile URL.")]},
                )
            filing = filing_services.filing_submit_open(
                actor=request.user, organization=org, platform=platform,
                platform_account_id=account_id, display_name=v["display_name"], profile_url=url,
                category=v["category"], verification=v["verification"], operators=v["operators"],
                liaison=v["liaison"], **common,
            )
        elif account is None:
            raise ValidationFailed(_("Choose the account."), fields={"account": [_("Choose the account.")]})
        elif kind == FilingKind.OPEN:
            filing = filing_services.filing_submit_reopen(actor=request.user, account=account, **common)
        elif kind == FilingKind.CHANGE:
            filing = filing_services.filing_submit_change(
                actor=request.user, account=account, changes=v["changes"], **common
            )
        elif kind == FilingKind.SUSPEND:
            filing = filing_services.filing_submit_suspend(actor=request.user, account=account, **common)
        else:
            filing = filing_services.filing_submit_cancel(
                actor=request.user, account=account, announcement_url=v["announcement_url"],
                announcement_text=v["announcement_text"], announced_on=v["announced_on"],
                deregistered_on=v["deregistered_on"], **common,
            )
        return Response(FilingSerializer(filing).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DecisionSerializer, responses=FilingSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        filing = filing_services.filing_approve(
            filing=self.get_object(), actor=request.user, reason=data.validated_data["reason"]
        )
        return Response(FilingSerializer(filing).data)

    @extend_schema(request=DecisionSerializer, responses=FilingSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        filing = filing_services.filing_reject(
            filing=self.get_object(), actor=request.user, reason=data.validated_data["reason"]
        )
        return Response(FilingSerializer(filing).data)


    @extend_schema(request=SignoffSerializer, responses=FilingSerializer)
    @action(detail=True, methods=["post"], url_path="sign-off")
    def sign_off(self, request, pk=None):
        """The sponsoring organization's principal leader signs an opening or closure
        off (DOMAIN.md rule 8); the supervisors can then decide it."""
        data = SignoffSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        filing = signoff.filing_leader_approve(
            filing=self.get_object(), actor=request.user, comment=data.validated_data["comment"]
        )
        return Response(FilingSerializer(filing).data)

    @extend_schema(request=SignoffSerializer, responses=FilingSerializer)
    @action(detail=True, methods=["post"], url_path="refuse-sign-off")
    def refuse_sign_off(self, request, pk=None):
        """The principal leader refuses (a reason is required): the filing ends
        rejected and an unopened account is released."""
        data = SignoffSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        filing = signoff.filing_leader_refuse(
            filing=self.get_object(), actor=request.user, comment=data.validated_data["comment"]
        )
        return Response(FilingSerializer(filing).data)

    @extend_schema(request=DecisionSerializer, responses=FilingSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The filer takes back a filing awaiting approval; a withdrawn opening
        releases the account's platform id (the account becomes `not_opened`)."""
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        filing = filing_services.filing_withdraw(
            filing=self.get_object(), actor=request.user, reason=data.validated_data["reason"]
        )
        return Response(FilingSerializer(filing).data)


# --- exemptions ----------------------------------------------------------------------------
class ExemptionSerializer(serializers.ModelSerializer):
    platform = serializers.CharField(source="platform.code", read_only=True)

    class Meta:
        model = AccountExemption
        fields = ["id", "organization", "platform", "reason", "granted_by", "granted_at", "revoked_at"]
        read_only_fields = fields


class ExemptionGrantSerializer(serializers.Serializer):
    organization = serializers.IntegerField()
    platform = serializers.CharField(help_text="Platform code")
    reason = serializers.CharField(max_length=2000)


class ExemptionViewSet(ScopedModelViewSet):
    queryset = AccountExemption.objects.select_related("platform")
    serializer_class = ExemptionSerializer
    filterset_fields = ["organization"]
    ordering = ["-granted_at"]
    change_actions = frozenset({"revoke"})

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ExemptionSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(ExemptionSerializer(self.get_object()).data)

    @extend_schema(request=ExemptionGrantSerializer, responses={201: ExemptionSerializer})
    def create(self, request):
        data = ExemptionGrantSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        org = get_visible_or_404(
            Organization.objects.get_queryset(), request.user, pk=data.validated_data["organization"]
        )
        platform = Platform.objects.filter(code=data.validated_data["platform"]).first()
        if platform is None:
            raise ValidationFailed(_("Unknown platform."), fields={"platform": [_("Choose a listed platform.")]})
        e = filing_services.exemption_grant(
            actor=request.user, organization=org, platform=platform,
            reason=data.validated_data["reason"],
        )
        return Response(ExemptionSerializer(e).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ExemptionSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        e = filing_services.exemption_revoke(actor=request.user, exemption=self.get_object())
        return Response(ExemptionSerializer(e).data)


# --- credential custody and rotation -----------------------------------------------------------
class CustodySerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.display_name", read_only=True)

    class Meta:
        model = CredentialCustody
        fields = ["id", "account", "account_name", "holder", "last_changed_on", "updated_at"]
        read_only_fields = fields


class CustodySetSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    holder = serializers.IntegerField(allow_null=True)
    last_changed_on = serializers.DateField(allow_null=True)


def _record_custody_read(request, *, rows: list[int], target=None) -> None:
    """Who looked at credential custody is a security event (MLPS: access to
    sensitive records is audited)."""
    from accounts.services import home_organization
    from audit.services import audit_security_event

    audit_security_event(
        action="custody.viewed",
        subject=request.user,
        organization=home_organization(request.user),
        target=target,
        after={"accounts": rows, "filters": dict(request.query_params.items())},
    )


class CredentialCustodyViewSet(ScopedModelViewSet):
    """Who holds each account's credentials (never the credentials themselves).
    POST records or replaces the custody of an account."""

    queryset = CredentialCustody.objects.select_related("account")
    serializer_class = CustodySerializer
    filterset_fields = ["account", "holder"]
    ordering = ["account_id"]

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        _record_custody_read(request, rows=[c.account_id for c in page])
        return self.get_paginated_response(CustodySerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        custody = self.get_object()
        _record_custody_read(request, rows=[custody.account_id], target=custody.account)
        return Response(CustodySerializer(custody).data)

    @extend_schema(request=CustodySetSerializer, responses={201: CustodySerializer})
    def create(self, request):
        data = CustodySetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        account = get_visible_or_404(MediaAccount.objects.all(), request.user, Action.CHANGE, pk=v["account"])
        holder = None
        if v["holder"] is not None:
            holder = User.objects.filter(pk=v["holder"], is_active=True).first()
            if holder is None:
                raise ValidationFailed(_("No such user."), fields={"holder": [_("Choose an existing user.")]})
        custody = custody_services.custody_set(
            actor=request.user, account=account, holder=holder, last_changed_on=v["last_changed_on"]
        )
        return Response(CustodySerializer(custody).data, status=status.HTTP_201_CREATED)


class RotationTaskSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.display_name", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = RotationTask
        fields = ["id", "account", "account_name", "departed_user", "opened_at", "due_at",
                  "done_at", "done_by", "is_overdue"]
        read_only_fields = fields


class RotationDoneSerializer(serializers.Serializer):
    changed_on = serializers.DateField(required=False, allow_null=True, default=None)


class RotationTaskViewSet(ScopedModelViewSet):
    queryset = RotationTask.objects.select_related("account")
    serializer_class = RotationTaskSerializer
    filterset_class = RotationTaskFilter
    ordering = ["due_at", "id"]
    change_actions = frozenset({"complete"})

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(RotationTaskSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(RotationTaskSerializer(self.get_object()).data)

    @extend_schema(request=RotationDoneSerializer, responses=RotationTaskSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        data = RotationDoneSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        task = custody_services.rotation_complete(
            actor=request.user, task=self.get_object(), changed_on=data.validated_data["changed_on"]
        )
        return Response(RotationTaskSerializer(task).data)


# --- exports (common/exports.py; registered in registry.apps) --------------------------
def filings_table(user, params) -> exports.Table:
    """The filings export: what GET /api/v1/filings/export/ answers for `user`."""
    from accounts.scoping import Action
    from common.exports import Column, Table
    from registry.models import FilingKind, FilingStatus

    qs = exports.viewset_queryset(FilingViewSet, user, params)
    rows = qs.values_list(
        "id", "number", "kind", "status", "account_id", "account__display_name",
        "organization__name", "event_date", "submitted_at", "due_at", "is_late",
        "decided_at",
    )
    columns = [
        Column(_("ID"), "number"), Column(_("Filing number"), width=20),
        Column(_("Kind"), labels=dict(FilingKind.choices)),
        Column(_("Status"), labels=dict(FilingStatus.choices)),
        Column(_("Account ID"), "number"), Column(_("Account"), width=24),
        Column(_("Sponsoring organization"), width=30),
        Column(_("Date of the event"), "date"), Column(_("Filed"), "datetime"),
        Column(_("Due"), "datetime"), Column(_("Late"), "bool"),
        Column(_("Decided"), "datetime"),
    ]
    return Table(
        title=_("Filings"), columns=columns, rows=rows.iterator(chunk_size=2000),
        count=qs.order_by().count,
        organization=exports.scope_label(user, Action.EXPORT),
    )
