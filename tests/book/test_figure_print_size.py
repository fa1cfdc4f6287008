"""Every figure of the book prints its text at 8 pt or more in the PDF editions.

The figures are PNGs that matplotlib's inline backend writes at the book style's ``figure.dpi`` (the PNG's
``pHYs`` chunk records it). Chromium prints the editions on A4 with the margins of ``@page`` in
``_ext/editions_static/editions.css``; an image is laid out at its CSS size, ``W / 96`` inches for a PNG
``W`` pixels wide, and shrunk to the text width when it is wider (``max-width: 100%``). A text of ``s`` pt
drawn at ``dpi`` pixels per inch is ``s * dpi / 72`` pixels tall, so it prints at

    s * dpi * min(W / CSS_DPI, TEXT_WIDTH_IN) / W   pt,

i.e. ``s * dpi * TEXT_WIDTH_IN / W`` for a figure wider than the text. The smallest ``s`` of a figure is the
book style's smallest default text size (tick labels and legends, ``font.size`` x their relative size)
unless the cell that draws the figure, a function of the notebook that the cell calls, or an earlier cell for
the whole session (``rcParams``, ``rc``) sets a smaller ``fontsize=`` / ``labelsize=`` / ``size=`` / rc font
size; a named size such as ``"small"`` counts as the style's ``font.size`` times matplotlib's scale for it. A
size the check cannot read (a variable) fails it.
"""

from __future__ import annotations

import ast
import base64
import copy
import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .bookcheck import ROOT, notebooks

EDITIONS_CSS = ROOT / "_ext" / "editions_static" / "editions.css"
PAGE_SIZES_MM = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}  # ISO 216 and US Letter, portrait
MM_PER_IN = 25.4
CSS_DPI = 96.0  # CSS pixels per inch: how Chromium lays out an image of W pixels
MIN_PRINT_PT = 8.0

# matplotlib's relative font sizes (matplotlib.font_manager.font_scalings)
NAMED_SCALES = {
    "xx-small": 0.579, "x-small": 0.694, "small": 0.833, "smaller": 0.833, "medium": 1.0,
    "large": 1.2, "larger": 1.2, "x-large": 1.44, "xx-large": 1.728,
}
# keyword arguments that are font sizes in any call; ``size=`` only in the calls that draw text
FONT_KEYWORDS = {"fontsize", "labelsize", "title_fontsize", "titlesize"}
TEXT_CALLS = {
    "text", "annotate", "set_title", "title", "suptitle", "supxlabel", "supylabel", "set_xlabel",
    "set_ylabel", "xlabel", "ylabel", "figtext", "set_label", "rc", "FontProperties", "set_size",
    "set_fontsize",
}
# dictionary keys and rcParams entries that are font sizes: {"size": 8}, "font.size", "xtick.labelsize", ...
RC_CALL = re.compile(r"\brcParams\b|\brc\(")  # a statement that changes matplotlib's defaults for the session
FONT_KEY = re.compile(r"^(?:size|fontsize|title_fontsize|labelsize|titlesize)$|^font\.size$"
                      r"|\.(?:labelsize|titlesize|fontsize|title_fontsize)$")


def text_width_in(css: str) -> float:
    """Width of the printed text column in inches: the ``@page`` size less its left and right margins."""
    page = re.search(r"@page\s*\{([^{}]*)", css)
    assert page, "editions.css has no @page rule"
    size = re.search(r"size:\s*([A-Za-z0-9]+)", page.group(1))
    margin = re.search(r"margin:\s*([^;]+);", page.group(1))
    assert size and size.group(1) in PAGE_SIZES_MM, f"@page size not understood: {page.group(1)!r}"
    assert margin, f"@page has no margin: {page.group(1)!r}"
    words = margin.group(1).split()
    assert 1 <= len(words) <= 4 and all(w.endswith("mm") for w in words), f"@page margins not in mm: {words}"
    values = [float(w[:-2]) for w in words]
    # CSS shorthand: 1 value = all sides, 2 = vertical horizontal, 3 = top horizontal bottom, 4 = top right bottom left
    right, left = values[1 % len(values)], values[3] if len(values) == 4 else values[1 % len(values)]
    return (PAGE_SIZES_MM[size.group(1)][0] - left - right) / MM_PER_IN


TEXT_WIDTH_IN = text_width_in(EDITIONS_CSS.read_text(encoding="utf-8"))


def book_style_sizes() -> tuple[float, float]:
    """(``font.size``, smallest default text size in pt) under :func:`scoresde.plotting.use_book_style`."""
    import matplotlib as mpl

    from scoresde.plotting import use_book_style

    with mpl.rc_context():
        use_book_style()
        base = float(mpl.rcParams["font.size"])
        keys = ("xtick.labelsize", "ytick.labelsize", "axes.labelsize", "axes.titlesize",
                "legend.fontsize", "figure.titlesize")
        rc: Any = mpl.rcParams  # its stubs accept only literal keys; these come from a tuple
        sizes = [base * NAMED_SCALES[v] if isinstance(v := rc[k], str) else float(v) for k in keys]
    return base, min(sizes)


BASE_PT, DEFAULT_MIN_PT = book_style_sizes()


def png_size_dpi(data: bytes) -> tuple[int, float]:
    """(width in pixels, pixels per inch) of a PNG, from its IHDR and pHYs chunks."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width = struct.unpack(">I", data[16:20])[0]
    pos = 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"pHYs":
            ppu_x, _, unit = struct.unpack(">IIB", data[pos + 8 : pos + 17])
            assert unit == 1, "pHYs in an unknown unit"
            return width, ppu_x * MM_PER_IN / 1000.0  # pixels per metre -> per inch
        if kind == b"IDAT":
            break
        pos += 12 + length
    raise AssertionError("PNG without a pHYs chunk: its dpi is unknown")


def printed_pt(size_pt: float, width_px: int, dpi: float) -> float:
    """Printed size of ``size_pt`` text in a PNG ``width_px`` wide drawn at ``dpi`` (module docstring)."""
    return size_pt * dpi * min(width_px / CSS_DPI, TEXT_WIDTH_IN) / width_px


def _size_value(node: ast.expr) -> float | None:
    """A font size in pt from a literal (a number, a numeric string or a named size); None if not literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if node.value in NAMED_SCALES:
            return BASE_PT * NAMED_SCALES[node.value]
        try:
            return float(node.value)
        except ValueError:
            return None
    return None


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def font_sizes(tree: ast.AST) -> tuple[list[float], list[str]]:
    """(font sizes in pt set in ``tree``, the font-size expressions that are not literals)."""
    sizes: list[float] = []
    unread: list[str] = []

    def take(key: str, value: ast.expr) -> None:
        v = _size_value(value)
        if v is None:
            unread.append(f"{key}={ast.unparse(value)}")
        else:
            # rc font.size scales every default text; the others are absolute
            sizes.append(v * DEFAULT_MIN_PT / BASE_PT if key.endswith("font.size") else v)

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg in FONT_KEYWORDS or (kw.arg == "size" and _call_name(node) in TEXT_CALLS):
                    take(kw.arg, kw.value)
        elif isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values):
                if isinstance(k, ast.Constant) and isinstance(k.value, str) and FONT_KEY.search(k.value):
                    take(k.value, v)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if (isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant)
                        and isinstance(target.slice.value, str) and FONT_KEY.search(target.slice.value)):
                    take(target.slice.value, node.value)
    return sizes, unread


@dataclass
class Figure:
    notebook: str
    cell: int
    width_px: int
    dpi: float
    smallest_pt: float
    unread: list[str]

    @property
    def printed(self) -> float:
        return printed_pt(self.smallest_pt, self.width_px, self.dpi)


def _parse(source: str) -> ast.Module:
    # IPython magics and shell escapes are not Python; blank them out
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    return ast.parse("\n".join(lines))


def figures(nb: dict, name: str) -> list[Figure]:
    """Every PNG output of a notebook (read as JSON) with its width, dpi and smallest font size."""
    defined: dict[str, ast.FunctionDef] = {}  # the notebook's functions, as defined so far
    rc_sizes: list[float] = []  # font sizes that an earlier cell set for the whole session (rcParams, rc)
    rc_unread: list[str] = []
    out: list[Figure] = []
    for n, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        tree = _parse("".join(cell["source"]))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                defined[node.name] = node
            elif not isinstance(node, (ast.ClassDef, ast.With)) and RC_CALL.search(ast.unparse(node)):
                s, u = font_sizes(node)
                rc_sizes += s
                rc_unread += u
        pngs = [o["data"]["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        if not pngs:
            continue
        # the cell and, transitively, the notebook's functions it names (they draw parts of its figure)
        reached: list[ast.AST] = [tree]
        seen: set[str] = set()
        todo: list[ast.AST] = [tree]
        while todo:
            for used in ast.walk(todo.pop()):
                if isinstance(used, ast.Name) and used.id in defined and used.id not in seen:
                    seen.add(used.id)
                    reached.append(defined[used.id])
                    todo.append(defined[used.id])
        sizes: list[float] = [DEFAULT_MIN_PT, *rc_sizes]
        unread: list[str] = list(rc_unread)
        for part in reached:
            s, u = font_sizes(part)
            sizes += s
            unread += u
        for data in pngs:
            width, dpi = png_size_dpi(base64.b64decode(data))
            out.append(Figure(name, n, width, dpi, min(sizes), sorted(set(unread))))
    return out


def problems(figs: list[Figure]) -> list[str]:
    """One line per figure whose smallest text prints under :data:`MIN_PRINT_PT` or cannot be read."""
    out = []
    for f in figs:
        where = f"{f.notebook} cell {f.cell} (W = {f.width_px} px at {f.dpi:.0f} dpi)"
        if f.unread:
            out.append(f"{where}: font sizes the check cannot read: {', '.join(f.unread)}")
        elif f.printed < MIN_PRINT_PT - 1e-9:
            out.append(f"{where}: smallest text {f.smallest_pt:g} pt prints at {f.printed:.1f} pt < {MIN_PRINT_PT:g} pt "
                       f"(needs W <= {f.smallest_pt * f.dpi * TEXT_WIDTH_IN / MIN_PRINT_PT:.0f} px)")
    return out


NOTEBOOKS = notebooks()


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_text_width_from_the_print_css():
    # A4 (210 mm) less 16 mm on each side: 178 mm, about 7.0 in
    assert TEXT_WIDTH_IN == pytest.approx(178 / 25.4)
    assert text_width_in("@page { size: A4; margin: 20mm; }") == pytest.approx(170 / 25.4)
    assert text_width_in("@page { size: A4; margin: 18mm 10mm 20mm 30mm; }") == pytest.approx(170 / 25.4)
    assert BASE_PT == 10.0 and DEFAULT_MIN_PT == 10.0


def test_printed_size_formula():
    # narrower than the text: printed at its CSS size, 100/96 of the nominal size at 100 dpi
    assert printed_pt(10, 600, 100) == pytest.approx(10 * 100 / 96)
    # wider: shrunk to the text width; the lead's example, 10 pt in a 1090 px figure (chapter 3) -> 6.4 pt
    assert printed_pt(10, 1090, 100) == pytest.approx(10 * 100 * TEXT_WIDTH_IN / 1090)
    assert printed_pt(10, 875, 100) >= MIN_PRINT_PT > printed_pt(10, 900, 100)


def test_font_sizes_are_read_from_the_source():
    src = ('ax.legend(fontsize=8)\nax.tick_params(labelsize="small")\nax.text(0, 0, "a", size=9)\n'
           'x = torch.randn(size=3)\nax.errorbar(x, y, capsize=2)\nlangevin(step_size=1e-3)\n'
           'plt.rcParams["font.size"] = 7\nwith plt.rc_context({"legend.fontsize": 6.5, "figure.figsize": (3, 2)}):\n'
           '    ax.legend(prop={"size": 7.5})\n')
    sizes, unread = font_sizes(ast.parse(src))
    assert sorted(sizes) == sorted([8.0, 10 * 0.833, 9.0, 7.0, 6.5, 7.5])
    assert unread == []
    assert font_sizes(ast.parse("ax.legend(fontsize=fs)"))[1] == ["fontsize=fs"]


def test_the_check_fails_on_a_mutated_figure():
    # a figure that passes, then the same cell with a 6 pt legend, and a helper it calls with a 5 pt title
    nb = _load(ROOT / "notebooks" / "08_density_models.ipynb")
    good = [f for f in figures(nb, "08") if f.width_px <= 700 and not problems([f])]
    assert good, "expected a narrow figure in chapter 8"
    cell = good[0].cell
    bad = copy.deepcopy(nb)
    bad["cells"][cell]["source"] = "".join(nb["cells"][cell]["source"]) + "\nax.legend(fontsize=6)\n"
    found = problems([f for f in figures(bad, "08") if f.cell == cell])
    assert len(found) == 1 and f"cell {cell}" in found[0] and "6 pt prints at 6.2 pt" in found[0], found
    helper = copy.deepcopy(nb)
    helper["cells"].insert(cell, {"cell_type": "code", "metadata": {}, "outputs": [],
                                  "source": "def retitle(ax):\n    ax.set_title('t', fontsize=5)\n"})
    helper["cells"][cell + 1]["source"] = "".join(nb["cells"][cell]["source"]) + "\nretitle(ax)\n"
    assert any("5 pt" in p for p in problems(figures(helper, "08")))
    # a smaller default font set for the whole session in an earlier cell applies to every later figure
    session = copy.deepcopy(nb)
    session["cells"].insert(1, {"cell_type": "code", "metadata": {}, "outputs": [],
                                "source": 'plt.rcParams["font.size"] = 6\n'})
    assert len(problems(figures(session, "08"))) == len(figures(session, "08"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_figure_text_prints_at_8pt_or_more(path: Path):
    found = problems(figures(_load(path), path.name))
    assert not found, "figure text too small in print:\n" + "\n".join(found)
