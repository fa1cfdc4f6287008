"""The book's own search box finds Chinese and English terms in every chapter that uses them (issue 16).

Ten glossary terms, five English and five Chinese, are typed into the search page of the bilingual site. A page
is expected when its prose (markdown cells of a chapter, or a page of book/) contains the term: for Chinese as a
substring, for English as a whole word, ignoring case. Each expected page must be among the results. Before the
Chinese indexer (``_ext/search_zh.py``), 分數匹配 found only the glossary and the preface, 伊藤 found nothing.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import quote, urlparse

import pytest

from .conftest import HTML, ROOT

TERMS = ["Hutchinson", "Langevin", "Wiener", "Stratonovich", "Fokker",
         "分數匹配", "變異數", "伊藤", "布朗運動", "擴散"]
CJK = re.compile(r"[\u3400-\u9fff]")


def prose_pages() -> dict[str, str]:
    """{page path in the site: its prose}: notebooks' markdown cells and the book's markdown pages."""
    pages = {}
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        pages[f"notebooks/{nb.stem}.html"] = "\n".join("".join(c["source"]) for c in cells
                                                      if c["cell_type"] == "markdown")
    for md in sorted((ROOT / "book").glob("*.md")):
        pages[f"book/{md.stem}.html"] = md.read_text(encoding="utf-8")
    return pages


def expected_pages(term: str, pages: dict[str, str]) -> set[str]:
    if CJK.search(term):
        return {p for p, text in pages.items() if term in text}
    word = re.compile(rf"\b{re.escape(term)}\b", re.I)
    return {p for p, text in pages.items() if word.search(text)}


def test_expected_pages_follow_the_text():
    pages = {"a.html": "布朗運動的路徑", "b.html": "a Wiener process", "c.html": "Wienerprocess, 布朗"}
    assert expected_pages("布朗運動", pages) == {"a.html"}
    assert expected_pages("wiener", pages) == {"b.html"}


def search(browser, site: str, term: str) -> set[str]:
    """Pages the search page lists for ``term`` (after the search has finished)."""
    browser.get(f"{site}search.html?q={quote(term)}")
    deadline = time.time() + 30
    while time.time() < deadline:
        status = browser.execute_script(
            "const s = document.querySelector('#search-results .search-summary, #search-results p');"
            "return s ? s.textContent : '';")
        if status and ("found" in status or "did not match" in status or "找到" in status):
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the search for {term!r} did not finish")
    hrefs = browser.execute_script(
        "return Array.from(document.querySelectorAll('#search-results ul.search li a')).map(a => a.href);")
    base = urlparse(site).path
    return {urlparse(h).path.removeprefix(base) for h in hrefs}


@pytest.mark.parametrize("term", TERMS)
def test_search_finds_every_page_that_uses_the_term(browser, site, term):
    expected = expected_pages(term, prose_pages())
    assert expected, f"no page uses {term!r}: pick another term"
    found = search(browser, site, term)
    missing = sorted(expected - found)
    print(f"search {term}: expected {len(expected)}, found {len(found & expected)} of them ({len(found)} results)")
    assert missing == [], f"{term}: not found on {missing}"
