"""The deployed layout, served over http (issue 29): the bilingual site at the root, the English and 中文 editions in
``en/`` and ``zh-TW/`` of it, the PDFs in ``pdf/`` (scripts/build-editions.sh lays it out). Every edition link of every
page answers 200; the teaching page's PDF links answer 200; the editions' chapter pages have no critical or serious
axe-core violation, light and dark. Run after scripts/build-editions.sh (SCORESDE_EDITIONS_BUILT=1)."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
pytestmark = pytest.mark.skipif(os.environ.get("SCORESDE_EDITIONS_BUILT") != "1",
                                reason="needs scripts/build-editions.sh (set SCORESDE_EDITIONS_BUILT=1)")
META = re.compile(r"<meta name=\"scoresde-editions\" content='([^']*)'>")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture(scope="module")
def served():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def edition_links(page: Path) -> list[str]:
    match = META.search(page.read_text(encoding="utf-8"))
    if not match:
        return []
    return [link["href"] for link in json.loads(match.group(1).replace("&#39;", "'"))["links"] if link["href"]]


def test_every_edition_link_answers_over_http(served):
    checked, bad = 0, []
    for site in ("", "en/", "zh-TW/"):
        assert (HTML / site / "index.html").is_file(), f"{HTML / site} is not in the deployed layout"
        for page in sorted((HTML / site).glob("*/*.html")):
            rel = page.relative_to(HTML).as_posix()
            if rel.split("/")[0] in ("en", "zh-TW", "pdf", "slides", "_static") and site == "":
                continue
            for href in edition_links(page):
                url = urljoin(served + rel, href)
                checked += 1
                if status(url) != 200:
                    bad.append(f"{rel} -> {href}")
    assert checked >= 30 and not bad, (checked, bad[:10])


def test_link_check_fails_on_the_old_layout(served):
    """The check can fail: a link written for the _build/editions layout does not resolve over http."""
    assert status(urljoin(served + "book/preface.html", "../../editions/en/_build/html/book/preface.html")) == 404


def test_teaching_page_downloads_answer(served):
    page = (HTML / "book" / "teaching.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'class="scoresde-(?:pdf|teacher|slides)" href="([^"]+)"', page)
    assert len(hrefs) >= 7
    bad = [h for h in hrefs if status(urljoin(served + "book/teaching.html", h)) != 200]
    assert not bad, bad


@pytest.mark.parametrize("edition", ["en", "zh-TW"])
def test_edition_chapters_pass_axe(edition):
    """0 critical / serious on the edition's chapter pages, light (every rule) and dark (colour rules)."""
    import sys

    sys.path.insert(0, str(ROOT))
    from tests.browser.axe import BLOCKING, audit, axe_source, load, set_mode

    pytest.importorskip("selenium")
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    driver = webdriver.Chrome(options=options)
    source, failures = axe_source(), []
    try:
        for page in sorted((HTML / edition / "notebooks").glob("[0-9][0-9]_*.html")):
            load(driver, f"http://127.0.0.1:{server.server_address[1]}/{edition}/notebooks/{page.name}")
            for theme, rules in (("light", None), ("dark", ["color-contrast", "link-in-text-block"])):
                set_mode(driver, None, theme)
                failures += [f"{page.name} {theme}: {v['rule']} {v['targets']}"
                             for v in audit(driver, source, rules=rules) if v["impact"] in BLOCKING]
    finally:
        driver.quit()
        server.shutdown()
        server.server_close()
    assert not failures, failures


MATH_ALNUM = re.compile(r"[\U0001D400-\U0001D7FF∇∫∑√≤≥≈∞]")


@pytest.mark.parametrize("edition", ["en"])  # 中文: the layer came out in Type 3 fonts (a11y.css), so it is not laid
def test_pdf_math_has_a_text_layer(edition):
    """Formulas in the printed book carry their characters (a11y.css lays MathJax's assistive MathML over the SVG):
    pdftotext finds mathematical letters and operators on the pages of the chapters, not blanks (issue 29 found
    "Let  have mean zero")."""
    import shutil
    import subprocess

    pdf = ROOT / "_build" / "pdf" / f"scoresde-{edition}.pdf"
    assert pdf.is_file() and shutil.which("pdftotext")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    found = len(MATH_ALNUM.findall(text))
    assert found > 2000, f"{pdf.name}: only {found} mathematical characters in its text layer"


@pytest.mark.parametrize("edition", ["en", "zh-TW"])
def test_solutions_pdf_holds_the_solutions_code(edition):
    """The teacher's file prints, after each solution, the code cells that compute and check its answer."""
    import subprocess

    pdf = ROOT / "_build" / "pdf" / "sheets" / edition / "solutions.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert text.count("assert") >= 20 and text.count("check(") >= 10, (text.count("assert"), text.count("check("))
