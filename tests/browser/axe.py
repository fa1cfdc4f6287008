"""axe-core (the npm package pinned in package.json, installed by ``scripts/node-deps.sh``) in the browser.

``audit(driver)`` injects ``node_modules/axe-core/axe.min.js`` into the loaded page and runs the WCAG 2.1 A and AA
rules (tags ``wcag2a wcag2aa wcag21a wcag21aa``); it returns the violations as ``{rule, impact, nodes, targets}``.
``set_mode(driver, lang, theme)`` puts the page in a language mode (``en``, ``both``, ``zh``; the bilingual site's
switch) and a colour mode (``light``, ``dark``; pydata-sphinx-theme's ``data-theme``) without reloading it.
Run as a script (``python -m tests.browser.axe [SITE_DIR ...]``) it prints the table of failing elements / pages
per rule and mode, the measurement quoted in issue 29.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("critical", "serious")

RUN_JS = """
const done = arguments[arguments.length - 1];
const [tags, rules, context] = arguments;
const only = rules ? {type: 'rule', values: rules} : {type: 'tag', values: tags};
axe.run(context || document, {runOnly: only, resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => ({rule: v.id, impact: v.impact, nodes: v.nodes.length,
                                          targets: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: '
                                                   + (n.failureSummary || '').slice(0, 240))}))),
        e => done({error: String(e)}));
"""

MODE_JS = """
const [lang, theme] = arguments;
const html = document.documentElement;
if (!document.getElementById('axe-no-transitions')) {  // colours must be final when axe reads them
  const st = document.createElement('style'); st.id = 'axe-no-transitions';
  st.textContent = '*, *::before, *::after { transition: none !important; animation: none !important; }';
  document.head.appendChild(st);
}
if (lang && html.hasAttribute('data-lang')) {
  const b = document.querySelector('#lang-switch button[data-lang-choice="' + lang + '"]');
  if (b) b.click();
}
html.setAttribute('data-theme', theme);
html.setAttribute('data-mode', theme);
return [html.getAttribute('data-lang'), html.getAttribute('data-theme')];
"""

WAIT_JS = """
const done = arguments[arguments.length - 1];
const deadline = Date.now() + 30000;
(function poll() {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done(true), () => done(false));
  } else if (Date.now() > deadline || !document.querySelector('script[src*="mathjax"]')) { done(true); }
  else { setTimeout(poll, 50); }
})();
"""


def axe_source() -> str:
    if not AXE_JS.is_file():
        raise FileNotFoundError(f"{AXE_JS} is missing: run `bash scripts/node-deps.sh` (npm ci)")
    return AXE_JS.read_text(encoding="utf-8")


def load(driver, url: str) -> None:
    """Open ``url`` and wait until MathJax has typeset the page (the audit must see the final DOM)."""
    driver.get(url)
    driver.set_script_timeout(60)
    driver.execute_async_script(WAIT_JS)


def set_mode(driver, lang: str | None, theme: str) -> list:
    return driver.execute_script(MODE_JS, lang, theme)


def audit(driver, source: str | None = None, rules: list[str] | None = None, context: str | None = None) -> list[dict]:
    """The WCAG 2.1 A/AA violations of the page now loaded in ``driver`` (only ``rules`` when given; only inside the
    CSS selector ``context`` when given)."""
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(source or axe_source())
    driver.set_script_timeout(120)
    result = driver.execute_async_script(RUN_JS, TAGS, rules, context)
    if isinstance(result, dict) and "error" in result:
        raise RuntimeError(f"axe-core failed: {result['error']}")
    return result


#: folders of the built site that are sites of their own, tested by their own tests: the reveal.js decks
#: (tests/browser/test_slides.py) and the editions copied in by build-editions.sh (tests/editions)
OTHER_SITES = ("slides", "en", "zh-TW", "pdf")


def pages(html: Path) -> list[str]:
    """Every written page of a built site (the redirecting index.html aside), relative to its root."""
    found = []
    for path in sorted(html.rglob("*.html")):
        rel = path.relative_to(html).as_posix()
        if rel.startswith("_") or rel == "index.html" or rel.split("/")[0] in OTHER_SITES:
            continue
        found.append(rel)
    return found


def _main() -> None:  # pragma: no cover - a measuring tool
    import argparse
    import collections
    import functools
    import http.server
    import threading

    from selenium import webdriver

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sites", nargs="*", default=[str(ROOT / "_build" / "html")])
    parser.add_argument("--themes", nargs="+", default=["light", "dark"])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    source = axe_source()
    table: dict = collections.defaultdict(lambda: [0, set()])
    impacts: dict = {}
    columns = []
    for site in args.sites:
        html = Path(site)
        bilingual = "editions" not in html.parts
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html))
        handler.log_message = lambda *a: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        name = "bilingual" if bilingual else html.parts[html.parts.index("editions") + 1]
        langs = ["en", "both", "zh"] if bilingual else [None]
        for page in pages(html):
            load(driver, base + page)
            for lang in langs:
                for theme in args.themes:
                    set_mode(driver, lang, theme)
                    col = f"{name}:{lang or ''}:{theme}".replace("::", ":")
                    if col not in columns:
                        columns.append(col)
                    for v in audit(driver, source):
                        cell = table[(v["rule"], col)]
                        cell[0] += v["nodes"]
                        cell[1].add(page)
                        impacts[v["rule"]] = v["impact"]
                        if args.verbose:
                            print(col, page, v["rule"], v["targets"])
        server.shutdown()
    driver.quit()
    rules = sorted(impacts, key=lambda r: (["critical", "serious", "moderate", "minor"].index(impacts[r]), r))
    print("| rule | impact | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for rule in rules:
        cells = [f"{table[(rule, c)][0]}/{len(table[(rule, c)][1])}" if (rule, c) in table else "–" for c in columns]
        print(f"| {rule} | {impacts[rule]} | " + " | ".join(cells) + " |")
    if not rules:
        print("| (none) | | " + " | ".join("0" for _ in columns) + " |")


if __name__ == "__main__":  # pragma: no cover
    os.chdir(ROOT)
    _main()
