"""Admin of the inbox: an account's WeChat settings (callback and sending
credentials), saved through inbox.services.wechat.wechat_endpoint_save.

The admin is one more door to the same service, with the same rule: a person edits
the settings of the accounts their business role may change (accounts.scoping); the
three administrator roles hold no business rights (三员分立) and see nothing here.
SECURITY: the token, EncodingAESKey and AppSecret are write-only fields, never
rendered back; left blank, the stored ones stay.
"""

from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.scoping import Action, scope_for
from common.errors import ApplicationError
from inbox import selectors
from inbox.models import WeChatEndpoint
from inbox.services.wechat import wechat_endpoint_save


def _secret(label, max_length):
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted; leave blank to keep it."),
    )


class WeChatEndpointForm(forms.ModelForm):
    """Saves through the service in clean(), so a refusal shows on the form."""

    token = _secret(_("Token"), 32)
    aes_key = _secret(_("EncodingAESKey"), 43)
    app_secret = _secret(_("AppSecret"), 32)
    remove_app_secret = forms.BooleanField(
        label=_("Remove the AppSecret"), required=False
    )

    actor = None  # set per request by WeChatEndpointAdmin.get_form
    saved = None

    class Meta:
        model = WeChatEndpoint
        fields = ["account", "app_id", "mode"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        account = cleaned.get("account") or self.instance.account
        try:
            with transaction.atomic():
                self.saved = wechat_endpoint_save(
                    actor=self.actor,
                    account=account,
                    app_id=cleaned.get("app_id", ""),
                    mode=cleaned.get("mode", ""),
                    token=cleaned.get("token", ""),
                    aes_key=cleaned.get("aes_key", ""),
                    app_secret=cleaned.get("app_secret", ""),
                    remove_app_secret=bool(cleaned.get("remove_app_secret")),
                )
        except ApplicationError as exc:
            raise forms.ValidationError(
                [
                    str(exc.message),
                    *(str(m) for msgs in exc.fields.values() for m in msgs),
                ]
            ) from exc
        return cleaned

    def validate_unique(self):
        pass  # the service creates or changes the one row per account


@admin.register(WeChatEndpoint)
class WeChatEndpointAdmin(admin.ModelAdmin):
    form = WeChatEndpointForm
    list_display = ["account", "app_id", "mode", "can_send", "secret_changed_at"]
    list_select_related = ["account"]
    readonly_fields = ["slug", "secret_changed_at"]

    @admin.display(boolean=True, description=_("Replies through the API"))
    def can_send(self, obj):
        return obj.can_send

    def get_queryset(self, request):
        return WeChatEndpoint.objects.visible_to(request.user).select_related(
            "account__organization"
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_readonly_fields(self, request, obj=None):
        return (
            [*self.readonly_fields, "account"]
            if obj is not None
            else self.readonly_fields
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "account":
            kwargs["queryset"] = selectors.wechat_accounts(request.user, Action.CHANGE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return not scope_for(request.user, Action.VIEW).is_empty

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return self.has_module_permission(request)
        return scope_for(request.user, Action.VIEW).contains(obj.account.organization)

    def has_add_permission(self, request):
        return not scope_for(request.user, Action.CHANGE).is_empty

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return self.has_add_permission(request)
        return scope_for(request.user, Action.CHANGE).contains(obj.account.organization)

    def has_delete_permission(self, request, obj=None):
        return False  # the platform keeps calling the URL; remove the secret instead

    def save_form(self, request, form, change):
        return form.saved  # already saved by the service in the form's clean()

    def save_model(self, request, obj, form, change):
        pass  # see save_form: the service saved it and wrote the audit event

    def save_related(self, request, form, formsets, change):
        pass  # no related rows; the form was never saved by the admin itself
