"""API representations of supervision (read) and the request bodies (write)."""

from __future__ import annotations

from rest_framework import serializers

from supervision.models import (
    AccountPost,
    CloseReason,
    Disposition,
    EmergencyPlan,
    EventLevel,
    Finding,
    FindingKind,
    Inspection,
    InspectionItem,
    MetricSnapshot,
    OpinionEvent,
    RectificationAnswer,
    RectificationOrder,
    Severity,
    SummonsInterview,
)


class AccountPostSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccountPost
        fields = [
            "id",
            "account",
            "platform",
            "platform_post_id",
            "published_at",
            "url",
            "source",
            "recorded_at",
        ]


class MetricSnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = MetricSnapshot
        fields = [
            "id",
            "account",
            "day",
            "followers",
            "posts",
            "reads",
            "reposts",
            "comments",
            "likes",
            "recorded_at",
        ]


class BatchSerializer(serializers.Serializer):
    rows = serializers.ListField(
        child=serializers.JSONField(), allow_empty=False, max_length=5000
    )


class FindingSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    severity_label = serializers.CharField(
        source="get_severity_display", read_only=True
    )
    organization_name = serializers.CharField(
        source="organization.name", read_only=True
    )
    account_name = serializers.CharField(
        source="account.display_name", read_only=True, default=None
    )
    evidence_file = serializers.SerializerMethodField()
    # The real last sighting: for the sweep's open findings, the kind's last run.
    last_seen_at = serializers.DateTimeField(source="last_seen", read_only=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "kind",
            "kind_label",
            "severity",
            "severity_label",
            "status",
            "origin",
            "account",
            "account_name",
            "organization",
            "organization_name",
            "evidence",
            "note",
            "evidence_url",
            "evidence_file",
            "first_seen_at",
            "last_seen_at",
            "assigned_at",
            "inspection",
            "event",
            "disposition",
            "closed_at",
            "close_reason",
            "repeat_of",
        ]

    def get_evidence_file(self, obj) -> str:
        return obj.evidence_file.url if obj.evidence_file else ""


class FindingCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=FindingKind.choices)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    account = serializers.IntegerField(required=False)
    organization = serializers.IntegerField(required=False)
    inspection = serializers.IntegerField(required=False)
    note = serializers.CharField(max_length=4000)
    evidence_url = serializers.CharField(
        max_length=500, required=False, default="", allow_blank=True
    )
    evidence_file = serializers.FileField(required=False)


class FindingCloseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=[CloseReason.DISMISSED, CloseReason.RECTIFIED],
        default=CloseReason.DISMISSED,
    )
    note = serializers.CharField(
        max_length=4000, required=False, default="", allow_blank=True
    )


class FindingDisposeSerializer(serializers.Serializer):
    disposition = serializers.ChoiceField(choices=Disposition.choices)
    note = serializers.CharField(
        max_length=4000, required=False, default="", allow_blank=True
    )


class CounterfeitRecordSerializer(serializers.Serializer):
    organization = serializers.IntegerField(required=False)
    candidates = serializers.CharField(max_length=200_000)


class AnswerSerializer(serializers.ModelSerializer):
    answered_by = serializers.StringRelatedField()
    evidence_file = serializers.SerializerMethodField()

    class Meta:
        model = RectificationAnswer
        fields = [
            "id",
            "text",
            "evidence_url",
            "evidence_file",
            "answered_by",
            "answered_at",
            "decision",
            "decision_note",
        ]

    def get_evidence_file(self, obj) -> str:
        return obj.evidence_file.url if obj.evidence_file else ""


class OrderSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    organization_name = serializers.CharField(
        source="organization.name", read_only=True
    )
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = RectificationOrder
        fields = [
            "id",
            "number",
            "organization",
            "organization_name",
            "issuing_organization",
            "account",
            "finding",
            "inspection",
            "requirement",
            "status",
            "status_label",
            "issued_by",
            "issued_at",
            "due_at",
            "is_overdue",
            "overdue_at",
            "escalated_at",
            "suspension_ordered",
            "closed_at",
            "verification_note",
            "failed_again_at",
        ]


class OrderDetailSerializer(OrderSerializer):
    answers = AnswerSerializer(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "answers"]


class OrderCreateSerializer(serializers.Serializer):
    finding = serializers.IntegerField(required=False)
    account = serializers.IntegerField(required=False)
    organization = serializers.IntegerField(required=False)
    inspection = serializers.IntegerField(required=False)
    requirement = serializers.CharField(max_length=4000)
    days = serializers.IntegerField(required=False, min_value=1, max_value=90)


class OrderAnswerSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)
    evidence_url = serializers.CharField(
        max_length=500, required=False, default="", allow_blank=True
    )
    evidence_file = serializers.FileField(required=False)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=4000, required=False, default="", allow_blank=True
    )


class SummonsSerializer(serializers.ModelSerializer):
    class Meta:
        model = SummonsInterview
        fields = [
            "id",
            "organization",
            "order",
            "held_at",
            "reason",
            "attendees",
            "outcome",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["recorded_by", "recorded_at"]


class InspectionSerializer(serializers.ModelSerializer):
    pass_rate = serializers.FloatField(read_only=True)

    class Meta:
        model = Inspection
        fields = [
            "id",
            "organization",
            "title",
            "sample_percent",
            "seed",
            "window_start",
            "window_end",
            "status",
            "started_by",
            "started_at",
            "completed_at",
            "population",
            "sampled",
            "passed",
            "pass_rate",
        ]


class InspectionCreateSerializer(serializers.Serializer):
    organization = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    sample_percent = serializers.IntegerField(min_value=1, max_value=100, default=100)
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**62)
    window_days = serializers.IntegerField(required=False, min_value=1, max_value=90)


class InspectionItemSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.display_name", read_only=True)

    class Meta:
        model = InspectionItem
        fields = [
            "id",
            "account",
            "account_name",
            "organization",
            "platform",
            "level",
            "last_post_at",
            "posts_in_window",
            "auto_vetoes",
            "passed",
        ]


class EventSerializer(serializers.ModelSerializer):
    timers = serializers.SerializerMethodField()

    class Meta:
        model = OpinionEvent
        fields = [
            "id",
            "organization",
            "title",
            "level",
            "event_type",
            "plan",
            "description",
            "occurred_at",
            "release_due_at",
            "press_due_at",
            "response_due_at",
            "released_at",
            "press_held_at",
            "responded_at",
            "status",
            "registered_at",
            "closed_at",
            "timers",
        ]

    def get_timers(self, obj) -> list[dict]:
        return [
            {
                "key": t["key"],
                "due_at": t["due_at"],
                "done_at": t["done_at"],
                "overdue": t["overdue"],
            }
            for t in obj.timers()
        ]


class EventCreateSerializer(serializers.Serializer):
    organization = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    level = serializers.ChoiceField(choices=EventLevel.choices)
    occurred_at = serializers.DateTimeField()
    event_type = serializers.CharField(
        max_length=100, required=False, default="", allow_blank=True
    )
    description = serializers.CharField(required=False, default="", allow_blank=True)


class EventTimerSerializer(serializers.Serializer):
    timer = serializers.ChoiceField(choices=["release", "press", "response"])
    at = serializers.DateTimeField(required=False)


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = EmergencyPlan
        fields = [
            "id",
            "organization",
            "event_type",
            "process",
            "channel",
            "time_limit_hours",
            "wording",
        ]
