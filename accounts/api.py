"""REST API: sign-in token, the current user, organizations, memberships."""

from __future__ import annotations

import csv

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import second_factor, services, tokens
from accounts.api_base import ScopedModelViewSet
from accounts.lockout import captcha_answer_ok, captcha_required
from accounts.models import Level, Membership, Organization, OrgKind, Role, User
from accounts.passwords import change_required
from accounts.scoping import Action, get_visible_or_404, memberships_of
from common.errors import ApplicationError


# --- sign-in ------------------------------------------------------------------------
class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    captcha_key = serializers.CharField(max_length=64, required=False, default="")
    captcha_value = serializers.CharField(max_length=32, required=False, default="")
    otp = serializers.CharField(
        max_length=16,
        required=False,
        default="",
        help_text="The second factor (TOTP or recovery code), for roles that need one.",
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class ObtainTokenView(APIView):
    """Exchange username and password for an API token (same lockout as the web)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=TokenRequestSerializer, responses=TokenResponseSerializer)
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if captcha_required(values["username"]) and not captcha_answer_ok(
            values["captcha_key"], values["captcha_value"]
        ):
            # SECURITY: checked before the password, like the sign-in page.
            message = _(
                "This username has failed to sign in from several places: answer a "
                "captcha (GET /captcha/refresh/ gives its key and picture)."
            )
            return Response(
                {"code": "captcha_required", "detail": message, "fields": {"captcha_value": [message]}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        # Django's HttpRequest, so axes can count failures and lock the username.
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if getattr(request._request, "axes_locked_out", False):
            from accounts.views import lockout_response

            return lockout_response(request._request, None)
        if user is None or not user.is_active:
            message = _("Wrong username or password.")
            return Response(
                {
                    "code": "authentication_failed",
                    "detail": message,
                    "fields": {"password": [message]},
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        if change_required(user):
            return Response(
                {
                    "code": "password_change_required",
                    "detail": _(
                        "Your password was reset or has expired: change it on the web "
                        "before asking for a token."
                    ),
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        if second_factor.second_factor_required(user):
            refused = self._second_factor(user, values["otp"])
            if refused is not None:
                return refused
        # A successful sign-in, as on the web: axes clears the username's failures
        # (AXES_RESET_ON_SUCCESS) and last_login is updated.
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        instance, token = tokens.token_issue(user=user)
        return Response({"token": token, "expiry": instance.expiry})

    @staticmethod
    def _second_factor(user, code: str) -> Response | None:
        """SECURITY: tokens are issued only after the second factor."""
        if not second_factor.has_second_factor(user):
            return Response(
                {
                    "code": "second_factor_enrolment_required",
                    "detail": _(
                        "Your role signs in with a second factor: set it up on the web "
                        "first, then send its code as otp."
                    ),
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        try:
            second_factor.second_factor_verify(request=None, user=user, code=code, channel="api")
        except ApplicationError as exc:
            message = _("Enter the current code of your second factor (or a recovery code).")
            return Response(
                {"code": exc.code, "detail": message, "fields": {"otp": [message]}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return None


# --- the current user -------------------------------------------------------------------
class MembershipSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "user",
            "username",
            "organization",
            "organization_name",
            "role",
            "role_display",
            "is_active",
            "started_on",
            "ended_on",
            "agreement_signed_on",
            "agreement_document",
        ]
        read_only_fields = ["is_active", "ended_on"]


class MeView(APIView):
    @extend_schema(responses=MembershipSerializer(many=True))
    def get(self, request):
        user = request.user
        return Response(
            {
                "id": user.pk,
                "username": user.username,
                "display_name": user.display_name,
                "memberships": MembershipSerializer(memberships_of(user), many=True).data,
            }
        )


# --- organizations ------------------------------------------------------------------
class OrganizationSerializer(serializers.ModelSerializer):
    parent = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "short_name",
            "kind",
            "level",
            "region_code",
            "is_active",
            "depth",
            "numchild",
            "parent",
        ]

    def get_parent(self, obj) -> int | None:
        return getattr(obj, "parent_id_cached", None)


class OrganizationWriteSerializer(serializers.Serializer):
    parent = serializers.IntegerField()
    name = serializers.CharField(max_length=120)
    short_name = serializers.CharField(max_length=60, required=False, default="")
    kind = serializers.ChoiceField(choices=OrgKind.choices)
    level = serializers.ChoiceField(choices=Level.choices)
    region_code = serializers.RegexField(r"^\d{6}$", max_length=6)


class OrganizationUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    short_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=OrgKind.choices, required=False)
    level = serializers.ChoiceField(choices=Level.choices, required=False)
    region_code = serializers.RegexField(r"^\d{6}$", max_length=6, required=False)
    is_active = serializers.BooleanField(required=False)


def _with_parent_ids(orgs: list[Organization]) -> list[Organization]:
    """Attach parent ids from the paths of one page with a single query."""
    parent_paths = {o.path[: -Organization.steplen] for o in orgs if o.depth > 1}
    by_path = dict(
        Organization.objects.filter(path__in=parent_paths).values_list("path", "id")
    )
    for o in orgs:
        o.parent_id_cached = by_path.get(o.path[: -Organization.steplen])
    return orgs


class OrganizationViewSet(ScopedModelViewSet):
    """Organizations in the caller's scope. `?within=<id>` limits to a subtree."""

    queryset = Organization.objects.get_queryset()
    serializer_class = OrganizationSerializer
    filterset_fields = ["kind", "level", "region_code", "depth", "is_active"]
    search_fields = ["name", "short_name", "region_code"]
    ordering_fields = ["path", "name", "region_code"]
    ordering = ["path"]

    def narrow_queryset(self, queryset):
        within = self.request.query_params.get("within")
        if within:
            if not (within.isascii() and within.isdigit()):
                raise ApplicationError(
                    _("within must be an organization id."), fields={"within": [_("Enter a number.")]}
                )
            root = get_visible_or_404(
                Organization.objects.get_queryset(), self.request.user, pk=int(within)
            )
            queryset = queryset.filter(path__startswith=root.path)
        return queryset

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(
            OrganizationSerializer(_with_parent_ids(list(page)), many=True).data
        )

    def retrieve(self, request, pk=None):
        org = self.get_object()
        return Response(OrganizationSerializer(_with_parent_ids([org])[0]).data)

    @extend_schema(request=OrganizationWriteSerializer, responses=OrganizationSerializer)
    def create(self, request):
        data = OrganizationWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        parent = get_visible_or_404(
            Organization.objects.get_queryset(), request.user, pk=values.pop("parent")
        )
        org = services.organization_create(actor=request.user, parent=parent, **values)
        return Response(
            OrganizationSerializer(_with_parent_ids([org])[0]).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=OrganizationUpdateSerializer, responses=OrganizationSerializer)
    def partial_update(self, request, pk=None):
        org = self.get_object()
        data = OrganizationUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        org = services.organization_update(actor=request.user, organization=org, **data.validated_data)
        return Response(OrganizationSerializer(_with_parent_ids([org])[0]).data)

    @action(detail=False, methods=["get"])
    def export(self, request):
        """Stream the organizations in scope as CSV (constant memory)."""
        rows = self.filter_queryset(self.get_queryset()).values_list(
            "id", "name", "kind", "level", "region_code", "depth", "is_active"
        )
        return csv_stream(
            "organizations.csv",
            [_("ID"), _("Name"), _("Kind"), _("Level"), _("Region code"), _("Depth"), _("Active")],
            rows.iterator(chunk_size=2000),
        )


class _Echo:
    def write(self, value):
        return value


def csv_stream(filename: str, header: list, rows) -> StreamingHttpResponse:
    """A CSV response written row by row (UTF-8 with BOM so Excel reads Chinese)."""
    writer = csv.writer(_Echo())

    def generate():
        yield "\ufeff"
        yield writer.writerow([str(h) for h in header])
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- memberships (security administrators) --------------------------------------------
class MembershipGrantSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    organization = serializers.IntegerField()
    role = serializers.ChoiceField(choices=Role.choices)
    started_on = serializers.DateField(required=False)
    agreement_signed_on = serializers.DateField(required=False, allow_null=True)
    agreement_document = serializers.CharField(max_length=200, required=False, default="")


class MembershipViewSet(ScopedModelViewSet):
    queryset = Membership.objects.select_related("user", "organization")
    serializer_class = MembershipSerializer
    filterset_fields = ["role", "is_active", "organization", "user"]
    ordering = ["organization__path", "role"]
    change_actions = frozenset({"end"})

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(MembershipSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(MembershipSerializer(self.get_object()).data)

    @extend_schema(request=MembershipGrantSerializer, responses=MembershipSerializer)
    def create(self, request):
        data = MembershipGrantSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        org = get_visible_or_404(
            Organization.objects.get_queryset(),
            request.user,
            pk=values.pop("organization"),
        )
        self.require_in(org, Action.CHANGE)
        try:
            user = User.objects.get(pk=values.pop("user"), is_active=True)
        except User.DoesNotExist:
            raise ApplicationError(
                _("No such user."), fields={"user": [_("Choose an existing user.")]}
            ) from None
        m = services.membership_grant(actor=request.user, user=user, organization=org, **values)
        return Response(MembershipSerializer(m).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=MembershipSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        m = services.membership_end(actor=request.user, membership=self.get_object())
        return Response(MembershipSerializer(m).data)


