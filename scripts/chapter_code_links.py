"""Book and code one hop apart (issue 18): each chapter links every companion function and class it imports.

A chapter's code cells import from ``scoresde``; the cell "Code in this chapter · 本章的程式", kept just before the
exercises, lists each imported function and class as a ``{py:obj}`` link to its entry in the API reference
(book/api.md). This script writes that cell (``python scripts/chapter_code_links.py``) or checks that it is current
(``--check``, run by the tests). Constants and modules are not listed; names are shown as the chapter imports them.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TAG = "api-links"
IMPORT = re.compile(r"^from (scoresde(?:\.\w+)*) import (\([^)]*\)|[^\n]+)", re.M)


def imported_objects(nb: dict) -> list[str]:
    """``module.name`` of every function and class the chapter's text (before the exercises) imports."""
    found: list[str] = []
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and text.startswith("## Exercises"):
            break
        if cell["cell_type"] != "code":
            continue
        for module, names in IMPORT.findall(text):
            for name in re.split(r"[\s,()]+", names.split("#")[0]):
                if not name or name == "as":
                    continue
                obj = getattr(importlib.import_module(module), name, None)
                if (inspect.isfunction(obj) or inspect.isclass(obj)) and f"{module}.{name}" not in found:
                    found.append(f"{module}.{name}")
    return found


def cell_text(targets: list[str]) -> str:
    links = "\n".join(f"- {{py:obj}}`{t.rsplit('.', 1)[1]} <{t}>` (`{t.rsplit('.', 1)[0]}`)" for t in targets)
    return ("## Code in this chapter · 本章的程式\n\n"
            ":::{container} lang-en\n"
            "The companion's functions and classes this chapter calls, each linked to its entry in the\n"
            "{doc}`API reference <../book/api>` (docstring, formula, book equation):\n"
            ":::\n\n"
            ":::{container} lang-zh\n"
            "本章呼叫的配套套件函式與類別，各自連到 {doc}`API 參考 <../book/api>` 中的條目（說明文件、公式與本書的方程式）：\n"
            ":::\n\n" + links + "\n")


def updated(nb: dict) -> dict:
    cells = [c for c in nb["cells"] if TAG not in c.get("metadata", {}).get("tags", [])]
    where = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                  and "".join(c["source"]).startswith("## Exercises")), len(cells))
    old = next((c for c in nb["cells"] if TAG in c.get("metadata", {}).get("tags", [])), None)
    cell = {"cell_type": "markdown", "id": old["id"] if old else secrets.token_hex(4),
            "metadata": {"tags": [TAG]}, "source": cell_text(imported_objects(nb)).splitlines(keepends=True)}
    return {**nb, "cells": cells[:where] + [cell] + cells[where:]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a chapter's cell is missing or stale")
    args = parser.parse_args(argv)
    stale = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        new = updated(nb)
        if new != nb:
            stale.append(path.name)
            if not args.check:
                path.write_text(json.dumps(new, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.check and stale:
        print("stale 'Code in this chapter' cells (run python scripts/chapter_code_links.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
