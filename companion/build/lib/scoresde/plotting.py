"""The book's figure style, with a real Traditional-Chinese font.

Call :func:`use_book_style` once at the top of a notebook. It registers *Noto Sans CJK TC* (shipped by the
PyPI wheel ``noto-cjk-sans-otc``, or found among the system fonts, e.g. Debian's ``fonts-noto-cjk``) with
matplotlib and puts it behind DejaVu Sans in the font fallback list, so Latin text, math and 繁體中文
labels all render with real glyphs. This module is the only one that imports matplotlib.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CJK_FAMILY", "find_cjk_font", "use_book_style", "bilingual"]

CJK_FAMILY = "Noto Sans CJK TC"

_SYSTEM_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)


def find_cjk_font() -> Path:
    """Return the path of a font file that contains Noto Sans CJK TC.

    Looks in the ``noto-cjk-sans-otc`` wheel first, then in common system locations.

    Raises:
        FileNotFoundError: no such font is installed (``pip install noto-cjk-sans-otc``).
    """
    try:
        import noto_cjk_sans_otc

        path = Path(os.fspath(noto_cjk_sans_otc.FONT_PATH))
        if path.is_file():
            return path
    except ImportError:
        pass
    for candidate in _SYSTEM_CANDIDATES:
        if os.path.isfile(candidate):
            return Path(candidate)
    raise FileNotFoundError(
        "no Traditional-Chinese font found; install one with `pip install noto-cjk-sans-otc` "
        "(or the Debian package fonts-noto-cjk)"
    )


def use_book_style() -> None:
    """Set matplotlib's defaults for the book: CJK-capable fonts, sizes, grid, and a fixed DPI.

    Idempotent; safe to call in every notebook.
    """
    import matplotlib as mpl
    from matplotlib import font_manager

    path = find_cjk_font()
    known = {Path(f.fname) for f in font_manager.fontManager.ttflist}
    if path not in known:
        font_manager.fontManager.addfont(str(path))
    mpl.rcParams.update(
        {
            # a list of families: matplotlib falls back glyph by glyph, DejaVu first, CJK TC for 中文
            "font.family": ["DejaVu Sans", CJK_FAMILY],
            "font.sans-serif": ["DejaVu Sans", CJK_FAMILY],
            "axes.unicode_minus": True,
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
        }
    )


def bilingual(english: str, chinese: str, sep: str = "\n") -> str:
    """Join an English and a 繁體中文 label the way every figure in the book does (English first)."""
    return f"{english}{sep}{chinese}"
