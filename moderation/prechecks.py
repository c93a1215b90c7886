"""Pre-publication checks, run while the operator types and again at submission.

Dictionaries (sensitive, banned, common errors, advertising, approved sources,
allowed link domains) are kept by supervisors and inherited down the tree: an
organization sees the terms of its ancestors and its own; for the same term the
nearest organization's entry wins.

Matching uses one Aho-Corasick automaton per organization chain, kept in-process
and keyed by the chain's version stamp (the ids and versions of its dictionaries):
one small query per check decides whether the cached automaton is still current;
a dictionary change bumps its version and the next check rebuilds.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from datetime import date
from urllib.parse import urlsplit

import ahocorasick
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from moderation.models import MATCHED_KINDS, Dictionary, Severity, Term, TermKind

GOV_SUFFIX = "gov.cn"
_CACHE_SIZE = 64


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    kind: str
    severity: str
    term: str
    suggestion: str = ""
    message: str = ""

    @property
    def key(self) -> str:
        """What an override names: the same term overridden once covers every
        occurrence."""
        return f"{self.kind}:{self.term}"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["key"] = self.key
        return data


@dataclass
class _Compiled:
    automaton: ahocorasick.Automaton | None
    approved_sources: frozenset[str]
    allowed_domains: tuple[str, ...]


_cache: OrderedDict[tuple, _Compiled] = OrderedDict()
_lock = threading.Lock()


def ancestor_paths(path: str, steplen: int = 4) -> list[str]:
    return [path[:i] for i in range(steplen, len(path) + 1, steplen)]


def _stamp(org_path: str) -> tuple:
    rows = Dictionary.objects.filter(org_path__in=ancestor_paths(org_path)).values_list(
        "id", "version", "updated_at"
    )
    return tuple(sorted(rows))


def _build(stamp: tuple) -> _Compiled:
    ids = [row[0] for row in stamp]
    terms = (
        Term.objects.filter(dictionary_id__in=ids)
        .order_by("dictionary__org_path")  # shallow first, so the nearest wins below
        .values_list("term", "suggestion", "severity", "dictionary__kind")
    )
    entries: dict[str, tuple] = {}
    sources, domains = set(), set()
    for term, suggestion, severity, kind in terms.iterator(chunk_size=5000):
        if kind == TermKind.APPROVED_SOURCE:
            sources.add(_norm_source(term))
        elif kind == TermKind.ALLOWED_DOMAIN:
            domains.add(term.strip().lower().lstrip("."))
        elif kind in MATCHED_KINDS and term:
            if kind in (TermKind.SENSITIVE, TermKind.BANNED) and severity != Severity.SOFT:
                severity = Severity.HARD
            entries[term] = (kind, severity, term, suggestion)
    automaton = None
    if entries:
        automaton = ahocorasick.Automaton()
        for term, value in entries.items():
            automaton.add_word(term, value)
        automaton.make_automaton()
    return _Compiled(automaton, frozenset(sources), tuple(sorted(domains)))


# The live endpoint (called on every pause in typing) may reuse a chain's version
# stamp this many seconds: a dictionary change reaches the live feedback at most this
# late. Submission always reads the stamp afresh (max_age=0).
LIVE_STAMP_AGE = 2.0
_stamps: dict[str, tuple[float, tuple]] = {}


def compiled_for(org_path: str, max_age: float = 0.0) -> _Compiled:
    now = time.monotonic()
    seen = _stamps.get(org_path) if max_age > 0 else None
    if seen is not None and now - seen[0] <= max_age:
        stamp = seen[1]
    else:
        stamp = _stamp(org_path)
        with _lock:
            _stamps[org_path] = (now, stamp)
            if len(_stamps) > 4 * _CACHE_SIZE:
                _stamps.clear()
    key = (org_path, stamp)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    compiled = _build(stamp)
    with _lock:
        _cache[key] = compiled
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled


def clear_cache() -> None:
    with _lock:
        _cache.clear()
        _stamps.clear()


# --- individual checks -----------------------------------------------------------------
_KIND_MESSAGES = {
    TermKind.SENSITIVE: gettext_noop("Sensitive word"),
    TermKind.BANNED: gettext_noop("Banned word"),
    TermKind.COMMON_ERROR: gettext_noop("Common error"),
    TermKind.ADVERTISING: gettext_noop("Advertising word"),
}


def _dictionary_hits(text: str, compiled: _Compiled) -> list[Hit]:
    if compiled.automaton is None:
        return []
    hits = []
    for end, (kind, severity, term, suggestion) in compiled.automaton.iter(text):
        hits.append(
            Hit(end - len(term) + 1, end + 1, kind, severity, term, suggestion,
                _(_KIND_MESSAGES[kind]))
        )
    return hits


_ID_RE = re.compile(r"(?<![0-9])[1-9]\d{5}(?:18|19|20)\d{2}\d{2}\d{2}\d{3}[\dXx](?![0-9A-Za-z])")
_MOBILE_RE = re.compile(r"(?<![0-9])1[3-9]\d{9}(?![0-9])")
_URL_RE = re.compile(r"https?://[^\s<>\"'，。；、）)】]+", re.IGNORECASE)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_card_valid(number: str) -> bool:
    """GB 11643: 17 digits, a plausible birth date, and the ISO 7064 check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def _personal_data_hits(text: str) -> list[Hit]:
    hits = []
    for m in _ID_RE.finditer(text):
        if id_card_valid(m.group()):
            hits.append(Hit(m.start(), m.end(), "personal_id", Severity.HARD, m.group(), "",
                            _("ID card number")))
    for m in _MOBILE_RE.finditer(text):
        hits.append(Hit(m.start(), m.end(), "personal_phone", Severity.SOFT, m.group(), "",
                        _("Mobile phone number")))
    return hits


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    host = host.lower().rstrip(".")
    for suffix in (GOV_SUFFIX, *allowed):
        if host == suffix or host.endswith("." + suffix):
            return True
    return False


def _link_hits(text: str, links: list[str], compiled: _Compiled) -> list[Hit]:
    hits = []
    seen = set()
    found = [(m.start(), m.end(), m.group()) for m in _URL_RE.finditer(text)]
    found += [(-1, -1, url) for url in links or []]
    for start, end, url in found:
        host = urlsplit(url).hostname or ""
        if host_allowed(host, compiled.allowed_domains) or (url, start) in seen:
            continue
        seen.add((url, start))
        hits.append(Hit(start, end, "link_domain", Severity.SOFT, host or url, "",
                        _("Link outside government domains")))
    return hits


def _norm_source(value: str) -> str:
    return re.sub(r"\s+", "", value or "").lower()


def _repost_hits(is_repost: bool, source: str, compiled: _Compiled) -> list[Hit]:
    if not is_repost:
        return []
    if not source.strip():
        return [Hit(-1, -1, "repost_source", Severity.HARD, "", "",
                    _("A repost must name its source."))]
    if _norm_source(source) in compiled.approved_sources:
        return []
    return [Hit(-1, -1, "repost_source", Severity.SOFT, source.strip(), "",
                _("Repost source is not on the approved-source list"))]


def _length_hits(text: str, platforms) -> list[Hit]:
    hits = []
    for code, name, limit in platforms:
        if limit and len(text) > limit:
            hits.append(Hit(limit, len(text), "length", Severity.HARD, code, str(limit),
                            _("Longer than %(platform)s allows (%(limit)s characters)")
                            % {"platform": name, "limit": limit}))
    return hits


def run_prechecks(
    *,
    text: str,
    org_path: str,
    links: list[str] | None = None,
    is_repost: bool = False,
    repost_source: str = "",
    platforms: list[tuple[str, str, int | None]] = (),
    stamp_max_age: float = 0.0,
) -> list[Hit]:
    """Every hit, ordered by position (hits without a position, such as the repost
    source, first). `platforms` are (code, name, max_post_length) of the targets;
    `stamp_max_age` > 0 only for live feedback (see LIVE_STAMP_AGE)."""
    compiled = compiled_for(org_path, stamp_max_age)
    hits = _dictionary_hits(text, compiled)
    hits += _personal_data_hits(text)
    hits += _link_hits(text, links or [], compiled)
    hits += _repost_hits(is_repost, repost_source, compiled)
    hits += _length_hits(text, platforms)
    hits.sort(key=lambda h: (h.start, -h.end))
    return hits


def split_hits(hits: list[Hit]) -> tuple[list[Hit], list[Hit]]:
    hard = [h for h in hits if h.severity == Severity.HARD]
    soft = [h for h in hits if h.severity == Severity.SOFT]
    return hard, soft
