"""API shapes of moderation. Input serializers validate types only; the services
decide everything else."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from moderation.models import (
    POLICY_CHANGE_NOTE,
    DeadlineUnit,
    DirectiveTarget,
    Flag,
    Importance,
    Post,
    PostKind,
    PublishedPost,
    RepostDirective,
    RepostPolicy,
    ReviewStep,
)


class PostListSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    author_name = serializers.CharField(source="author.__str__", read_only=True)
    revision = serializers.IntegerField(source="current_revision.number", read_only=True,
                                        default=None)
    accounts = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = ["id", "organization", "organization_name", "author", "author_name", "kind",
                  "corrects", "title", "text", "links", "column_tag", "importance", "is_repost",
                  "repost_source", "scheduled_at", "status", "awaiting_role", "revision",
                  "accounts", "submitted_at", "approved_at", "created_at", "updated_at",
                  "event_ref", "event_label"]

    def get_accounts(self, post) -> list[dict]:
        return [{"id": a.pk, "name": a.display_name, "platform": a.platform.code}
                for a in post.target_accounts.all()]


class StepSerializer(serializers.ModelSerializer):
    decided_by_name = serializers.SerializerMethodField()
    revision_number = serializers.IntegerField(source="revision.number")

    def get_decided_by_name(self, step) -> str | None:
        # str() of the person, never of a bound method (which printed an object address).
        return str(step.decided_by) if step.decided_by_id else None

    class Meta:
        model = ReviewStep
        fields = ["id", "round", "order", "role", "status", "decided_by", "decided_by_name",
                  "decided_at", "comment", "revision_number"]


def _list_of(properties: dict) -> dict:
    return {"type": "array", "items": {"type": "object", "properties": properties}}


class PostDetailSerializer(PostListSerializer):
    steps = serializers.SerializerMethodField()
    revisions = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    publications = serializers.SerializerMethodField()
    signoff = serializers.SerializerMethodField()
    precheck_hits = serializers.JSONField(source="current_revision.precheck_hits", default=list)
    overrides = serializers.JSONField(source="current_revision.overrides", default=list)

    class Meta(PostListSerializer.Meta):
        fields = [*PostListSerializer.Meta.fields, "review_round", "steps", "revisions",
                  "attachments", "publications", "signoff", "precheck_hits", "overrides"]

    @extend_schema_field(StepSerializer(many=True))
    def get_steps(self, post):
        return StepSerializer(sorted(post.steps.all(), key=lambda s: (s.round, s.order)),
                              many=True).data

    @extend_schema_field(_list_of({"number": {"type": "integer"},
                                   "created_by": {"type": "string"},
                                   "created_at": {"type": "string", "format": "date-time"}}))
    def get_revisions(self, post):
        return [{"number": r.number, "created_by": str(r.created_by), "created_at": r.created_at}
                for r in post.revisions.all()]

    @extend_schema_field(_list_of({"id": {"type": "integer"}, "name": {"type": "string"},
                                   "size": {"type": "integer"},
                                   "content_type": {"type": "string"},
                                   "download_url": {"type": "string"}}))
    def get_attachments(self, post):
        return [
            {"id": a.pk, "name": a.name, "size": a.size, "content_type": a.content_type,
             "download_url": reverse("moderation:attachment_download", args=[post.pk, a.pk])}
            for a in post.attachments.all()
        ]

    @extend_schema_field(_list_of({
        "account": {"type": "integer"}, "url": {"type": "string"},
        "published_at": {"type": "string", "format": "date-time"},
        "recorded_by": {"type": "integer", "nullable": True},
        "revision": {"type": "integer", "nullable": True}}))
    def get_publications(self, post):
        return [{"account": p.account_id, "url": p.url, "published_at": p.published_at,
                 "recorded_by": p.recorded_by_id, "revision": p.revision_id}
                for p in post.publications.all()]

    @extend_schema_field({
        "type": "object", "nullable": True,
        "properties": {"number": {"type": "string"},
                       "issued_at": {"type": "string", "format": "date-time"}},
    })
    def get_signoff(self, post):
        sheets = [s for s in post.signoffs.all() if s.revision_id == post.current_revision_id]
        return {"number": sheets[0].number, "issued_at": sheets[0].issued_at} if sheets else None


class PostCreateSerializer(serializers.Serializer):
    organization = serializers.IntegerField(required=False)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    links = serializers.ListField(child=serializers.CharField(max_length=500), required=False,
                                  default=list)
    column_tag = serializers.CharField(required=False, allow_blank=True, max_length=60,
                                       default="")
    importance = serializers.ChoiceField(Importance.choices, default=Importance.GENERAL)
    is_repost = serializers.BooleanField(default=False)
    repost_source = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                          default="")
    scheduled_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    account_ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=True)
    kind = serializers.ChoiceField(PostKind.choices, default=PostKind.ORIGINAL)
    corrects = serializers.IntegerField(required=False, allow_null=True, default=None)


class PostUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    links = serializers.ListField(child=serializers.CharField(max_length=500), required=False)
    column_tag = serializers.CharField(required=False, allow_blank=True, max_length=60)
    importance = serializers.ChoiceField(Importance.choices, required=False)
    is_repost = serializers.BooleanField(required=False)
    repost_source = serializers.CharField(required=False, allow_blank=True, max_length=200)
    scheduled_at = serializers.DateTimeField(required=False, allow_null=True)
    account_ids = serializers.ListField(child=serializers.IntegerField(), required=False)


class PrecheckSerializer(serializers.Serializer):
    organization = serializers.IntegerField(required=False)
    text = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=50000)
    links = serializers.ListField(child=serializers.CharField(max_length=500), required=False,
                                  default=list)
    is_repost = serializers.BooleanField(default=False)
    repost_source = serializers.CharField(required=False, allow_blank=True, default="")
    account_ids = serializers.ListField(child=serializers.IntegerField(), required=False,
                                        default=list)


class SubmitSerializer(serializers.Serializer):
    overrides = serializers.DictField(child=serializers.CharField(allow_blank=True,
                                                                  max_length=500),
                                      required=False, default=dict)


class LinkEventSerializer(serializers.Serializer):
    event = serializers.CharField(
        max_length=40, allow_blank=True,
        help_text="The open public-opinion event's reference, e.g. "
                  "`opinion-event:12` (the post page lists the events that cover its "
                  "organization), or empty to unlink.")


class DecisionSerializer(serializers.Serializer):
    class Meta:
        ref_name = "PostDecision"  # registry has a DecisionSerializer of its own

    step = serializers.CharField(required=False, allow_blank=True, default="")
    revision = serializers.IntegerField(required=False, allow_null=True, default=None)
    comment = serializers.CharField(required=False, allow_blank=True, default="",
                                    max_length=2000)


class PublishSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    url = serializers.CharField(max_length=500)
    published_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class PublishedPostSerializer(serializers.ModelSerializer):
    platform = serializers.CharField(source="platform.code", read_only=True)

    class Meta:
        model = PublishedPost
        fields = ["id", "platform", "platform_post_id", "account", "text", "url",
                  "published_at", "reported_at", "match_status", "matched_revision",
                  "similarity"]


class PublishedPostReportSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    platform_post_id = serializers.CharField(max_length=128)
    text = serializers.CharField(max_length=50000, trim_whitespace=False)
    url = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    published_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class FlagSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = Flag
        fields = ["id", "kind", "organization", "organization_name", "published_post",
                  "message", "created_at", "resolved_at", "resolved_by", "resolution"]


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=2000)


class DirectiveSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    targets_seen = serializers.IntegerField(
        read_only=True, help_text="Targets of this directive the caller may see.")
    confirmed = serializers.IntegerField(
        read_only=True, help_text="Of those, the targets whose repost is confirmed.")

    class Meta:
        model = RepostDirective
        fields = ["id", "organization", "organization_name", "post", "title", "source_url",
                  "note", "selection", "issued_by", "issued_at", "target_count",
                  "targets_seen", "confirmed"]


class DirectiveCreateSerializer(serializers.Serializer):
    organization = serializers.IntegerField(required=False)
    post = serializers.IntegerField(required=False, allow_null=True, default=None)
    title = serializers.CharField(max_length=200)
    source_url = serializers.CharField(max_length=500)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    platforms = serializers.ListField(child=serializers.CharField(max_length=32),
                                      required=False, default=list)
    organizations = serializers.ListField(child=serializers.IntegerField(), required=False,
                                          default=list)


class TargetSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.display_name", read_only=True)
    platform_code = serializers.CharField(source="platform.code", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = DirectiveTarget
        fields = ["id", "directive", "account", "account_name", "platform_code",
                  "organization", "organization_name", "due_at", "warn_at", "provisional",
                  "confirmed_at", "confirmed_by", "repost_url", "warned_at", "overdue_at"]


class ConfirmSerializer(serializers.Serializer):
    repost_url = serializers.CharField(max_length=500)


class DictionarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    organization = serializers.IntegerField(source="organization_id", required=False)
    name = serializers.CharField(max_length=100)
    kind = serializers.CharField(max_length=20)
    version = serializers.IntegerField(read_only=True)


class TermSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    term = serializers.CharField(max_length=200)
    suggestion = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                       default="")
    severity = serializers.CharField(max_length=4, required=False, default="soft")


class RepostPolicySerializer(serializers.ModelSerializer):
    platform = serializers.CharField(source="platform.code", read_only=True)
    platform_name = serializers.CharField(source="platform.name", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True,
                                              default=None, allow_null=True)
    is_national_default = serializers.SerializerMethodField()

    class Meta:
        model = RepostPolicy
        fields = ["id", "platform", "platform_name", "organization", "organization_name",
                  "is_national_default", "unit", "amount", "warn_before_minutes"]

    def get_is_national_default(self, policy) -> bool:
        return policy.organization_id is None


class RepostPolicyWriteSerializer(serializers.Serializer):
    platform = serializers.CharField(max_length=32, required=False)
    organization = serializers.IntegerField(required=False)
    unit = serializers.ChoiceField(DeadlineUnit.choices, required=False,
                                   help_text=POLICY_CHANGE_NOTE)
    amount = serializers.IntegerField(min_value=1, required=False)
    warn_before_minutes = serializers.IntegerField(min_value=0, required=False)
