"""One slide deck per chapter, generated from the chapter's notebook as the book renders it (issue 29).

    python scripts/slides.py [SITE]        SITE: the built bilingual book (default _build/html)

For every chapter page ``SITE/notebooks/NN_*.html`` (the notebook, rendered with its numbered equations, resolved
references and figure captions) it writes ``SITE/slides/NN_*.html``: a title slide; for each numbered section a slide
with the section's first paragraph in English and in 繁體中文 and its first displayed equation; one slide per figure
with its caption and alt text; a slide listing the chapter's exercises with their self-check calls. Decks use
reveal.js from node_modules (package-lock.json pins it; scripts/node-deps.sh installs it), copied to
``SITE/slides/_reveal/``, and the book's own MathJax: nothing is fetched from the network. The language mode
(English, both, 中文) follows ``?lang=en|both|zh`` and the key ``L``, as the book's switch does. ``SITE/slides/index.html``
lists the decks. Called by scripts/build-book.sh; tests/browser/test_slides.py opens every deck.
"""
from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import sys
from pathlib import Path

from bs4 import BeautifulSoup, Tag

ROOT = Path(__file__).resolve().parents[1]
REVEAL = ROOT / "node_modules" / "reveal.js"
MAX_PARAGRAPH = 700  # characters of a section's first paragraph kept on its slide

DECK = """<!DOCTYPE html>
<html lang="en" data-lang="both">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="../_static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="_reveal/reveal.css">
<link rel="stylesheet" href="_reveal/theme/white.css">
<link rel="stylesheet" href="slides.css">
<script>{mathjax_config}</script>
<script defer src="../_static/mathjax/es5/tex-mml-chtml.js"></script>
</head>
<body>
<div class="lang-modes" role="group" aria-label="Language · 語言">
<button type="button" data-mode="en">EN</button><button type="button" data-mode="both">EN + 中文</button><button type="button" data-mode="zh">中文</button>
</div>
<div class="reveal"><div class="slides">
{slides}
</div></div>
<script src="_reveal/reveal.js"></script>
<script src="slides.js"></script>
</body>
</html>
"""

CSS = """.reveal { font-size: 26px; }
.reveal h1 { font-size: 1.7em; } .reveal h2 { font-size: 1.25em; } .reveal section { text-align: left; }
.reveal .lang-zh { font-family: "Noto Sans CJK TC", "Noto Sans TC", sans-serif; color: #333; }
.reveal p { font-size: 0.8em; line-height: 1.35; }
.reveal figure img { max-height: 430px; margin: 0 auto; display: block; }
.reveal figcaption { font-size: 0.6em; }
.reveal .equation { font-size: 0.85em; }
.reveal ul.exercises { font-size: 0.65em; }
.reveal a { color: #1558b0; }
html[data-lang="en"] .lang-zh, html[data-lang="zh"] .lang-en { display: none !important; }
.lang-modes { position: fixed; top: 6px; right: 8px; z-index: 30; }
.lang-modes button { font-size: 13px; padding: 2px 8px; border: 1px solid #555; background: #fff; color: #222; }
.lang-modes button[aria-pressed="true"] { background: #1558b0; color: #fff; }
.lang-modes button:focus-visible { outline: 3px solid #222; outline-offset: 2px; }
"""

JS = """(function () {
  "use strict";
  var MODES = ["en", "both", "zh"];
  function apply(mode) {
    if (MODES.indexOf(mode) < 0) mode = "both";
    document.documentElement.setAttribute("data-lang", mode);
    document.documentElement.setAttribute("lang", mode === "zh" ? "zh-Hant-TW" : "en");
    document.querySelectorAll(".lang-modes button").forEach(function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-mode") === mode ? "true" : "false");
    });
    try { window.localStorage.setItem("scoresde-lang", mode); } catch (e) {}
    if (window.Reveal && Reveal.isReady && Reveal.isReady()) Reveal.layout();
  }
  var asked = new URLSearchParams(window.location.search).get("lang"), stored = null;
  try { stored = window.localStorage.getItem("scoresde-lang"); } catch (e) {}
  apply(asked || stored || "both");
  document.querySelectorAll(".lang-modes button").forEach(function (b) {
    b.addEventListener("click", function () { apply(b.getAttribute("data-mode")); });
  });
  Reveal.initialize({hash: true, slideNumber: "c/t", width: 1100, height: 720, margin: 0.05,
                     keyboard: {76: function () {  /* L: the next language mode */
                       var now = document.documentElement.getAttribute("data-lang");
                       apply(MODES[(MODES.indexOf(now) + 1) % MODES.length]); }}});
  Reveal.on("ready", function () {
    if (window.MathJax && MathJax.startup) MathJax.startup.promise.then(function () { Reveal.layout(); });
  });
})();
"""


def _text(node: Tag | None) -> str:
    return re.sub(r"\s+", " ", node.get_text(" ")).strip() if node else ""


def _first_paragraph(section: Tag, cls: str) -> str:
    """The first paragraph of the section's first ``cls`` block, as HTML (math kept for MathJax), shortened."""
    for block in section.find_all("div", class_=cls, recursive=True):
        if block.find_parent("div", class_=["exercise", "solution", "proof", "cell"]):
            continue
        p = block.find("p")
        if p is None:
            continue
        for a in p.find_all("a"):
            a.replace_with(a.get_text())
        text = p.decode_contents().strip()
        if len(_text(p)) > MAX_PARAGRAPH:
            cut = text[: text.rfind(" ", 0, int(MAX_PARAGRAPH * len(text) / max(1, len(_text(p)))))]
            # never cut inside inline math: drop an unclosed \( … and close the sentence
            if cut.count("\\(") > cut.count("\\)"):
                cut = cut[: cut.rfind("\\(")]
            text = BeautifulSoup(cut, "html.parser").decode() + " …"
        return text
    return ""


def chapter_slides(page: Path) -> tuple[str, str, int]:
    """The slides of one chapter page: (title, slides HTML, number of slides)."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    article = soup.find("article") or soup
    h1 = article.find("h1")
    title = _text(h1).rstrip("#").strip()
    chapter = re.match(r"(\d+)", page.stem)
    number = str(int(chapter.group(1))) if chapter else ""
    slides = [f'<section><h1>{html.escape(title)}</h1>'
              f'<p class="lang-en">Chapter {number} of “Score Matching and SDEs”. '
              f'<a href="../{page.parent.name}/{page.name}">The chapter in the book</a>.</p>'
              f'<p class="lang-zh" lang="zh-Hant-TW">《分數匹配與隨機微分方程》第 {number} 章。'
              f'<a href="../{page.parent.name}/{page.name}">本書中的這一章</a>。</p></section>']
    top = h1.find_parent("section") if h1 else article
    for section in top.find_all("section", recursive=False):
        h2 = section.find("h2")
        heading = _text(h2).rstrip("#").strip()
        if not heading or heading.lower().startswith(("code in this chapter", "exercises")):
            continue
        en, zh = _first_paragraph(section, "lang-en"), _first_paragraph(section, "lang-zh")
        maths = [m for m in section.find_all("div", class_="math") if not m.find_parent("div", class_=["exercise", "solution"])]
        eq = f'<div class="equation">{maths[0].decode_contents()}</div>' if maths else ""
        slides.append(f"<section><h2>{html.escape(heading)}</h2>"
                      + (f'<p class="lang-en" lang="en">{en}</p>' if en else "")
                      + (f'<p class="lang-zh" lang="zh-Hant-TW">{zh}</p>' if zh else "")
                      + eq + "</section>")
        for cap in section.find_all("div", class_="scoresde-figcaption"):
            cell = cap.find_parent("div", class_="cell")
            img = cell.find("img") if cell else None
            if img is None:
                continue
            src = img["src"]  # ../_images/…: the deck lies in slides/, beside notebooks/
            en_cap, zh_cap = _text(cap.find("div", class_="lang-en")), _text(cap.find("div", class_="lang-zh"))
            slides.append(
                f'<section><figure><img src="{html.escape(src)}" alt="{html.escape(cap["data-alt-en"])}" '
                f'data-alt-en="{html.escape(cap["data-alt-en"])}" data-alt-zh="{html.escape(cap["data-alt-zh"])}">'
                f'<figcaption><span class="lang-en" lang="en">{html.escape(en_cap)}</span> '
                f'<span class="lang-zh" lang="zh-Hant-TW">{html.escape(zh_cap)}</span></figcaption></figure></section>')
    exercises = []
    for ex in article.find_all("div", class_="exercise"):
        title_p = ex.find("p", class_="admonition-title")
        call = next((c.get_text() for c in ex.find_all("code") if "check(" in c.get_text()), "")
        if title_p:
            exercises.append(f"<li>{html.escape(_text(title_p))}" + (f" — <code>{html.escape(call)}</code>" if call else "")
                             + "</li>")
    if exercises:
        slides.append('<section><h2><span class="lang-en">Exercises</span> <span class="lang-zh">習題</span></h2>'
                      f'<ul class="exercises">{"".join(exercises)}</ul></section>')
    return title, "\n".join(slides), len(slides)


def mathjax_config(page: Path) -> str:
    """The book's MathJax configuration (its macros), read from the chapter page."""
    text = page.read_text(encoding="utf-8")
    match = re.search(r"<script>\s*(window\.MathJax\s*=.*?)</script>", text, re.S)
    return match.group(1) if match else "window.MathJax = {};"


def build(site: Path) -> list[Path]:
    chapters = sorted((site / "notebooks").glob("[0-9][0-9]_*.html"))
    if not chapters:
        raise SystemExit(f"[slides] no chapter pages under {site}/notebooks: build the book first")
    if not (REVEAL / "dist" / "reveal.js").is_file():
        raise SystemExit("[slides] reveal.js is missing: run `bash scripts/node-deps.sh` (npm ci)")
    out = site / "slides"
    if out.exists():
        shutil.rmtree(out)
    (out / "_reveal" / "theme").mkdir(parents=True)
    for name in ("reveal.js", "reveal.css", "reset.css"):
        shutil.copy2(REVEAL / "dist" / name, out / "_reveal" / name)
    shutil.copy2(REVEAL / "dist" / "theme" / "white.css", out / "_reveal" / "theme" / "white.css")
    if (REVEAL / "dist" / "theme" / "fonts").is_dir():
        shutil.copytree(REVEAL / "dist" / "theme" / "fonts", out / "_reveal" / "theme" / "fonts")
    shutil.copy2(REVEAL / "LICENSE", out / "_reveal" / "LICENSE")
    (out / "slides.css").write_text(CSS, encoding="utf-8")
    (out / "slides.js").write_text(JS, encoding="utf-8")
    written, rows = [], []
    for page in chapters:
        title, slides, n = chapter_slides(page)
        deck = out / page.name
        deck.write_text(DECK.format(title=html.escape(title), slides=slides, mathjax_config=mathjax_config(page)),
                        encoding="utf-8")
        written.append(deck)
        rows.append(f'<li><a href="{page.name}">{html.escape(title)}</a> ({n} slides · {n} 張)</li>')
    (out / "index.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Slides · 投影片</title>'
        '<link rel="icon" href="../_static/favicon.svg" type="image/svg+xml"></head><body>'
        "<main><h1>Slides · 投影片</h1><p>One deck per chapter, generated from its notebook · 每章一份，由其筆記本產生。"
        f'</p><ul>{"".join(rows)}</ul><p><a href="../book/teaching.html">Teaching with this book · 用本書教學</a></p>'
        "</main></body></html>", encoding="utf-8")
    (out / "decks.json").write_text(json.dumps([p.name for p in written]), encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", nargs="?", default=str(ROOT / "_build" / "html"))
    args = parser.parse_args(argv)
    written = build(Path(args.site))
    print(f"[slides] {len(written)} decks in {Path(args.site) / 'slides'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
