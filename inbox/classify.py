"""Keyword suggestion of a message's category (rule 20) and must-answer (rule 19).

A suggestion only: staff confirm the category. One Aho-Corasick automaton over all
keywords (pyahocorasick, already used by the pre-checks) scans a text once.
"""

from __future__ import annotations

from functools import lru_cache

import ahocorasick

from inbox.models import Category

KEYWORDS: dict[str, tuple[str, ...]] = {
    Category.REPORT: ("举报", "揭发", "贪污", "受贿", "违法", "违规", "黑恶", "偷排"),
    Category.COMPLAINT: ("投诉", "质疑", "不满", "乱收费", "态度差", "推诿", "拖欠",
                         "不作为", "扰民", "噪音"),
    Category.SUGGESTION: ("建议", "希望", "能否", "可否", "意见", "提议", "呼吁"),
    Category.INQUIRY: ("请问", "咨询", "怎么办", "如何", "什么时候", "哪里", "多久",
                       "是否", "?", "？"),
    Category.PRAISE: ("感谢", "点赞", "赞扬", "表扬", "辛苦了", "致敬", "好评"),
}
# Ties go to the first category in this order (a report outranks a complaint...).
ORDER = [Category.REPORT, Category.COMPLAINT, Category.SUGGESTION, Category.INQUIRY,
         Category.PRAISE]
# Rule 19: matters that must be answered whatever the category.
MUST_ANSWER_KEYWORDS = ("政策", "落实", "公开", "监管", "突发", "事故", "诉求",
                        "群众反映", "应急")
MUST_ANSWER_CATEGORIES = {Category.INQUIRY, Category.COMPLAINT, Category.REPORT,
                          Category.SUGGESTION}


@lru_cache(maxsize=1)
def _automaton():
    auto = ahocorasick.Automaton()
    for category, words in KEYWORDS.items():
        for word in words:
            auto.add_word(word, (str(category), word))
    for word in MUST_ANSWER_KEYWORDS:
        auto.add_word(word, ("must", word))
    auto.make_automaton()
    return auto


def suggest(text: str) -> tuple[str, bool]:
    """(suggested category or "", must answer) for a text."""
    hits: dict[str, int] = {}
    must = False
    for _end, (kind, _word) in _automaton().iter(text or ""):
        if kind == "must":
            must = True
        else:
            hits[kind] = hits.get(kind, 0) + 1
    if not hits:
        return "", must
    best = max(ORDER, key=lambda c: (hits.get(str(c), 0), -ORDER.index(c)))
    category = str(best)
    return category, must or category in MUST_ANSWER_CATEGORIES


def must_answer(category: str, text: str) -> bool:
    if category in MUST_ANSWER_CATEGORIES:
        return True
    _c, must = suggest(text)
    return must
