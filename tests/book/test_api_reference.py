"""Book and code one hop apart (issue 18): the API reference and its links in both directions.

(a) every ``book: eq-…`` a docstring cites is an equation label of the book, and becomes a link in the built
reference; (b) every public module has an entry, and every public function and class (its ``__all__``) an anchor
on the reference page; (c) every function
and class a chapter imports is linked from that chapter ("Code in this chapter", scripts/chapter_code_links.py).
The built checks read ``_build/html`` (skipped before a build, required under ``SCORESDE_BOOK_BUILT=1``).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import pkgutil
import re
from pathlib import Path

import pytest

import scoresde

from .bookcheck import ROOT, equation_labels, load_module, sources

HTML = Path(os.environ.get("SCORESDE_HTML", ROOT / "_build" / "html"))
CITED = re.compile(r"book: (eq-[A-Za-z0-9_-]*[A-Za-z0-9])")
AUTOMODULE = re.compile(r"^\.\. automodule:: (\S+)(\n   :members:)?", re.M)
# public modules without a reference entry, and why
NOT_DOCUMENTED = {"scoresde.exercises.answers": "the self-checks' encoded answers (data, not an API)"}

chapter_code_links = load_module("scoresde_chapter_code_links", ROOT / "scripts" / "chapter_code_links.py")


def cited_labels() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted((ROOT / "companion" / "scoresde").rglob("*.py")):
        for label in CITED.findall(path.read_text(encoding="utf-8")):
            out.setdefault(label, []).append(path.name)
    return out


def defined_labels() -> set[str]:
    """The labels of the book's displayed equations (``$$ … $$ (eq-x)``, ``{math}`` with ``:label:``)."""
    return {label for _, text in sources() for label in equation_labels(text, targets=False)}


def label_problems(cited: dict[str, list[str]], defined: set[str]) -> list[str]:
    return [f"{label} (cited in {', '.join(files)}) is not an equation of the book"
            for label, files in cited.items() if label not in defined]


def documented_modules(with_members: bool = False) -> list[str]:
    """Modules with an ``automodule`` entry (``with_members``: those whose members are documented there)."""
    found = AUTOMODULE.findall((ROOT / "book" / "api.md").read_text(encoding="utf-8"))
    return [name for name, members in found if members or not with_members]


def public_modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(scoresde.__path__, "scoresde.")
            if not any(part.startswith("_") for part in m.name.split(".")[1:])]


def coverage_problems(public: list[str], documented: list[str]) -> list[str]:
    def covered(name: str) -> bool:
        return name in documented or name in NOT_DOCUMENTED or ".".join(name.split(".")[:-1]) in documented
    return [f"{m} is not on the reference page" for m in public if not covered(m)]


def test_docstrings_cite_existing_equations():
    cited, defined = cited_labels(), defined_labels()
    assert len(cited) > 20 and len(defined) > 50
    assert label_problems(cited, defined) == []
    assert label_problems({"eq-no-such-equation": ["sde.py"]}, defined)          # a mistyped label fails


def test_every_public_module_is_documented():
    assert coverage_problems(public_modules(), documented_modules()) == []
    assert coverage_problems(["scoresde.new_module"], documented_modules())       # a new module must be added


def test_chapter_link_cells_are_current():
    assert chapter_code_links.main(["--check"]) == 0
    nb = json.loads((ROOT / "notebooks" / "04_euler_maruyama.ipynb").read_text(encoding="utf-8"))
    nb["cells"] = [c for c in nb["cells"] if chapter_code_links.TAG not in c["metadata"].get("tags", [])]
    assert chapter_code_links.updated(nb) != nb                                             # a missing cell is noticed


def _is_code(obj) -> bool:
    """A function or class (not a constant or a typing alias such as ``Literal[...]``)."""
    import inspect
    return inspect.isfunction(obj) or inspect.isclass(obj)


def _built(page: str) -> str:
    path = HTML / page
    if not path.is_file():
        if os.environ.get("SCORESDE_BOOK_BUILT"):
            pytest.fail(f"{path} is missing: the book was not built")
        pytest.skip("book not built (scripts/build-book.sh)")
    return path.read_text(encoding="utf-8")


def test_reference_links_every_cited_equation_and_documents_every_public_name():
    api = _built("book/api.html")
    missing_links = [lab for lab in cited_labels() if f"#equation-{lab}\"" not in api]
    assert missing_links == []
    missing = [f"{m}.{name}" for m in documented_modules(with_members=True)
               for name in getattr(importlib.import_module(m), "__all__", [])
               if _is_code(getattr(importlib.import_module(m), name)) and f'id="{m}.{name}"' not in api]
    assert missing == []


@pytest.mark.parametrize("chapter", sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
def test_chapter_links_each_function_it_imports(chapter):
    html = _built(f"notebooks/{chapter}.html")
    nb = json.loads((ROOT / "notebooks" / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    targets = chapter_code_links.imported_objects(nb)
    assert targets, chapter
    assert [t for t in targets if f'api.html#{t}"' not in html] == []
