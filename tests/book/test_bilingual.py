"""Every prose step is in English, then 繁體中文, with the same display math (CONTRIBUTING.md)."""

from __future__ import annotations

import pytest

from .bookcheck import CJK, display_math, neutral_line, parse, sources, violations

SOURCES = sources()


@pytest.mark.parametrize("where, text", SOURCES, ids=[w for w, _ in SOURCES])
def test_pairs_and_math(where, text):
    problems = violations(parse(text), where)
    assert not problems, "\n".join(problems)


def test_every_page_has_both_languages():
    pages: dict[str, list[str]] = {}
    for where, text in SOURCES:
        pages.setdefault(where.split("[")[0], []).append(text)
    for page, texts in pages.items():
        joined = "\n".join(texts)
        assert "{container} lang-en" in joined and "{container} lang-zh" in joined, page
        assert CJK.search(joined), page


# ---- the checker itself must catch what it is meant to catch ------------------------------------

GOOD = """# Title · 標題

:::{container} lang-en
The score is $\\nabla \\log p$:
$$ S = \\nabla \\log p $$
:::

:::{container} lang-zh
分數是 $\\nabla \\log p$：
$$ S = \\nabla\\log p $$
:::

$$ a = b $$ (eq-test)
"""


@pytest.mark.parametrize(
    "bad, message",
    [
        (GOOD.replace(":::{container} lang-zh\n分數是 $\\nabla \\log p$：\n$$ S = \\nabla\\log p $$\n:::\n", ""),
         "without a 繁體中文 block"),
        (GOOD.replace("$$ S = \\nabla\\log p $$", "$$ S = \\nabla p $$"), "display math differs"),
        (GOOD + "\nA stray English sentence outside any pair.\n", "prose outside a language pair"),
        (GOOD + "\n這是一段沒有英文的中文。\n", "prose outside a language pair"),
        (GOOD.replace("# Title · 標題", "# Title only"), "prose outside a language pair"),
        (GOOD.replace("分數是", "The score is"), "no Chinese"),
        (GOOD.replace(":::{container} lang-en", ":::{container} lang-zh", 1)
             .replace(":::{container} lang-zh\n分數", ":::{container} lang-en\n分數"), "without"),
    ],
)
def test_checker_catches(bad, message):
    assert not violations(parse(GOOD), "good")
    problems = violations(parse(bad), "bad")
    assert any(message in p for p in problems), problems


def test_checker_descends_into_directives():
    text = "::::{exercise}\n:label: ex-x\n\nEnglish only inside an exercise, no twin.\n::::\n"
    assert any("outside a language pair" in p for p in violations(parse(text), "x"))
    ok = "::::{exercise}\n:label: ex-x\n\n" + GOOD.split("\n", 2)[2] + "::::\n"
    assert not violations(parse(ok), "x")


def test_display_math_is_read_as_myst_parses_it():
    """``$$`` alone, labelled or inline (myst_dmath_double_inline), ``{math}`` with its options left out, and amsmath
    environments are display math; ``$$`` inside a code block is not."""
    text = ("$$ a $$\n\n$$ b $$ (eq-b)\n\nInline $$c$$ too.\n\n```{math}\n:label: eq-d\nd\n```\n\n"
            "\\begin{align}\ne\n\\end{align}\n\n```python\nprint('$$ f $$')\n```\n")
    assert display_math(text) == {"a", "b", "c", "d", "\\begin{align}e\\end{align}"}


@pytest.mark.parametrize(
    "en_math, zh_math",
    [("$$ a = b $$", "$$ a = c $$"),
     ("\\begin{align}\na &= b\n\\end{align}", "\\begin{align}\na &= c\n\\end{align}"),
     ("So $$a = b$$ holds.", "所以 $$a = c$$ 成立。"),
     ("```{math}\n:label: eq-m\na = b\n```", "```{math}\na = c\n```")],
)
def test_checker_compares_every_kind_of_display_math(en_math, zh_math):
    page = f":::{{container}} lang-en\nEnglish words here.\n{en_math}\n:::\n\n:::{{container}} lang-zh\n中文。\n{zh_math}\n:::\n"
    assert any("display math differs" in p for p in violations(parse(page), "x"))
    same = page.replace(zh_math, en_math.replace(":label: eq-m\n", ""))
    assert not violations(parse(same), "x")


def test_code_in_a_list_is_neutral_but_prose_in_it_is_not():
    code = GOOD + "\n- Step · 步驟\n  ```python\n  x = 1  # an English comment in code\n  ```\n"
    assert not violations(parse(code), "x")
    prose = code + "- an English item without its twin\n"
    assert any("outside a language pair" in p for p in violations(parse(prose), "x"))


@pytest.mark.parametrize(
    "line, neutral",
    [("## 3. Training · 訓練", True),                                 # words in both languages
     ("$$ x $$ · `code` {eq}`eq-x` 1.5", True),                     # no prose word outside math, code, roles
     ("[Chapter 2 · 第二章](02_training_ssm.ipynb)", True),          # a link's text is read, its target is not
     ("[第二章](02_training_ssm.ipynb)", False),                     # Chinese only: its target is no English
     ("參見 {cite:t}`song2021score` 與 `score_fn`。", False),         # roles and code are not English words
     ("參見 https://example.org/score 與 <https://x.org>。", False),  # nor are bare or angle-bracket URLs
     ("See ``a`b`` and $\\$5$ here", False)],                         # a double-backtick code span, English only
)
def test_neutral_lines_read_inline_markdown(line, neutral):
    assert neutral_line(line) is neutral


def test_myst_markup_is_neutral_and_only_markup():
    """Targets, ``%`` comments, HTML comments, images and a table's separator row may stand outside a pair
    (markdown-it tells them apart); an English line that only looks like one is prose."""
    markup = ("(sec-intro)=\n% an English note to authors\n<!-- an English HTML comment -->\n\n"
              "![a figure of the score field](fig.png)\n\n| Step · 步驟 | Value · 值 |\n|:---|---:|\n| 1 | 2 |\n")
    items = parse(GOOD + "\n" + markup)
    assert not violations(items, "x")
    assert sum(it.kind == "markup" for it in items) == 5
    for prose in ("(sec-intro)= followed by English words\n", "See ![the figure](fig.png) above\n",
                  "Some English prose\n|:---|---:|\n"):
        assert any("outside a language pair" in p for p in violations(parse(GOOD + "\n" + prose), "x")), prose


def test_language_blocks_are_judged_by_their_prose():
    """Words inside code, math or roles do not make a block English or Chinese."""
    en = GOOD.replace("The score is $\\nabla \\log p$:", "分數 `score_fn` 是 $\\nabla \\log p$ {eq}`eq-score`：")
    assert any("lang-en block has no English" in p for p in violations(parse(en), "x"))
    zh = GOOD.replace("分數是 $\\nabla \\log p$：", "$\\text{分數} = \\nabla \\log p$ `score` (1)")
    assert any("lang-zh block has no Chinese" in p for p in violations(parse(zh), "x"))
