"""The book on a phone (390 × 844 CSS px, issue 16): no page scrolls sideways, every header control is on screen.

Before the fix the header pushed the page to 473 px: search and the page's contents button sat off screen, the
theme icon was cut, and the glossary table was 501 px wide. Screenshots of one chapter in each language mode go to
``artifacts/screenshots/phone-*.png``.
"""

from __future__ import annotations

import pytest

from .axe import OTHER_SITES
from .conftest import HTML, SAVED

WIDTH, HEIGHT = 390, 844
MODES = ("en", "zh", "both")
OVERFLOW_JS = """
const w = arguments[0];
const wide = document.documentElement.scrollWidth;
const controls = Array.from(document.querySelectorAll(
  '.bd-header button, .bd-header a, .article-header-buttons button, .article-header-buttons a, .lang-switch button'))
  .filter(e => e.offsetParent !== null)
  .map(e => [e.getAttribute('aria-label') || e.title || e.textContent.trim().slice(0, 20) || e.className,
             e.getBoundingClientRect()])
  .filter(([, r]) => r.width > 0 && r.height > 0)
  .filter(([, r]) => r.left < -0.5 || r.right > w + 0.5)
  .map(([name, r]) => name + ' at ' + Math.round(r.left) + '..' + Math.round(r.right));
return {width: w, scroll: wide, off: controls};
"""


def _pages() -> list[str]:
    return sorted(str(p.relative_to(HTML)) for p in HTML.rglob("*.html")
                  if "_static" not in p.parts and not p.name.startswith("_")
                  and p.relative_to(HTML).parts[0] not in OTHER_SITES)


@pytest.fixture(scope="module")
def phone(browser):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 2, "mobile": True})
    try:
        yield browser
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _settled(browser) -> None:
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const go = () => (window.MathJax && MathJax.startup ? MathJax.startup.promise : Promise.resolve())"
        ".then(() => setTimeout(done, 200));"
        "if (document.readyState === 'complete') go(); else window.addEventListener('load', go);")


@pytest.mark.parametrize("page", _pages())
def test_page_fits_a_phone(phone, site, page):
    phone.get(site + page)
    _settled(phone)
    seen = phone.execute_script(OVERFLOW_JS, WIDTH)
    assert seen["scroll"] <= WIDTH, f"{page} is {seen['scroll']} px wide on a {WIDTH} px screen"
    assert seen["off"] == [], f"{page}: header controls off screen: {seen['off']}"


@pytest.mark.parametrize("mode", MODES)
def test_phone_screenshots(phone, site, screenshots, mode):
    phone.get(site + "notebooks/03_brownian_motion_ito.html?lang=" + mode)
    _settled(phone)
    path = screenshots / f"phone-03-{mode}.png"
    phone.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
    SAVED.append(path)
