"""The zh-TW edition typeset as Chinese (issue 28): the measures of tests/browser/test_cjk.py on every chapter of
the 繁體中文 site, in headless Chromium. Run after scripts/build-editions.sh (SCORESDE_EDITIONS_BUILT=1).

On the edition before issue 28 every chapter had stray spaces (ch1: 76) and lines starting with punctuation.
"""
from __future__ import annotations

import functools
import http.server
import os
import threading

import pytest
from browser import test_cjk as cjk
from browser.conftest import browser  # noqa: F401  (the session's headless Chromium)

from .test_editions import ROOT, built

SITE = ROOT / "_build" / "editions" / "zh-TW" / "_build" / "html"
PAGES = cjk.chapters(SITE) if SITE.is_dir() else []
SCOPE = "article, nav.bd-docs-nav, nav.page-toc"  # the whole edition is Chinese: every text of the page


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture(scope="module")
def zh_site():
    if not (SITE / "index.html").is_file():
        pytest.fail(f"{SITE} has no built edition: run `bash scripts/build-editions.sh` first")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@built
@pytest.mark.skipif(os.environ.get("SCORESDE_EDITIONS_BUILT") != "1" or not PAGES, reason="needs the zh-TW edition")
@pytest.mark.parametrize("page", PAGES)
def test_zh_edition_is_typeset_as_chinese(browser, zh_site, page):  # noqa: F811
    cjk.load(browser, zh_site + page)
    assert browser.execute_script("return document.documentElement.lang") == "zh-Hant-TW"
    stray = browser.execute_script(cjk.STRAY_JS, cjk.STRAY.pattern, SCOPE)
    assert stray == [], f"{page}: {len(stray)} spaces between CJK characters: {stray[:8]}"
    try:
        for width in cjk.WIDTHS:
            cjk.set_width(browser, width)
            found = cjk.line_starts(browser, "article")
            assert found == [], f"{page} ({width} px): {len(found)} lines start with punctuation: {found[:6]}"
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    faces = cjk.foreign_faces(browser)
    assert faces == [], f"{page}: {len(faces)} Chinese nodes not in a TC face: {faces[:5]}"
    english = cjk.english_interface(browser)
    assert english == [], f"{page}: {len(english)} English interface strings: {english[:10]}"
