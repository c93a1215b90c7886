"""Page forms. They parse input only; the services validate and decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, User
from moderation.models import Importance, PostKind


class PostForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 12}),
                           strip=False)
    accounts = forms.MultipleChoiceField(label=_("Target accounts"), required=False,
                                         widget=forms.CheckboxSelectMultiple)
    importance = forms.ChoiceField(label=_("Importance"), choices=Importance.choices)
    column_tag = forms.CharField(label=_("Column or topic"), max_length=60, required=False)
    links = forms.CharField(label=_("Links (one per line)"), required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))
    is_repost = forms.BooleanField(label=_("This is a repost"), required=False)
    repost_source = forms.CharField(label=_("Repost source"), max_length=200, required=False)
    scheduled_at = forms.DateTimeField(
        label=_("Scheduled publication"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                   format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=PostKind.choices, required=False)
    corrects = forms.IntegerField(label=_("Original post (for corrections)"), required=False)

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accounts"].choices = [(str(a.pk), f"{a.display_name} · {a.platform.name}")
                                           for a in accounts]

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "title": d["title"], "text": d["text"], "importance": d["importance"],
            "column_tag": d["column_tag"], "is_repost": d["is_repost"],
            "repost_source": d["repost_source"], "scheduled_at": d["scheduled_at"],
            "links": [line.strip() for line in d["links"].splitlines() if line.strip()],
            "account_ids": [int(v) for v in d["accounts"]],
        }


class DirectiveForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    source_url = forms.URLField(label=_("Source URL"), max_length=500, assume_scheme="https")
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    platforms = forms.MultipleChoiceField(label=_("Platforms (none = all)"), required=False,
                                          widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, platforms=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platforms"].choices = [(p.code, p.name) for p in platforms]


class DeputyForm(forms.Form):
    """The principal leader appoints a deputy (代签) for a review role and a period."""

    organization = forms.ModelChoiceField(queryset=Organization.objects.none(),
                                          label=_("Organization"))
    role = forms.ChoiceField(label=_("Review role"), choices=())
    deputy = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Deputy"))
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)

    def __init__(self, *args, organizations, **kwargs):
        from accounts.models import Membership
        from moderation.models import ReviewRole

        super().__init__(*args, **kwargs)
        ids = [o.pk for o in organizations]
        self.fields["organization"].queryset = Organization.objects.filter(pk__in=ids)
        if len(ids) == 1:
            self.fields["organization"].initial = ids[0]
        self.fields["role"].choices = ReviewRole.choices
        self.fields["deputy"].queryset = User.objects.filter(
            is_active=True,
            pk__in=Membership.objects.active().filter(organization_id__in=ids).values("user_id"),
        ).order_by("username")
