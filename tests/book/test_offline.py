"""The built book reads offline: no page loads a script, stylesheet or font from another host.

A classroom may have no internet. MathJax is served from the book itself (``scripts/fetch-mathjax.sh``
unpacks MathJax 3 from PyPI into ``_build/mathjax``, an ``html_extra_path``; ``mathjax_path`` in
``_config.yml`` points at it). These tests read the built HTML in ``_build/html``: ``scripts/test.sh`` runs
them right after the build (with ``SCORESDE_BOOK_BUILT=1``, so a missing build fails); run alone before
any build they are skipped. The checker's own tests always run. The browser test
(``tests/browser``) checks the same thing from the other side: no request leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml  # type: ignore[import-untyped]

from .bookcheck import ROOT

HTML = Path(os.environ.get("SCORESDE_HTML", ROOT / "_build" / "html"))  # the built book
MATHJAX_ENTRY = "_static/mathjax/es5/tex-mml-chtml.js"
CSS_REMOTE = re.compile(r"""(?:@import\s+(?:url\()?|url\()\s*['"]?\s*((?:https?:)?//[^'")\s]+)""", re.I)
# link relations that make the browser fetch the target while showing the page
FETCHED_RELS = {"stylesheet", "preload", "modulepreload", "icon", "shortcut", "apple-touch-icon", "manifest"}


def is_remote(url: str) -> bool:
    """True for an absolute web URL (http, https, or protocol-relative ``//host``)."""
    url = url.strip()
    return url.startswith("//") or urlparse(url).scheme in ("http", "https")


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.remote: list[str] = []
        self.scripts: list[str] = []
        self.icons: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        url = None
        if tag == "script" and a.get("src"):
            url = a["src"]
            self.scripts.append(url)
        elif tag == "link" and FETCHED_RELS & set(a.get("rel", "").lower().split()):
            url = a.get("href", "")
            if "icon" in a.get("rel", "").lower().split():
                self.icons.append(url)
        elif tag in ("iframe", "embed") and a.get("src"):
            url = a["src"]
        elif tag == "style":
            self._in_style = True
        if url and is_remote(url):
            self.remote.append(f"<{tag}> {url}")
        if "style" in a:
            self.remote.extend(f"style attribute {u}" for u in CSS_REMOTE.findall(a["style"]))

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.remote.extend(f"<style> {u}" for u in CSS_REMOTE.findall(data))


def scan(html: str) -> tuple[list[str], list[str]]:
    """(remote assets the page would fetch, every script src) of one HTML page."""
    parser = _Assets()
    parser.feed(html)
    return parser.remote, parser.scripts


def icons(html: str) -> list[str]:
    """The ``<link rel="icon">`` targets of one HTML page."""
    parser = _Assets()
    parser.feed(html)
    return parser.icons


def site_root(page: Path) -> Path:
    """The site a page belongs to: the bilingual book, or an edition that build-editions.sh copied into a folder of it
    (the deployed layout: ``en/``, ``zh-TW/``, each with its own ``_static``)."""
    first = page.relative_to(HTML).parts[0]
    return HTML / first if first != page.name and (HTML / first / "_static").is_dir() else HTML


def built_pages() -> list[Path]:
    """Every HTML page of the built book (hidden folders, e.g. a stray .pytest_cache, are not pages)."""
    pages = HTML.rglob("*.html")
    return sorted(p for p in pages if not any(part.startswith(".") for part in p.relative_to(HTML).parts))


@pytest.fixture(scope="module")
def pages() -> list[Path]:
    if not (HTML / "index.html").is_file():
        if os.environ.get("SCORESDE_BOOK_BUILT"):
            pytest.fail(f"{HTML} holds no built book although the build ran")
        pytest.skip("the book is not built yet (bash scripts/build-book.sh); scripts/test.sh runs this after the build")
    found = built_pages()
    assert len(found) >= 3, found
    return found


def test_no_page_loads_anything_from_another_host(pages):
    problems = []
    for page in pages:
        remote, _ = scan(page.read_text(encoding="utf-8"))
        problems += [f"{page.relative_to(HTML)}: {r}" for r in remote]
    assert not problems, "\n".join(problems)


def test_every_page_names_its_icon(pages):
    """A page without ``<link rel="icon">`` makes the browser ask for /favicon.ico: a 404 in the reader's console
    (tests/browser/test_console.py sees it only when the request beats its wait). Every page, the slide decks too,
    names an icon that exists."""
    problems = []
    for page in pages:
        html = page.read_text(encoding="utf-8")
        if "_static" in page.relative_to(HTML).parts or "http-equiv=\"refresh\"" in html.lower():
            continue  # theme templates, and the redirect pages the browser leaves before it asks for an icon
        found = icons(html)
        if not found:
            problems.append(f"{page.relative_to(HTML)}: no <link rel=icon>")
        problems += [f"{page.relative_to(HTML)}: icon {u} is not in the build" for u in found
                     if not u.startswith("data:") and not (page.parent / urlparse(u).path).is_file()]
    assert not problems, "\n".join(problems[:20])


def test_icon_scan_finds_the_link():
    assert icons('<head><link rel="icon" href="_static/favicon.svg"></head>') == ["_static/favicon.svg"]
    assert icons('<head><link rel="shortcut icon" href="f.ico"></head>') == ["f.ico"]
    assert icons('<head><link rel="stylesheet" href="x.css"></head>') == []


def test_no_stylesheet_imports_from_another_host(pages):
    problems = []
    for css in sorted((HTML / "_static").rglob("*.css")):
        text = css.read_text(encoding="utf-8", errors="replace")
        problems += [f"{css.relative_to(HTML)}: {u}" for u in CSS_REMOTE.findall(text)]
    assert not problems, "\n".join(problems)


def test_math_pages_load_the_books_own_mathjax(pages):
    """Each page with math loads MathJax 3 from _static/mathjax, and the files (with the fonts) are there."""
    assert (HTML / MATHJAX_ENTRY).is_file(), "MathJax is not in the build: scripts/fetch-mathjax.sh did not run"
    fonts = list((HTML / "_static/mathjax/es5/output/chtml/fonts/woff-v2").glob("*.woff"))
    assert len(fonts) >= 20, "MathJax's CHTML fonts are missing"
    with_math = 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        if 'class="math' not in html:
            continue
        with_math += 1
        _, scripts = scan(html)
        mathjax = [s for s in scripts if "mathjax" in s.lower()]
        assert mathjax, f"{page.relative_to(HTML)} has math but loads no MathJax"
        site = site_root(page)  # an edition copied into the site (en/, zh-TW/) serves its own MathJax
        for src in mathjax:
            target = (page.parent / urlparse(src).path).resolve()
            assert target == (site / MATHJAX_ENTRY).resolve(), f"{page.relative_to(HTML)} loads {src}"
    assert with_math > 0, "no page with math was found: the scan is not looking at the book"


def test_config_points_mathjax_at_the_fetched_copy():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["config"]
    assert "_static/" + cfg["mathjax_path"] == MATHJAX_ENTRY
    assert "_build/mathjax" in cfg["html_extra_path"]
    script = (ROOT / "scripts/fetch-mathjax.sh").read_text(encoding="utf-8")
    assert os.access(ROOT / "scripts/fetch-mathjax.sh", os.X_OK), "build-book.sh runs it only when executable"
    assert 'ENTRY="$DEST/_static/mathjax/es5/tex-mml-chtml.js"' in script and 'DEST="$ROOT/_build/mathjax"' in script


def notebook_pages() -> list[Path]:
    return sorted((HTML / "notebooks").glob("*.html")) if (HTML / "notebooks").is_dir() else []


@pytest.mark.parametrize("page", notebook_pages(), ids=lambda p: p.stem)
def test_notebook_pages_have_launch_buttons(page):
    """Colab and Binder open the chapter's notebook from the repository named in _config.yml."""
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = urlparse(cfg["repository"]["url"]).path.strip("/")
    branch = cfg["repository"].get("branch", "main")
    html = page.read_text(encoding="utf-8")
    nb = f"notebooks/{page.stem}.ipynb"
    assert f"colab.research.google.com/github/{repo}/blob/{branch}/{nb}" in html, "no Colab button"
    binder = rf"mybinder\.org/v2/gh/{re.escape(repo)}/{branch}\?urlpath=tree/{re.escape(nb)}"
    assert re.search(binder, html), "no Binder button"


# ---- the checker itself must catch what it is meant to catch ------------------------------------

@pytest.mark.parametrize(
    "html, caught",
    [
        ('<script defer src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>', 1),
        ('<script src="//unpkg.com/x.js"></script>', 1),
        ('<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Lato">', 1),
        ('<link rel="preload" as="font" href="http://example.org/f.woff2">', 1),
        ("<style>@import url('https://fonts.googleapis.com/css2?family=Noto');</style>", 1),
        ('<div style="background: url(https://example.org/a.png)"></div>', 1),
        ('<script src="../_static/mathjax/es5/tex-mml-chtml.js"></script><link rel="stylesheet" href="x.css">', 0),
        ('<a href="https://colab.research.google.com/github/o/r/blob/main/n.ipynb">Colab</a>', 0),  # a link, not a load
        ("<script>const THEBE_JS_URL = 'https://unpkg.com/thebe';</script>", 0),  # inert text until thebe is on
    ],
)
def test_scanner(html, caught):
    remote, _ = scan(html)
    assert len(remote) == caught, remote
