"""The revision diff is exact and bounded: it stops refining at its deadline instead
of holding a worker (timings live in bench/, not here)."""

from __future__ import annotations

import html
import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from moderation import selectors


def sides(markup: str) -> tuple[str, str]:
    text = markup.replace("<br>", "\n")
    old = re.sub(r"<ins>.*?</ins>", "", text, flags=re.S)
    new = re.sub(r"<del>.*?</del>", "", text, flags=re.S)
    strip = lambda s: html.unescape(re.sub(r"</?(ins|del)>", "", s))  # noqa: E731
    return strip(old), strip(new)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="甲乙丙丁<>&\n ab", max_size=80), st.text(alphabet="甲乙丙丁<>&\n ab", max_size=80))
def test_the_diff_reconstructs_both_texts(old, new):
    assert sides(selectors.revision_diff_html(old, new)) == (old, new)


def test_a_changed_character_is_marked():
    assert selectors.revision_diff_html("通知一", "通知二") == "通知<del>一</del><ins>二</ins>"


def test_the_diff_stops_refining_at_its_deadline(monkeypatch):
    """With a clock that runs a second per reading the deadline passes at once: the
    result is coarse (one deletion, one insertion for the differing middle) but still
    exact. Without the deadline the same texts diff finely."""
    import sys
    from types import SimpleNamespace

    import diff_match_patch  # noqa: F401  (loads the module patched below)

    dmp_module = sys.modules["diff_match_patch.diff_match_patch"]

    old = "".join(chr(0x4E00 + (i * 7) % 500) for i in range(3000))
    new = "".join("改" if i % 50 == 5 else c for i, c in enumerate(old))
    fine = selectors.revision_diff_html(old, new)
    assert fine.count("<ins>") == 60  # every changed character on its own

    ticks = itertools.count()
    monkeypatch.setattr(dmp_module, "time", SimpleNamespace(time=lambda: float(next(ticks))))
    coarse = selectors.revision_diff_html(old, new)
    assert sides(coarse) == (old, new)
    assert coarse.count("<ins>") == 1 and coarse.count("<del>") == 1
