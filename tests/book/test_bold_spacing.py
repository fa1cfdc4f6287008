"""A space separates Chinese from a Latin word or number across a bold marker (issue 28).

The book writes 「之間的 **Fisher 散度**」 and 「**前向 SDE** 把資料」: where a bold span starts or ends with a Latin
letter or digit and the neighbouring character outside it is Chinese (or the other way round), one space stands
outside the ``**`` marker, as everywhere else in the book between Chinese and Latin words. Checked on every book page
and every notebook markdown cell.
"""

from __future__ import annotations

import re

import pytest

from .bookcheck import sources

HAN = r"[\u3400-\u9fff]"
LATIN = r"[A-Za-z0-9]"
BOLD = re.compile(r"\*\*([^*\n]+?)\*\*")


def bold_spacing_errors(text: str) -> list[str]:
    """Every bold span whose edge touches the other script with no space between them."""
    errors = []
    for m in BOLD.finditer(text):
        inner = m.group(1)
        before = text[m.start() - 1] if m.start() > 0 else ""
        after = text[m.end()] if m.end() < len(text) else ""
        left = (re.fullmatch(HAN, inner[0]) and re.fullmatch(LATIN, before or " ")) or (
            re.fullmatch(LATIN, inner[0]) and re.fullmatch(HAN, before or " ")
        )
        right = (re.fullmatch(HAN, inner[-1]) and re.fullmatch(LATIN, after or " ")) or (
            re.fullmatch(LATIN, inner[-1]) and re.fullmatch(HAN, after or " ")
        )
        if left or right:
            errors.append(text[max(m.start() - 4, 0) : m.end() + 4])
    return errors


def test_the_rule_itself():
    assert bold_spacing_errors("之間的 **Fisher 散度**：") == []
    assert bold_spacing_errors("**前向 SDE** 把資料") == []
    assert bold_spacing_errors("一個 **Itô** 方程") == []
    assert bold_spacing_errors("之間的**Fisher 散度**：") == ["之間的**Fisher 散度**："]
    assert bold_spacing_errors("**前向 SDE**把資料") == ["**前向 SDE**把資料"]
    assert bold_spacing_errors("都用 **sympy**驗證") != []
    assert bold_spacing_errors("（**弱收斂階** 1）") == []  # Chinese inside, space before the digit: fine


@pytest.mark.parametrize("where, text", sources(), ids=lambda v: v if isinstance(v, str) and len(v) < 90 else "")
def test_space_between_chinese_and_latin_at_bold_markers(where, text):
    assert bold_spacing_errors(text) == [], f"{where}: add a space outside the ** marker"
