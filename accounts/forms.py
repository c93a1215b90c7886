"""Sign-in and password forms. The rules live in accounts.services and
accounts.passwords; these forms only collect input."""

from __future__ import annotations

from captcha.fields import CaptchaField
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.lockout import captcha_required


class SignInForm(AuthenticationForm):
    """Username and password, plus a captcha while the username is under a
    distributed guessing attack (accounts.lockout)."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        username = (self.data.get("username") or "").strip() if self.is_bound else ""
        self.needs_captcha = captcha_required(username)
        if self.needs_captcha:
            self.fields["captcha"] = CaptchaField(label=_("Characters in the picture"))

    def clean(self):
        # SECURITY: a wrong captcha stops here, before the password is even checked,
        # so the captcha cannot be skipped by a guess that happens to be right.
        if self.needs_captcha and "captcha" in self.errors:
            raise ValidationError(
                _("Enter the characters shown in the picture."), code="captcha"
            )
        return super().clean()


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two new passwords differ."))
        return data


class _OrganizationChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        # Indented by depth, so the choice list reads as the tree.
        return "\u3000" * max(obj.depth - 1, 0) + obj.name


def _access_organizations(user):
    """Organizations where `user` may grant roles (the access domain, change)."""
    from accounts.models import Organization
    from accounts.scoping import Action, Domain, scope_for

    scope = scope_for(user, Action.CHANGE, Domain.ACCESS)
    return Organization.objects.get_queryset().filter(scope.q("path"), is_active=True)


class RoleFields(forms.Form):
    """The role part of a grant; the rules (三员分立, the outsourced operator's
    agreement, no grant to oneself) are accounts.services.membership_grant's."""

    organization = _OrganizationChoice(label=_("Organization"), queryset=None)
    role = forms.ChoiceField(label=_("Role"))
    agreement_signed_on = forms.DateField(
        label=_("Confidentiality agreement signed on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Outsourced operators only."),
    )
    agreement_document = forms.CharField(
        label=_("Confidentiality agreement document"), required=False, max_length=200,
        help_text=_("Outsourced operators only: document number or archive reference."),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        from accounts.models import Role

        self.fields["organization"].queryset = _access_organizations(actor)
        self.fields["role"].choices = [("", "---------"), *Role.choices]


class MembershipGrantForm(RoleFields):
    pass


class UserCreateForm(RoleFields):
    username = forms.CharField(
        label=_("Username"), max_length=150,
        help_text=_("Letters, digits and @ . + - _ only."),
    )
    display_name = forms.CharField(label=_("Display name"), max_length=60, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    password = forms.CharField(
        label=_("Temporary password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("The person must choose their own password at the first sign-in."),
    )
    password_again = forms.CharField(
        label=_("Temporary password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    field_order = ["username", "display_name", "email", "password", "password_again",
                   "organization", "role", "agreement_signed_on", "agreement_document"]

    def clean_username(self):
        from django.contrib.auth.validators import UnicodeUsernameValidator

        username = self.cleaned_data["username"].strip()
        UnicodeUsernameValidator()(username)
        return username

    def clean(self):
        data = super().clean()
        if data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data
