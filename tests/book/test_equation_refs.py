"""Every equation label a companion docstring cites ("book: eq-…") exists in the book, exactly once."""

from __future__ import annotations

import re
from collections import Counter

from .bookcheck import ROOT, sources

CITED = re.compile(r"book:\s*(eq-[\w-]+)")
DEFINED = [
    re.compile(r"\$\$\s*\((eq-[\w-]+)\)"),          # $$ ... $$ (eq-x)
    re.compile(r"^:label:\s*(eq-[\w-]+)", re.M),      # {math} directive
    re.compile(r"^\((eq-[\w-]+)\)=\s*$", re.M),       # MyST target
]


def defined_labels() -> Counter:
    counts: Counter = Counter()
    for _, text in sources():
        for pattern in DEFINED:
            counts.update(pattern.findall(text))
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
    assert DEFINED[0].findall("$$ a = b $$ (eq-ab)") == ["eq-ab"]
    assert DEFINED[1].findall("```{math}\n:label: eq-cd\n") == ["eq-cd"]
