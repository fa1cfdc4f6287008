"""The rendered book in a real headless Chromium: a local web server over ``_build/html`` and a browser.

Needs the built book (``bash scripts/build-book.sh``) and Debian's ``chromium`` + ``chromium-driver``
(listed in ``scripts/system-deps.txt``; ``scripts/test.sh`` checks and installs them first). Without the browser the tests are skipped on a
developer's machine and fail under CI (``CI`` set), so a green CI always means they ran.
Screenshots go to ``artifacts/screenshots/``; the run time is printed at the end of the session.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("SCORESDE_HTML", ROOT / "_build" / "html"))  # the built book
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

_T0 = time.perf_counter()
SAVED: list[Path] = []


def _find(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def missing(reason: str):
    """Fail under CI (the test command installs everything), skip on a developer's machine."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="session")
def site() -> str:
    """Serve the built book on 127.0.0.1 (localStorage needs a real origin); yield its base URL."""
    if not (HTML / "index.html").is_file():
        pytest.fail(f"{HTML} has no built book: run `bash scripts/build-book.sh` first")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium driven by Selenium, offline (only 127.0.0.1 resolves), with a network log."""
    chromium = _find("chromium")  # Debian's (scripts/system-deps.txt)
    driver_path = _find("chromedriver")
    if chromium is None or driver_path is None:
        missing("needs Debian's chromium and chromium-driver: bash scripts/system-deps.sh (the list: scripts/system-deps.txt)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="scoresde-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--lang=en-US",
        # a classroom without internet: every host but the local server fails to resolve
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def pytest_terminal_summary(terminalreporter):
    if not SAVED and not terminalreporter.stats.get("passed"):
        return
    terminalreporter.write_line(f"browser tests ran in {time.perf_counter() - _T0:.1f} s")
    for path in SAVED:
        terminalreporter.write_line(f"screenshot: {path.relative_to(ROOT)}")
