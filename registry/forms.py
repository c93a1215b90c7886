"""Forms of the registry pages: they check types and choices; the rules live in
registry.services and come back as field errors (see `apply_errors`)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from registry.models import AccountCategory, Platform, VerificationStatus


def apply_errors(form: forms.Form, exc) -> None:
    """Show an ApplicationError's messages beside the fields they concern."""
    placed = False
    for name, messages in (exc.fields or {}).items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, str(message))
            placed = True
    if not placed:
        form.add_error(None, str(exc.message))


class DateInput(forms.DateInput):
    """An HTML date input: the value must be ISO whatever the UI language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def _today():
    return timezone.localdate()


class OpenFilingForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("Sponsoring organization"), queryset=Organization.objects.none()
    )
    profile_url = forms.CharField(
        label=_("Profile URL"), max_length=500, required=False,
        help_text=_("Paste the address of the account's home page: the platform and the "
                    "account id are filled in from it."),
    )
    platform = forms.ModelChoiceField(
        label=_("Platform"), queryset=Platform.objects.filter(is_active=True), required=False
    )
    platform_account_id = forms.CharField(label=_("Platform account id"), max_length=128, required=False)
    display_name = forms.CharField(label=_("Account name"), max_length=100)
    category = forms.ChoiceField(label=_("Category"), choices=AccountCategory.choices)
    verification = forms.ChoiceField(
        label=_("Real-name verification"), choices=VerificationStatus.choices,
        initial=VerificationStatus.VERIFIED,
    )
    operators = forms.TypedMultipleChoiceField(
        label=_("Operators"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    liaison = forms.TypedChoiceField(label=_("Liaison"), coerce=int, required=False, empty_value=None)
    event_date = forms.DateField(label=_("Opened on"), initial=_today, widget=DateInput)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, organizations, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        if len(organizations) == 1:
            self.fields["organization"].initial = organizations[0].pk
        self.fields["operators"].choices = people["operators"]
        self.fields["liaison"].choices = [("", "—"), *people["all"]]


class ChangeFilingForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("Sponsoring organization"), queryset=Organization.objects.none(),
        help_text=_("Choose another organization to move the account to it (it must be "
                    "one you file for); on approval the supervising organization follows."),
    )
    display_name = forms.CharField(label=_("Account name"), max_length=100)
    profile_url = forms.URLField(label=_("Profile URL"), max_length=500, required=False, assume_scheme="https")
    category = forms.ChoiceField(label=_("Category"), choices=AccountCategory.choices)
    verification = forms.ChoiceField(label=_("Real-name verification"), choices=VerificationStatus.choices)
    operators = forms.TypedMultipleChoiceField(
        label=_("Operators"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    liaison = forms.TypedChoiceField(label=_("Liaison"), coerce=int, required=False, empty_value=None)
    event_date = forms.DateField(label=_("Date of the change"), initial=_today, widget=DateInput)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, people, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        self.fields["operators"].choices = people["operators"]
        self.fields["liaison"].choices = [("", "—"), *people["all"]]


class SuspendFilingForm(forms.Form):
    event_date = forms.DateField(label=_("Suspended on"), initial=_today, widget=DateInput)
    note = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class ReopenFilingForm(forms.Form):
    event_date = forms.DateField(label=_("Date of the event"), initial=_today, widget=DateInput)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CancelFilingForm(forms.Form):
    event_date = forms.DateField(label=_("Closed on"), initial=_today, widget=DateInput)
    announcement_url = forms.URLField(label=_("Announcement URL"), max_length=500, required=False, assume_scheme="https")
    announcement_text = forms.CharField(
        label=_("Announcement text"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    announced_on = forms.DateField(label=_("Announced on"), required=False, widget=DateInput)
    deregistered_on = forms.DateField(
        label=_("De-registered on the platform on"), required=False, widget=DateInput
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class SignoffForm(forms.Form):
    """The principal leader signs a filing off or refuses it (with a reason)."""

    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when rejecting."),
    )


class WithdrawForm(forms.Form):
    prefix = "withdraw"  # beside the decision form on one page

    reason = forms.CharField(
        label=_("Why it is withdrawn"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ExemptionForm(forms.Form):
    organization = forms.ModelChoiceField(label=_("Organization"), queryset=Organization.objects.none())
    platform = forms.ModelChoiceField(label=_("Platform"), queryset=Platform.objects.filter(is_active=True))
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations


class CustodyForm(forms.Form):
    holder = forms.TypedChoiceField(label=_("Held by"), coerce=int, required=False, empty_value=None)
    last_changed_on = forms.DateField(label=_("Last changed on"), required=False, widget=DateInput)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = [("", "—"), *people]


class RotationDoneForm(forms.Form):
    changed_on = forms.DateField(label=_("Changed on"), initial=_today, widget=DateInput)
