"""Full-width punctuation in Chinese prose, and no stray spaces around **bold** between Chinese characters.

A half-width ``,`` ``:`` ``;`` ``(`` ``)`` next to a Chinese character (spaces allowed between) is flagged in every
text that carries Chinese prose: the 繁體中文 containers, bilingual lines (headings, table rows) and directive bodies.
The prose is read with markdown-it (:func:`bookcheck.prose`): math (``$…$``, ``$$…$$``), inline code, MyST roles,
HTML and URLs are each replaced by a placeholder that is neither Chinese nor punctuation, so ``（種子, $k$）`` is
still caught; link targets, list markers and table pipes are left out. Labels in half-width
parentheses, ``(a)``, ``(iii)``, ``(1.3)``, are allowed.

A space between a Chinese character and ``**bold**`` is flagged where Markdown does not need it: the bold text
holds Chinese and starts (or ends), on that side, with a Chinese character, so ``一個**適應**過程`` renders as bold
without spaces. A Latin word or digit at the bold edge keeps the usual space between Chinese and Latin words
(``用 **sympy** 驗證``, ``之間的 **Fisher 散度**``, ``**前向 SDE** 把``; test_bold_spacing.py requires it).
"""

from __future__ import annotations

import re

import pytest

from .bookcheck import CJK, Item, parse, sources
from .bookcheck import prose as prose_of

LABEL = re.compile(r"\([\w.–-]{1,6}\)")  # (a), (iii), (1.3): labels, conventionally half-width
#: math, code, roles, HTML and URLs in source text: the bold check looks at the ``**`` marks as written, so it
#: strips these by hand; the punctuation check reads markdown-it's prose instead
STRIP = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$|`[^`\n]*`|\{[\w:-]+\}|\]\([^)\n]*\)|<[^>\n]+>|https?://\S+", re.S)
CJK_CHAR = CJK.pattern
HALF = r"[,:;()]"
BAD = re.compile(rf"{CJK_CHAR}[ \t]*{HALF}|{HALF}[ \t]*{CJK_CHAR}")


def prose(items: list[Item]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for it in items:
        if it.kind == "directive":
            out.extend(prose(it.children))
        elif it.kind in ("zh", "line") and CJK.search(it.text):
            out.append((it.line, it.text))
    return out


def half_width_marks(text: str) -> list[str]:
    clean = LABEL.sub("X", prose_of(text, hidden="X"))
    return [clean[max(m.start() - 6, 0) : m.end() + 6].replace("\n", " ") for m in BAD.finditer(clean)]


_W = CJK_CHAR  # a Chinese character at the bold edge (a Latin one keeps its space)
BOLD_SPACE = re.compile(rf"{CJK_CHAR} \*\*({_W}[^*\n]*)\*\*|\*\*([^*\n]*{_W})\*\* {CJK_CHAR}")


def bold_spaces(text: str) -> list[str]:
    clean = STRIP.sub("X", text)
    return [m.group(0) for m in BOLD_SPACE.finditer(clean) if CJK.search(m.group(1) or m.group(2))]


TEXTS = [(f"{where}:{line}", chunk) for where, text in sources() for line, chunk in prose(parse(text))]


@pytest.mark.parametrize("where, text", TEXTS, ids=[w for w, _ in TEXTS])
def test_full_width_punctuation(where, text):
    found = half_width_marks(text)
    assert not found, f"{where}: half-width punctuation in Chinese prose: {found[:5]}"


@pytest.mark.parametrize("where, text", TEXTS, ids=[w for w, _ in TEXTS])
def test_no_spaces_around_bold_in_chinese(where, text):
    found = bold_spaces(text)
    assert not found, f"{where}: spaces around bold between Chinese characters: {found[:5]}"


def test_checker_catches_spaces_around_bold():
    assert bold_spaces("一個 **適應** 過程") == ["個 **適應**"]
    assert bold_spaces("一個**適應** 過程") == ["**適應** 過"]
    assert bold_spaces("一個**適應**過程") == []
    assert bold_spaces("的 **SSM-VR。** 接著") == []  # ends with punctuation: Markdown needs the space
    assert bold_spaces("the **score** of") == []
    assert bold_spaces("都用 **sympy** 驗證") == []
    assert bold_spaces("之間的 **Fisher 散度**：") == []
    assert bold_spaces("**前向 SDE** 把資料") == []
    with pytest.raises(AssertionError, match="bold"):
        test_no_spaces_around_bold_in_chinese("bad", "權重是它的 **責任值** 與")


def test_checker_catches_half_width_punctuation():
    assert half_width_marks("第 $k$ 步從以（種子, $k$）設定的產生器") != []
    assert half_width_marks("其分數為 $-1$, 以及常數模型") != []
    assert half_width_marks("見 (第 3 節)") != []
    assert half_width_marks("題目。(a) 證明；(iii) 與式 (1.3) 相同") == []
    assert half_width_marks("條件：$f(x) = (a, b)$，以及 `f(x, y)` 與 {eq}`eq-ism`") == []
    assert half_width_marks("| score (score function) | 分數（分數函數） |") == []
    with pytest.raises(AssertionError, match="half-width"):
        test_full_width_punctuation("bad", "第一步; 第二步")
