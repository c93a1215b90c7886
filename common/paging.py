"""Counts of large lists, computed once a minute instead of on every page.

A national list counts 200,000 rows on each page view (and again on the next
page). `CachedCountPaginator` keeps the count of a *large* result (at least
COUNT_CACHE_MIN_ROWS, default 10,000) in the cache for COUNT_CACHE_SECONDS (60),
keyed by the count's SQL and parameters, so the key differs per scope and filter.
Small results are counted every time (cheap and exact: a row just added shows
at once); a large total may lag a minute, which a total of 10^5 rows can afford.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.utils.functional import cached_property


def cached_count(queryset) -> int:
    try:
        sql, params = queryset.order_by().query.sql_with_params()
    except Exception:  # an empty IN () and the like: count it
        return queryset.count()
    digest = hashlib.sha1(f"{queryset.db}|{sql}|{params!r}".encode()).hexdigest()
    key = f"count:{digest}"
    hit = cache.get(key)
    if hit is not None:
        return hit
    count = queryset.count()
    if count >= int(getattr(settings, "COUNT_CACHE_MIN_ROWS", 10_000)):
        cache.set(key, count, int(getattr(settings, "COUNT_CACHE_SECONDS", 60)))
    return count


class CachedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if hasattr(object_list, "query") and hasattr(object_list, "count"):
            return cached_count(object_list)
        return super().count
