"""One term per concept: the glossary decides, every page and notebook follows.

``preferred_terms.txt`` lists ``winner -> losers``. Each winner must stand in the Chinese column of
``book/glossary.md`` (the glossary records the decision); no loser may appear in a book page or a notebook
(markdown and code cells, so figure labels count). The winner is removed from a text before it is searched, so a
loser that is part of the winner (責任 in 責任值) is not flagged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .bookcheck import CJK, ROOT, notebooks, sources

PAIRS = [
    (line.split("\t")[0], line.split("\t")[1].split("、"))
    for line in Path(__file__).with_name("preferred_terms.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]


def glossary_chinese_column(text: str) -> list[str]:
    """The second cell of every table row of the glossary (the 繁體中文 column), header rows excluded."""
    cells = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and len(parts) >= 2 and CJK.search(parts[1]) and parts[1] != "繁體中文":
            cells.append(parts[1])
    return cells


def losers_in(text: str, pairs=PAIRS) -> list[str]:
    found = []
    for winner, losers in pairs:
        rest = text.replace(winner, "")
        found += [f"{bad} (use {winner})" for bad in losers if bad in rest]
    return found


def texts() -> list[tuple[str, str]]:
    out = [(w, t) for w, t in sources() if CJK.search(t)]
    import json

    for nb_path in notebooks():
        for n, cell in enumerate(json.loads(nb_path.read_text(encoding="utf-8"))["cells"]):
            if cell["cell_type"] == "code" and CJK.search("".join(cell["source"])):
                out.append((f"{nb_path.relative_to(ROOT)}[cell {n}]", "".join(cell["source"])))
    return out


TEXTS = texts()
COLUMN = glossary_chinese_column((ROOT / "book" / "glossary.md").read_text(encoding="utf-8"))


@pytest.mark.parametrize("winner", [w for w, _ in PAIRS])
def test_glossary_records_the_winner(winner):
    assert any(winner in cell for cell in COLUMN), f"{winner} is not in the glossary's 繁體中文 column"


@pytest.mark.parametrize("where, text", TEXTS, ids=[w for w, _ in TEXTS])
def test_no_losing_term(where, text):
    found = losers_in(text)
    assert not found, f"{where}: competing terms: {found}"


def test_checker_catches_a_losing_term():
    assert len(COLUMN) > 50 and "分數匹配" in COLUMN
    assert glossary_chinese_column("| English | 繁體中文 |\n|---|---|\n| score | 分數 |") == ["分數"]
    assert losers_in("混合分佈的光滑密度") == ["分佈 (use 分布)", "光滑 (use 平滑)"]
    assert losers_in("每個成分的責任值與分布") == []  # 責任 inside the winner 責任值 is allowed
    assert losers_in("成分的責任") == ["責任 (use 責任值)"]
    with pytest.raises(AssertionError, match="解法器"):
        test_no_losing_term("bad", "這個解法器")
    with pytest.raises(AssertionError, match="not in the glossary"):
        test_glossary_records_the_winner("不存在的譯名")
