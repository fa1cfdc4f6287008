"""Every equation label a companion docstring cites ("book: eq-…") exists in the book, exactly once."""

from __future__ import annotations

import re
from collections import Counter

from .bookcheck import ROOT, equation_labels, sources

CITED = re.compile(r"book:\s*(eq-[\w-]+)")


def defined_labels() -> Counter:
    """``$$ … $$ (eq-x)``, ``{math}`` with ``:label: eq-x`` and targets ``(eq-x)=``, as markdown-it reads them."""
    counts: Counter = Counter()
    for _, text in sources():
        counts.update(equation_labels(text))
    return counts


def cited_labels() -> dict[str, list[str]]:
    cited: dict[str, list[str]] = {}
    for py in sorted((ROOT / "companion").rglob("*.py")):
        for label in CITED.findall(py.read_text(encoding="utf-8")):
            cited.setdefault(label, []).append(str(py.relative_to(ROOT)))
    return cited


def test_cited_labels_exist():
    defined = defined_labels()
    missing = {label: files for label, files in cited_labels().items() if label not in defined}
    assert not missing, f"labels cited in the companion but not defined in the book: {missing}"


def test_labels_are_unique():
    dup = {label: n for label, n in defined_labels().items() if n > 1}
    assert not dup, f"labels defined more than once: {dup}"


def test_patterns_find_labels():
    assert CITED.findall("(book: eq-ssm) and book: eq-ism") == ["eq-ssm", "eq-ism"]
    text = ("$$ a = b $$ (eq-ab)\n\n```{math}\n:label: eq-cd\nc = d\n```\n\n(eq-ef)=\n$$ e = f $$\n\n"
            ":::{container} lang-en\n$$ g $$ (eq-g)\n:::\n")
    assert equation_labels(text) == ["eq-ab", "eq-cd", "eq-ef", "eq-g"]
    assert equation_labels(text, targets=False) == ["eq-ab", "eq-cd", "eq-g"]
    quoted = "```markdown\n$$ a = b $$ (eq-quoted)\n```\n\nWrite `$$ x $$ (eq-inline)` for a label.\n"
    assert equation_labels(quoted) == []  # a label shown in code defines nothing
