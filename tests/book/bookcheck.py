"""Readers of the book's sources for the bilingual and zh-TW checks.

A *source* is a book page (``book/*.md``) or one markdown cell of a notebook. The convention (CONTRIBUTING.md):
prose stands in pairs of MyST containers ``lang-en`` then ``lang-zh``; outside them only language-neutral
material may stand. :func:`parse` turns a source into a flat list of items that the tests inspect.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
FENCE_OPEN = re.compile(r"^(?P<indent>\s*)(?P<fence>:{3,}|`{3,}|~{3,})\{?(?P<name>[^}\s]*)\}?\s*(?P<arg>.*)$")
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
MATH_DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{math\}[^\n]*\n(?P<body>.*?)^\1\s*$", re.S | re.M)
OPTION = re.compile(r"^\s*:[\w-]+:")


@dataclass
class Item:
    kind: str  # "en", "zh", "line", "math", "directive"
    text: str
    line: int
    children: list["Item"] = field(default_factory=list)


def _find_close(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing the fence opened at ``start`` (same character, >= length)."""
    ch = fence[0]
    for j in range(start + 1, len(lines)):
        s = lines[j].strip()
        if s and set(s) == {ch} and len(s) >= len(fence):
            return j
    return len(lines)


def parse(text: str, offset: int = 0) -> list[Item]:
    """Split a markdown source into items: language containers, directives, display math and lines."""
    lines = text.split("\n")
    items: list[Item] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = FENCE_OPEN.match(line)
        if m and (m.group("fence")[0] == ":" and m.group("name") or m.group("fence")[0] in "`~"):
            fence, name, arg = m.group("fence"), m.group("name"), m.group("arg").strip()
            end = _find_close(lines, i, fence)
            body = "\n".join(lines[i + 1 : end])
            if name == "container" and arg in ("lang-en", "lang-zh"):
                items.append(Item(arg[-2:], body, offset + i + 1))
            elif name == "math":
                items.append(Item("math", body, offset + i + 1))
            elif fence[0] == ":" or name in ("exercise", "solution") or name.startswith("prf:"):
                # a directive: its body follows the same rules, minus its option lines
                inner = "\n".join("" if OPTION.match(b) else b for b in lines[i + 1 : end])
                items.append(Item("directive", name, offset + i + 1, parse(inner, offset + i + 1)))
            else:
                items.append(Item("code", body, offset + i + 1))  # code blocks are language-neutral
            i = end + 1
            continue
        if line.strip().startswith("$$"):
            # display math outside containers (language-neutral, may carry a label)
            j = i
            joined = line.strip()
            while joined.count("$$") < 2 and j + 1 < len(lines):
                j += 1
                joined += "\n" + lines[j]
            items.append(Item("math", joined, offset + i + 1))
            i = j + 1
            continue
        items.append(Item("line", line, offset + i + 1))
        i += 1
    return items


def display_math(text: str) -> set[str]:
    """The set of display-math blocks in a container body, whitespace removed."""
    blocks = [m.group(1) for m in DISPLAY_MATH.finditer(text)]
    blocks += [m.group("body") for m in MATH_DIRECTIVE.finditer(text)]
    return {re.sub(r"\s+", "", b) for b in blocks}


def _words(s: str) -> tuple[bool, bool]:
    """(has Chinese, has English words) of a line, ignoring math, code, roles and link targets."""
    stripped = re.sub(r"\$[^$]*\$|`[^`]*`|\{[^}]*\}|<[^>]+>|\]\([^)]*\)", "", s)
    return bool(CJK.search(stripped)), bool(LATIN_WORD.search(stripped))


def neutral_line(line: str) -> bool:
    """True for a line that may stand outside a language pair.

    Blank lines, MyST targets/comments, fences and options, images, and any line whose words are in both
    languages (headings and table rows included) or in neither (symbols, numbers).
    """
    s = line.strip()
    if not s or s.startswith(("%", "<!--", "-->", ":::", "```")) or OPTION.match(s):
        return True
    if re.fullmatch(r"\([\w:.-]+\)=", s) or s.startswith("!["):
        return True
    if re.fullmatch(r"\|?[\s:|-]+\|?", s):
        return True  # table separator row
    has_cjk, has_latin = _words(s)
    return has_cjk == has_latin


def violations(items: list[Item], where: str) -> list[str]:
    """Every breach of the pairing convention in a parsed source."""
    out: list[str] = []
    significant = [it for it in items if not (it.kind == "line" and not it.text.strip())]
    for k, it in enumerate(significant):
        nxt = significant[k + 1] if k + 1 < len(significant) else None
        prev = significant[k - 1] if k > 0 else None
        if it.kind == "en":
            if nxt is None or nxt.kind != "zh":
                out.append(f"{where}:{it.line}: English block without a 繁體中文 block right after it")
            else:
                en_math, zh_math = display_math(it.text), display_math(nxt.text)
                if en_math != zh_math:
                    out.append(
                        f"{where}:{it.line}: display math differs between languages: "
                        f"only English {sorted(en_math - zh_math)}, only Chinese {sorted(zh_math - en_math)}"
                    )
            if CJK.search(re.sub(r"`[^`]*`|\{[^}]*\}`[^`]*`", "", it.text)) and not LATIN_WORD.search(it.text):
                out.append(f"{where}:{it.line}: lang-en block has no English")
            if not LATIN_WORD.search(it.text):
                out.append(f"{where}:{it.line}: lang-en block has no English words")
        elif it.kind == "zh":
            if prev is None or prev.kind != "en":
                out.append(f"{where}:{it.line}: 繁體中文 block without an English block right before it")
            if not CJK.search(it.text):
                out.append(f"{where}:{it.line}: lang-zh block has no Chinese characters")
        elif it.kind == "line" and not neutral_line(it.text):
            out.append(f"{where}:{it.line}: prose outside a language pair: {it.text.strip()[:70]!r}")
        elif it.kind == "directive":
            out.extend(violations(it.children, where))
    return out


def chinese_text(items: list[Item]) -> list[tuple[int, str]]:
    """All text that may carry Chinese: zh containers, bilingual lines, directive bodies."""
    out: list[tuple[int, str]] = []
    for it in items:
        if it.kind == "directive":
            out.extend(chinese_text(it.children))
        elif CJK.search(it.text):
            out.append((it.line, it.text))
    return out


def book_pages() -> list[Path]:
    return sorted((ROOT / "book").rglob("*.md"))


def notebooks() -> list[Path]:
    return sorted(p for p in (ROOT / "notebooks").glob("*.ipynb"))


def sources() -> list[tuple[str, str]]:
    """(where, markdown text) for every book page and every notebook markdown cell."""
    out: list[tuple[str, str]] = []
    for page in book_pages():
        text = page.read_text(encoding="utf-8")
        if text.startswith("---"):
            end = text.find("\n---", 3)
            text = "\n" * text[: end + 4].count("\n") + text[end + 4 :]
        out.append((str(page.relative_to(ROOT)), text))
    for nb_path in notebooks():
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for n, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "markdown":
                out.append((f"{nb_path.relative_to(ROOT)}[cell {n}]", "".join(cell["source"])))
    return out


def code_strings() -> list[tuple[str, str]]:
    """(where, text) of notebook code cells and companion sources: figure labels live there."""
    out: list[tuple[str, str]] = []
    for nb_path in notebooks():
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for n, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code":
                out.append((f"{nb_path.relative_to(ROOT)}[cell {n}]", "".join(cell["source"])))
    for py in sorted((ROOT / "companion").rglob("*.py")):
        out.append((str(py.relative_to(ROOT)), py.read_text(encoding="utf-8")))
    return out
