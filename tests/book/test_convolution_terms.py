"""摺積 for the convolution of densities, 卷積 for convolutional networks (issue 28; the glossary says so).

A sentence (up to a full stop) that writes 摺積 must not speak of a network layer or kernel, and one that writes 卷積
must not speak of densities or distributions: each word is then the wrong one for its sentence.
"""

from __future__ import annotations

import re

import pytest

from .bookcheck import ROOT, sources

NETWORK = ("網路", "卷積層", "通道", "感受野", "神經")
DENSITY = ("密度", "分布", "機率", "高斯")


def convolution_term_errors(text: str) -> list[str]:
    errors = []
    for sentence in re.split(r"[。！？\n]\n?", text):
        if "摺積" in sentence and any(w in sentence for w in NETWORK):
            errors.append(f"摺積 in a sentence about networks (use 卷積): {sentence[:60]}")
        rest = sentence.replace("摺積", "")
        if "卷積" in rest and any(w in rest for w in DENSITY) and "「摺積」" not in sentence:
            errors.append(f"卷積 in a sentence about densities (use 摺積): {sentence[:60]}")
    return errors


def test_the_rule_itself():
    assert convolution_term_errors("因為 $p_t$ 是 $p_0$ 與高斯分布的摺積。") == []
    assert convolution_term_errors("三個 32 通道的隱藏卷積層。") == []
    assert convolution_term_errors("因為 $p_t$ 是 $p_0$ 與高斯分布的卷積。") != []
    assert convolution_term_errors("三個 32 通道的隱藏摺積層。") != []


def test_the_glossary_records_both():
    glossary = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    assert "| 摺積 |" in glossary and "| 卷積；感受野 |" in glossary


@pytest.mark.parametrize("where, text", sources(), ids=lambda v: v if isinstance(v, str) and len(v) < 90 else "")
def test_convolution_words(where, text):
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("|"))  # glossary rows
    assert convolution_term_errors(text) == [], where
