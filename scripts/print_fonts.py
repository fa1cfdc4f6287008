"""Noto Serif CJK TC for Chromium's print, as an embedded TrueType font (issue 17).

Debian's fonts-noto-cjk ships CFF-outline OpenType collections; Chromium's PDF backend (Skia) embeds CFF
outlines only as Type 3 fonts.  So the print build subsets Noto Serif CJK TC (regular and bold) to the
characters the book uses, converts the cubic CFF outlines to quadratic TrueType ones (fontTools cu2qu,
error 1/1000 em, invisible in print), and loads them with @font-face: the PDF then embeds a CID TrueType font.
"""
from __future__ import annotations

from pathlib import Path

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.subset import Options, Subsetter
from fontTools.ttLib import TTCollection, newTable

FONTS = {400: "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
         700: "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"}
FAMILY = "Noto Serif CJK TC"


def tc_font(path: str):
    """The Traditional Chinese (TC) member of a Noto CJK collection."""
    for font in TTCollection(path).fonts:
        if font["name"].getDebugName(1).endswith(" TC"):
            return font
    raise ValueError(f"no TC font in {path}")


def to_truetype(font) -> None:
    """Replace the CFF table by glyf/loca (quadratic outlines), in place."""
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in font.getGlyphOrder():
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = font.getGlyphOrder()
    glyf.glyphs = glyphs
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font["maxp"].tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
        setattr(font["maxp"], attr, 0)
    font["maxp"].maxZones = 1
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 3.0
    font.sfntVersion = "\x00\x01\x00\x00"


def build(text: str, out_dir: Path) -> str:
    """Write the subset TrueType fonts for ``text`` into ``out_dir``; return their @font-face CSS."""
    out_dir.mkdir(parents=True, exist_ok=True)
    css = []
    for weight, path in FONTS.items():
        font = tc_font(path)
        options = Options()
        options.layout_features = ["*"]
        options.name_IDs = ["*"]
        subsetter = Subsetter(options)
        subsetter.populate(text="".join(sorted(set(text))) + " ·，。：；、（）「」")
        subsetter.subset(font)
        to_truetype(font)
        file = out_dir / f"print-cjk-{weight}.ttf"
        font.save(file)
        css.append(f'@font-face{{font-family:"{FAMILY} Print";font-weight:{weight};src:url("{file.name}")}}')
    return "\n".join(css)
