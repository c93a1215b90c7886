"""The fast widget renderer prints exactly what Django's widget templates print."""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from common.form_renderer import FastWidgetRenderer

TRICKY = 'a <b> & "c" \'d\''


def _both(widget, name, value, attrs=None):
    fast = widget.render(name, value, attrs=attrs, renderer=FastWidgetRenderer())
    slow = widget.render(name, value, attrs=attrs, renderer=DjangoTemplates())
    return fast, slow


CASES = [
    (forms.TextInput(), "q", TRICKY, {"id": "id_q", "maxlength": 100}),
    (forms.TextInput(attrs={"required": True, "disabled": False}), "q", None, None),
    (forms.TextInput(), "q", mark_safe("<i>safe</i>"), {"placeholder": TRICKY}),
    (forms.NumberInput(), "n", 42, {"min": 0}),
    (forms.DateInput(attrs={"type": "date"}), "d", datetime.date(2026, 12, 3), None),
    (forms.EmailInput(), "e", "x@example.org", None),
    (forms.PasswordInput(), "p", "secret", None),
    (forms.HiddenInput(), "h", 7, None),
    (forms.CheckboxInput(), "c", True, {"id": "id_c"}),
    (forms.CheckboxInput(), "c", False, None),
    (forms.Select(choices=[("", "全部"), ("a", TRICKY), (1, gettext_lazy("Weibo"))]),
     "s", "a", {"id": "id_s", "class": "x"}),
    (forms.Select(choices=[("g1", [("x", "X"), ("y", "Y")]), ("z", "Z")]), "s", "y", None),
    (forms.Select(choices=[]), "s", None, None),
    (forms.SelectMultiple(choices=[(1, "一"), (2, "二")]), "m", [1, 2], None),
    (forms.NullBooleanSelect(), "nb", None, None),
    (forms.Textarea(), "t", TRICKY, None),
    (forms.RadioSelect(choices=[("a", "A"), ("b", "B")]), "r", "a", None),
    (forms.CheckboxSelectMultiple(choices=[("a", "A")]), "cm", ["a"], None),
    (forms.ClearableFileInput(), "f", None, None),
]


@pytest.mark.parametrize("widget,name,value,attrs", CASES,
                         ids=[type(c[0]).__name__ + str(n) for n, c in enumerate(CASES)])
def test_each_widget_prints_what_django_prints(widget, name, value, attrs):
    fast, slow = _both(widget, name, value, attrs)
    assert fast == slow


def test_plain_widgets_take_the_python_path():
    renderer = FastWidgetRenderer()
    assert "django/forms/widgets/text.html" in renderer._python
    assert "django/forms/widgets/select.html" in renderer._python
    # Widgets printed by templates stay with them.
    assert "django/forms/widgets/textarea.html" not in renderer._python


@pytest.mark.django_db
def test_the_project_filter_forms_print_the_same(world):
    from accounts.models import Role
    from registry import ledger

    user = world.mine.users[Role.SUPERVISOR]
    form = ledger.ledger_filter(user, {"status": "active", "q": TRICKY}).form
    form.renderer = FastWidgetRenderer()
    fast = "".join(str(f) for f in form)
    form.renderer = DjangoTemplates()
    slow = "".join(str(f) for f in form)
    assert fast == slow and "<select" in fast
