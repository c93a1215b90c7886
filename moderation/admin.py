import copy

from django import forms
from django.contrib import admin, messages

from common.errors import ApplicationError
from moderation.models import POLICY_CHANGE_NOTE, Dictionary, RepostPolicy, Term
from moderation.services.policies import repost_policy_check, repost_policy_save


class RepostPolicyForm(forms.ModelForm):
    """Runs the service's checks, so a refusal shows on the form (never a 500)."""

    actor = None  # set per request by RepostPolicyAdmin.get_form

    class Meta:
        model = RepostPolicy
        fields = ["platform", "organization", "unit", "amount", "warn_before_minutes"]

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            # The instance gets the form's values only after clean(): check a copy.
            policy = copy.copy(self.instance)
            for name, value in cleaned.items():
                setattr(policy, name, value)
            try:
                repost_policy_check(actor=self.actor, policy=policy)
            except ApplicationError as exc:
                raise forms.ValidationError(
                    [str(exc.message), *(str(m) for msgs in exc.fields.values()
                                         for m in msgs)]) from exc
        return cleaned


class TermInline(admin.TabularInline):
    model = Term
    extra = 0


@admin.register(Dictionary)
class DictionaryAdmin(admin.ModelAdmin):
    """Read-only here: terms change through the services (version bump, audit)."""

    list_display = ("name", "kind", "organization", "version")
    list_filter = ("kind",)
    inlines = [TermInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RepostPolicy)
class RepostPolicyAdmin(admin.ModelAdmin):
    """Saved through moderation.services.policies (checks, audit event). A change
    applies to directives issued afterwards only."""

    form = RepostPolicyForm
    list_display = ("platform", "organization", "unit", "amount", "warn_before_minutes")
    list_select_related = ("platform", "organization")
    raw_id_fields = ("organization",)
    fieldsets = [(None, {"fields": ("platform", "organization", "unit", "amount",
                                    "warn_before_minutes"),
                         "description": POLICY_CHANGE_NOTE})]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_readonly_fields(self, request, obj=None):
        return ("platform", "organization") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # deadlines were computed from it; change it instead

    def save_model(self, request, obj, form, change):
        try:
            repost_policy_save(actor=request.user, policy=obj)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            raise
