"""{% sort_th "due" _("Due") %}: a table header that sorts the list by a column (a
second click reverses it), keeping the other filters and going back to page 1."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_th(context, key: str, label, numeric: bool = False):
    request = context["request"]
    current = context.get("sort", request.GET.get("sort", ""))
    params = request.GET.copy()
    params.pop("page", None)
    if current == key:
        params["sort"], state, arrow = f"-{key}", "ascending", "▲"
    elif current == f"-{key}":
        params["sort"], state, arrow = key, "descending", "▼"
    else:
        params["sort"], state, arrow = key, "none", ""
    css = "sortable num" if numeric else "sortable"
    return format_html(
        '<th class="{}" aria-sort="{}" data-key="{}"><a href="?{}" title="{}">{}'
        '<span class="sort-arrow" aria-hidden="true">{}</span></a></th>',
        css, state, key, params.urlencode(), _("Sort by this column"), label, arrow,
    )
