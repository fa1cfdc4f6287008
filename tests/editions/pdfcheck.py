"""Checks of the printed editions (issue 17), as functions of text so that each can be fed a doctored input.

Each ``*_problems`` function returns a list of problems (empty: the check passes).
"""
from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# the book's PDF: a stated range of pages. Title, contents, front and back matter and 9 chapters print on 217 (en) and
# 221 (zh-TW) pages; the API reference, which print leaves out (scripts/print_edition.py), would add about 80
PAGES = {"en": (150, 260), "zh-TW": (150, 260)}
SHEET_PAGES = (1, 6)
# prose has these; tables of labels, code and outputs rarely have three of them
FUNCTION_WORDS = {"the", "of", "is", "and", "to", "in", "with", "for", "by", "we", "that", "which", "as", "an"}
# words that only a solution contains: the theme's solution title in both languages
SOLUTION_MARKERS = ("Solution to", "解答", "Solution")


def pdftotext(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    cmd = ["pdftotext", "-enc", "UTF-8"]
    if first:
        cmd += ["-f", str(first)]
    if last:
        cmd += ["-l", str(last)]
    return subprocess.run(cmd + [str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def pdffonts(pdf: Path) -> str:
    return subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def page_problems(pages: int, low: int, high: int) -> list[str]:
    return [] if low <= pages <= high else [f"{pages} pages, outside the stated range {low}–{high}"]


def font_problems(fonts: str, need_cjk: bool) -> list[str]:
    """pdffonts output: every font embedded, no Type 3 fallback, a CJK font when ``need_cjk``."""
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    problems = [f"Type 3 font: {' '.join(r)}" for r in rows if "Type" in r and r[r.index("Type") + 1] == "3"]
    problems += [f"font not embedded: {r[0]}" for r in rows if len(r) >= 5 and r[-5] == "no"]
    if need_cjk and not any("CJK" in r[0] for r in rows):
        problems.append("no CJK font embedded")
    return problems


def normalise(text: str) -> str:
    """Whitespace removed: pdftotext breaks and joins lines differently from the source."""
    return re.sub(r"\s+", "", text)


def code_and_outputs(notebooks: list[Path]) -> str:
    """Every code cell's source and printed output of ``notebooks``, whitespace removed.

    Code and its outputs are identical in every edition (a figure label or a self-check verdict may be
    bilingual); the language checks below skip text found here, so they judge the prose alone.
    """
    import json

    parts = []
    for nb in notebooks:
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            parts.append("".join(cell["source"]))
            for out in cell.get("outputs", []):
                parts.append("".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", "")))
    return normalise("\n".join(parts))


def paragraphs(text: str) -> list[str]:
    """Text paragraphs of pdftotext output (blank-line separated, lines joined)."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def english_prose_problems(text: str, code: str = "") -> list[str]:
    """zh-TW PDF: no paragraph of English prose (≥ 8 Latin words and no CJK character) outside ``code``
    (:func:`code_and_outputs`: a printed output is not prose).

    Code, outputs, references and formulas are short lines or carry symbols; an English prose step is long.
    """
    out = []
    for para in paragraphs(text):
        words = [w.lower() for w in LATIN_WORD.findall(para)]
        function_words = sum(w in FUNCTION_WORDS for w in words)
        if len(words) >= 8 and function_words >= 3 and not CJK.search(para) \
                and not re.search(r"[=(){}\[\]_#\"]|doi|http", para) \
                and not (code and normalise(para) in code):
            out.append(para[:120])
    return out


def before_glossary(text: str, title: str) -> str:
    """The pages before the glossary: before the first page past the contents (pdftotext separates pages by form
    feeds) that opens with the glossary's ``title``.  The glossary is a two-language table in every edition."""
    pages = text.split("\f")
    for i, page in enumerate(pages[2:], start=2):
        lines = [line for line in page.splitlines() if line.strip()]
        if lines and lines[0].strip().startswith(title):
            return "\f".join(pages[:i])
    return text


def cjk_problems(text: str, allowed_from: str, code_text: str = "") -> list[str]:
    """English PDF: no CJK character before the glossary (``allowed_from``: its title), outside code and its
    outputs (``code_text``, from :func:`code_and_outputs`)."""
    text = before_glossary(text, allowed_from)
    # code is identical in every edition, and its figure labels are bilingual: lines with code syntax are skipped
    code = re.compile(r'[=()"{}]|^\s*·')
    return [f"CJK in the English PDF: {line.strip()[:80]}" for line in text.splitlines()
            if CJK.search(line) and not code.search(line)
            and not (code_text and normalise(line) in code_text)]


def contents_problems(text: str, title: str) -> list[str]:
    """The printed contents (the page opening with ``title``) lists every entry with a page number, and the page
    of that number opens with the entry's title (pdftotext separates pages by form feeds)."""
    pages = text.split("\f")
    where = [i for i, page in enumerate(pages) if page.strip().startswith(title)]
    if not where:
        return [f"no contents page opening with {title!r}"]
    lines = [x.strip() for x in pages[where[0]].strip().splitlines()[1:] if x.strip()]
    if lines and lines[-1] == str(where[0] + 1):  # the page's own number in the footer
        lines.pop()
    entries, pending = [], None
    for line in lines:
        if not line:
            continue
        if line.isdigit() and pending:
            entries.append((pending, int(line)))
            pending = None
        elif m := re.fullmatch(r"(.*?\S)[\s.]+(\d+)", line):
            entries.append((m.group(1), int(m.group(2))))
        else:
            pending = f"{pending} {line}" if pending else line
    problems = [f"contents entry without a page number: {pending!r}"] if pending else []
    if not entries:
        problems.append("the contents list has no page numbers")
    key = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    for name, number in entries:
        if not 1 <= number <= len(pages) or not key(pages[number - 1]).startswith(key(name)[:30]):
            problems.append(f"contents: {name!r} is not on page {number}")
    return problems


def solution_problems(text: str) -> list[str]:
    return [f"solution text in an exercise sheet: {m!r}" for m in SOLUTION_MARKERS if m in text]


# closing punctuation that must never open a printed line (issue 28)
LINE_START = re.compile(r"^(\s*)([，。、；：！？）」』》〉】])")


def pdftotext_lines(pdf: Path) -> list[list[tuple[float, str]]]:
    """The printed lines of ``pdf`` as (left edge in pt, text), one list per page, top to bottom: the words of
    ``pdftotext -bbox`` on one baseline (within 2 pt) make a line. A formula is drawn as SVG paths, so a line that
    opens with a formula starts, as text, where the formula ends."""
    xml = subprocess.run(["pdftotext", "-bbox", "-enc", "UTF-8", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    pages = []
    for page in re.findall(r"<page [^>]*>(.*?)</page>", xml, flags=re.S):
        words = [(float(y), float(x), html.unescape(w)) for x, y, w in re.findall(
            r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="[\d.]+" yMax="([\d.]+)">(.*?)</word>', page)]
        lines: list[list[tuple[float, float, str]]] = []
        for word in sorted(words):
            if lines and abs(lines[-1][0][0] - word[0]) <= 2.0:
                lines[-1].append(word)
            else:
                lines.append([word])
        pages.append([(min(x for _, x, _ in line), "".join(w for _, _, w in sorted(line, key=lambda t: t[1])))
                      for line in lines])
    return pages


def line_start_problems(flows: list[list[tuple[float, str]]], tolerance: float = 1.0) -> list[str]:
    """Printed lines (:func:`pdftotext_lines`) that open with full-width closing punctuation at their paragraph's
    left edge (the least left edge of the three lines before and the one after, within ``tolerance`` pt) rather
    than after a formula. pdftotext's plain text cannot tell the two apart: it breaks its lines at every formula."""
    problems = []
    for lines in flows:
        for i, (x, text) in enumerate(lines):
            m = LINE_START.match(text)
            if not m or i == 0:
                continue
            margin = min(edge for edge, _ in lines[max(0, i - 3):i] + lines[i + 1:i + 2])
            if x <= margin + tolerance:
                problems.append(f"line starts with {m.group(2)}: {lines[i - 1][1][-12:]} ⏎ {text[:30]}")
    return problems


def solution_label_problems(text: str) -> list[str]:
    """The zh-TW PDFs label a solution 「解答：習題 1.1」: no English label, no space after the colon."""
    bad = re.findall(r"解答：\s*Exercise[^\n]{0,8}|解答：\s+習題[^\n]{0,6}|Solution to[^\n]{0,12}", text)
    return [f"solution label: {b!r}" for b in bad]


def placed_images(pdf: Path) -> list[tuple[int, int, int, float]]:
    """(page, width px, height px, placed resolution in ppi) of every raster image of ``pdf`` (``pdfimages -list``;
    alpha masks left out). An image of ``dpi`` dots per inch drawn at ``ppi`` prints its s-pt text at s · dpi / ppi pt."""
    rows = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True, text=True).stdout
    out = []
    for line in rows.splitlines()[2:]:
        cols = line.split()
        if len(cols) >= 14 and cols[2] == "image":
            out.append((int(cols[0]), int(cols[3]), int(cols[4]), min(float(cols[12]), float(cols[13]))))
    return out


def figure_print_problems(images: list[tuple[int, int, int, float]], figures: list, minimum: float) -> list[str]:
    """Each notebook figure (``width_px``, ``dpi``, ``smallest_pt``: tests/book/test_figure_print_size.py) found among
    ``images`` by its pixel width prints its smallest text at ``minimum`` pt or more; a figure not found is a problem."""
    out = []
    for fig in figures:
        placed = [img for img in images if img[1] == fig.width_px]
        twins = sum(f.width_px == fig.width_px for f in figures)  # figures of one width: as many images of it
        if len(placed) < twins:
            out.append(f"{fig.notebook} cell {fig.cell}: {len(placed)} images {fig.width_px} px wide in the PDF "
                       f"for {twins} figures of that width")
        for page, _, _, ppi in placed:
            printed = fig.smallest_pt * fig.dpi / ppi
            if printed < minimum - 0.05:  # ppi is printed to the unit by pdfimages
                out.append(f"{fig.notebook} cell {fig.cell} (p. {page}): {fig.smallest_pt:g} pt at {fig.dpi:.0f} dpi "
                           f"drawn at {ppi:g} ppi prints at {printed:.1f} pt < {minimum:g} pt")
    return out
