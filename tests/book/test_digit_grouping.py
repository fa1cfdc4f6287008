"""One digit-grouping style in Chinese prose (issue 28): a thin space, written in math as ``$20\\,000$``.

Chapters 1–4 group large numbers as ``$N = 20\\,000$`` (the style most used); a comma (``1,797``) or a plain space
(``1 218``) between digit groups in Chinese prose is flagged. The prose is read with markdown-it
(:func:`bookcheck.prose`: math, inline code and MyST roles replaced by a placeholder; code and outputs keep Python's
own formatting), and only its lines that hold Chinese are checked.
"""

from __future__ import annotations

import re

import pytest

from .bookcheck import CJK, parse, sources
from .bookcheck import prose as prose_of
from .test_punctuation import prose

GROUPED = re.compile(r"(?<![\d.,])\d{1,3}(?:[, ]\d{3})+(?![\d.,])")


def grouping_errors(text: str) -> list[str]:
    chinese = [line for line in prose_of(text, hidden="X").splitlines() if CJK.search(line)]
    return [m.group(0) for line in chinese for m in GROUPED.finditer(line)]


def test_the_rule_itself():
    assert grouping_errors("含有 1,797 張影像") == ["1,797"]
    assert grouping_errors("這個神經網路有 1 218 個參數") == ["1 218"]
    assert grouping_errors("含有 $1\\,797$ 張影像，$N = 20\\,000$") == []
    assert grouping_errors("在 $d=64$、784 與 3072 時，`f\"{n:,}\"` 與 (1.3)") == []


TEXTS = [(f"{where}:{line}", chunk) for where, text in sources() for line, chunk in prose(parse(text))]


@pytest.mark.parametrize("where, text", TEXTS, ids=[w for w, _ in TEXTS])
def test_thin_space_digit_groups_in_chinese_prose(where, text):
    assert grouping_errors(text) == [], f"{where}: write large numbers as $20\\,000$"
