"""The one navigation registry: menus grouped by task, entries registered by each app.

Each app registers its entries in its ``AppConfig.ready``::

    from common.navigation import NavEntry, register

    register(NavEntry("ledger", _("Ledger"), "registry:ledger", menu="registry",
                      domain="business", action="view", order=20))

An entry names the menu it belongs to (``MENUS`` below), the URL name it opens, and
who sees it: the (domain, action) scope the user must hold somewhere and, optionally,
the roles of which the user must hold one. An app that is not built registers
nothing, so its menu is simply absent. A menu with no visible entry is not shown.

This module stands on the ground floor (``common``) and imports no app: the access
policy that answers "may this user see this entry?" is handed to it by ``accounts``
(``set_policy``) when that app is ready.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class Menu:
    key: str
    label: str
    order: int


# The menus, by task, in the order they appear. A top-level entry (menu=None) sits
# before them (the workbench) or in the user tools (notifications, see `placement`).
MENUS: tuple[Menu, ...] = (
    Menu("registry", pgettext_lazy("menu", "Registry"), 10),  # 台账管理
    Menu("filings", pgettext_lazy("menu", "Filing"), 20),  # 备案
    Menu("content", pgettext_lazy("menu", "Content security"), 30),  # 内容安全
    Menu("reposts", pgettext_lazy("menu", "Repost tasks"), 40),  # 转发任务
    Menu("messages", pgettext_lazy("menu", "Citizen messages"), 50),  # 留言办理
    Menu("oversight", pgettext_lazy("menu", "Oversight"), 60),  # 监督考核
    Menu("system", pgettext_lazy("menu", "System"), 70),  # 系统管理
)
_MENU_BY_KEY = {m.key: m for m in MENUS}


@dataclass(frozen=True)
class NavEntry:
    """One link. ``domain``/``action`` are the scoping names ("business", "view"...);
    ``roles`` (role values) narrows it to holders of one of them; ``query`` is appended
    to the URL (a pre-filtered list); ``badge`` returns a count shown beside the label
    (one query at most, it runs on every page)."""

    key: str
    label: str
    url_name: str
    menu: str | None
    domain: str = "business"
    action: str = "view"
    roles: frozenset[str] | None = None
    order: int = 100
    query: str = ""
    placement: str = "menu"  # "menu" (in its menu, or top level when menu is None) or "tools"
    badge: Callable | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.menu is not None and self.menu not in _MENU_BY_KEY:
            raise ValueError(f"unknown menu {self.menu!r}; one of {sorted(_MENU_BY_KEY)}")


_ENTRIES: dict[str, NavEntry] = {}
Policy = Callable[[object, str, str, "frozenset[str] | None"], bool]
_policy: Policy | None = None
_policy_key: Callable[[object], Hashable] | None = None

# The entries a policy key sees, with their URLs: (policy key, script prefix,
# urlconf) -> ((entry, url), ...). Per process; emptied when entries or the policy
# change. Nothing of a request is kept here (current link, badges: see `build`).
_VISIBLE: dict[tuple, tuple[tuple[NavEntry, str], ...]] = {}
_VISIBLE_MAX = 256


def register(*entries: NavEntry) -> None:
    """Add entries (a key registered twice keeps the first: ready() may run twice)."""
    for entry in entries:
        _ENTRIES.setdefault(entry.key, entry)
    _VISIBLE.clear()


def unregister(key: str) -> None:
    _ENTRIES.pop(key, None)
    _VISIBLE.clear()


def set_policy(policy: Policy, key: Callable[[object], Hashable] | None = None) -> None:
    """``policy(user, domain, action, roles) -> bool``; set once by accounts.

    ``key(user)``, when given, returns everything the policy's answers depend on
    (accounts: the roles the user holds): users with equal keys see the same
    entries, so which entries and their URLs are worked out once per key and
    process instead of on every page (issue 9: 1-3 ms a page)."""
    global _policy, _policy_key
    _policy, _policy_key = policy, key
    _VISIBLE.clear()


def registered() -> list[NavEntry]:
    return sorted(_ENTRIES.values(), key=lambda e: (e.order, e.key))


def entries_for(user) -> list[NavEntry]:
    """The entries the user may see (no query beyond the user's memberships)."""
    if not getattr(user, "is_authenticated", False) or _policy is None:
        return []
    return [e for e in registered() if _policy(user, e.domain, e.action, e.roles)]


def _url(entry: NavEntry) -> str | None:
    try:
        url = reverse(entry.url_name)
    except NoReverseMatch:
        return None
    return f"{url}?{entry.query}" if entry.query else url


def _visible(user) -> tuple[tuple[NavEntry, str], ...]:
    """(entry, url) of each entry the user may see and whose URL exists, in display
    order. Memoized by the policy's key: the answer is a function of it (and of the
    URLs, hence the script prefix and urlconf in the key), so no user's answer can
    differ from the one computed for another user with the same key."""
    if not getattr(user, "is_authenticated", False):
        return ()
    key = None
    if _policy_key is not None:
        key = (
            _policy_key(user),
            get_script_prefix(),
            get_urlconf() or settings.ROOT_URLCONF,
        )
        hit = _VISIBLE.get(key)
        if hit is not None:
            return hit
    visible = tuple(
        (entry, url) for entry in entries_for(user) if (url := _url(entry)) is not None
    )
    if key is not None:
        if len(_VISIBLE) >= _VISIBLE_MAX:
            _VISIBLE.clear()
        _VISIBLE[key] = visible
    return visible


@dataclass
class Link:
    key: str
    label: str
    url: str
    path: str
    current: bool = False
    badge: int | None = None


@dataclass
class MenuView:
    key: str
    label: str
    links: list[Link]

    @property
    def current(self) -> bool:
        return any(link.current for link in self.links)


def build(user, path: str) -> dict:
    """What base.html draws: top-level links, menus with their links, user tools.

    The current link is the one whose URL path is the longest prefix of ``path``
    ("/" only matches itself), so "/registry/filings/12/" marks "Filings".
    """
    # Fresh Links on every call: `current` and `badge` belong to this request.
    links: list[tuple[NavEntry, Link]] = [
        (entry, Link(entry.key, entry.label, url, url.split("?")[0]))
        for entry, url in _visible(user)
    ]
    matches = [
        link
        for _e, link in links
        if link.path == path or (link.path != "/" and path.startswith(link.path))
    ]
    if matches:
        best = max(len(m.path) for m in matches)
        # Several links may share a path (a list and its pre-filtered view): mark
        # the unfiltered one, or the first.
        same = [m for m in matches if len(m.path) == best]
        (next((m for m in same if "?" not in m.url), same[0])).current = True
    for entry, link in links:
        if entry.badge is not None:
            link.badge = entry.badge(user)
    top = [link for e, link in links if e.menu is None and e.placement == "menu"]
    tools = [link for e, link in links if e.placement == "tools"]
    menus = []
    for menu in MENUS:
        menu_links = [
            link for e, link in links if e.menu == menu.key and e.placement == "menu"
        ]
        if menu_links:
            menus.append(MenuView(menu.key, menu.label, menu_links))
    return {"top": top, "menus": menus, "tools": tools, "trail": _trail(top, menus, path)}


def _trail(top: list[Link], menus: list[MenuView], path: str) -> list[dict]:
    """Breadcrumbs below the top level: workbench > menu > the current entry (a link
    when the page is below it, e.g. a filing under "Filings")."""
    home = next((link for link in top if link.path == "/"), None)
    for menu in menus:
        for link in menu.links:
            if link.current:
                trail = [{"label": home.label, "url": home.url}] if home else []
                trail.append({"label": menu.label, "url": ""})
                below = path != link.path
                trail.append({"label": link.label, "url": link.url if below else ""})
                return trail
    return []


def flat(nav: dict) -> Iterable[Link]:
    """Every link of a built navigation, in display order."""
    yield from nav["top"]
    for menu in nav["menus"]:
        yield from menu.links
    yield from nav["tools"]
