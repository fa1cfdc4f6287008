"""_ext/cjk_typeset.py: the one build step that typesets Chinese (issue 28), on real MyST doctrees and pages.

Each check was run against the transform with its step removed (a no-op ``join_block``, a no-op
``keep_math_with_punctuation``, ``mark_languages`` returning the page unchanged): each then fails.
"""

from __future__ import annotations

import sys

from docutils import nodes  # type: ignore[import-untyped]
from docutils.core import publish_doctree  # type: ignore[import-untyped]

from .bookcheck import ROOT, load_module

CJK_SPACE = __import__("re").compile(r"[\u4e00-\u9fff]\s+[\u4e00-\u9fff]")

sys.path.insert(0, str(ROOT / "_ext"))
ext = load_module("scoresde_cjk_typeset_ext", ROOT / "_ext" / "cjk_typeset.py")


def doctree(source: str) -> nodes.document:
    """The doctree of a MyST snippet with dollar math, as the book parses it."""
    from myst_parser.docutils_ import Parser

    return publish_doctree(source, parser=Parser(), settings_overrides={
        "myst_enable_extensions": ["dollarmath", "colon_fence"], "report_level": 5, "output_encoding": "unicode"})


def typeset(source: str) -> nodes.document:
    doc = doctree(source)
    for block in ext.text_blocks(doc):
        ext.join_block(block)
        ext.keep_math_with_punctuation(block)
    return doc


def text_of(doc: nodes.document) -> str:
    return "".join(n.astext() for n in doc.findall(nodes.paragraph))


def test_line_breaks_between_chinese_characters_go():
    assert ext.join_cjk_lines("切片分數匹配\n沒有") == "切片分數匹配沒有"
    assert ext.join_cjk_lines("分數，\n而") == "分數，而" and ext.join_cjk_lines("分數\n，而") == "分數，而"
    assert ext.join_cjk_lines("第 1 章\nthe") == "第 1 章\nthe"            # Latin and digits keep their spaces
    assert ext.join_cjk_lines("使用 sympy\n驗證") == "使用 sympy\n驗證"
    doc = typeset("切片分數匹配\n沒有偏差，\n而且便宜。\n")
    assert text_of(doc) == "切片分數匹配沒有偏差，而且便宜。"


def test_gaps_across_inline_markup_go():
    doc = typeset("**非等向的探測向量。** 設 $v$ 的平均為零，\n*期望值*\n等於零。\n")
    para = next(doc.findall(nodes.paragraph))
    assert para.astext() == "非等向的探測向量。設 v 的平均為零，期望值等於零。"
    strong = next(para.findall(nodes.strong))
    assert strong.astext() == "非等向的探測向量。" and strong.parent is para  # the markup stays
    # the spaces around a formula (Chinese next to math) are the book's convention: kept
    assert " v " in para.astext()


def test_english_is_untouched():
    source = "The score $s$ is\nthe gradient, **not** the\ndensity.\n"
    assert text_of(typeset(source)) == text_of(doctree(source))


def test_math_keeps_its_punctuation():
    doc = typeset("取 $a=1/s^2$、$b$，以及 $c$ 。\n\nThe score $s$, from samples alone; $t$).\n")
    spans = [n for n in doc.findall(nodes.inline) if "nobr" in n["classes"]]
    assert [s.astext() for s in spans] == ["a=1/s^2、", "b，", "c。", "s,", "t)."]
    assert all(isinstance(s[0], nodes.math) for s in spans)
    paras = [p.astext() for p in doc.findall(nodes.paragraph)]
    assert paras == ["取 a=1/s^2、b，以及 c。", "The score s, from samples alone; t)."]
    # a formula followed by a word or an opening bracket is left alone
    doc = typeset("若 $x$ 為正，則 $f(x)$（見上）\n")
    assert [s for s in doc.findall(nodes.inline) if "nobr" in s["classes"]] == []


def test_code_and_math_are_not_joined():
    source = "程式 `中\n文` 與 $甲\n乙$ 不變\n"
    before = doctree(source)
    doc = typeset(source)
    for kind in (nodes.literal, nodes.math):
        assert next(doc.findall(kind)).astext() == next(before.findall(kind)).astext()
        assert CJK_SPACE.search(next(doc.findall(kind)).astext())


def test_equal_text_nodes_are_told_apart():
    """docutils' Text compares as a string: the step must change the node it means, not an equal one before it."""
    doc = doctree("a\n*b*\n中\n文\n")
    para = next(doc.findall(nodes.paragraph))
    ext.join_block(para)
    assert para.astext() == "a\nb\n中文"


PAGE = """<!DOCTYPE html><html lang="en"><head><title>A · 甲</title>
<script>let x = '中文';</script></head><body>
<nav><a href="a.html">Integration by parts · 分部積分</a><p class="caption">Before you start · 開始之前</p></nav>
<h2>2. From ESM to ISM · 從 ESM 到 ISM<a class="headerlink" href="#x" title="Link to this heading">#</a></h2>
<div class="lang-en docutils container"><p>English</p></div>
<div class="lang-zh docutils container"><p>中文段落</p></div>
<p class="admonition-title">Show code cell source</p><p>Solution to<a href="#e"> Exercise 1.1 (★★)</a></p><h2> Contents </h2><span>分數 · 分數函數</span>
<pre><span class="s2">"標籤"</span> next</pre><div lang="zh-Hant-TW">已標示</div>
</body></html>"""  # noqa: E501 (one line of HTML, as a built page has it)


def test_languages_are_written_in_the_html():
    out = ext.mark_languages(PAGE, "en", {"Contents": "目錄"})
    assert '<div class="lang-en docutils container" lang="en">' in out
    assert '<div class="lang-zh docutils container" lang="zh-Hant-TW"><p>中文段落</p>' in out   # not wrapped again
    sep = '<span class="bi-sep"> · </span>'
    assert ('<a href="a.html"><span class="bi-en" lang="en">Integration by parts</span>' + sep
            + '<span class="bi-zh" lang="zh-Hant-TW">分部積分</span></a>') in out
    assert '<span class="bi-en" lang="en">Before you start</span>' + sep in out
    assert ('<h2>2. <span class="bi-en" lang="en">From ESM to ISM</span>' + sep
            + '<span class="bi-zh" lang="zh-Hant-TW">從 ESM 到 ISM</span><a') in out    # the number on both sides
    assert '<span lang="zh-Hant-TW">分數 · 分數函數</span>' in out                              # Chinese on both sides
    # an exercise's difficulty stays outside the two sides: 中文 mode reads 「(★ 寫出一步朗之萬)」
    ex = ext.mark_languages('<p class="admonition-title">(★ Code one Langevin step · 寫出一步朗之萬)</p>')
    assert '(★ <span class="bi-en" lang="en">Code one Langevin step</span>' + sep in ex
    assert '<h2><span class="ui-en" lang="en"> Contents </span><span class="ui-zh" lang="zh-Hant-TW">目錄</span></h2>' in out
    assert ('<p><span class="ui-en" lang="en">Solution to</span><span class="ui-zh" lang="zh-Hant-TW">解答：</span>'
            '<a href="#e"><span class="ui-en" lang="en"> Exercise 1.1 (★★)</span>'
            '<span class="ui-zh" lang="zh-Hant-TW">習題 1.1 (★★)</span></a></p>') in out
    assert "<title>A · 甲</title>" in out and "let x = '中文';" in out                        # no span where none fits
    assert '<span class="s2"><span lang="zh-Hant-TW">"標籤"</span></span> next</pre>' in out   # code: lang, no UI
    assert '<div lang="zh-Hant-TW">已標示</div>' in out
    zh = ext.mark_languages(PAGE.replace("Integration by parts · ", ""), "zh-Hant-TW")
    assert zh.startswith('<!DOCTYPE html><html lang="zh-Hant-TW">') and "<span lang" not in zh.split("<h2>")[0]


def test_a_bilingual_title_with_math_is_split_in_the_doctree():
    doc = doctree("# 3. Variation: why $x^2$ · 二次變分：為何 $x^2$\n\ntext\n")
    title = next(doc.findall(nodes.title))
    assert ext.split_bilingual_title(title)
    kinds = [(type(c).__name__, c.get("classes", []) if isinstance(c, nodes.Element) else str(c)) for c in title]
    assert kinds == [("Text", "3. "), ("inline", ["bi-en"]), ("inline", ["bi-sep"]), ("inline", ["bi-zh"])]
    assert title[1].astext() == "Variation: why x^2" and title[3].astext() == "二次變分：為何 x^2"
    plain = next(doctree("# Summary · 小結\n").findall(nodes.title))
    assert not ext.split_bilingual_title(plain) and plain.astext() == "Summary · 小結"   # done in the HTML
    out = ext.mark_languages('<h2>3. <span class="bi-en">Variation</span></h2>')
    assert out == '<h2>3. <span class="bi-en" lang="en">Variation</span></h2>'
