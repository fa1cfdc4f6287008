"""The problem sets a teacher can assign: at least six exercises a chapter, each with a difficulty and a self-check,
a mix of kinds in every chapter, and a teachers' page (book/problem-sets.md) generated from the same sources."""

from __future__ import annotations

import pytest

from .bookcheck import ROOT, load_module

problem_sets = load_module("problem_sets", ROOT / "scripts" / "problem_sets.py", register=True)

KINDS = {"numeric", "symbolic", "coding", "conceptual"}
CHAPTERS = sorted(int(p.name[:2]) for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def problems(chapter: int, found: list[dict], registry: dict) -> list[str]:
    """What keeps a chapter's exercises from being an assignable, self-checkable problem set."""
    by_label = registry  # keyed by label
    out = []
    if len(found) < 6:
        out.append(f"chapter {chapter}: {len(found)} exercises, at least 6 wanted")
    for row in found:
        if not 1 <= row["stars"] <= 3:
            out.append(f"{row['label']}: difficulty ★ to ★★★ missing from the exercise title")
        if row["label"] not in by_label:
            out.append(f"{row['label']}: no self-check registered in scoresde.exercises.answers")
        elif by_label[row["label"]].get("type") not in KINDS:
            out.append(f"{row['label']}: its registry entry needs a type in {sorted(KINDS)}")
    kinds = {by_label[r["label"]].get("type") for r in found if r["label"] in by_label}
    out += [f"chapter {chapter}: no {kind} exercise" for kind in sorted(KINDS - kinds)]
    return out


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_is_a_problem_set(chapter):
    from scoresde.exercises.answers import EXERCISES

    assert problems(chapter, problem_sets.exercises_of(chapter), EXERCISES) == []


def test_the_problem_set_check_catches_what_it_is_named_for():
    from scoresde.exercises.answers import EXERCISES

    found = problem_sets.exercises_of(1)
    assert any("at least 6" in p for p in problems(1, found[:5], EXERCISES))
    doctored = [dict(found[0], stars=0)] + found[1:]
    assert any("difficulty" in p for p in problems(1, doctored, EXERCISES))
    unregistered = [dict(found[0], label="ex-nowhere")] + found[1:]
    assert any("no self-check" in p for p in problems(1, unregistered, EXERCISES))
    no_concept = {k: (dict(v, type="numeric") if v.get("type") == "conceptual" else v) for k, v in EXERCISES.items()}
    assert any("no conceptual" in p for p in problems(1, found, no_concept))


def test_the_teachers_page_is_generated_from_the_chapters():
    assert (ROOT / "book" / "problem-sets.md").read_text(encoding="utf-8") == problem_sets.render(), (
        "book/problem-sets.md is out of date: run python scripts/problem_sets.py")


def test_every_exercise_is_listed_on_the_teachers_page():
    page = problem_sets.render()
    for chapter in CHAPTERS:
        for k, row in enumerate(problem_sets.exercises_of(chapter), start=1):
            assert f"{{ref}}`{chapter}.{k} <{row['label']}>`" in page
