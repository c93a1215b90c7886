"""Counterfeit and unfiled accounts (DOMAIN rules 7 and 32).

A supervisor pastes names and profile URLs seen on platforms. Each candidate is
compared with the registered accounts of the supervisor's scope:

- its URL (or id) is a registered account: fine, unless that account is cancelled;
- its name equals, sounds like (same pinyin) or looks like (rapidfuzz) a registered
  account's name: an imitation, ranked by likeness;
- it carries the name of an organization or place of the scope: unfiled.

No all-pairs comparison: an inverted index of pinyin syllable bigrams (and skip
bigrams) shortlists, per candidate, the accounts sharing the rarest grams, and only
those are scored. Pinyin comes from a per-character table (pypinyin once per distinct
character), so 200,000 names are indexed in about a second. The index is kept in
process memory per scope and rebuilt when the scope's accounts change (count and
latest update, one aggregate query).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Max
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from accounts.models import Organization, OrgKind
from accounts.scoping import Action, Domain, Scope, scope_for
from common.errors import ApplicationError, ValidationFailed
from registry.models import AccountStatus, MediaAccount, Platform

IMITATION_MIN = 75  # likeness (0-100) from which a similar name is an imitation
SHORTLIST = 60  # accounts scored per candidate
RARE_GRAMS = 6  # grams of a candidate used for the shortlist (the rarest)
STOP_POSTINGS = 1500  # names per gram above which a gram only narrows, never counts
MAX_CANDIDATES = 5000

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_URL = re.compile(r"https?://[^\s,，;；|]+", re.IGNORECASE)
_SUFFIXES = ("人民政府", "政府")


def normalize(text: str) -> str:
    """Compare names without width, case, spaces and punctuation."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text or "").lower())


_PINYIN: dict[str, str] = {}
_PINYIN_LOCK = threading.Lock()


def _syllable(char: str) -> str:
    found = _PINYIN.get(char)
    if found is None:
        if "\u3400" <= char <= "\u9fff":
            from pypinyin import lazy_pinyin

            found = lazy_pinyin(char)[0]
        else:
            found = char
        with _PINYIN_LOCK:
            _PINYIN[char] = found
    return found


def syllables(name: str) -> list[str]:
    """Pinyin (no tones) per character of a normalized name; other characters as is."""
    return [_syllable(c) for c in name]


def grams(sylls: list[str]) -> set[str]:
    if len(sylls) < 2:
        return set(sylls)
    out = {f"{a}|{b}" for a, b in zip(sylls, sylls[1:], strict=False)}
    out |= {f"{a}_{b}" for a, b in zip(sylls, sylls[2:], strict=False)}
    return out


@dataclass
class Entry:
    id: int
    name: str
    norm: str
    pinyin: str
    platform_id: int
    platform: str
    account_id: str
    status: str
    organization_id: int
    organization: str


@dataclass
class Index:
    """Accounts of a scope, with their names deduplicated: offices reuse one name on
    several platforms, so grams and pinyin are computed once per distinct name."""

    rows: list[tuple] = field(default_factory=list)  # ROW fields + name id
    norms: list[str] = field(default_factory=list)  # distinct normalized names
    pinyins: list[str] = field(default_factory=list)
    name_rows: list[list[int]] = field(default_factory=list)  # name id -> row positions
    postings: dict[str, list[int]] = field(default_factory=dict)  # gram -> name ids
    by_platform_id: dict[tuple[int, str], list[int]] = field(default_factory=dict)
    by_norm: dict[str, int] = field(default_factory=dict)
    places: object = None  # Aho-Corasick automaton: place/organization name -> info
    stamp: tuple = ()

    def name_id(self, norm: str) -> int:
        found = self.by_norm.get(norm)
        if found is None:
            found = len(self.norms)
            sylls = syllables(norm)
            self.by_norm[norm] = found
            self.norms.append(norm)
            self.pinyins.append(" ".join(sylls))
            self.name_rows.append([])
            for gram in grams(sylls):
                self.postings.setdefault(gram, []).append(found)
        return found

    def entry(self, position: int) -> Entry:
        pk, name, platform_id, platform, account_id, status, org_id, org_name, nid = (
            self.rows[position]
        )
        return Entry(
            pk,
            name,
            self.norms[nid],
            self.pinyins[nid],
            platform_id,
            platform,
            account_id,
            status,
            org_id,
            org_name,
        )

    def __len__(self) -> int:
        return len(self.rows)


def _place_names(name: str, short_name: str, kind: str) -> set[str]:
    names = {normalize(name), normalize(short_name)}
    if kind == OrgKind.GOVERNMENT:
        for suffix in _SUFFIXES:
            if name.endswith(suffix):
                names.add(normalize(name[: -len(suffix)]))
    return {
        n for n in names if len(n) >= 3 or (len(n) == 2 and kind == OrgKind.GOVERNMENT)
    }


def build_index(scope: Scope, stamp: tuple = ()) -> Index:
    import ahocorasick

    index = Index(stamp=stamp)
    platforms = dict(Platform.objects.values_list("id", "name"))
    rows = (
        MediaAccount.objects.filter(scope.q("org_path"))
        # A never-opened account (its opening filing rejected or withdrawn) is not
        # in the registry: a candidate matching it is unfiled, not registered.
        .exclude(status=AccountStatus.NOT_OPENED)
        .order_by()
        .values_list(
            "id",
            "display_name",
            "platform_id",
            "platform_account_id",
            "status",
            "organization_id",
            "organization__name",
        )
        .iterator(chunk_size=5000)
    )
    name_ids: dict[str, int] = {}  # raw display name -> name id
    append = index.rows.append
    by_platform_id = index.by_platform_id
    for pk, name, platform_id, account_id, status, org_id, org_name in rows:
        nid = name_ids.get(name)
        if nid is None:
            nid = name_ids[name] = index.name_id(normalize(name))
        position = len(index.rows)
        append(
            (
                pk,
                name,
                platform_id,
                platforms.get(platform_id, ""),
                account_id,
                status,
                org_id,
                org_name,
                nid,
            )
        )
        index.name_rows[nid].append(position)
        by_platform_id.setdefault((platform_id, account_id), []).append(position)
    automaton = ahocorasick.Automaton()
    orgs = Organization.objects.filter(scope.q("path")).values_list(
        "id", "name", "short_name", "kind"
    )
    for org_id, name, short_name, kind in orgs.iterator(chunk_size=5000):
        for place in _place_names(name, short_name, kind):
            if place not in automaton:
                automaton.add_word(place, (place, org_id, name))
    if len(automaton):
        automaton.make_automaton()
        index.places = automaton
    return index


_CACHE: dict[tuple, Index] = {}
_CACHE_LOCK = threading.Lock()


def _stamp(scope: Scope) -> tuple:
    agg = MediaAccount.objects.filter(scope.q("org_path")).aggregate(
        n=Count("id"), m=Max("updated_at")
    )
    return (agg["n"], agg["m"].isoformat() if agg["m"] else "")


def index_for(scope: Scope) -> Index:
    """The scope's index, rebuilt when its accounts changed since it was built."""
    key = (scope.subtree_paths, scope.own_paths)
    stamp = _stamp(scope)
    cached = _CACHE.get(key)
    if cached is not None and cached.stamp == stamp:
        return cached
    index = build_index(scope, stamp)
    with _CACHE_LOCK:
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = index
    return index


# --- candidates -----------------------------------------------------------------------
@dataclass
class Candidate:
    line: int
    text: str
    name: str
    url: str


_HEADER_WORDS = {
    "名称",
    "账号名称",
    "账号",
    "name",
    "url",
    "链接",
    "主页链接",
    "名称链接",
}


def parse_candidates(text: str) -> list[Candidate]:
    """One candidate per line: a name, a URL, or both (separated by space, tab or comma)."""
    out = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        found = _URL.search(line)
        url = found.group(0) if found else ""
        name = (line[: found.start()] + " " + line[found.end() :]) if found else line
        name = name.strip().strip(",，;；|\t ").strip()
        if not url and normalize(name) in _HEADER_WORDS:
            continue
        out.append(Candidate(number, line[:300], name[:100], url[:500]))
        if len(out) >= MAX_CANDIDATES:
            break
    return out


def file_to_text(filename: str, data: bytes) -> str:
    """Lines of an uploaded list (TXT, CSV or XLSX), cells joined by tabs.

    SECURITY: bounded (common.spreadsheets): checked before it is opened, read
    read-only, and at most MAX_CANDIDATES + 1 rows are read; called only in the
    task `registry.counterfeit_file_check` (upload_check_run), never in a request."""
    from common import spreadsheets
    from registry.services.ledger_import import ImportFileError, decode_csv

    spreadsheets.spreadsheet_check(data)
    if spreadsheets.is_xlsx(data):
        lines = []
        try:
            for row in spreadsheets.xlsx_rows(data):
                lines.append("\t".join("" if v is None else str(v) for v in row))
                if len(lines) > MAX_CANDIDATES + 1:
                    break
        except spreadsheets.SpreadsheetRefused:
            raise
        except Exception as exc:  # any unreadable workbook is the user's file problem
            raise ImportFileError(
                _("This file is not a readable .xlsx workbook.")
            ) from exc
        return "\n".join(lines)
    return decode_csv(data)


# --- an uploaded list, checked in a task ------------------------------------------------
# SECURITY (issue 8 item 5): an uploaded list is never parsed in a web request. The
# request checks its bounds without parsing (common.spreadsheets.spreadsheet_check),
# keeps it under VAR_DIR/counterfeit/ and queues `registry.counterfeit_file_check`;
# the result lands in the cache under the same key as a typed-in check's, the state
# beside it, and the page (or the API's status route) shows it when ready.
RESULT_TTL = 3600


def _result_key(user_id: int, result_id: str) -> str:
    return f"counterfeit:{user_id}:{result_id}"


def _state_key(user_id: int, result_id: str) -> str:
    return f"counterfeit-state:{user_id}:{result_id}"


def _upload_path(result_id: str):
    from django.conf import settings

    return settings.VAR_DIR / "counterfeit" / f"{result_id}.upload"


def upload_stage(*, user, upload) -> str:
    """Bound-check an uploaded list, keep it and queue its check; return its id.
    Raises ValidationFailed for a file out of bounds (nothing kept), ServiceUnavailable
    when the broker is down (the file is kept; the page retries)."""
    import uuid

    from django.core.cache import cache

    from common import spreadsheets
    from registry.services.ledger_import import MAX_BYTES, ImportFileError

    if upload.size > MAX_BYTES:
        raise ImportFileError(_("The file is too large."))
    data = upload.read()
    spreadsheets.spreadsheet_check(data)  # bounds only: nothing is parsed here
    result_id = uuid.uuid4().hex
    path = _upload_path(result_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    cache.set(_state_key(user.pk, result_id), {"state": "queued"}, RESULT_TTL)
    upload_queue(user_id=user.pk, result_id=result_id)
    return result_id


def upload_queue(*, user_id: int, result_id: str) -> None:
    from common import spreadsheets
    from registry.tasks_ledger import counterfeit_file_check

    spreadsheets.parse_queue(counterfeit_file_check, result_id, user_id)


def upload_state(user_id: int, result_id: str) -> dict | None:
    """{"state": queued|running|done|failed, "error": ...} or None (unknown/expired)."""
    from django.core.cache import cache

    return cache.get(_state_key(user_id, result_id))


def result_data(user_id: int, result_id: str) -> list[dict] | None:
    from django.core.cache import cache

    return cache.get(_result_key(user_id, result_id))


def result_store(user_id: int, result_id: str, data: list[dict]) -> None:
    """Keep a check's result for its user, and remember it as their latest (what the
    export shows when no result is named, as a worker rebuilding it would)."""
    from django.core.cache import cache

    cache.set_many({_result_key(user_id, result_id): data,
                    f"counterfeit-latest:{user_id}": result_id}, RESULT_TTL)


def latest_result_id(user_id: int) -> str | None:
    from django.core.cache import cache

    return cache.get(f"counterfeit-latest:{user_id}")


def upload_check_run(*, user, result_id: str) -> None:
    """The task's work: parse the kept list (bounded), check it in the user's scope,
    store the result, remove the file."""
    from django.core.cache import cache

    path = _upload_path(result_id)
    state_key = _state_key(user.pk, result_id)
    if not path.exists():
        return
    cache.set(state_key, {"state": "running"}, RESULT_TTL)
    try:
        candidates = parse_candidates(file_to_text(path.name, path.read_bytes()))
        if not candidates:
            raise ValidationFailed(_("Paste at least one account name or profile URL."))
        results = counterfeit_check(user=user, candidates=candidates)
    except ApplicationError as exc:
        cache.set(state_key, {"state": "failed", "error": str(exc.message)}, RESULT_TTL)
    else:
        result_store(user.pk, result_id, [f.as_dict() for f in results])
        cache.set(state_key, {"state": "done"}, RESULT_TTL)
    finally:
        path.unlink(missing_ok=True)


# --- checking -------------------------------------------------------------------------
@dataclass
class Finding:
    candidate: Candidate
    kind: str  # cancelled, imitation, unfiled, registered, none
    likeness: int
    account: Entry | None = None
    reasons: list[str] = field(default_factory=list)
    organization_id: int | None = None  # whose name it carries (for "file it")
    organization: str = ""

    @property
    def is_finding(self) -> bool:
        return self.kind in ("cancelled", "imitation", "unfiled")

    def as_dict(self) -> dict:
        account = self.account
        return {
            "line": self.candidate.line,
            "name": self.candidate.name,
            "url": self.candidate.url,
            "kind": self.kind,
            "is_finding": self.is_finding,
            "likeness": self.likeness,
            "reasons": self.reasons,
            "account": None
            if account is None
            else {
                "id": account.id,
                "name": account.name,
                "platform": account.platform,
                "platform_account_id": account.account_id,
                "status": account.status,
                "organization_id": account.organization_id,
                "organization": account.organization,
            },
            "organization_id": self.organization_id
            or (account.organization_id if account else None),
            "organization": self.organization
            or (account.organization if account else ""),
        }


KIND_ORDER = {"cancelled": 0, "imitation": 1, "unfiled": 2, "registered": 3, "none": 4}


def _shortlist(index: Index, sylls: list[str]) -> list[int]:
    lists = [index.postings.get(g) for g in grams(sylls)]
    lists = sorted((p for p in lists if p), key=len)
    if not lists:
        return []
    counted = [p for p in lists[:RARE_GRAMS] if len(p) <= STOP_POSTINGS]
    if counted:
        counts: Counter = Counter()
        for postings in counted:
            counts.update(postings)
        # Names sharing the most rare grams first; the scorer decides.
        return [pos for pos, _n in counts.most_common(SHORTLIST)]
    # Only common grams: names having the two rarest of them.
    both = (
        set(lists[0][: STOP_POSTINGS * 4]).intersection(lists[1])
        if len(lists) > 1
        else set(lists[0])
    )
    return list(both)[:SHORTLIST]


def _likeness(norm: str, pinyin: str, other: str, other_pinyin: str) -> tuple[int, str]:
    if norm == other:
        return 100, "same_name"
    if pinyin == other_pinyin:
        return 98, "same_pinyin"
    char = fuzz.ratio(norm, other)
    if min(len(norm), len(other)) >= 3:
        char = max(char, fuzz.partial_ratio(norm, other) * 0.9)
    sound = fuzz.ratio(pinyin, other_pinyin) * 0.95
    if sound > char:
        return int(sound), "similar_pinyin"
    return int(char), "similar_characters"


def _reason(kind: str, entry: Entry, score: int) -> str:
    labels = {
        "same_name": _(
            "Same name as the registered account “%(name)s” (%(platform)s, %(org)s)."
        ),
        "same_pinyin": _(
            "Sounds the same (same pinyin) as the registered account “%(name)s” (%(platform)s, %(org)s)."
        ),
        "similar_pinyin": _(
            "Sounds like the registered account “%(name)s” (%(platform)s, %(org)s): %(score)d%%."
        ),
        "similar_characters": _(
            "Looks like the registered account “%(name)s” (%(platform)s, %(org)s): %(score)d%%."
        ),
    }
    return labels[kind] % {
        "name": entry.name,
        "platform": entry.platform,
        "org": entry.organization,
        "score": score,
    }


def _places_in(index: Index, norm: str) -> list[tuple[str, int, str]]:
    if index.places is None or not norm:
        return []
    found = {}
    for _end, (place, org_id, org_name) in index.places.iter(norm):
        if place not in found:
            found[place] = (place, org_id, org_name)
    return sorted(found.values(), key=lambda p: -len(p[0]))


def check_one(index: Index, candidate: Candidate, platforms: list[Platform]) -> Finding:
    from common.errors import ValidationFailed
    from registry.services.accounts import parse_profile_url

    reasons: list[str] = []
    if candidate.url:
        try:
            parsed = parse_profile_url(candidate.url, platforms=platforms)
        except ValidationFailed:
            reasons.append(_("The URL is not a profile address we recognise."))
        else:
            positions = index.by_platform_id.get(
                (parsed.platform.pk, parsed.account_id), []
            )
            found = [index.entry(p) for p in positions]
            live = [e for e in found if e.status != AccountStatus.CANCELLED]
            if live:
                return Finding(
                    candidate, "registered", 100, live[0], [_("Registered.")]
                )
            if found:
                entry = found[0]
                return Finding(
                    candidate,
                    "cancelled",
                    100,
                    entry,
                    [
                        _(
                            "This is the cancelled account “%(name)s” (%(org)s); it is still on the platform."
                        )
                        % {"name": entry.name, "org": entry.organization}
                    ],
                )
            reasons.append(_("This platform account is not in the registry."))
    norm = normalize(candidate.name)
    if not norm:
        return Finding(candidate, "none", 0, None, reasons or [_("No name given.")])
    sylls = syllables(norm)
    pinyin = " ".join(sylls)
    if not candidate.url:
        nid = index.by_norm.get(norm)
        found = (
            [index.entry(p) for p in index.name_rows[nid]] if nid is not None else []
        )
        live = [e for e in found if e.status != AccountStatus.CANCELLED]
        if live:
            return Finding(
                candidate,
                "registered",
                100,
                live[0],
                [
                    _(
                        "A registered account has this name; give its URL to confirm it is the same account."
                    )
                ],
            )
        if found:
            entry = found[0]
            return Finding(
                candidate,
                "cancelled",
                100,
                entry,
                [
                    _("Same name as the cancelled account “%(name)s” (%(org)s).")
                    % {"name": entry.name, "org": entry.organization}
                ],
            )
    best: tuple[int, str, Entry] | None = None
    for nid in _shortlist(index, sylls):
        score, why = _likeness(norm, pinyin, index.norms[nid], index.pinyins[nid])
        if best is not None and score <= best[0]:
            continue
        # Of the accounts bearing that name, a live one: an imitation imitates what is
        # in use.
        positions = index.name_rows[nid]
        entries = [index.entry(p) for p in positions[:20]]
        entry = next(
            (e for e in entries if e.status != AccountStatus.CANCELLED), entries[0]
        )
        best = (score, why, entry)
    places = _places_in(index, norm)
    place_reason = [
        _("Carries the name of %(org)s.") % {"org": org_name}
        for _p, _id, org_name in places[:2]
    ]
    if best is not None and best[0] >= IMITATION_MIN:
        score, why, entry = best
        kind = "imitation"
        if entry.status == AccountStatus.CANCELLED:
            reasons.append(_("The matching account is cancelled."))
        return Finding(
            candidate,
            kind,
            min(100, score + (2 if places else 0)),
            entry,
            [_reason(why, entry, score), *place_reason, *reasons],
        )
    if places:
        place, org_id, org_name = places[0]
        likeness = min(74, 50 + int(24 * len(place) / max(len(norm), 1)))
        return Finding(
            candidate,
            "unfiled",
            likeness,
            best[2] if best else None,
            [*place_reason, _("Not in the registry: file it or report it."), *reasons],
            organization_id=org_id,
            organization=org_name,
        )
    return Finding(
        candidate,
        "none",
        best[0] if best else 0,
        None,
        reasons or [_("Nothing in your jurisdiction is like it.")],
    )


def counterfeit_check(*, user, candidates: list[Candidate]) -> list[Finding]:
    """Rank candidates against the user's registered accounts: findings first (by
    likeness), then registered and unrelated ones."""
    scope = scope_for(user, Action.VIEW, Domain.BUSINESS)
    if scope.is_empty:
        return []
    return check_in_scope(scope, candidates)


def check_in_scope(scope: Scope, candidates: list[Candidate]) -> list[Finding]:
    index = index_for(scope)
    platforms = list(Platform.objects.filter(is_active=True))
    results = [check_one(index, c, platforms) for c in candidates]
    results.sort(key=lambda f: (KIND_ORDER[f.kind], -f.likeness, f.candidate.line))
    return results
