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
