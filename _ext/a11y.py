"""Accessible pages · 無障礙的頁面 (issue 29).

* **Figures that speak.** A code cell that draws a figure carries, in its cell metadata,
  ``"figure": {"caption": {"en": …, "zh": …}, "alt": {"en": …, "zh": …}}``.  The build writes the caption under
  the figure in both languages (``lang-en`` / ``lang-zh`` blocks, shown per language mode like the prose; a
  single-language edition keeps its own) and the alt text on every ``<img>`` of the cell's output in the reader's
  language (the bilingual site: English in the markup, ``_static/a11y.js`` swaps it with the language switch).
  The plotting code of such a cell is folded on the web and not printed.
* **Fold labels that name what they open**, in the reader's language: "Show the code that draws this figure",
  "Show the code that checks this solution", … instead of myst-nb's "Show code cell source" behind an
  ``aria-label="Toggle hidden content"`` that differs from the visible name (axe: label-content-name-mismatch).
* **The bibliography** loses docutils' ``role="list"`` (its children are not list items; axe:
  aria-required-children) and the deprecated ``role="doc-biblioentry"``.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform

LANGS = ("en", "zh")
# what a fold opens: (show, hide) per language; the kind is decided in FoldLabels
FOLDS = {
    "figure": {"en": ("Show the code that draws this figure", "Hide the code that draws this figure"),
               "zh": ("顯示繪製此圖的程式碼", "隱藏繪製此圖的程式碼")},
    "solution": {"en": ("Show the code that checks this solution", "Hide the code that checks this solution"),
                 "zh": ("顯示驗證此解答的程式碼", "隱藏驗證此解答的程式碼")},
    "selfcheck": {"en": ("Show the self-check code", "Hide the self-check code"),
                  "zh": ("顯示自我檢查的程式碼", "隱藏自我檢查的程式碼")},
    "code": {"en": ("Show the code of this step", "Hide the code of this step"),
             "zh": ("顯示這一步的程式碼", "隱藏這一步的程式碼")},
    "output": {"en": ("Show the printed checks", "Hide the printed checks"),
               "zh": ("顯示印出的驗證結果", "隱藏印出的驗證結果")},
    "all": {"en": ("Show this step: code and output", "Hide this step: code and output"),
            "zh": ("顯示這一步的程式碼與輸出", "隱藏這一步的程式碼與輸出")},
}
PATH_LIKE = re.compile(r"(^|[\s\"'])(\.\.?/|/)?[\w.-]+(/[\w.-]+)+\.(png|jpe?g|svg|gif)\b|^[\w.-]+\.(png|jpe?g|svg|gif)$",
                       re.I)


def figure_text(metadata: dict) -> dict | None:
    """The ``figure`` entry of a cell's metadata, checked: caption and alt, each with non-empty ``en`` and ``zh``.

    ``None`` when the cell has none; ValueError naming the key for a malformed one.
    """
    fig = metadata.get("figure")
    if fig is None:
        return None
    if not isinstance(fig, dict):
        raise ValueError(f"cell metadata 'figure' must be a mapping, got {type(fig).__name__}")
    for part in ("caption", "alt"):
        texts = fig.get(part)
        if not isinstance(texts, dict):
            raise ValueError(f"cell metadata 'figure.{part}' must map 'en' and 'zh' to text")
        for lang in LANGS:
            text = texts.get(lang)
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"cell metadata 'figure.{part}.{lang}' is missing or empty")
            if part == "alt" and is_path_like(text):
                raise ValueError(f"cell metadata 'figure.alt.{lang}' looks like a file path: {text!r}")
    return fig


def is_path_like(alt: str) -> bool:
    """True for an alt text that is a file name or path (``../_images/5e49….png``), not a description."""
    return bool(PATH_LIKE.search(alt.strip()))


def _edition(config) -> str:
    return getattr(config, "scoresde_edition", "both")


class FigureText(SphinxTransform):
    """Alt texts and bilingual captions from the cell metadata; the plotting code folded (before myst-nb's
    HideInputCells post-transform reads ``hide_mode``)."""

    default_priority = 190  # before editions.KeepOneLanguage (200), which would drop the other language

    def apply(self, **kwargs) -> None:
        edition = _edition(self.config)
        for cell in list(self.document.findall(nodes.container)):
            if cell.get("nb_element") != "cell_code":
                continue
            try:
                fig = figure_text(cell.get("cell_metadata") or {})
            except ValueError as exc:
                raise ValueError(f"{self.env.docname}: {exc}") from None
            if fig is None:
                continue
            images = list(cell.findall(nodes.image))
            if not images:
                continue
            lang = "zh" if edition == "zh-TW" else "en"
            for image in images:
                image["alt"] = fig["alt"][lang]
            cell["classes"].append("scoresde-figure-cell")
            if not cell.get("hide_mode"):
                cell["hide_mode"] = "input"
                cell["prompt_show"] = "Show code cell {type}"
                cell["prompt_hide"] = "Hide code cell {type}"
            cell.append(nodes.raw("", caption_html(fig, edition), format="html"))


def caption_html(fig: dict, edition: str) -> str:
    """The caption block under a figure: one ``lang-en`` and one ``lang-zh`` paragraph (one in an edition)."""
    keep = {"both": LANGS, "en": ("en",), "zh-TW": ("zh",)}[edition]
    tags = {"en": "en", "zh": "zh-Hant-TW"}
    parts = [f'<div class="scoresde-figcaption" role="note" data-alt-en="{html.escape(fig["alt"]["en"])}" '
             f'data-alt-zh="{html.escape(fig["alt"]["zh"])}">']
    for lang in keep:
        parts.append(f'<div class="lang-{lang} docutils container" lang="{tags[lang]}"><p>'
                     f'{html.escape(fig["caption"][lang])}</p></div>')
    parts.append("</div>")
    return "\n".join(parts)


class FoldLabels(SphinxPostTransform):
    """Name what each fold opens: runs after myst-nb's HideInputCells (199) made the folds."""

    default_priority = 200
    formats = ("html",)

    def run(self, **kwargs) -> None:
        from myst_nb.sphinx_ import HideCodeCellNode

        for fold in list(self.document.findall(HideCodeCellNode)):
            cell = fold.parent
            while cell is not None and cell.get("nb_element") != "cell_code":
                cell = cell.parent
            meta = (cell.get("cell_metadata") or {}) if cell is not None else {}
            classes = fold.get("classes", [])
            source = "".join(n.astext() for c in (cell.findall(nodes.container) if cell is not None else [])
                             if c.get("nb_element") == "cell_code_source" for n in c.findall(nodes.literal_block))
            if "below-input" in classes:
                kind = "output"
            elif meta.get("figure"):
                kind = "figure"
            elif cell is not None and cell.get("hide_mode") == "all":
                kind = "all"
            elif "check(" in source:
                kind = "selfcheck"
            elif cell is not None and _after_solution(cell):
                kind = "solution"
            else:
                kind = "code"
            fold["scoresde_fold"] = kind


def _after_solution(cell: nodes.Element) -> bool:
    """True when the node just before the cell is an exercise's solution (sphinx-exercise)."""
    parent = cell.parent
    if parent is None:
        return False
    index = parent.index(cell)
    for sibling in reversed(parent.children[:index]):
        if isinstance(sibling, (nodes.target, nodes.comment)):
            continue
        return "solution" in type(sibling).__name__.lower() or "solution" in " ".join(sibling.get("classes", []))
    return False


def visit_fold(self, node) -> None:
    """myst-nb's fold without the mismatching ``aria-label``: the visible text, per language, is the name."""
    edition = _edition(self.builder.config)
    labels = FOLDS[node.get("scoresde_fold", "code")]
    keep = {"both": LANGS, "en": ("en",), "zh-TW": ("zh",)}[edition]
    tags = {"en": "en", "zh": "zh-Hant-TW"}
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n<summary>\n')
    for which, cls in ((0, "collapsed"), (1, "expanded")):
        spans = "".join(f'<span class="scoresde-ui-{lang}" lang="{tags[lang]}">{html.escape(labels[lang][which])}</span>'
                        for lang in keep)
        self.body.append(f'<p class="{cls} admonition-title">{spans}</p>\n')
    self.body.append("</summary>\n")


def depart_fold(self, node) -> None:
    self.body.append("</details>\n")


BIBLIO_LIST = re.compile(r'<div role="list" class="citation-list">')
BIBLIO_ENTRY = re.compile(r'(<div class="citation" id="[^"]*") role="doc-biblioentry">')


def fix_written_pages(app: Sphinx, exception: Exception | None) -> None:
    """The bibliography's roles (see the module docstring), in every written page."""
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        new = BIBLIO_ENTRY.sub(r"\1>", BIBLIO_LIST.sub('<div class="citation-list">', text))
        if new != text:
            page.write_text(new, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    from myst_nb.sphinx_ import HideCodeCellNode

    app.add_transform(FigureText)
    app.add_post_transform(FoldLabels)
    app.add_node(HideCodeCellNode, override=True, html=(visit_fold, depart_fold))
    app.connect("build-finished", fix_written_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
