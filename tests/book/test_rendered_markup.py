"""No MyST markup leaks into the rendered text of the built book.

A directive that rewrites its content before parsing it (sphinx-proof's ``prf:proof`` prepends "Proof. " to the
first line) can turn a nested ``:::{container} lang-en`` fence into plain text: the fence then shows on the page and
the language switch and the editions no longer see the container. These tests read ``_build/html`` (built by
``scripts/test.sh`` before, with ``SCORESDE_BOOK_BUILT=1``); alone, before any build, they are skipped.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from .bookcheck import ROOT

HTML = Path(os.environ.get("SCORESDE_HTML", ROOT / "_build" / "html"))
FENCE = re.compile(r"(:{3,}|`{3,})\{[a-z:-]+\}")


class _Text(HTMLParser):
    """The visible text of a page: skips <script>, <style> and code blocks (<pre>), where markup may be quoted."""

    SKIP = {"script", "style", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def leaked_fences(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    text = " ".join(parser.parts)
    return [text[max(m.start() - 40, 0):m.end() + 20] for m in FENCE.finditer(text)]


def test_checker_finds_a_leaked_fence():
    leaked = '<div class="proof admonition"><p>Proof. :::{container} lang-en <em>Step 1</em></p></div>'
    assert leaked_fences(leaked) != []
    quoted = "<pre>:::{container} lang-en</pre><p>a proof</p><script>var s = ':::{x}';</script>"
    assert leaked_fences(quoted) == []


def _pages() -> list[Path]:
    if not HTML.is_dir():
        if os.environ.get("SCORESDE_BOOK_BUILT"):
            pytest.fail(f"{HTML} is missing: the book was not built")
        pytest.skip("book not built (scripts/build-book.sh)")
    return sorted(p for p in HTML.rglob("*.html") if "_static" not in p.parts)


def test_no_page_shows_a_directive_fence():
    problems = {str(p.relative_to(HTML)): leaked for p in _pages()
                if (leaked := leaked_fences(p.read_text(encoding="utf-8")))}
    assert problems == {}
