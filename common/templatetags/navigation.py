"""{{ nav|main_menu }}: the top links and the menus of base.html's main navigation
(common/navigation.py builds `nav`), printed in Python.

Every page prints some 35 links; as a template loop (five values resolved,
localized and escaped per link) that was a millisecond of every page (issue 9).
The output is byte for byte what the loop printed: tests/ui/test_navigation.py keeps
the loop as the reference."""

from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


def _current(link) -> str:
    return ' aria-current="page"' if link.current else ""


@register.filter
def main_menu(nav: dict) -> str:
    """Values are escaped as `{{ }}` escapes them under autoescape (Django's
    `escape` is `html.escape` of the value's text)."""
    out = [
        f'<a class="nav-top" href="{escape(str(link.url))}"{_current(link)}>'
        f"{escape(str(link.label))}</a>"
        for link in nav["top"]
    ]
    out.append("\n      ")
    for menu in nav["menus"]:
        links = "".join(
            f'<a href="{escape(str(link.url))}" data-key="{escape(str(link.key))}"'
            f"{_current(link)}>{escape(str(link.label))}"
            + (
                f' <span class="nav-badge">{escape(str(link.badge))}</span>'
                if link.badge
                else ""
            )
            + "</a>"
            for link in menu.links
        )
        out.append(
            f'\n      <details class="navmenu{" current" if menu.current else ""}" '
            f'data-menu="{escape(str(menu.key))}">\n'
            f"        <summary>{escape(str(menu.label))}</summary>\n"
            f'        <div class="navmenu-panel">{links}</div>\n'
            "      </details>\n      "
        )
    return mark_safe("".join(out))
