"""The printed editions (issue 17): run after scripts/build-editions.sh (SCORESDE_EDITIONS_BUILT=1).

The pure checks in pdfcheck.py are also fed doctored inputs here, so each is shown to fail when it should.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("scoresde_editions_ext", ROOT / "_ext" / "editions.py")
editions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(editions)
sys.path.insert(0, str(Path(__file__).resolve().parent))
import pdfcheck as pc  # noqa: E402

PDF = ROOT / "_build" / "pdf"
built = pytest.mark.skipif(os.environ.get("SCORESDE_EDITIONS_BUILT") != "1",
                           reason="needs scripts/build-editions.sh (set SCORESDE_EDITIONS_BUILT=1)")
EDITIONS = ["en", "zh-TW"]


# ---- the title split (no build needed) ----
@pytest.mark.parametrize("title, en, zh", [
    ("2. From ESM to ISM: integration by parts · 從 ESM 到 ISM：分部積分",
     "2. From ESM to ISM: integration by parts", "2. 從 ESM 到 ISM：分部積分"),
    ("Summary · 小結", "Summary", "小結"),
    ("4. Hutchinson's trace identity · Hutchinson 跡恆等式", "4. Hutchinson's trace identity", "4. Hutchinson 跡恆等式"),
    ("No separator", "No separator", "No separator"),
    ("★★ Why plain Langevin gets the weights wrong · 為什麼單純的朗之萬會弄錯權重",  # an exercise keeps its stars
     "★★ Why plain Langevin gets the weights wrong", "★★ 為什麼單純的朗之萬會弄錯權重"),
])
def test_split_title(title, en, zh):
    assert editions.split_title(title, "en") == en
    assert editions.split_title(title, "zh-TW") == zh


def test_ui_strings_are_translated_in_text_nodes_only():
    page = ('<a class="skip-link" href="#main">Skip to main content</a><p class="admonition-title">Solution to'
            '<a class="reference internal" href="#ex"> 習題 3.1</a></p><p>We Search the Contents of a book.</p>'
            '<pre><span class="nb">next</span>(it)</pre><p class="author">By The scoresde course authors</p>'
            '<p class="prev-next-subtitle">next</p>')
    out = editions.translate_ui(page)
    assert ">跳到主要內容<" in out and ">解答：<a " in out and ">作者：The scoresde course authors<" in out
    assert "We Search the Contents of a book." in out                    # prose is not touched
    assert '<span class="nb">next</span>(it)' in out                   # code is not touched
    assert '<p class="prev-next-subtitle">下一頁</p>' in out               # the theme's label is
    assert editions.translate_ui("<p>Skip to main content now</p>") == "<p>Skip to main content now</p>"


def test_bad_edition_is_refused(monkeypatch):
    monkeypatch.setenv("SCORESDE_EDITION", "fr")
    with pytest.raises(ValueError, match="SCORESDE_EDITION"):
        editions.edition()


# ---- each check fails on a doctored input ----
def test_page_range_check_fails_outside():
    assert pc.page_problems(100, 60, 220) == []
    assert pc.page_problems(30, 60, 220) and pc.page_problems(500, 60, 220)


FONTS_OK = """name                                 type              encoding         emb sub uni object ID
------------------------------------ ----------------- ---------------- --- --- --- ---------
AAAAAA+NotoSerifCJKtc-Regular        CID TrueType      Identity-H       yes yes yes      4  0
"""


def test_font_check_fails_on_type3_missing_cjk_and_unembedded():
    assert pc.font_problems(FONTS_OK, need_cjk=True) == []
    type3 = FONTS_OK + "[none]                               Type 3            Custom           yes no  yes      5  0\n"
    assert pc.font_problems(type3, need_cjk=True)
    latin = FONTS_OK.replace("NotoSerifCJKtc", "LiberationSerif")
    assert pc.font_problems(latin, need_cjk=True) == ["no CJK font embedded"]
    unembedded = FONTS_OK.replace("Identity-H       yes", "Identity-H       no ")
    assert pc.font_problems(unembedded, need_cjk=True)


def test_english_prose_check_fails_on_an_english_paragraph():
    zh = "分數是對數密度的梯度。\n\nx = torch.randn(3)\n\n[Song et al., 2021] Score-based generative modeling."
    assert pc.english_prose_problems(zh) == []
    doctored = zh + "\n\nThe score of a density is the gradient of its log, and we learn it from samples alone.\n"
    assert pc.english_prose_problems(doctored)
    glossary = "標題\f目錄\f分數。\f名詞對照表\n\nthe sum of the diagonal entries of a square matrix with the rest\f"
    assert pc.english_prose_problems(pc.before_glossary(glossary, "名詞對照表")) == []
    assert pc.english_prose_problems(glossary)


def test_cjk_check_fails_on_chinese_before_the_glossary():
    text = "Title\fContents\fThe score is a gradient.\fGlossary\nscore 分數\f"
    assert pc.cjk_problems(text, "Glossary") == []
    assert pc.cjk_problems(text.replace("a gradient", "a gradient 梯度"), "Glossary")
    code = 'Title\fContents\fax.set_xlabel(bilingual("time", "時間"))\fGlossary\n'
    assert pc.cjk_problems(code, "Glossary") == []
    verdict = "Title\fContents\fExercise 1.7 · 習題 1.7: ✓ correct · 正確\fGlossary\n"
    assert pc.cjk_problems(verdict, "Glossary")                          # not known as an output: flagged
    assert pc.cjk_problems(verdict, "Glossary", pc.normalise("Exercise 1.7 · 習題 1.7: ✓ correct · 正確\n")) == []


def test_printed_outputs_are_not_prose():
    out = "plain Langevin with the exact score: total variation to the weights 0.08"
    assert pc.english_prose_problems(out)                                # prose-like when its origin is unknown
    assert pc.english_prose_problems(out, pc.normalise("x = 1\n" + out + "\n")) == []
    prose = "which is the Fokker–Planck equation of an SDE with the diffusion matrix and the drift"
    assert pc.english_prose_problems(prose, pc.normalise(out))           # prose is still found


def test_contents_check_fails_on_a_wrong_or_missing_number():
    text = "Title\fContents\nPreface\n\n3\n\n1. Scores\n\n4\n\n2\fPreface\ntext\f1. Scores\ntext\f"
    assert pc.contents_problems(text, "Contents") == []
    assert pc.contents_problems(text.replace("\n\n4\n", "\n\n3\n"), "Contents")      # wrong page
    assert pc.contents_problems(text.replace("\n\n4\n", "\n"), "Contents")             # no number
    assert pc.contents_problems(text, "目錄")                                          # no contents page


def test_solution_check_fails_on_a_solution():
    assert pc.solution_problems("Exercise 1 (Non-isotropic probes) Show that …") == []
    assert pc.solution_problems("Exercise 1 …\nSolution to Exercise 1\nWe expand …")
    assert pc.solution_problems("習題 1 …\n習題 1 的解答\n展開 …")


def test_line_start_check_fails_on_punctuation_at_a_line_start():
    """Issue 28: the zh-TW PDF of the old build had 「，看它的路徑」 (p. 47) and 「。獨立性」 (p. 50)."""
    flow = [(56.0, "看它的路徑"), (56.0, "，看它的路徑"), (56.0, "。獨立性")]
    assert pc.line_start_problems([flow]) == [
        "line starts with ，: 看它的路徑 ⏎ ，看它的路徑", "line starts with 。: ，看它的路徑 ⏎ 。獨立性"]
    # after a formula that opens the line (drawn as paths, no text) the mark stands right of the margin: fine
    assert pc.line_start_problems([[(56.0, "要把 (1.7) 用在"), (63.0, "，把分數投影到"), (56.0, "下一行")]]) == []
    assert pc.line_start_problems([[(56.0, "可差"), (120.0, "（標準誤）可差"), (86.0, "。獨立性")]]) == []
    assert pc.line_start_problems([[(56.0, "看它的路徑，"), (56.0, "（見上）")]]) == []   # an opening bracket may
    assert pc.solution_label_problems("解答： Exercise 1.1 (★★)") and pc.solution_label_problems("解答： 習題 1.1")
    assert pc.solution_label_problems("解答：習題 1.1 (★★)") == []


# ---- the built PDFs ----
@built
@pytest.mark.parametrize("ed", EDITIONS)
def test_book_pdf_pages_and_fonts(ed):
    pdf = PDF / f"scoresde-{ed}.pdf"
    assert pc.page_problems(pc.page_count(pdf), *pc.PAGES[ed]) == []
    assert pc.font_problems(pc.pdffonts(pdf), need_cjk=ed == "zh-TW") == []


CODE = pc.code_and_outputs(sorted((ROOT / "notebooks").glob("*.ipynb")))


@built
def test_zh_pdf_is_chinese():
    text = pc.pdftotext(PDF / "scoresde-zh-TW.pdf")
    assert "分數匹配" in text
    assert pc.english_prose_problems(pc.before_glossary(text, "名詞對照表"), CODE) == []


@built
@pytest.mark.parametrize("ed, title", [("en", "Contents"), ("zh-TW", "目錄")])
def test_contents_have_the_right_page_numbers(ed, title):
    assert pc.contents_problems(pc.pdftotext(PDF / f"scoresde-{ed}.pdf"), title) == []


@built
def test_en_pdf_has_no_cjk_before_the_glossary():
    assert pc.cjk_problems(pc.pdftotext(PDF / "scoresde-en.pdf"), "Glossary", CODE) == []


@built
@pytest.mark.parametrize("ed", EDITIONS)
def test_sheets_have_exercises_and_no_solutions(ed):
    sheets = sorted((PDF / "sheets" / ed).glob("*-exercises.pdf"))
    chapters = list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(sheets) == len(chapters), "one exercise sheet per chapter"
    for sheet in sheets:
        text = pc.pdftotext(sheet)
        assert ("習題" if ed == "zh-TW" else "Exercise") in text, sheet
        assert pc.solution_problems(text) == [], sheet
        assert pc.page_problems(pc.page_count(sheet), *pc.SHEET_PAGES) == [], sheet
    teacher = pc.pdftotext(PDF / "sheets" / ed / "solutions.pdf")
    assert pc.solution_problems(teacher), "the teacher's file must hold the solutions"


@built
def test_zh_site_interface_is_chinese():
    site = ROOT / "_build" / "editions" / "zh-TW" / "_build" / "html"
    pages = [p for p in site.rglob("*.html") if "_static" not in p.parts]
    assert len(pages) >= 10
    untranslated = [str(p.relative_to(site)) for p in pages
                    if editions.translate_ui(text := p.read_text(encoding="utf-8")) != text]
    assert untranslated == []


@built
@pytest.mark.parametrize("pdf", ["scoresde-zh-TW.pdf", "sheets/zh-TW/solutions.pdf", "sheets/zh-TW/03-exercises.pdf"])
def test_zh_pdf_lines_never_start_with_punctuation(pdf):
    """Issue 28: the formula and its punctuation print together; Chinese labels in the Chinese PDFs."""
    assert pc.line_start_problems(pc.pdftotext_lines(PDF / pdf)) == []
    assert pc.solution_label_problems(pc.pdftotext(PDF / pdf)) == []


# ---- figure text in print, measured in the PDFs (issue 29) ----
def _figures():
    from book import test_figure_print_size as fps

    return [f for path in fps.NOTEBOOKS for f in fps.figures(fps._load(path), path.name)], fps.MIN_PRINT_PT


def test_figure_print_check_fails_on_a_shrunk_figure():
    figs, minimum = _figures()
    fig = figs[0]
    natural = [(3, fig.width_px, 400, 96.0)]                         # drawn at its CSS size: 10 pt -> 10.4 pt
    shrunk = [(3, fig.width_px, 400, fig.smallest_pt * fig.dpi / 5.0)]  # drawn so small that its text is 5 pt
    assert pc.figure_print_problems(natural, [fig], minimum) == []
    assert "prints at 5.0 pt" in pc.figure_print_problems(shrunk, [fig], minimum)[0]
    assert "0 images" in pc.figure_print_problems([], [fig], minimum)[0]
    assert "1 images" in pc.figure_print_problems(natural, [fig, fig], minimum)[0]  # a twin missing is seen


@built
@pytest.mark.parametrize("ed", EDITIONS)
def test_figure_text_prints_at_8pt_or_more_in_the_pdf(ed):
    """Every chapter figure is in the book PDF and its smallest text prints at >= 8 pt there (pdfimages' placed ppi)."""
    figs, minimum = _figures()
    assert len(figs) >= 20
    assert pc.figure_print_problems(pc.placed_images(PDF / f"scoresde-{ed}.pdf"), figs, minimum) == []
