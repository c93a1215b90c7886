"""API shapes of the assessment (read shapes; writes go through the services)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assessment.indices import INDEX_KINDS
from assessment.models import (
    AccountScore,
    AssessmentFreeze,
    ManualEntry,
    OrgScore,
    Rubric,
    RubricItem,
    ScoreEvidence,
    ScoreLine,
    ScoreRun,
)
from assessment.sources import source_label


class RubricItemSerializer(serializers.ModelSerializer):
    source_label = serializers.SerializerMethodField()
    available = serializers.SerializerMethodField()

    class Meta:
        model = RubricItem
        fields = [
            "id",
            "code",
            "name",
            "part",
            "source",
            "source_label",
            "available",
            "points",
            "cap",
            "weight",
            "params",
            "order",
        ]

    def get_source_label(self, obj) -> str:
        return source_label(obj.source)

    def get_available(self, obj) -> bool:
        from assessment.sources import MANUAL, SOURCES

        return obj.source == MANUAL or (
            obj.source in SOURCES and SOURCES[obj.source].available
        )


class RubricSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(
        source="organization.name", read_only=True
    )

    class Meta:
        model = Rubric
        fields = [
            "id",
            "organization",
            "organization_name",
            "year",
            "version",
            "name",
            "status",
            "pass_mark",
            "bonus_threshold",
            "bonus_cap",
            "engagement_opt_in",
            "engagement_opt_in_reason",
            "activated_at",
        ]


class RubricDetailSerializer(RubricSerializer):
    items = RubricItemSerializer(many=True, read_only=True)

    class Meta(RubricSerializer.Meta):
        fields = [*RubricSerializer.Meta.fields, "items"]


class RubricCreateSerializer(serializers.Serializer):
    organization = serializers.IntegerField()
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    name = serializers.CharField(required=False, allow_blank=True, max_length=120)


class RubricUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=120)
    pass_mark = serializers.DecimalField(required=False, max_digits=5, decimal_places=2)
    bonus_threshold = serializers.DecimalField(
        required=False, max_digits=5, decimal_places=2
    )
    bonus_cap = serializers.DecimalField(required=False, max_digits=5, decimal_places=2)
    engagement_opt_in = serializers.BooleanField(required=False)
    engagement_opt_in_reason = serializers.CharField(required=False, allow_blank=True)


class RubricItemWriteSerializer(serializers.Serializer):
    item = serializers.IntegerField(required=False)
    code = serializers.SlugField(required=False, max_length=40)
    name = serializers.CharField(required=False, max_length=160)
    part = serializers.CharField(required=False)
    source = serializers.CharField(required=False)
    points = serializers.DecimalField(required=False, max_digits=6, decimal_places=2)
    cap = serializers.DecimalField(required=False, max_digits=6, decimal_places=2)
    weight = serializers.DecimalField(required=False, max_digits=4, decimal_places=2)
    params = serializers.JSONField(required=False)


class ScoreRunSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(
        source="organization.name", read_only=True
    )

    class Meta:
        model = ScoreRun
        fields = [
            "id",
            "organization",
            "organization_name",
            "rubric",
            "period_start",
            "period_end",
            "status",
            "progress",
            "account_count",
            "frozen",
            "engagement_opt_in",
            "unavailable_sources",
            "items",
            "created_at",
            "finished_at",
        ]


class ScoreRunCreateSerializer(serializers.Serializer):
    organization = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    rubric = serializers.IntegerField(required=False)


class ScoreEvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScoreEvidence
        fields = ["kind", "object_id", "label", "occurred_at", "url"]


class ScoreLineSerializer(serializers.ModelSerializer):
    evidence = ScoreEvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = ScoreLine
        fields = [
            "item_code",
            "item_name",
            "part",
            "source",
            "occurrences",
            "points",
            "applied",
            "capped",
            "evidence",
        ]


class CommunicationIndexSerializer(serializers.Serializer):
    """WCI (WeChat) or BCI (Weibo) over the run's period: analytics beside the
    score, never part of it (assessment/indices.py has the formulas)."""

    kind = serializers.ChoiceField(choices=INDEX_KINDS)
    value = serializers.FloatField()
    days = serializers.IntegerField(help_text="days with a metric snapshot")


class OrgCommunicationIndexSerializer(serializers.Serializer):
    wci = serializers.FloatField(allow_null=True, help_text="mean over WeChat accounts")
    wci_accounts = serializers.IntegerField()
    bci = serializers.FloatField(allow_null=True, help_text="mean over Weibo accounts")
    bci_accounts = serializers.IntegerField()


class AccountScoreSerializer(serializers.ModelSerializer):
    """`communication_index` comes from the view's context (`indices`: score id to
    index, computed per page in one query per run); null without snapshots."""

    communication_index = serializers.SerializerMethodField()

    @extend_schema_field(CommunicationIndexSerializer(allow_null=True))
    def get_communication_index(self, obj):
        index = self.context.get("indices", {}).get(obj.pk)
        if index is None:
            return None
        return {"kind": index.kind, "value": index.value, "days": index.days}

    class Meta:
        model = AccountScore
        fields = [
            "id",
            "run",
            "account",
            "account_label",
            "platform_label",
            "organization",
            "organization_label",
            "level",
            "vetoed",
            "deductions",
            "base",
            "bonus",
            "total",
            "passed",
            "rank_in_level",
            "communication_index",
        ]


class AccountScoreDetailSerializer(AccountScoreSerializer):
    lines = ScoreLineSerializer(many=True, read_only=True)

    class Meta(AccountScoreSerializer.Meta):
        fields = [*AccountScoreSerializer.Meta.fields, "lines"]


class OrgScoreSerializer(serializers.ModelSerializer):
    """`communication_index`: the mean WCI and BCI of the organization's scored
    accounts over the run's period (from the view's context, per page)."""

    communication_index = serializers.SerializerMethodField()

    @extend_schema_field(OrgCommunicationIndexSerializer(allow_null=True))
    def get_communication_index(self, obj):
        index = self.context.get("indices", {}).get(obj.pk)
        if index is None:
            return None
        return {
            "wci": index.wci,
            "wci_accounts": index.wci_accounts,
            "bci": index.bci,
            "bci_accounts": index.bci_accounts,
        }

    class Meta:
        model = OrgScore
        fields = [
            "id",
            "run",
            "organization",
            "organization_label",
            "level",
            "accounts",
            "passed",
            "vetoed",
            "average",
            "rank_in_level",
            "communication_index",
        ]


class ManualEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = ManualEntry
        fields = [
            "id",
            "item",
            "item_code",
            "account",
            "occurred_on",
            "points",
            "evidence",
            "evidence_url",
            "entered_by",
            "entered_at",
            "withdrawn_at",
            "withdrawn_reason",
        ]


class ManualEntryCreateSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    account = serializers.IntegerField()
    occurred_on = serializers.DateField()
    points = serializers.DecimalField(
        required=False, allow_null=True, max_digits=6, decimal_places=2
    )
    evidence = serializers.CharField()
    evidence_url = serializers.URLField(required=False, allow_blank=True)


class FreezeSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(
        source="organization.name", read_only=True
    )

    class Meta:
        model = AssessmentFreeze
        fields = [
            "id",
            "organization",
            "organization_name",
            "year",
            "version",
            "run",
            "status",
            "checksum",
            "figures",
            "frozen_by",
            "frozen_at",
            "reopened_by",
            "reopened_at",
            "reopen_reason",
        ]


class CircularSerializer(serializers.ModelSerializer):
    class Meta:
        from assessment.models import Circular

        model = Circular
        fields = [
            "id",
            "organization",
            "month",
            "run",
            "title",
            "status",
            "summary",
            "created_at",
            "reviewed_at",
            "review_note",
            "published_at",
        ]


class CircularPartSerializer(serializers.ModelSerializer):
    class Meta:
        from assessment.models import CircularPart

        model = CircularPart
        fields = [
            "id",
            "circular",
            "organization",
            "organization_label",
            "level",
            "figures",
            "headings",
            "commended",
            "rectification",
        ]


class MonthlyArchiveSerializer(serializers.ModelSerializer):
    class Meta:
        from assessment.models import MonthlyArchive

        model = MonthlyArchive
        fields = [
            "id",
            "organization",
            "month",
            "version",
            "size",
            "checksum",
            "counts",
            "created_at",
        ]


class RunRefSerializer(serializers.Serializer):
    run = serializers.IntegerField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=["reviewed", "published", "draft"])
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AccountIndexRowSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    account_label = serializers.CharField()
    organization = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=INDEX_KINDS)
    value = serializers.FloatField()
    days = serializers.IntegerField(help_text="days with a metric snapshot")


class OrgIndexRowSerializer(OrgCommunicationIndexSerializer):
    organization = serializers.IntegerField()
    organization_label = serializers.CharField()


class CommunicationIndicesSerializer(serializers.Serializer):
    """Analytics for an organization's subtree and a period: never part of a score."""

    organization = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    formula = serializers.CharField()
    organizations = OrgIndexRowSerializer(many=True)
    accounts_total = serializers.IntegerField()
    accounts = AccountIndexRowSerializer(
        many=True, help_text="highest first; `limit` and `offset` page them"
    )
