"""Template filters that show audit codes as labels: `{% load audit_labels %}`."""

from django import template

from audit import labels

register = template.Library()


@register.filter
def action_label(code: str) -> str:
    return labels.action_label(code)


@register.filter
def target_type_label(target_type: str) -> str:
    return labels.target_type_label(target_type)


@register.filter
def actor_display(event) -> str:
    return labels.actor_display(event)
