from django import forms
from django.apps import apps
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from audit.labels import action_groups, action_label, registered_actions


def _group_label(prefix: str) -> str:
    """A people-readable name for the group of actions `prefix.*`: the name its app
    registered (audit.labels.register_action_groups), the app of that name (inbox,
    moderation...) or the model of that name (filing, membership...), else the
    prefix itself."""
    if prefix in action_groups():
        return str(action_groups()[prefix])
    try:
        return str(apps.get_app_config(prefix).verbose_name)
    except LookupError:
        pass
    wanted = prefix.replace("_", "")
    for model in apps.get_models():
        if model._meta.model_name == wanted:
            return str(model._meta.verbose_name).capitalize()
    return prefix


def action_choices() -> list:
    """The registered actions, grouped by their prefix (one <optgroup> each); each
    group starts with "all of them" (value "prefix.", matched as a prefix)."""
    groups: dict[str, list[str]] = {}
    for code in registered_actions():
        groups.setdefault(code.split(".", 1)[0], []).append(code)
    choices: list = [("", _("All actions"))]
    named = sorted(((_group_label(p), p) for p in groups), key=lambda pair: pair[0])
    for label, prefix in named:
        options = [(f"{prefix}.", _("All: %(group)s") % {"group": label})]
        options += sorted(
            ((code, action_label(code)) for code in groups[prefix]), key=lambda c: c[1]
        )
        choices.append((label, options))
    return choices


def target_type_choices() -> list:
    """The models of the platform's own apps (what audit events point at), by their
    verbose name; `accounts.user` is among them."""
    own = {
        config.label
        for config in apps.get_app_configs()
        if str(config.path).startswith(str(settings.BASE_DIR))
        and "site-packages" not in str(config.path)
    }
    options = sorted(
        (
            (m._meta.label_lower, str(m._meta.verbose_name).capitalize())
            for m in apps.get_models()
            # Governed models name themselves (Meta.verbose_name, translated); the
            # rest are internals no event points at.
            if m._meta.app_label in own and "verbose_name" in m._meta.original_attrs
        ),
        key=lambda c: c[1],
    )
    return [("", _("All targets")), *options]


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("Actor"), required=False, max_length=150)
    target_type = forms.ChoiceField(label=_("Target type"), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per form, in the reader's language (the labels are lazy).
        self.fields["action"].choices = action_choices()
        self.fields["target_type"].choices = target_type_choices()

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date is before the start date."))
        return data
