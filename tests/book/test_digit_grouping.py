"""One digit-grouping style in Chinese prose (issue 28): a thin space, written in math as ``$20\\,000$``.

Chapters 1–4 group large numbers as ``$N = 20\\,000$`` (the style most used); a comma (``1,797``) or a plain space
(``1 218``) between digit groups in Chinese prose is flagged. Math, inline code and MyST roles are removed first
(code and outputs keep Python's own formatting), so only prose numbers are checked.
"""

from __future__ import annotations

import re

import pytest

from .bookcheck import parse, sources
from .test_punctuation import STRIP, prose

GROUPED = re.compile(r"(?<![\d.,])\d{1,3}(?:[, ]\d{3})+(?![\d.,])")


def grouping_errors(text: str) -> list[str]:
    clean = STRIP.sub("X", text)
    return [m.group(0) for m in GROUPED.finditer(clean)]


def test_the_rule_itself():
    assert grouping_errors("含有 1,797 張影像") == ["1,797"]
    assert grouping_errors("這個神經網路有 1 218 個參數") == ["1 218"]
    assert grouping_errors("含有 $1\\,797$ 張影像，$N = 20\\,000$") == []
    assert grouping_errors("在 $d=64$、784 與 3072 時，`f\"{n:,}\"` 與 (1.3)") == []


TEXTS = [(f"{where}:{line}", chunk) for where, text in sources() for line, chunk in prose(parse(text))]


@pytest.mark.parametrize("where, text", TEXTS, ids=[w for w, _ in TEXTS])
def test_thin_space_digit_groups_in_chinese_prose(where, text):
    chinese = "\n".join(line for line in text.splitlines() if re.search(r"[\u3400-\u9fff]", line))
    assert grouping_errors(chinese) == [], f"{where}: write large numbers as $20\\,000$"
