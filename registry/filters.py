"""django-filter FilterSets of the registry API."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from registry.models import (
    AccountCategory,
    AccountStatus,
    Filing,
    FilingKind,
    FilingStatus,
    MediaAccount,
    RotationTask,
)


class MediaAccountFilter(django_filters.FilterSet):
    platform = django_filters.CharFilter(field_name="platform__code")
    status = django_filters.MultipleChoiceFilter(choices=AccountStatus.choices)
    category = django_filters.ChoiceFilter(choices=AccountCategory.choices)
    organization = django_filters.NumberFilter(field_name="organization_id")
    region_code = django_filters.CharFilter(field_name="region_code", lookup_expr="startswith")
    q = django_filters.CharFilter(method="search_text", label="name or account id")

    class Meta:
        model = MediaAccount
        fields = ["platform", "status", "category", "organization", "region_code"]

    def search_text(self, queryset, name, value):
        return queryset.filter(Q(display_name__icontains=value) | Q(platform_account_id__icontains=value))


class FilingFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=FilingKind.choices)
    status = django_filters.ChoiceFilter(choices=FilingStatus.choices)
    is_late = django_filters.BooleanFilter()
    account = django_filters.NumberFilter(field_name="account_id")
    organization = django_filters.NumberFilter(field_name="organization_id")
    submitted_after = django_filters.IsoDateTimeFilter(field_name="submitted_at", lookup_expr="gte")
    submitted_before = django_filters.IsoDateTimeFilter(field_name="submitted_at", lookup_expr="lt")

    class Meta:
        model = Filing
        fields = ["kind", "status", "is_late", "account", "organization"]


class RotationTaskFilter(django_filters.FilterSet):
    done = django_filters.BooleanFilter(field_name="done_at", lookup_expr="isnull", exclude=True)
    account = django_filters.NumberFilter(field_name="account_id")

    class Meta:
        model = RotationTask
        fields = ["done", "account"]
