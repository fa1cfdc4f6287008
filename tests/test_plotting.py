"""Figures render Traditional Chinese with a real font: no 'Glyph ... missing' warning, CJK TC chosen."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from scoresde.plotting import CJK_FAMILY, bilingual, find_cjk_font, use_book_style  # noqa: E402

TEXT = "分數匹配與隨機微分方程：變異數、機率密度、布朗運動"


def render(title: str) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1], label=bilingual("Time", "時間", sep=" · "))
        ax.set_title(title)
        ax.set_xlabel(bilingual("Time $t$", "時間 $t$"))
        ax.legend()
        fig.canvas.draw()
        plt.close(fig)
    return [str(w.message) for w in caught if "missing" in str(w.message).lower()]


def test_font_file_has_traditional_chinese_face():
    path = find_cjk_font()
    font_manager.fontManager.addfont(str(path))
    names = {f.name for f in font_manager.fontManager.ttflist if f.fname == str(path)}
    assert CJK_FAMILY in names


def test_chinese_title_renders_without_missing_glyphs():
    use_book_style()
    assert render(TEXT) == []
    use_book_style()  # idempotent
    assert render(TEXT) == []


def test_without_the_cjk_font_glyphs_are_missing():
    """The check above can fail: with only DejaVu Sans, the same title reports missing glyphs."""
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"]}):
        assert render(TEXT)


def test_bilingual_joins_english_first():
    assert bilingual("Score", "分數") == "Score\n分數"
    with pytest.raises(TypeError):
        bilingual("Score")  # type: ignore[call-arg]
