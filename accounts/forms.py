"""Sign-in and password forms. The rules live in accounts.services and
accounts.passwords; these forms only collect input."""

from __future__ import annotations

from captcha.fields import CaptchaField
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
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


# A province's jurisdiction holds thousands of organizations: the choice list shows
# the first ones (in tree order) and the organization search narrows it.
ORGANIZATIONS_SHOWN = 300


class _FirstOrganizations(ModelChoiceIterator):
    """The choices: the first ORGANIZATIONS_SHOWN of the queryset, and the chosen one
    wherever it stands. The field still validates against the whole queryset."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        shown = list(self.queryset[:ORGANIZATIONS_SHOWN])
        chosen = str(self.field.chosen or "")
        if chosen.isdigit() and all(str(o.pk) != chosen for o in shown):
            shown[:0] = list(self.queryset.filter(pk=int(chosen)))
        for obj in shown:
            yield self.choice(obj)

    def __len__(self):
        return min(self.queryset.count(), ORGANIZATIONS_SHOWN) + (
            1 if self.field.empty_label is not None else 0)


class _OrganizationChoice(forms.ModelChoiceField):
    iterator = _FirstOrganizations
    chosen = None  # the bound value, kept among the choices

    def label_from_instance(self, obj):
        # Indented by depth, so the choice list reads as the tree.
        return "\u3000" * max(obj.depth - 1, 0) + obj.name


class _SearchInput(forms.TextInput):
    """A search box with its own submit button (name "find"): the page comes back
    with the choices narrowed and what was typed kept (no script needed)."""

    def render(self, name, value, attrs=None, renderer=None):
        from django.utils.html import format_html

        box = super().render(name, value, attrs, renderer)
        return format_html(
            '<span class="inline-form">{} <button type="submit" name="find" value="1" '
            'class="small" formnovalidate>{}</button></span>', box, _("Find"))


def _access_organizations(user, query: str = ""):
    """Organizations where `user` may grant roles (the access domain, change), those
    whose name, short name or region code holds `query` when one is given."""
    from django.db.models import Q

    from accounts.models import Organization
    from accounts.scoping import Action, Domain, scope_for

    scope = scope_for(user, Action.CHANGE, Domain.ACCESS)
    qs = Organization.objects.get_queryset().filter(scope.q("path"), is_active=True)
    query = query.strip()[:50]
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(short_name__icontains=query)
                       | Q(region_code__startswith=query))
    return qs


class RoleFields(forms.Form):
    """The role part of a grant; the rules (三员分立, the outsourced operator's
    agreement, no grant to oneself) are accounts.services.membership_grant's."""

    org_q = forms.CharField(
        label=_("Find an organization"), required=False, max_length=50,
        widget=_SearchInput(attrs={"type": "search", "data-org-filter": "1"}),
        help_text=_("Part of the name or the region code; the list below shows what "
                    "matches."),
    )
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

        source = self.data if self.is_bound else self.initial
        field = self.fields["organization"]
        # SECURITY: the search only narrows the jurisdiction's organizations; the
        # chosen one is validated against that narrowed set.
        field.queryset = _access_organizations(actor, str(source.get("org_q") or ""))
        field.chosen = source.get(self.add_prefix("organization") if self.is_bound
                                  else "organization")
        self.fields["role"].choices = [("", "---------"), *Role.choices]

    @classmethod
    def searching(cls, request, *, actor, keep=()):
        """The form for a page: bound to a POST, except a POST of the search button
        (or a GET with `org_q`), which comes back unbound with the choices narrowed
        and the fields named in `keep` as typed (never the passwords)."""
        post = request.POST
        if request.method == "POST" and not post.get("find"):
            return cls(post, actor=actor)
        source = post if request.method == "POST" else request.GET
        fields = ("org_q", "organization", "role", "agreement_signed_on",
                  "agreement_document", *keep)
        return cls(initial={k: source.get(k) for k in fields if source.get(k)},
                   actor=actor)


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
                   "org_q", "organization", "role", "agreement_signed_on",
                   "agreement_document"]

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
