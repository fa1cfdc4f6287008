"""Licence and citation: CITATION.cff is valid CFF 1.2.0 and the book's "How to cite" BibTeX agrees with it."""

from __future__ import annotations

import re

import pytest
import yaml  # type: ignore[import-untyped]

from .bookcheck import ROOT, code_blocks

REQUIRED = ("cff-version", "message", "title", "authors", "version", "license")


def cff_problems(cff: dict) -> list[str]:
    problems = [f"CITATION.cff lacks {key!r}" for key in REQUIRED if key not in cff]
    if cff.get("cff-version") != "1.2.0":
        problems.append("cff-version must be 1.2.0")
    if not all(isinstance(a, dict) and (a.get("name") or a.get("family-names")) for a in cff.get("authors", [])):
        problems.append("every author needs a name or family-names")
    return problems


def bibtex_field(text: str, field: str) -> str:
    match = re.search(rf"^\s*{field}\s*=\s*\{{(.*)\}},?\s*$", text, re.M)
    if match is None:
        raise ValueError(f"no {field} in the BibTeX entry")
    return match.group(1)


def citation_problems(cff: dict, page: str) -> list[str]:
    blocks = code_blocks(page, "bibtex")
    if not blocks:
        return ["the page has no ```bibtex block"]
    entry = blocks[0]
    problems = []
    for field, value in (("title", cff["title"]), ("version", cff["version"])):
        if bibtex_field(entry, field) != value:
            problems.append(f"BibTeX {field} differs from CITATION.cff")
    return problems


@pytest.fixture(scope="module")
def cff() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_citation_cff_is_valid(cff):
    assert cff_problems(cff) == []
    assert cff_problems({"cff-version": "1.1.0", "authors": [{}]})           # a doctored file fails


def test_how_to_cite_matches_citation_cff(cff):
    page = (ROOT / "book" / "how-to-cite.md").read_text(encoding="utf-8")
    assert citation_problems(cff, page) == []
    assert citation_problems({**cff, "version": "9.9"}, page)                 # a stale page fails


def test_licences_exist_and_agree_with_the_package():
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in (ROOT / "LICENSE-CONTENT").read_text(encoding="utf-8")
    pyproject = (ROOT / "companion" / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^license = "MIT"', pyproject, re.M)
    version = re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1)
    assert yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))["version"] == version
