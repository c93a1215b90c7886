"""A form renderer that prints Django's plain widgets (inputs, checkboxes, selects
and their options) in Python, and every other widget through Django's templates.

Every list page has a filter form; rendering its widgets through the template
engine (an `{% include %}` per option and per attribute list) was a third of the
ledger page's template time (issue 9). The output is byte for byte what Django's own
widget templates produce: the Python paths are used only for templates whose text
is exactly the text they were written against (checked once, at start-up), so a
Django upgrade that changes a template falls back to that template; and
tests/common/test_form_renderer.py renders the project's forms both ways.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe

PREFIX = "django/forms/widgets/"
INCLUDE_INPUT = '{% include "django/forms/widgets/input.html" %}\n'
KNOWN = {
    "attrs.html": (
        "{% for name, value in widget.attrs.items %}{% if value is not False %} "
        "{{ name }}{% if value is not True %}=\"{{ value|stringformat:'s' }}\""
        "{% endif %}{% endif %}{% endfor %}"
    ),
    "input.html": (
        '<input type="{{ widget.type }}" name="{{ widget.name }}"'
        "{% if widget.value != None %} value=\"{{ widget.value|stringformat:'s' }}\""
        '{% endif %}{% include "django/forms/widgets/attrs.html" %}>\n'
    ),
    "select.html": (
        '<select name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>'
        "{% for group_name, group_choices, group_index in widget.optgroups %}"
        '{% if group_name %}\n  <optgroup label="{{ group_name }}">{% endif %}'
        "{% for option in group_choices %}\n  "
        "{% include option.template_name with widget=option %}{% endfor %}"
        "{% if group_name %}\n  </optgroup>{% endif %}{% endfor %}\n</select>\n"
    ),
    "select_option.html": (
        "<option value=\"{{ widget.value|stringformat:'s' }}\""
        '{% include "django/forms/widgets/attrs.html" %}>{{ widget.label }}</option>\n'
    ),
}


def _text(value) -> str:
    """`{{ value|stringformat:'s' }}` under autoescape."""
    text = f"{value!s}" if not isinstance(value, str) else str(value)
    return text if isinstance(value, SafeData) else conditional_escape(text)


def _attrs(attrs: dict) -> str:
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            out.append(f" {conditional_escape(name)}")
        else:
            out.append(f' {conditional_escape(name)}="{_text(value)}"')
    return "".join(out)


def _input(widget: dict) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{_text(value)}"'
    return (f'<input type="{conditional_escape(widget["type"])}" '
            f'name="{conditional_escape(widget["name"])}"{shown}{_attrs(widget["attrs"])}>\n')


def _option(option: dict) -> str:
    return (f'<option value="{_text(option["value"])}"{_attrs(option["attrs"])}>'
            f'{conditional_escape(option["label"])}</option>\n')


class FastWidgetRenderer(DjangoTemplates):
    """DjangoTemplates, with the plain widgets printed in Python (see the module)."""

    @cached_property
    def _python(self) -> dict:
        """Which widget templates are printed in Python: those whose text Django
        ships is the text the functions here reproduce."""
        import django

        folder = Path(django.__file__).parent / "forms" / "templates" / "django" / "forms" / "widgets"

        def text(name):
            try:
                return (folder / name).read_text(encoding="utf-8")
            except OSError:
                return None

        if any(text(name) != body for name, body in KNOWN.items()):
            return {}
        python = {PREFIX + "select.html": self._select}
        for path in folder.glob("*.html"):
            if path.read_text(encoding="utf-8") == INCLUDE_INPUT:
                # e.g. text.html: the include's output and the file's own newline.
                python[PREFIX + path.name] = self._input_wrapped
        return python

    def render(self, template_name, context, request=None):
        python = self._python.get(template_name) if request is None else None
        if python is not None:
            try:
                html = python(context["widget"])
            except (KeyError, TypeError, ValueError):
                html = None  # a widget with an unusual context: Django renders it
            if html is not None:
                return mark_safe(html.strip())  # as DjangoTemplates.render does
        return super().render(template_name, context, request=request)

    @staticmethod
    def _input_wrapped(widget: dict) -> str:
        return _input(widget) + "\n"

    @staticmethod
    def _select(widget: dict) -> str | None:
        parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in group_choices:
                if option.get("template_name") != PREFIX + "select_option.html":
                    return None  # a custom option template: Django renders the widget
                parts.append("\n  " + _option(option))
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>\n")
        return "".join(parts)
