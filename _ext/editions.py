"""Three editions from one source · 同一份原始檔的三個版本 (issue 17).

The edition is chosen at build time with the environment variable ``SCORESDE_EDITION``:

* ``both`` (default): today's bilingual site with its language switch;
* ``en``: only the ``lang-en`` containers, English interface (Sphinx ``language = "en"``);
* ``zh-TW``: only the ``lang-zh`` containers, Traditional Chinese interface (``language = "zh_TW"``).

Headings written in both languages ("2. Integration by parts · 分部積分") keep one side in a single-language
edition, the section number kept in both.  Labels, equation numbers, figures and code are untouched, so the
three editions number everything alike.  Every page carries links to the same page in the other editions
(``SCORESDE_EDITION_ROOTS`` maps each edition to its site's root, see scripts/build-editions.sh).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform

SEP = " · "
EDITIONS = {"both": None, "en": "lang-en", "zh-TW": "lang-zh"}
LANGUAGE = {"both": "en", "en": "en", "zh-TW": "zh_TW"}
# the edition links read as one choice of three (issue 28): the bilingual label is the language switch's own
LABELS = {"en": "English", "zh-TW": "中文", "both": "EN + 中文"}
# site roots relative to the repository root in the deployed layout (issue 29): the bilingual site at the root, each
# single-language edition in a folder of it (scripts/build-editions.sh copies them there), so that the links work
# when _build/html is served over http as it is deployed
DEFAULT_ROOTS = {
    "en": "_build/html/en",
    "zh-TW": "_build/html/zh-TW",
    "both": "_build/html",
}
# the theme's and extensions' interface strings without a Traditional Chinese catalogue (pydata/sphinx-book theme,
# myst-nb's folds, sphinx-exercise): the zh-TW edition replaces them in the written pages (text nodes only)
UI_ZH_TW = {
    "Skip to main content": "跳到主要內容",
    "Search": "搜尋",
    "Back to top": "回到頁首",
    "next": "下一頁",
    "previous": "上一頁",
    "Contents": "目錄",
    "Show code cell source": "顯示程式碼",
    "Hide code cell source": "隱藏程式碼",
    "Show code cell output": "顯示輸出",
    "Hide code cell output": "隱藏輸出",
    "Click to show": "按一下顯示",
    "Click to hide": "按一下隱藏",
    "Proof Index": "證明索引",
    "Index": "索引",
    "Print to PDF": "列印成 PDF",
    "Please activate JavaScript to enable the search functionality.": "請啟用 JavaScript 以使用搜尋功能。",
}
PROOF_ZH_TW = {"Theorem": "定理", "Lemma": "引理", "Proposition": "命題", "Corollary": "推論", "Definition": "定義",
               "Remark": "註", "Assumption": "假設", "Example": "例", "Proof": "證明"}
UI_ZH_TW_PATTERNS = [
    (re.compile(r">(\s*)Solution to(\s*)<a ([^>]*)>\s*"), r">\1解答：<a \3>"),  # 「解答：習題 1.1」, no space
    (re.compile(r">\s*Exercise (\d+(?:\.\d+)*)"), r">習題 \1"),
    (re.compile(r">(\s*)© Copyright (\d{4})\.(\s*)<"), r">\1© \2 版權所有。\3<"),
    (re.compile(r">(\s*)(" + "|".join(PROOF_ZH_TW) + r")( \d+(?:\.\d+)*)"),
     lambda m: f">{m[1]}{PROOF_ZH_TW[m[2]]}{m[3]}"),
    (re.compile(r">(\s*)By ([^<]+?)(\s*)<"), r">\1作者：\2\3<"),
]
NUMBER = re.compile(r"^\s*((?:\d+\.)+\d*\s+|[A-Z]\.\s+|\(?★+\s*)")


def edition() -> str:
    """The edition named by ``SCORESDE_EDITION`` (default ``both``); ValueError for any other name."""
    name = os.environ.get("SCORESDE_EDITION", "both").strip() or "both"
    if name not in EDITIONS:
        raise ValueError(f"SCORESDE_EDITION must be one of {sorted(EDITIONS)}, got {name!r}")
    return name


def split_title(text: str, keep: str) -> str:
    """One side of a bilingual title ``"2. English · 中文"``: ``keep`` is ``en`` or ``zh-TW``.

    The leading section number stays on both sides; a title without the separator is returned unchanged.
    """
    if SEP not in text:
        return text
    left, right = text.split(SEP, 1)
    if keep == "en":
        return left.rstrip()
    match = NUMBER.match(left)
    return (match.group(1) if match else "") + right.strip()


def _split_title_node(title: nodes.Element, keep: str) -> None:
    """Split a title node whose children may hold inline math: cut at the first Text child holding SEP."""
    children = list(title.children)
    for i, child in enumerate(children):
        if isinstance(child, nodes.Text) and SEP in child.astext():
            left, right = child.astext().split(SEP, 1)
            if keep == "en":
                new = children[:i] + ([nodes.Text(left.rstrip())] if left.strip() else [])
            else:
                first = children[0].astext() if children and isinstance(children[0], nodes.Text) else ""
                match = NUMBER.match(first if i > 0 else left)
                prefix = [nodes.Text(match.group(1))] if match else []
                new = prefix + [nodes.Text(right.lstrip())] + children[i + 1:]
            title.children = []
            title.extend(new)
            return


class KeepOneLanguage(SphinxTransform):
    """Drop the other language's containers and one side of every bilingual title."""

    default_priority = 200

    def apply(self, **kwargs) -> None:
        name = self.config.scoresde_edition
        keep = EDITIONS[name]
        if keep is None:
            return
        drop = "lang-zh" if keep == "lang-en" else "lang-en"
        for node in list(self.document.findall(nodes.container)):
            if drop in node.get("classes", []):
                node.parent.remove(node)
        # titles, and subtitles: an exercise's "★★ English · 中文" is sphinx-exercise's subtitle of its title
        for title in list(self.document.findall(nodes.title)) + list(self.document.findall(nodes.subtitle)):
            _split_title_node(title, name)
        # table cells and figure captions written "English · 中文" (CONTRIBUTING rule 3) keep one side too
        for cell in list(self.document.findall(nodes.entry)) + list(self.document.findall(nodes.caption)):
            for para in list(cell.findall(nodes.paragraph)) + ([cell] if isinstance(cell, nodes.caption) else []):
                _split_title_node(para, name)
        for node in self.document.traverse():
            if node.tagname == "toctree" and node.get("caption"):
                node["caption"] = split_title(node["caption"], name)


def configure(app: Sphinx, config) -> None:
    """Set the interface language and the site title for the edition."""
    name = edition()
    config.scoresde_edition = name
    config.language = LANGUAGE[name]
    if name == "zh-TW":  # sphinx-exercise has no zh_TW catalogue: its numbered titles read 習題 3.1
        config.numfig_format = {**(config.numfig_format or {}), "exercise": "習題 %s"}
    if name != "both":
        for key in ("html_title", "project"):
            value = getattr(config, key, None)
            if isinstance(value, str) and value:
                setattr(config, key, split_title(value, name))
    # pydata-sphinx-theme logs "Got invalid theme mode" on a reader's first visit when no default mode is set;
    # light: the figures are drawn on white
    context = dict(getattr(config, "html_context", None) or {})  # the theme reads its default mode from here
    context.setdefault("default_mode", "light")
    config.html_context = context
    static = str(Path(__file__).with_name("editions_static"))
    config.html_static_path = list(config.html_static_path) + [static]


def edition_links(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Links to this page in the other editions; the single-language sites lose the language switch."""
    name = app.config.scoresde_edition
    if name != "both" and "script_files" in context:
        context["script_files"] = [js for js in context["script_files"] if "lang-switch" not in str(js)]
    roots = json.loads(os.environ.get("SCORESDE_EDITION_ROOTS", "null") or "null") or DEFAULT_ROOTS
    here = roots[name]
    to_root = context["pathto"]("", 1) if "pathto" in context else ""
    links = []
    for other in ("en", "zh-TW", "both"):
        rel = os.path.relpath(roots[other], here).replace(os.sep, "/")
        href = None if other == name else f"{to_root}{rel}/{pagename}.html"
        links.append({"edition": other, "label": LABELS[other], "href": href})
    meta = json.dumps({"edition": name, "links": links}, ensure_ascii=False).replace("'", "&#39;")
    tags = f"\n<meta name=\"scoresde-editions\" content='{meta}'>"
    if app.builder.name == "singlehtml":  # the print build: editions.js adds a title page and contents
        title = split_title(app.config.html_title or app.config.project, name) if name != "both" else app.config.project
        tags += f'\n<meta name="scoresde-print" content="1">\n<meta name="scoresde-book-title" content="{title}">'
    context["metatags"] = context.get("metatags", "") + tags


def unique_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Each script once per page: jupyter-book and the ``extra_extensions`` both register sphinx-togglebutton and
    sphinx-thebe, whose inline ``const THEBE_JS_URL`` then throws "already declared" on every page."""
    seen, kept = set(), []
    for js in context.get("script_files", []):
        # an inline script's filename is None or "" depending on who added it
        key = (getattr(js, "filename", str(js)) or "", repr(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    if "script_files" in context:
        context["script_files"] = kept


def translate_ui(html: str) -> str:
    """``html`` with the interface strings of :data:`UI_ZH_TW` in Traditional Chinese: whole text nodes only, and
    never inside ``<pre>`` (highlighted code has text nodes such as ``next`` and ``Index`` of its own)."""
    parts = re.split(r"(<pre\b.*?</pre>)", html, flags=re.S)
    for i in range(0, len(parts), 2):  # even parts lie outside <pre>…</pre>
        for english, chinese in UI_ZH_TW.items():
            parts[i] = re.sub(r">(\s*)" + re.escape(english) + r"(\s*)<",
                              lambda m, zh=chinese: f">{m[1]}{zh}{m[2]}<", parts[i])
        for pattern, replacement in UI_ZH_TW_PATTERNS:
            parts[i] = pattern.sub(replacement, parts[i])
    return "".join(parts)


def translate_written_pages(app: Sphinx, exception: Exception | None) -> None:
    """After a zh-TW build: the interface strings of every written page in Chinese."""
    if exception is not None or app.config.scoresde_edition != "zh-TW" or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        new = translate_ui(text)
        if new != text:
            page.write_text(new, encoding="utf-8")


def share_html_visitors(app: Sphinx) -> None:
    """The print build uses ``singlehtml``: SVG math, and every node visitor registered for ``html`` it lacks.

    Sphinx looks up a builder's handlers by its name first, so once any extension registers one for
    ``singlehtml`` the ``html`` ones (myst-nb's HideCodeCellNode among them) are no longer found.
    """
    if app.builder.name != "singlehtml":
        return
    # print: math as SVG paths (MathJax's CHTML web fonts would be embedded by Chromium as Type 3 fonts)
    if app.config.mathjax_path.endswith("tex-mml-chtml.js"):
        app.config.mathjax_path = app.config.mathjax_path.replace("tex-mml-chtml.js", "tex-mml-svg.js")
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, pair in handlers.get("html", {}).items():
        single.setdefault(node, pair)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", share_html_visitors)
    app.add_config_value("scoresde_edition", "both", "env")
    app.connect("config-inited", configure)
    app.add_transform(KeepOneLanguage)
    app.add_js_file("editions.js")
    app.add_css_file("editions.css")
    app.connect("html-page-context", edition_links)
    app.connect("html-page-context", unique_scripts, priority=900)  # after the theme and extensions
    app.connect("build-finished", translate_written_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
