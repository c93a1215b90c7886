"""REST API of the inbox. Every viewset inherits the scoped base (accounts.api_base):
out-of-scope rows answer 404, visible rows the user may not change 403. Views parse,
call a service, render."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.decorators import action, api_view
from rest_framework.response import Response

from accounts.api_base import ScopedModelViewSet
from accounts.models import Organization, Role, User
from accounts.scoping import Action, memberships_of, require, roles_of, scope_for
from audit.services import audit_record
from common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from common.exports import csv_stream
from inbox import selectors
from inbox.models import (
    Category,
    Channel,
    DutyAssignment,
    DutyLog,
    IssueSlip,
    Message,
    Reply,
    Satisfaction,
    SlaPolicy,
    SlaUnit,
    WeChatEndpoint,
)
from inbox.privacy import may_reveal, shown
from inbox.services import handling, ingest, timers, wechat
from registry.models import MediaAccount


def _data(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _visible_org(user, org_id) -> Organization:
    org = Organization.objects.filter(pk=org_id).first()
    if org is None or not scope_for(user, Action.VIEW).contains(org):
        raise NotFound(_("Not found."))
    return org


class MessageListSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    channel_label = serializers.CharField(source="get_channel_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    text = serializers.SerializerMethodField()
    citizen_handle = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "organization", "organization_name", "channel", "channel_label",
                  "source", "platform_message_id", "citizen_handle", "text", "received_at",
                  "category", "category_label", "suggested_category", "must_answer",
                  "status", "status_label", "handler", "first_response_due_at",
                  "reply_due_at", "due_at", "due_provisional", "breached_at",
                  "accepted_at", "replied_at", "resolved_at", "sign_for_due_at",
                  "signed_for_at", "transfer_count", "reopen_count", "problem_case_at",
                  "satisfaction", "extension_days", "wechat_window_closes_at"]

    def _reveal(self, obj) -> bool:
        user = self.context["request"].user
        cache = self.context.setdefault("_reveal", {})
        if obj.organization_id not in cache:
            cache[obj.organization_id] = may_reveal(user, obj.organization_id)
        return cache[obj.organization_id]

    def get_text(self, obj) -> str:
        return obj.text if self._reveal(obj) else shown(None, obj.text, 0)

    def get_citizen_handle(self, obj) -> str:
        return obj.citizen_handle if self._reveal(obj) else shown(None, obj.citizen_handle, 0)


class MessageDetailSerializer(MessageListSerializer):
    original_text = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    replies = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    wechat_window_warning = serializers.SerializerMethodField()

    class Meta(MessageListSerializer.Meta):
        fields = [*MessageListSerializer.Meta.fields, "original_text", "events", "replies",
                  "attachments", "origin_organization", "supervising_organization",
                  "account", "paused_seconds", "stale_at", "wechat_window_warning"]

    def get_original_text(self, obj) -> str:
        return obj.original_text if self._reveal(obj) else shown(None, obj.original_text, 0)

    def get_events(self, obj) -> list:
        return [{"kind": e.kind, "label": e.get_kind_display(), "at": e.at,
                 "actor": str(e.actor) if e.actor_id else None, "note": e.note,
                 "from_organization": e.from_organization_id,
                 "to_organization": e.to_organization_id, "data": e.data}
                for e in obj.events.all()]

    def get_replies(self, obj) -> list:
        return [{"id": r.id, "kind": r.kind, "text": r.text, "state": r.state,
                 "needs_approval": r.needs_approval, "author": str(r.author),
                 "approved_by": str(r.approved_by) if r.approved_by_id else None,
                 "route": r.route, "published_at": r.published_at,
                 "send_state": r.send_state, "send_attempts": r.send_attempts,
                 "send_error_code": r.send_error_code,
                 "send_error_text": r.send_error_text}
                for r in obj.replies.all()]

    def get_wechat_window_warning(self, obj) -> str:
        return handling.wechat_window_warning(obj)

    def get_attachments(self, obj) -> list:
        return [{"kind": a.kind, "url": a.url, "media_id": a.media_id, "name": a.name}
                for a in obj.attachments.all()]


class ManualSerializer(serializers.Serializer):
    organization = serializers.IntegerField(required=False)
    channel = serializers.ChoiceField(choices=Channel.choices)
    text = serializers.CharField(max_length=ingest.MAX_TEXT)
    citizen_handle = serializers.CharField(max_length=120, required=False, default="")
    received_at = serializers.DateTimeField(required=False)
    account = serializers.IntegerField(required=False)


class CategorySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices)
    must_answer = serializers.BooleanField(required=False, allow_null=True, default=None)


class TransferSerializer(serializers.Serializer):
    to_organization = serializers.IntegerField()
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class ExtendSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=15)
    interim_text = serializers.CharField(max_length=2000)


class ReplySerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)
    kind = serializers.ChoiceField(choices=Reply.Kind.choices, default=Reply.Kind.ANSWER)


class RateSerializer(serializers.Serializer):
    rating = serializers.ChoiceField(choices=Satisfaction.choices)
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class AssignSerializer(serializers.Serializer):
    handler = serializers.IntegerField()


class EditSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=ingest.MAX_TEXT)


class MessageViewSet(ScopedModelViewSet):
    """Citizen messages: list (views mine/org/due_soon/breached/all), read, enter
    by hand, and every handling step."""

    queryset = Message.objects.all()
    serializer_class = MessageListSerializer
    change_actions = frozenset({"classify", "accept", "transfer", "return_transfer",
                                "sign_for", "pause", "resume", "extend", "reply", "rate",
                                "resolve", "assign", "edit"})

    def narrow_queryset(self, queryset):
        if self.action == "retrieve":
            return queryset.select_related("organization", "handler").prefetch_related(
                "events__actor", "replies__author", "replies__approved_by", "attachments")
        if self.action in ("list", "export"):
            view = self.request.query_params.get("view", "all")
            if view not in selectors.VIEWS:
                view = "all"
            params = self.request.query_params
            narrowed = selectors.inbox_messages(self.request.user, view=view, params=params)
            return queryset.filter(pk__in=narrowed.values("pk")).select_related(
                "organization").order_by(*narrowed.query.order_by)
        return queryset.select_related("organization")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        data = MessageListSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    def retrieve(self, request, pk=None):
        return Response(MessageDetailSerializer(self.get_object(),
                                                context={"request": request}).data)

    def _detail(self, message, code=status.HTTP_200_OK):
        fresh = Message.objects.select_related("organization").prefetch_related(
            "events__actor", "replies__author", "replies__approved_by", "attachments"
        ).get(pk=message.pk)
        return Response(MessageDetailSerializer(fresh, context={"request": self.request}).data,
                        status=code)

    def create(self, request):
        """Manual entry (e.g. a hotline hand-over)."""
        user = request.user
        named = request.data.get("organization") if hasattr(request.data, "get") else None
        org = None
        if named is not None:
            # SECURITY: another jurisdiction's organization answers 404 before
            # anything else is said about the request.
            org = _visible_org(user, named if str(named).isdigit() else 0)
        if scope_for(user, Action.CHANGE).is_empty or (
                org is not None and not scope_for(user, Action.CHANGE).contains(org)):
            raise PermissionDenied(_("You may not do this in this organization."))
        data = _data(ManualSerializer, request)
        if org is None:
            orgs = {m.organization for m in memberships_of(user)}
            if len(orgs) != 1:
                raise ValidationFailed(_("Name the organization."),
                                       fields={"organization": [_("Required.")]})
            org = orgs.pop()
        account = None
        if data.get("account"):
            account = MediaAccount.objects.visible_to(user).filter(pk=data["account"]).first()
            if account is None:
                raise ValidationFailed(_("Please correct the marked fields."),
                                       fields={"account": [_("Unknown account.")]})
        message = ingest.message_create_manual(
            actor=user, organization=org, channel=data["channel"], text=data["text"],
            received_at=data.get("received_at"), citizen_handle=data["citizen_handle"],
            account=account)
        return self._detail(message, status.HTTP_201_CREATED)

    @action(detail=False, methods=["get"])
    def export(self, request):
        """The messages you may export (same filters as the list), as CSV; personal
        numbers masked unless you handle the message."""
        rows = self.get_queryset().values_list(
            "id", "organization_id", "organization__name", "channel", "status", "category",
            "received_at", "due_at", "breached_at", "replied_at", "satisfaction", "text")
        reveal: dict[int, bool] = {}

        def lines():
            for row in rows.iterator(chunk_size=2000):
                org_id = row[1]
                if org_id not in reveal:
                    reveal[org_id] = may_reveal(request.user, org_id)
                text = row[11] if reveal[org_id] else shown(None, row[11], 0)
                yield [row[0], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
                       row[9], row[10], text]

        return csv_stream("messages.csv", [
            _("ID"), _("Organization"), _("Channel"), _("Status"), _("Category"),
            _("Received"), _("Due"), _("Breached"), _("Replied"), _("Satisfaction"),
            _("Text")], lines())

    @action(detail=True, methods=["post"])
    def classify(self, request, pk=None):
        message = self.get_object()
        data = _data(CategorySerializer, request)
        return self._detail(handling.message_classify(
            message=message, category=data["category"], actor=request.user,
            must_answer=data["must_answer"]))

    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._detail(handling.message_accept(message=self.get_object(),
                                                    actor=request.user))

    @action(detail=True, methods=["post"])
    def edit(self, request, pk=None):
        message = self.get_object()
        data = _data(EditSerializer, request)
        return self._detail(handling.message_edit_text(message=message, text=data["text"],
                                                       actor=request.user))

    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        message = self.get_object()
        data = _data(AssignSerializer, request)
        handler = User.objects.filter(pk=data["handler"], is_active=True).first()
        if handler is None:
            raise ValidationFailed(_("Please correct the marked fields."),
                                   fields={"handler": [_("Unknown person.")]})
        return self._detail(handling.message_assign(message=message, handler=handler,
                                                    actor=request.user))

    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        message = self.get_object()
        data = _data(TransferSerializer, request)
        target = Organization.objects.filter(pk=data["to_organization"]).first()
        if target is None:
            raise ValidationFailed(_("Please correct the marked fields."), fields={
                "to_organization": [_("Unknown organization.")]}, code="outside_tree")
        return self._detail(handling.message_transfer(
            message=message, to_organization=target, actor=request.user, note=data["note"]))

    @action(detail=True, methods=["post"], url_path="return")
    def return_transfer(self, request, pk=None):
        message = self.get_object()
        data = _data(ReasonSerializer, request)
        return self._detail(handling.message_return(message=message, actor=request.user,
                                                    reason=data["reason"]))

    @action(detail=True, methods=["post"], url_path="sign-for")
    def sign_for(self, request, pk=None):
        return self._detail(handling.message_sign_for(message=self.get_object(),
                                                      actor=request.user))

    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        message = self.get_object()
        data = _data(NoteSerializer, request)
        return self._detail(handling.message_pause(message=message, actor=request.user,
                                                   note=data["note"]))

    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._detail(handling.message_resume(message=self.get_object(),
                                                    actor=request.user))

    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        message = self.get_object()
        data = _data(ExtendSerializer, request)
        return self._detail(handling.message_extend(
            message=message, actor=request.user, days=data["days"],
            interim_text=data["interim_text"]))

    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        """Draft a reply (it awaits approval unless you are the department head)."""
        message = self.get_object()
        data = _data(ReplySerializer, request)
        handling.reply_submit(message=message, actor=request.user, text=data["text"],
                              kind=data["kind"])
        return self._detail(message, status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def rate(self, request, pk=None):
        """Record the citizen's rating taken by phone (回访)."""
        message = self.get_object()
        data = _data(RateSerializer, request)
        return self._detail(handling.message_rate(message=message, rating=data["rating"],
                                                  actor=request.user, note=data["note"]))

    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._detail(handling.message_resolve(message=self.get_object(),
                                                     actor=request.user))

    @action(detail=True, methods=["get"])
    def raw(self, request, pk=None):
        """What the platform sent. SECURITY: only the handling organization's
        liaison reads it, and every read is audited."""
        message = self.get_object()
        if Role.LIAISON not in roles_of(request.user, message.organization):
            raise PermissionDenied(_("Only the liaison of the handling organization reads "
                                     "raw payloads."), code="not_liaison")
        raw = message.raw_payload
        if raw is None:
            raise NotFound(_("Not found."))
        audit_record(actor=request.user, action="inbox.raw_payload_read", target=message,
                     organization=message.organization, role=Role.LIAISON,
                     after={"raw_payload": raw.pk}, target_label=f"#{message.pk}")
        return Response({"id": raw.pk, "source": raw.source, "received_at": raw.received_at,
                         "body": raw.body, "state": raw.state})


class ReplyViewSet(ScopedModelViewSet):
    """Replies: approve, send back, publish."""

    queryset = Reply.objects.all()
    change_actions = frozenset({"approve", "reject", "publish"})

    @extend_schema_serializer(component_name="Reply")
    class Out(serializers.ModelSerializer):
        send_error_text = serializers.CharField(read_only=True)

        class Meta:
            model = Reply
            fields = ["id", "message", "kind", "text", "state", "needs_approval", "author",
                      "approved_by", "approved_at", "route", "published_at", "send_state",
                      "send_attempts", "send_error_code", "send_error_text"]

    serializer_class = Out

    def narrow_queryset(self, queryset):
        return queryset.order_by("-id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.Out(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.Out(self.get_object()).data)

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return Response(self.Out(handling.reply_approve(reply=self.get_object(),
                                                        actor=request.user)).data)

    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        reply = self.get_object()
        data = _data(ReasonSerializer, request)
        return Response(self.Out(handling.reply_reject(reply=reply, actor=request.user,
                                                       reason=data["reason"])).data)

    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        reply = self.get_object()
        route = request.data.get("route", Reply.Route.PLATFORM)
        return Response(self.Out(handling.reply_publish(reply=reply, actor=request.user,
                                                        route=route)).data)


class SlaPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = SlaPolicy
        fields = ["id", "organization", "category", "priority", "unit", "first_response",
                  "reply", "warn_percent", "sign_for_hours", "transfer_restarts_clock"]
        read_only_fields = ["id"]


class SlaPolicyInput(serializers.Serializer):
    organization = serializers.IntegerField()
    category = serializers.ChoiceField(choices=[("", "*"), *Category.choices],
                                       required=False, default="", allow_blank=True)
    priority = serializers.IntegerField(min_value=0, max_value=1000, default=0)
    unit = serializers.ChoiceField(choices=SlaUnit.choices)
    first_response = serializers.IntegerField(min_value=1, max_value=1000)
    reply = serializers.IntegerField(min_value=1, max_value=1000)
    warn_percent = serializers.IntegerField(min_value=1, max_value=99, default=80)
    sign_for_hours = serializers.IntegerField(min_value=1, max_value=200, default=4)
    transfer_restarts_clock = serializers.BooleanField(default=False)


class SlaPolicyViewSet(ScopedModelViewSet):
    """SLA policies of supervising organizations (national defaults are listed to
    everyone with business data, changed by migration only)."""

    queryset = SlaPolicy.objects.all()
    serializer_class = SlaPolicySerializer

    def narrow_queryset(self, queryset):
        return queryset.select_related("organization").order_by("id")

    def list(self, request):
        scoped = self.get_queryset()
        if self.user_scope().is_empty:
            rows = scoped
        else:
            rows = (scoped | SlaPolicy.objects.filter(organization__isnull=True)).order_by("id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(SlaPolicySerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(SlaPolicySerializer(self.get_object()).data)

    def create(self, request):
        named = request.data.get("organization") if hasattr(request.data, "get") else None
        org = _visible_org(request.user, named if str(named).isdigit() else 0)
        if not self.user_scope(Action.CHANGE).contains(org):
            raise PermissionDenied(_("You may not do this in this organization."))
        data = dict(_data(SlaPolicyInput, request))
        data.pop("organization")
        policy = timers.sla_policy_save(actor=request.user, organization=org, **data)
        return Response(SlaPolicySerializer(policy).data, status=status.HTTP_201_CREATED)



# --- WeChat settings -------------------------------------------------------------------------
class WeChatEndpointSerializer(serializers.ModelSerializer):
    """SECURITY: the token, EncodingAESKey and AppSecret are never part of an
    answer; only whether each is set."""

    account_name = serializers.CharField(source="account.display_name", read_only=True)
    organization = serializers.IntegerField(source="account.organization_id", read_only=True)
    callback_path = serializers.SerializerMethodField()
    token_set = serializers.SerializerMethodField()
    aes_key_set = serializers.SerializerMethodField()
    can_send = serializers.BooleanField(read_only=True)

    class Meta:
        model = WeChatEndpoint
        fields = ["id", "account", "account_name", "organization", "app_id", "mode",
                  "callback_path", "token_set", "aes_key_set", "can_send",
                  "secret_changed_at", "created_at"]
        read_only_fields = fields

    def get_callback_path(self, obj) -> str:
        return f"/inbox/wechat/{obj.slug}/"

    def get_token_set(self, obj) -> bool:
        return bool(obj.token_encrypted)

    def get_aes_key_set(self, obj) -> bool:
        return bool(obj.aes_key_encrypted)


class WeChatEndpointChange(serializers.Serializer):
    """Secrets are write-only; blank keeps the stored one."""

    app_id = serializers.CharField(max_length=32)
    mode = serializers.ChoiceField(choices=WeChatEndpoint.Mode.choices,
                                   default=WeChatEndpoint.Mode.SAFE)
    token = serializers.CharField(max_length=32, required=False, default="",
                                  allow_blank=True, write_only=True)
    aes_key = serializers.CharField(max_length=43, required=False, default="",
                                    allow_blank=True, write_only=True)
    app_secret = serializers.CharField(max_length=32, required=False, default="",
                                       allow_blank=True, write_only=True)
    remove_app_secret = serializers.BooleanField(required=False, default=False)


class WeChatEndpointCreate(WeChatEndpointChange):
    account = serializers.IntegerField(min_value=1)


class WeChatEndpointViewSet(ScopedModelViewSet):
    """The WeChat settings of an account: callback (token, EncodingAESKey, mode) and
    the sending credentials (AppID, AppSecret). Another organization's settings
    answer 404."""

    queryset = WeChatEndpoint.objects.all()
    serializer_class = WeChatEndpointSerializer

    def narrow_queryset(self, queryset):
        return queryset.select_related("account").order_by("id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WeChatEndpointSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(WeChatEndpointSerializer(self.get_object()).data)

    @extend_schema(request=WeChatEndpointCreate,
                   responses={201: WeChatEndpointSerializer})
    def create(self, request):
        data = dict(_data(WeChatEndpointCreate, request))
        account = (MediaAccount.objects.filter(pk=data.pop("account"))
                   .select_related("platform", "organization").first())
        if account is None:
            raise NotFound(_("Not found."))
        if WeChatEndpoint.objects.filter(account=account).exists():
            require(request.user, Action.CHANGE, account.organization)
            raise Conflict(_("This account has WeChat settings already: change them."),
                           code="exists")
        endpoint = wechat.wechat_endpoint_save(actor=request.user, account=account, **data)
        return Response(WeChatEndpointSerializer(endpoint).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=WeChatEndpointChange, responses=WeChatEndpointSerializer)
    def partial_update(self, request, pk=None):
        endpoint = self.get_object()
        data = dict(_data(WeChatEndpointChange, request))
        account = (MediaAccount.objects.select_related("platform", "organization")
                   .get(pk=endpoint.account_id))
        endpoint = wechat.wechat_endpoint_save(actor=request.user, account=account, **data)
        return Response(WeChatEndpointSerializer(endpoint).data)


# --- issue slips, duty, metrics -------------------------------------------------------------
class IssueSlipSerializer(serializers.ModelSerializer):
    class Meta:
        model = IssueSlip
        fields = ["id", "organization", "responsible_organization", "message", "importance",
                  "kind", "title", "body", "due_at", "answer", "answered_at", "overdue_at",
                  "result_published_url", "issued_by", "issued_at"]


class IssueSlipInput(serializers.Serializer):
    organization = serializers.IntegerField()
    responsible_organization = serializers.IntegerField()
    importance = serializers.ChoiceField(choices=[("general", "general"),
                                                  ("important", "important"),
                                                  ("urgent", "urgent")], default="general")
    kind = serializers.CharField(max_length=60)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=5000)
    due_working_days = serializers.IntegerField(min_value=1, max_value=30, default=5)


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=5000)


class UrlSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)


class IssueSlipViewSet(ScopedModelViewSet):
    """Issue slips (问题通报单): issued by a supervising organization's scope to an
    organization below it, answered by that organization."""

    queryset = IssueSlip.objects.all()
    serializer_class = IssueSlipSerializer
    change_actions = frozenset({"publish"})

    def narrow_queryset(self, queryset):
        return queryset.order_by("-issued_at", "-id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(IssueSlipSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(IssueSlipSerializer(self.get_object()).data)

    def create(self, request):
        from inbox.services import slips

        named = request.data.get("organization") if hasattr(request.data, "get") else None
        org = _visible_org(request.user, named if str(named).isdigit() else 0)
        if not self.user_scope(Action.CHANGE).contains(org):
            raise PermissionDenied(_("You may not do this in this organization."))
        data = _data(IssueSlipInput, request)
        target = Organization.objects.filter(pk=data["responsible_organization"]).first()
        if target is None:
            raise ValidationFailed(_("Please correct the marked fields."), fields={
                "responsible_organization": [_("Unknown organization.")]})
        slip = slips.slip_issue(actor=request.user, organization=org, responsible=target,
                                title=data["title"], body=data["body"], kind=data["kind"],
                                importance=data["importance"],
                                due_working_days=data["due_working_days"])
        return Response(IssueSlipSerializer(slip).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """The responsible organization answers (its own CHANGE right is checked by
        the service)."""
        from inbox.services import slips

        slip = self.get_object()
        data = _data(AnswerSerializer, request)
        return Response(IssueSlipSerializer(slips.slip_answer(
            slip=slip, actor=request.user, answer=data["answer"])).data)

    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        from inbox.services import slips

        slip = self.get_object()
        data = _data(UrlSerializer, request)
        return Response(IssueSlipSerializer(slips.slip_publish(
            slip=slip, actor=request.user, url=data["url"])).data)


class DutyAssignmentViewSet(ScopedModelViewSet):
    queryset = DutyAssignment.objects.all()

    @extend_schema_serializer(component_name="DutyAssignment")
    class Out(serializers.ModelSerializer):
        class Meta:
            model = DutyAssignment
            fields = ["id", "organization", "date", "user", "note"]

    serializer_class = Out

    def narrow_queryset(self, queryset):
        return queryset.order_by("-date", "id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.Out(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.Out(self.get_object()).data)


class DutyLogViewSet(ScopedModelViewSet):
    queryset = DutyLog.objects.all()

    @extend_schema_serializer(component_name="DutyLog")
    class Out(serializers.ModelSerializer):
        class Meta:
            model = DutyLog
            fields = ["id", "organization", "date", "figures", "notes", "signed_off_by",
                      "signed_off_at"]

    serializer_class = Out

    def narrow_queryset(self, queryset):
        return queryset.order_by("-date", "id")

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.Out(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.Out(self.get_object()).data)


def _period_params(params):
    from datetime import date

    from django.utils import timezone

    try:
        start = date.fromisoformat(params.get("from", ""))
    except ValueError:
        start = timezone.localdate().replace(day=1)
    try:
        end = date.fromisoformat(params.get("to", ""))
    except ValueError:
        end = timezone.localdate()
    return (start, end) if start <= end else (end, start)


@extend_schema(
    parameters=[
        OpenApiParameter("organization", OpenApiTypes.INT),
        OpenApiParameter("from", OpenApiTypes.DATE),
        OpenApiParameter("to", OpenApiTypes.DATE),
    ],
    responses=OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="organization, from, to, total (the subtree's figures) and "
        "children (each child organization's).",
    ),
)
@api_view(["GET"])
def metrics_view(request):
    """`GET /api/v1/inbox/metrics/?organization=<id>&from=YYYY-MM-DD&to=YYYY-MM-DD`:
    the figures of the organization's subtree and of each child's (12345-style)."""
    from inbox import metrics

    scope = scope_for(request.user, Action.VIEW)
    if scope.is_empty:
        raise NotFound(_("Not found."))
    named = request.query_params.get("organization", "")
    if named.isdigit():
        org = _visible_org(request.user, int(named))
    else:
        org = Organization.objects.filter(path__in=scope.roots()).order_by("path").first()
    start, end = _period_params(request.query_params)
    return Response({"organization": org.pk, "from": start, "to": end,
                     "total": metrics.metrics_for(org, start, end),
                     "children": metrics.metrics_by_child(org, start, end)})
