"""Chinese typeset as Chinese · 中文排版 (issue 28), in one build step for the web, the editions and the PDFs.

Three things, each on the doctree (so every builder and every edition gets them) or on the written page:

1. :class:`JoinCJKLines` drops the whitespace between two CJK characters (ideographs, CJK and full-width
   punctuation), also across inline markup (``**術語。** 下一句``). The sources keep short lines inside a Chinese
   paragraph; a browser would draw each line break as a space.
2. The same transform keeps inline math together with the closing punctuation that follows it
   (``$a=1/s^2$、`` and ``$x$,``): both go into ``<span class="nobr">`` (``white-space: nowrap`` in
   ``_static/cjk.css``), so no line starts with 、，。 or , . ; : ) after a formula.
3. :func:`mark_languages` gives the written HTML its languages without JavaScript: ``lang="en"`` and
   ``lang="zh-Hant-TW"`` on the prose containers, each side of a bilingual title ("Integration by parts · 分部積分")
   in the headings, sidebar, contents and page links in its own ``<span lang>``, and any other Chinese text
   outside a Chinese block in ``<span lang="zh-Hant-TW">``. The fonts then pick the TC face (``_static/cjk.css``).
   In the bilingual site each interface string of :data:`editions.UI_ZH_TW` is written in both languages
   (``<span class="ui-en">``/``<span class="ui-zh">``); the 中文 mode shows the Chinese one.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform

ZH = "zh-Hant-TW"
SEP = " · "  # between the two sides of a bilingual title
NUMBER = re.compile(r"^\s*((?:\d+\.)+\d*\s+|[A-Z]\.\s+|\(?★+\s*)")  # "2. ", "A. " or an exercise's "(★★ " before a bilingual title
IDEOGRAPH = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# CJK symbols and punctuation (、。「」《》…), full-width forms (，：；（）！？), the ellipsis and dash of Chinese prose
CJK_PUNCT = "\u3000-\u303f\uff01-\uff60\u2026\u2014"
CJK_CHAR = f"[{IDEOGRAPH}{CJK_PUNCT}]"
CJK_TEXT = re.compile(f"[{IDEOGRAPH}]")
# whitespace between two CJK characters: the whole run goes
CJK_GAP = re.compile(f"(?<={CJK_CHAR})\\s+(?={CJK_CHAR})")
# closing punctuation that must not start a line (Chinese and English); a run of it (」。 or ).) stays together
CLOSING = "，。、；：！？）」』》〉】…,.;:!?)"
AFTER_MATH = re.compile(f"^\\s*[{re.escape(CLOSING)}]+")
# the object replacement character stands for a formula or code in the flattened text of a block
OPAQUE = "\ufffc"
OPAQUE_NODES = (nodes.math, nodes.literal, nodes.raw, nodes.FixedTextElement, nodes.image)


def join_cjk_lines(text: str) -> str:
    """``text`` without the whitespace between two CJK characters (or CJK and full-width punctuation)."""
    return CJK_GAP.sub("", text)


def _leaves(block: nodes.Element) -> list[nodes.Node]:
    """The Text nodes of a block in reading order, with a formula or code standing as one opaque leaf."""
    out: list[nodes.Node] = []

    def walk(node: nodes.Node) -> None:
        for child in node.children:
            if isinstance(child, OPAQUE_NODES):
                out.append(child)
            elif isinstance(child, nodes.Text):
                out.append(child)
            elif isinstance(child, nodes.Element):
                walk(child)

    walk(block)
    return out


def _replace(old: nodes.Node, new: nodes.Node | None) -> None:
    """Replace (or with ``None`` remove) ``old`` in its parent, found by identity: Text nodes compare as strings."""
    parent = old.parent
    index = next(i for i, child in enumerate(parent.children) if child is old)
    if new is None:
        del parent[index]
    else:
        parent[index] = new


def join_block(block: nodes.Element) -> int:
    """Drop the CJK gaps of one block (a paragraph, title, caption…) across its inline markup; count removed runs."""
    leaves = _leaves(block)
    texts = [str(leaf) if isinstance(leaf, nodes.Text) else OPAQUE for leaf in leaves]
    flat = "".join(texts)
    drop = set()
    count = 0
    for m in CJK_GAP.finditer(flat):
        drop.update(range(m.start(), m.end()))
        count += 1
    if not drop:
        return 0
    pos = 0
    for leaf, text in zip(leaves, texts):
        start, pos = pos, pos + len(text)
        if not isinstance(leaf, nodes.Text):
            continue
        kept = "".join(ch for i, ch in enumerate(text, start) if i not in drop)
        if kept != text:
            _replace(leaf, nodes.Text(kept))
    return count


def keep_math_with_punctuation(block: nodes.Element) -> int:
    """Wrap each inline formula or code span (or the link around it) and the closing punctuation right after it
    in one ``nobr`` span; count them."""
    count = 0
    for node in list(block.findall(lambda n: isinstance(n, (nodes.math, nodes.literal)))):
        math = node.parent if isinstance(node.parent, nodes.reference) and len(node.parent.children) == 1 else node
        parent = math.parent
        if parent is None or isinstance(parent, nodes.inline) and "nobr" in parent.get("classes", []):
            continue
        index = parent.index(math)
        if index + 1 >= len(parent.children) or not isinstance(parent[index + 1], nodes.Text):
            continue
        after = parent[index + 1]
        m = AFTER_MATH.match(str(after))
        if not m:
            continue
        punct, rest = m.group(0).strip(), str(after)[m.end():]
        wrapper = nodes.inline("", "", classes=["nobr"])
        parent.replace(math, wrapper)
        wrapper += math
        wrapper += nodes.Text(punct)
        _replace(after, nodes.Text(rest) if rest else None)
        count += 1
    return count


def text_blocks(document: nodes.Node) -> list[nodes.Element]:
    """The outermost text elements (paragraphs, titles, captions, terms…) outside code and math."""
    return [node for node in document.findall(nodes.TextElement)
            if not isinstance(node, OPAQUE_NODES) and not isinstance(node.parent, nodes.TextElement)]


def split_bilingual_title(title: nodes.Element) -> bool:
    """A bilingual title with inline markup or math ("3. Variation: why $x$ · 二次變分") as three inline spans,
    ``bi-en``, ``bi-sep`` and ``bi-zh`` (the section number stays outside): cjk.css shows one side in 中文 mode and
    :func:`mark_languages` gives each its ``lang``. A title of plain text is split in the written HTML instead."""
    children = list(title.children)
    if all(isinstance(c, nodes.Text) for c in children):
        return False
    for i, child in enumerate(children):
        if isinstance(child, nodes.Text) and SEP in str(child):
            left, right = str(child).split(SEP, 1)
            if not CJK_TEXT.search(right + "".join(c.astext() for c in children[i + 1:])):
                return False
            before = children[:i] + ([nodes.Text(left)] if left else [])
            prefix = []
            if before and isinstance(before[0], nodes.Text):
                number = NUMBER.match(str(before[0]))
                if number:
                    prefix = [nodes.Text(number.group(1))]
                    rest = str(before[0])[number.end():]
                    before = ([nodes.Text(rest)] if rest else []) + before[1:]
            title.children = []
            en = nodes.inline("", "", *before, classes=["bi-en"])
            zh = nodes.inline("", "", *([nodes.Text(right)] if right else []), *children[i + 1:], classes=["bi-zh"])
            title.extend(prefix + [en, nodes.inline("", SEP, classes=["bi-sep"]), zh])
            return True
    return False


class JoinCJKLines(SphinxTransform):
    """Drop the line breaks inside Chinese text and keep formulas with their punctuation (module docstring)."""

    default_priority = 210  # after editions.KeepOneLanguage (200): only the kept language is touched

    def apply(self, **kwargs) -> None:
        for block in text_blocks(self.document):
            join_block(block)
            keep_math_with_punctuation(block)
        if getattr(self.config, "scoresde_edition", "both") == "both":
            # titles, and table cells and captions written "English · 中文" (CONTRIBUTING rule 3)
            cells = [p for cell in self.document.findall(nodes.entry) for p in cell.findall(nodes.paragraph)]
            for node in list(self.document.findall(nodes.title)) + cells + list(self.document.findall(nodes.caption)):
                split_bilingual_title(node)


# ---------------------------------------------------------------------------------------------------------------
# languages in the written HTML

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
RAW_TEXT = {"script", "style", "title", "textarea", "option"}  # text that cannot hold a <span>
LANG_CONTAINER = re.compile(r'<div class="(lang-(en|zh))( [^"]*)?"(?![^>]*\blang=)')
BI_SPAN = re.compile(r'<span class="bi-(en|zh)">')


# interface strings with a number or a name in them (sphinx-exercise's titles, the theme's footer)
UI_PATTERNS = [
    (re.compile(r"^Exercise (\d+(?:\.\d+)*)(.*)$", re.S), r"習題 \1\2"),
    (re.compile(r"^Solution to$"), "解答："),
    (re.compile(r"^By (.+)$", re.S), r"作者：\1"),
    (re.compile(r"^© Copyright (\d{4})\.$"), r"© \1 版權所有。"),
    # sphinx-proof's titles
    (re.compile(r"^(Theorem|Lemma|Proposition|Corollary|Definition|Remark|Assumption|Example|Proof)\b(.*)$", re.S),
     lambda m: {"Theorem": "定理", "Lemma": "引理", "Proposition": "命題", "Corollary": "推論", "Definition": "定義",
                "Remark": "註", "Assumption": "假設", "Example": "例", "Proof": "證明"}[m[1]] + m[2]),
]


def _span(lang: str, text: str, cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<span{klass} lang="{lang}">{text}</span>'


class _LangMarker(HTMLParser):
    """Collects replacements of the text nodes of a page that need a language of their own."""

    def __init__(self, root_lang: str, ui: dict[str, str] | None):
        super().__init__(convert_charrefs=False)
        self.stack: list[tuple[str, str | None]] = []  # (tag, lang of that element or None)
        self.root_lang = root_lang
        self.ui = ui or {}
        self.edits: list[tuple[int, int, str]] = []
        self._line_starts: list[int] = []

    def feed_page(self, text: str) -> str:
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.feed(text)
        self.close()
        out, last = [], 0
        for start, end, new in sorted(self.edits):
            out.append(text[last:start])
            out.append(new)
            last = end
        out.append(text[last:])
        return "".join(out)

    def _offset(self) -> int:
        line, col = self.getpos()
        return self._line_starts[line - 1] + col

    def lang(self) -> str:
        for _, lang in reversed(self.stack):
            if lang:
                return lang
        return self.root_lang

    def raw(self) -> bool:
        return any(tag in RAW_TEXT for tag, _ in self.stack)

    def handle_starttag(self, tag, attrs):
        if tag == "html":
            return
        if tag not in VOID:
            self.stack.append((tag, dict(attrs).get("lang")))

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if self.raw() or not data.strip():
            return
        start = self._offset()
        new = self.mark(data)
        if new is not None:
            self.edits.append((start, start + len(data), new))

    def mark(self, data: str) -> str | None:
        here = self.lang()
        stripped = data.strip()
        lead, trail = data[: len(data) - len(data.lstrip())], data[len(data.rstrip()):]
        plain = html.unescape(stripped)
        if plain in self.ui and here != ZH and not any(tag == "pre" for tag, _ in self.stack):  # whole text nodes
            return _span("en", data, "ui-en") + _span(ZH, html.escape(self.ui[plain], quote=False), "ui-zh")
        prose = any(lang for _, lang in self.stack)  # inside a block marked with its language: not interface
        if self.ui and not prose and not any(tag == "pre" for tag, _ in self.stack):
            for pattern, chinese in UI_PATTERNS:
                if pattern.match(plain):
                    zh = html.escape(pattern.sub(chinese, plain), quote=False)
                    return _span("en", data, "ui-en") + _span(ZH, zh, "ui-zh")  # no space before the Chinese
        if not CJK_TEXT.search(data) or here == ZH:
            return None
        if SEP in stripped:
            left, right = stripped.split(SEP, 1)
            if not CJK_TEXT.search(left) and CJK_TEXT.search(right):
                # the section number belongs to both sides; cjk.css shows one side in a one-language mode
                number = NUMBER.match(left)
                prefix = number.group(1) if number else ""
                return (lead + prefix + _span("en", left[len(prefix):], "bi-en") + f'<span class="bi-sep">{SEP}</span>'
                        + _span(ZH, right, "bi-zh") + trail)
        return lead + _span(ZH, stripped) + trail


def mark_languages(page: str, root_lang: str = "en", ui: dict[str, str] | None = None) -> str:
    """``page`` (a written HTML page) with ``lang`` on every Chinese and English block and span (module docstring).

    ``root_lang`` is the page's own language (``zh-Hant-TW`` for the zh-TW edition); ``ui`` maps the interface
    strings to write in both languages (the bilingual site), each in its own span.
    """
    page = LANG_CONTAINER.sub(lambda m: m.group(0) + (' lang="en"' if m.group(2) == "en" else f' lang="{ZH}"'), page)
    page = BI_SPAN.sub(lambda m: f'<span class="bi-{m[1]}" lang="{"en" if m[1] == "en" else ZH}">', page)
    page = re.sub(r'<html lang="[^"]*"', f'<html lang="{root_lang}"', page, count=1)
    return _LangMarker(root_lang, ui).feed_page(page)


def mark_written_pages(app: Sphinx, exception: Exception | None) -> None:
    """After an HTML build: every written page gets its languages (and, bilingual, its two-language interface)."""
    if exception is not None or app.builder.format != "html":
        return
    from editions import UI_ZH_TW  # the interface strings, one list for the zh-TW edition and the 中文 mode

    edition = app.config.scoresde_edition
    root = ZH if edition == "zh-TW" else "en"
    ui = UI_ZH_TW if edition == "both" else None
    for page in Path(app.outdir).rglob("*.html"):
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        new = mark_languages(text, root, ui)
        if new != text:
            page.write_text(new, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.add_transform(JoinCJKLines)
    # _static/cjk.css and _static/ui-zh.js: Jupyter Book adds every file of _static/ to every page
    # after editions.translate_written_pages (priority 500): the zh-TW interface is Chinese before it is marked
    app.connect("build-finished", mark_written_pages, priority=800)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
