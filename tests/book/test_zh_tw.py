"""All Chinese in the course is 繁體中文 as written in Taiwan.

1. OpenCC's ``s2tw`` (Simplified -> Taiwan standard, characters only) leaves every Chinese text unchanged:
   no Simplified character, no variant Taiwan does not use (e.g. 裏 -> 裡).
   Standard forms of the Ministry of Education that ``s2tw`` would change (分布 -> 分佈) are listed in
   ``standard_forms.txt`` and masked first.
2. None of the mainland terms in ``mainland_terms.txt`` appears (數據 -> 資料, 方差 -> 變異數, ...).
``s2twp`` (with phrases) is deliberately not used: it rewrites 函數 to 函式, wrong for mathematics.
"""

from __future__ import annotations

from pathlib import Path

import opencc
import pytest

from .bookcheck import CJK, ROOT, chinese_text, code_strings, parse, sources

CONVERTER = opencc.OpenCC("s2tw")
TERMS = [
    line.split("\t")
    for line in (Path(__file__).with_name("mainland_terms.txt")).read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]

STANDARD_FORMS = [
    line.strip()
    for line in (Path(__file__).with_name("standard_forms.txt")).read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]


def all_chinese() -> list[tuple[str, str]]:
    out = []
    for where, text in sources():
        for line, chunk in chinese_text(parse(text)):
            out.append((f"{where}:{line}", chunk))
    for where, text in code_strings():
        lines = [ln for ln in text.splitlines() if CJK.search(ln)]
        if lines:
            out.append((where, "\n".join(lines)))
    for extra in ("README.md", "_config.yml", "_toc.yml"):
        path = ROOT / extra
        if path.exists() and CJK.search(path.read_text(encoding="utf-8")):
            out.append((extra, path.read_text(encoding="utf-8")))
    return out


TEXTS = all_chinese()


def test_there_is_chinese_to_check():
    assert len(TEXTS) > 0


def s2tw_differences(text: str) -> list[str]:
    for word in STANDARD_FORMS:
        text = text.replace(word, "\u3000" * len(word))  # same length, unchanged by s2tw
    converted = CONVERTER.convert(text)
    return [f"{a}->{b}" for a, b in zip(text, converted) if a != b] if len(converted) == len(text) else [converted]


@pytest.mark.parametrize("where, text", TEXTS, ids=[w for w, _ in TEXTS])
def test_s2tw_leaves_text_unchanged(where, text):
    diffs = s2tw_differences(text)
    assert not diffs, f"{where}: not Taiwan-standard characters: {diffs[:20]}"


@pytest.mark.parametrize("where, text", TEXTS, ids=[w for w, _ in TEXTS])
def test_no_mainland_terms(where, text):
    # the Taiwan term is removed first, so that a mainland term inside it (算法 in 演算法) is not flagged
    found = [f"{bad} (use {good})" for bad, good in TERMS if bad in text.replace(good, "")]
    assert not found, f"{where}: mainland terms: {found}"


def test_checker_catches_simplified_and_mainland_terms():
    assert s2tw_differences("数据的方差")
    assert not s2tw_differences("資料的變異數與函數")
    assert not s2tw_differences("常態分布的取樣")  # a standard form that s2tw would change, masked
    assert CONVERTER.convert("分布") != "分布"  # the mask is needed: s2tw prefers 分佈
    assert s2tw_differences("分布的数据")  # masking one word does not hide the others
    bad_terms = [bad for bad, _ in TERMS if bad in "這個數據的方差很大"]
    assert bad_terms == ["數據", "方差"]
    test_no_mainland_terms("ok", "演算法與取樣")
    with pytest.raises(AssertionError, match="算法"):
        test_no_mainland_terms("bad", "這個算法")
