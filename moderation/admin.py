from django.contrib import admin

from moderation.models import Dictionary, RepostPolicy, Term


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
    list_display = ("platform", "organization", "unit", "amount", "warn_before_minutes")
