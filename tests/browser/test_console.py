"""Every page of the built book loads with a clean console: no JavaScript error and no failed request.

A reader who opens the browser's console (or a teacher checking the book before class) should see nothing red:
no ``Identifier 'THEBE_JS_URL' has already been declared`` from a script included twice, no favicon 404, no
"invalid theme mode". Each page is opened on the local server; the browser log (level SEVERE) and the network
log (failed loads and HTTP errors) must both be empty.
"""

from __future__ import annotations

import json

import pytest

from .conftest import HTML


def _pages() -> list[str]:
    pages = sorted(str(p.relative_to(HTML)) for p in HTML.rglob("*.html")
                   if "_static" not in p.parts and not p.name.startswith("_"))
    assert len(pages) >= 10, pages
    return pages


def console_errors(entries: list[dict]) -> list[str]:
    """SEVERE browser-log entries (JavaScript errors, failed resources, console.error)."""
    return [e["message"][:200] for e in entries if e.get("level") == "SEVERE"]


def failed_requests(entries: list[dict]) -> list[str]:
    """Requests that failed or answered with an HTTP error, from Chromium's performance (DevTools) log."""
    bad, urls = [], {}
    for entry in entries:
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif message.get("method") == "Network.responseReceived" and params["response"]["status"] >= 400:
            bad.append(f"{params['response']['status']} {params['response']['url']}")
        elif message.get("method") == "Network.loadingFailed" and not params.get("canceled") \
                and params["requestId"] in urls:  # the page's own requests (not one the browser began earlier)
            bad.append(f"{params.get('errorText')} {urls[params['requestId']]}")
    return bad


def test_checks_find_errors():
    log = [{"level": "SEVERE", "message": "x.html 12:5 Uncaught SyntaxError: Identifier 'A' has already been declared"},
           {"level": "INFO", "message": "fine"}]
    assert console_errors(log) == [log[0]["message"]]
    sent = {"message": json.dumps({"message": {"method": "Network.requestWillBeSent",
                                               "params": {"requestId": "1", "request": {"url": "http://h/f.ico"}}}})}
    status = {"message": json.dumps({"message": {"method": "Network.responseReceived",
                                                 "params": {"requestId": "1", "response": {"status": 404,
                                                                                           "url": "http://h/f.ico"}}}})}
    failed = {"message": json.dumps({"message": {"method": "Network.loadingFailed",
                                                 "params": {"requestId": "1", "errorText": "net::ERR_FAILED"}}})}
    assert failed_requests([sent, status]) == ["404 http://h/f.ico"]
    assert failed_requests([sent, failed]) == ["net::ERR_FAILED http://h/f.ico"]
    assert failed_requests([sent]) == []
    assert failed_requests([failed]) == []          # a request begun before this page (not in the log) is not its own


@pytest.mark.parametrize("page", _pages())
def test_page_has_a_clean_console(browser, site, page):
    browser.get_log("browser")
    browser.get_log("performance")  # drain what earlier tests left
    browser.get(site + page)
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "if (document.readyState === 'complete') setTimeout(done, 300);"
        "else window.addEventListener('load', () => setTimeout(done, 300));")
    problems = console_errors(browser.get_log("browser")) + failed_requests(browser.get_log("performance"))
    assert problems == [], page
