"""Write book/problem-sets.md, the teachers' view of every exercise, from the notebooks and the answer registry.

    python scripts/problem_sets.py          # rewrite the page
    python scripts/problem_sets.py --check  # exit 1 if the committed page is out of date (tests/book runs it)

One source: the exercises live in the chapters (their {exercise} directives, with ★ difficulty in the title) and
their self-checks in companion/scoresde/exercises/answers.py (kind of answer, kind of exercise); this page is
derived from both and never edited by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "problem-sets.md"
EXERCISE = re.compile(r"^:{3,}\{exercise\}([^\n]*)\n((?:[ \t]*:[\w-]+:[^\n]*\n?)*)", re.M)
KIND_NAMES = {"numeric": "numeric · 數值計算", "symbolic": "derivation · 符號推導", "coding": "coding · 程式",
              "conceptual": "concept · 觀念"}
ANSWER_NAMES = {"number": "a number · 數", "expression": "an expression · 式子",
                "choice": "a choice · 選項", "code": "a function · 函式"}


def _registry() -> tuple[dict[str, dict], dict]:
    """(the answers' data by label, the registered exercises by label)."""
    sys.path.insert(0, str(ROOT / "companion"))
    from scoresde.exercises import _REGISTRY  # noqa: PLC0415
    from scoresde.exercises.answers import EXERCISES  # noqa: PLC0415

    return EXERCISES, _REGISTRY


def _title(directive_title: str, text: str) -> tuple[str, str]:
    """(English, Chinese) title: the directive's "★ English · 中文", or the bold lead of each container."""
    plain = directive_title.replace("★", "").strip()
    if " · " in plain:
        en, zh = plain.split(" · ", 1)
        return en.strip(), zh.strip()
    leads = []
    for lang in ("en", "zh"):
        block = text.split(f":::{{container}} lang-{lang}", 1)[1]
        m = re.search(r"\*\*(.+?)\*\*", block)
        leads.append(m.group(1).strip(" .。") if m else "")
    return leads[0], leads[1]


def exercises_of(chapter: int) -> list[dict]:
    (path,) = sorted((ROOT / "notebooks").glob(f"{chapter:02d}_*.ipynb"))
    nb = json.loads(path.read_text(encoding="utf-8"))
    found = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        for m in EXERCISE.finditer(text):
            label = re.search(r":label:\s*(\S+)", m.group(2)).group(1)
            stars = m.group(1).count("★")
            found.append({"label": label, "stars": stars, "title": _title(m.group(1), text), "notebook": path.stem})
    return found


def chapter_title(chapter: int) -> str:
    (path,) = sorted((ROOT / "notebooks").glob(f"{chapter:02d}_*.ipynb"))
    nb = json.loads(path.read_text(encoding="utf-8"))
    first = "".join(nb["cells"][0]["source"]).splitlines()[0]
    return f"{chapter}. {first.lstrip('# ').strip()}"  # Sphinx numbers the chapters (_toc.yml), not their titles


def render() -> str:
    answers, registry = _registry()
    chapters = sorted(int(p.name[:2]) for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    out = [
        "# Problem sets · 習題總覽",
        "",
        ":::{container} lang-en",
        "Every exercise of the book, chapter by chapter, with its difficulty (★ warm-up, ★★ standard, ★★★ hard), its",
        "kind, and the id its self-check takes: `scoresde.exercises.check(id, answer)` says whether an answer is right",
        "(a number, a sympy expression, a choice, or, for coding exercises, your function, which is run on hidden",
        "cases) and gives a hint if not, without revealing the solution. Every solution is code that the course's",
        "continuous integration runs. This page is generated from the chapters (`scripts/problem_sets.py`).",
        ":::",
        "",
        ":::{container} lang-zh",
        "本書的每一道習題，依章節列出難度（★ 暖身、★★ 標準、★★★ 困難）、類型，以及自我檢查使用的編號：",
        "`scoresde.exercises.check(編號, answer)` 會判斷答案是否正確（數、sympy 式子、選項，或程式習題中你寫的函式，",
        "它會在隱藏的測資上執行），答錯時給出提示，但不洩漏解答。每一份解答都是課程的持續整合會執行的程式碼。本頁由各章自動產生",
        "（`scripts/problem_sets.py`）。",
        ":::",
        "",
    ]
    for chapter in chapters:
        rows = exercises_of(chapter)
        out += [f"## {chapter_title(chapter)}", "",
                "| Exercise · 習題 | Difficulty · 難度 | Kind · 類型 | Answer · 答案形式 | Self-check · 自我檢查 |",
                "|:--|:--|:--|:--|:--|"]
        for k, row in enumerate(rows, start=1):
            ex, entry = registry.get(row["label"]), answers.get(row["label"])
            kind = KIND_NAMES.get(entry.get("type", ""), "—") if entry else "—"
            answer = ANSWER_NAMES.get(ex.kind, ex.kind) if ex else "—"
            check = f'`check("{ex.exercise_id}", …)`' if ex else "—"
            en, zh = row["title"]
            out.append(f"| {{ref}}`{chapter}.{k} <{row['label']}>` {en} · {zh} | {'★' * row['stars']} | {kind} | "
                       f"{answer} | {check} |")
        out.append("")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description="Write (or check) book/problem-sets.md from the chapters.")
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed page is out of date")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
        if current != text:
            print(f"{PAGE.relative_to(ROOT)} is out of date: run python scripts/problem_sets.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
