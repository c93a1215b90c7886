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


# Parameters that shape the page, not the rows: never passed on to an export.
_NOT_FILTERS = ("page", "per_page", "sort", "file_format")


@register.simple_tag(takes_context=True)
def export_href(context, kind: str, file_format: str):
    """The link that exports list `kind` (common/exports.py) with the page's
    filters, in `file_format` (exportjobs.views.list_export)."""
    from django.urls import reverse

    params = context["request"].GET.copy()
    for key in _NOT_FILTERS:
        params.pop(key, None)
    params["file_format"] = file_format
    return f"{reverse('exports:list_export', args=[kind])}?{params.urlencode()}"
