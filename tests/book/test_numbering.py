"""Numbers that match the text: equations and exercises are numbered by chapter (issue 16).

``_toc.yml`` numbers the chapters (``numbered: 1``), so Sphinx numbers equations "(3.4)", figures and exercises
"3.1" within each chapter. The exercise a reader sees as "Exercise 3.1" must be the one ``check("3.1", …)``
takes: the rendered number of every exercise equals its registered id. Reads ``_build/html`` (skipped before a
build; ``scripts/test.sh`` runs it after the build with ``SCORESDE_BOOK_BUILT=1``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from scoresde.exercises import _REGISTRY

from .bookcheck import ROOT

HTML = Path(os.environ.get("SCORESDE_HTML", ROOT / "_build" / "html"))
EXERCISE = re.compile(r'<div class="exercise admonition" id="([^"]+)">\s*<p class="admonition-title">'
                      r'<span class="caption-number">(?:<span class="ui-en" lang="en">)?\S+ (\d+(?:\.\d+)*)\s*</span>')
EQNO = re.compile(r'<span class="eqno">\((\d+(?:\.\d+)*)\)')


def numbering_problems(chapter: int, html: str, ids_by_label: dict[str, str]) -> list[str]:
    problems = [f"equation ({n}) is not numbered in chapter {chapter}"
                for n in EQNO.findall(html) if not n.startswith(f"{chapter}.")]
    exercises = EXERCISE.findall(html)
    for label, number in exercises:
        if ids_by_label.get(label) != number:
            problems.append(f"{label} is shown as Exercise {number}, registered as {ids_by_label.get(label)}")
    missing = {lab for lab, eid in ids_by_label.items() if eid.startswith(f"{chapter}.")} - {lab for lab, _ in exercises}
    problems += [f"{lab} (registered for chapter {chapter}) is not on the page" for lab in sorted(missing)]
    return problems


IDS = {label: ex.exercise_id for label, ex in _REGISTRY.items()}


def test_the_check_fails_on_book_wide_numbers():
    page = ('<div class="exercise admonition" id="ex-03-sum-increments">\n<p class="admonition-title">'
            '<span class="caption-number">Exercise 3.1 </span> (★)</p> <span class="eqno">(3.2)</span>')
    ids = {"ex-03-sum-increments": "3.1"}
    assert numbering_problems(3, page, ids) == []
    assert numbering_problems(3, page.replace("Exercise 3.1", "Exercise 15"), ids)          # book-wide
    assert numbering_problems(3, page.replace("(3.2)", "(47)"), ids)                         # book-wide
    assert numbering_problems(3, page, {**ids, "ex-03-other": "3.2"})                        # one missing


def _chapters() -> list[Path]:
    if not HTML.is_dir():
        if os.environ.get("SCORESDE_BOOK_BUILT"):
            pytest.fail(f"{HTML} is missing: the book was not built")
        pytest.skip("book not built (scripts/build-book.sh)")
    return sorted((HTML / "notebooks").glob("[0-9][0-9]_*.html"))


def test_every_chapter_numbers_its_equations_and_exercises():
    pages = _chapters()
    assert len(pages) == len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    problems = {p.name: numbering_problems(int(p.name[:2]), p.read_text(encoding="utf-8"), IDS) for p in pages}
    assert {k: v for k, v in problems.items() if v} == {}
    assert sum(len(EQNO.findall(p.read_text(encoding="utf-8"))) for p in pages) > 40   # the equations are there
