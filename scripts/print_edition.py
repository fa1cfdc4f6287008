"""Print one edition (issue 17): the whole book and the exercise sheets, by headless Chromium.

Input: the single-page build of an edition (``jupyter-book build --builder singlehtml``, SCORESDE_EDITION set).
Output under ``--out``:
  scoresde-<edition>.pdf                   the book: title page, contents, chapters, exercises, no solutions
  sheets/<edition>/NN-exercises.pdf        per chapter: its exercises, no solutions
  sheets/<edition>/solutions.pdf           the teacher's file: every exercise followed by its solution
  previews/ch03-<edition>.png              chapter 3's first page (pdftoppm, 60 dpi)
The API reference (book/api) is left out of the PDFs. The print layout (code wrapped, sidebars and toggles hidden, a page break before each chapter, solutions hidden)
is _ext/editions_static/editions.css; the title page and contents are added by editions.js.
"""
from __future__ import annotations

import argparse
import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bs4 import BeautifulSoup

sys.path.insert(0, str(Path(__file__).resolve().parent))
import print_fonts  # noqa: E402

NOT_PRINTED = ("book/api",)  # documents of the web edition left out of the PDFs
SHOW_SOLUTIONS = ("<style>div.solution{display:block !important} .solution .toggle-hidden, .solution .admonition-title ~ * "
                  "{display:block !important; visibility:visible !important}"
                  " html body div.cell.scoresde-solution-code div.cell_input,"
                  " html body div.cell.scoresde-solution-code details div.cell_input,"
                  " html body div.cell.scoresde-solution-code div.cell_output,"
                  " html body div.cell.scoresde-solution-code details {display:block !important}"
                  " html body div.cell.scoresde-solution-code summary {display:none !important}"
                  " html body div.cell.scoresde-solution-code pre {white-space: pre-wrap; font-size: 8.5pt}</style>")


def chapters(soup: BeautifulSoup) -> list[tuple[str, "BeautifulSoup"]]:
    """(chapter number, section) for every notebook chapter of the single page, in book order."""
    out = []
    for span in soup.select('span[id^="document-notebooks/"]'):
        section = span.find_next_sibling("section")
        if section is None:
            raise ValueError(f"no section after {span['id']} in the single-page build")
        number = re.search(r"notebooks/(\d+)_", span["id"]).group(1)
        out.append((number, section))
    return out


def page(soup: BeautifulSoup, title: str, blocks: list, extra_head: str = "") -> str:
    """A printable page: the single-page build's <head> (styles, MathJax) with only ``blocks`` in its article."""
    doc = copy.copy(soup)
    for tag in doc.select('meta[name="scoresde-print"]'):
        tag.decompose()
    article = doc.select_one("main article") or doc.body
    article.clear()
    section = doc.new_tag("section")
    head = doc.new_tag("div", attrs={"class": "scoresde-sheet-title"})
    head.string = title
    section.append(head)
    for block in blocks:
        section.append(copy.copy(block))
    article.append(section)
    if extra_head:
        doc.head.append(BeautifulSoup(extra_head, "html.parser"))
    return str(doc)


def solution_blocks(section) -> list:
    """Each exercise of a chapter followed by its solution, shown open, and the code cells that follow the solution
    in the notebook (its answer's code and checks, folded on the web; issue 29): the teacher's file."""
    blocks = []
    for node in section.select("div.exercise, div.solution"):
        original = node
        node = copy.copy(node)
        if "solution" in node.get("class", []):
            node["class"] = [c for c in node["class"] if c != "dropdown"]
        blocks.append(node)
        if "solution" not in original.get("class", []):
            continue
        for sibling in original.find_next_siblings():
            if sibling.name != "div" or "cell" not in sibling.get("class", []):
                break
            cell = copy.copy(sibling)
            cell["class"] = cell.get("class", []) + ["scoresde-solution-code"]
            for details in cell.find_all("details"):
                details["open"] = ""
            blocks.append(cell)
    return blocks


def _key(text: str) -> str:
    """A title or a page's first lines, compared without spaces and the heading's '#' link."""
    return re.sub(r"[\s#¶]+", "", text)


def toc_titles(soup: BeautifulSoup) -> list[str]:
    """The titles the contents list shows (editions.js: every document's first heading), in book order."""
    titles = []
    for span in soup.select('span[id^="document-"]'):
        section = span.find_next_sibling("section")
        h2 = section.find("h2", recursive=False) if section is not None else None
        if h2 is not None:
            titles.append(h2.get_text(" ", strip=True).rstrip("#").strip())
    return titles


def start_pages(pdf: Path, titles: list[str]) -> list[int]:
    """The page (1-based, as printed in the footer) on which each title opens a page, searched in order.

    Every document starts on a new page (editions.css), so its title is the first text of that page."""
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    heads = [_key(" ".join(page.strip().splitlines()[:3])) for page in text.split("\f")]
    found, start = [], 1
    for title in titles:
        key = _key(title)[:30]
        hit = next((i for i in range(start, len(heads)) if heads[i].startswith(key)), None)
        if hit is None:
            raise RuntimeError(f"{pdf.name}: no page opens with {title!r}")
        found.append(hit + 1)
        start = hit + 1
    return found


def static_dir(page_file: Path) -> Path:
    """The _static folder of the single-page build that holds ``page_file``."""
    for folder in page_file.resolve().parents:
        if (folder / "_static").is_dir():
            return folder / "_static"
    raise ValueError(f"no _static folder above {page_file}")


def print_pdf(chromium: str, html: Path, pdf: Path) -> None:
    """Chromium prints ``html`` to ``pdf`` after scripts (MathJax) have run."""
    pdf.parent.mkdir(parents=True, exist_ok=True)
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
           "--run-all-compositor-stages-before-draw", "--virtual-time-budget=60000",
           f"--print-to-pdf={pdf}", html.resolve().as_uri()]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    if not pdf.is_file() or pdf.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no PDF for {html}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edition", required=True, choices=["en", "zh-TW"])
    parser.add_argument("--single", required=True, type=Path, help="singlehtml index.html (or its target page)")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium")  # Debian's (scripts/system-deps.txt)
    if chromium is None:
        parser.error("chromium not found (Debian: apt-get install chromium)")
    single = args.single
    text = single.read_text(encoding="utf-8")
    redirect = re.search(r'url=([^"]+)"', text) if len(text) < 500 else None
    if redirect:
        single = single.parent / redirect.group(1)
        text = single.read_text(encoding="utf-8")
    soup = BeautifulSoup(text, "html.parser")
    # the API reference is for the web (searchable, linked from every chapter); in print it would add ~80 pages
    for doc in NOT_PRINTED:
        for span in soup.select(f'span[id="document-{doc}"]'):
            section = span.find_next_sibling("section")
            if section is not None:
                section.decompose()
            span.decompose()
    zh = args.edition == "zh-TW"
    static = static_dir(single)
    # the text of the page plus what editions.js and this script add (title page, contents, sheet titles)
    added = "繁體中文版 目錄 習題 習題解答（教師用） — English edition Contents Exercises Solutions (for teachers)"
    fonts = print_fonts.build(soup.get_text() + added + str(soup.head), static)
    # Sphinx's singlehtml links every asset relative to the build root (even for a root page in book/): print there
    site = static.parent
    prefix = "_static/"
    fonts = fonts.replace('url("', 'url("' + prefix)
    soup.head.append(BeautifulSoup(f"<style>{fonts}</style>", "html.parser"))
    book, pdf = site / "_book.html", args.out / f"scoresde-{args.edition}.pdf"
    book.write_text(str(soup), encoding="utf-8")
    print_pdf(chromium, book, pdf)
    # the contents list gets page numbers: print, find where each document starts, print again with them
    titles = toc_titles(soup)
    pages = start_pages(pdf, titles)
    meta = soup.new_tag("meta", attrs={"name": "scoresde-toc-pages", "content": ",".join(map(str, pages))})
    soup.head.append(meta)
    book.write_text(str(soup), encoding="utf-8")
    print_pdf(chromium, book, pdf)
    meta.decompose()
    if start_pages(pdf, titles) != pages:
        raise RuntimeError(f"{pdf.name}: the numbered contents moved the chapters; print again")
    book.unlink()
    # a preview of one chapter's first page (chapter 3), for the README and review
    first = next(page for title, page in zip(titles, pages) if title.startswith("3."))
    previews = args.out / "previews"
    previews.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-f", str(first), "-l", str(first), "-r", "60", "-png", "-singlefile", str(pdf),
                    str(previews / f"ch03-{args.edition}")], check=True)
    sheets = args.out / "sheets" / args.edition
    teacher = []
    for number, section in chapters(soup):
        title = section.find("h2").get_text(" ", strip=True).rstrip("#").strip()
        exercises = section.select("div.exercise")
        if not exercises:
            continue
        head = f"{title} — {'習題' if zh else 'Exercises'}"
        html = site / f"_sheet-{number}.html"
        html.write_text(page(soup, head, exercises), encoding="utf-8")
        print_pdf(chromium, html, sheets / f"{number}-exercises.pdf")
        html.unlink()
        teacher.append((title, solution_blocks(section)))
    blocks = []
    for title, chapter_blocks in teacher:
        h2 = soup.new_tag("h2")
        h2.string = title
        blocks += [h2] + chapter_blocks
    html = site / "_solutions.html"
    html.write_text(page(soup, "習題解答（教師用）" if zh else "Solutions (for teachers)", blocks, SHOW_SOLUTIONS),
                    encoding="utf-8")
    print_pdf(chromium, html, sheets / "solutions.pdf")
    html.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
