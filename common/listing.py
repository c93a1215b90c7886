"""What every list page shares: page sizes (20/50/100), sorting by a whitelisted
column (`?sort=due` or `?sort=-due`), and the total. Pages render
templates/includes/list_head.html (the total and the page-size choice), sortable
headers with `{% sort_th %}` (common/templatetags/listing.py) and
includes/pager.html."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

PAGE_SIZES = (20, 50, 100)


def page_size(request, default: int = PAGE_SIZES[0]) -> int:
    raw = request.GET.get("per_page", "")
    return int(raw) if raw.isdigit() and int(raw) in PAGE_SIZES else default


def paginate(request, queryset, *, default: int = PAGE_SIZES[0]) -> Page:
    """The requested page (a bad number gives the nearest page, never an error)."""
    return Paginator(queryset, page_size(request, default)).get_page(request.GET.get("page"))


def sort_key(request, allowed: dict[str, tuple[str, ...]], default: str) -> tuple[str, list]:
    """(the sort as given, the ORDER BY for it): `allowed` maps a column key to its
    ordering; "-key" reverses it. Anything else falls back to `default`."""
    raw = request.GET.get("sort", "")
    key = raw.lstrip("-")
    if key not in allowed:
        raw, key = default, default.lstrip("-")
    fields = allowed[key]
    if raw.startswith("-"):
        fields = tuple(f[1:] if f.startswith("-") else f"-{f}" for f in fields)
    return raw, list(fields)
