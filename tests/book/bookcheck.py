"""Readers of the book's sources for the bilingual and zh-TW checks.

A *source* is a book page (``book/*.md``) or one markdown cell of a notebook. The convention (CONTRIBUTING.md):
prose stands in pairs of MyST containers ``lang-en`` then ``lang-zh``; outside them only language-neutral
material may stand. :func:`parse` turns a source into a flat list of items that the tests inspect.

Everything is read as MyST reads it: markdown-it-py with the plugins that myst-parser enables for the book's
``_config.yml`` (``parse.myst_enable_extensions``, ``myst_dmath_double_inline``), through myst-parser's
``create_md_parser``. Blocks (fences, colon fences and their directives, ``$$`` display math alone, labelled or
inline, amsmath environments, front matter, targets, comments, tables, images) come from its token stream
(:func:`tokens`); the words of a line or block from its inline tokens (:func:`prose_text`, :func:`prose`), code,
math, roles, HTML and URLs left out. What is not a recognised block stays a source line, judged by
:func:`neutral_line`. Only a directive's option lines (``:label: …``) are still recognised by a pattern.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import yaml  # type: ignore[import-untyped]
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

ROOT = Path(__file__).resolve().parents[2]

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
OPTION = re.compile(r"^\s*:[\w-]+:")
#: the block tokens :func:`parse` turns into items (any other block is a run of source lines)
BLOCKS = ("colon_fence", "fence", "math_block", "math_block_label", "amsmath")
#: the display-math tokens of markdown-it (``$$ … $$`` alone, labelled, or inline with ``myst_dmath_double_inline``)
MATH_TOKENS = ("math_block", "math_block_label", "amsmath", "math_inline_double")


def load_module(name: str, path: Path, *, register: bool = False) -> ModuleType:
    """Import a file that no package holds (a Sphinx extension in ``_ext``, a script) as module ``name``;
    ``register``: also put it in ``sys.modules`` (a module whose dataclasses look themselves up there)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    if register:
        sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Item:
    kind: str  # "en", "zh", "line", "markup", "math", "directive", "code"
    text: str
    line: int
    children: list["Item"] = field(default_factory=list)


@functools.lru_cache(maxsize=1)
def markdown_parser() -> MarkdownIt:
    """The MyST parser the book is built with: its extensions and options are read from ``_config.yml``."""
    parse_config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["parse"]
    config = MdParserConfig(enable_extensions=set(parse_config["myst_enable_extensions"]),
                            dmath_double_inline=bool(parse_config.get("myst_dmath_double_inline", False)))
    return create_md_parser(config, RendererHTML)


def _directive(token: Token) -> tuple[str, str]:
    """(name, argument) of a fence's info string: ``{container} lang-en`` -> ("container", "lang-en");
    a code fence's language is its name (``python`` -> ("python", ""))."""
    name, _, arg = token.info.strip().partition(" ")
    return name.removeprefix("{").removesuffix("}"), arg.strip()


def _options_blanked(body: str) -> str:
    """A directive's body with its leading option lines (``:label: ex-x``) blanked, the line count kept."""
    lines = body.split("\n")
    k = 0
    while k < len(lines) and OPTION.match(lines[k]):
        lines[k] = ""
        k += 1
    return "\n".join(lines)


def _span(token: Token, n_lines: int) -> tuple[int, int]:
    """The source lines ``[start, end)`` of a block token (amsmath's map ends a line early: count its content)."""
    assert token.map is not None
    start, end = token.map
    if token.type == "amsmath":
        end = max(end, start + token.content.count("\n") + 1)
    return start, min(end, n_lines)


def _is_directive(token: Token, name: str) -> bool:
    """A fence whose body is prose (its own pairs): every named colon fence, and the exercise, solution and proof
    directives written with backticks; other backtick fences are code (language-neutral)."""
    return bool(name) and token.type == "colon_fence" or name in ("exercise", "solution") or name.startswith("prf:")


def _item(token: Token, lines: list[str], start: int, end: int, offset: int) -> Item:
    line = offset + start + 1
    if token.type not in ("fence", "colon_fence"):
        return Item("math", "\n".join(lines[start:end]), line)  # display math: language-neutral, may carry a label
    name, arg = _directive(token)
    body = token.content.removesuffix("\n")
    if name == "container" and arg in ("lang-en", "lang-zh"):
        return Item(arg[-2:], body, line)
    if name == "math":
        return Item("math", body, line)
    if _is_directive(token, name):
        return Item("directive", name, line, parse(_options_blanked(body), offset + start + 1))
    return Item("code", body, line)  # code blocks are language-neutral


def _markup_lines(tokens: list[Token]) -> set[int]:
    """The source lines that are MyST markup, not prose: targets ``(label)=``, ``%`` comments, HTML comments,
    a table's separator row, and paragraphs that hold only images."""
    out: set[int] = set()
    for k, token in enumerate(tokens):
        if token.map is None:
            continue
        start, end = token.map
        if token.type in ("myst_target", "myst_line_comment", "front_matter") or (
                token.type == "html_block" and token.content.lstrip().startswith("<!--")):
            out.update(range(start, end))
        elif token.type == "table_open":
            out.add(start + 1)  # the |---|---| row under the header
        elif token.type == "paragraph_open":
            children = tokens[k + 1].children or []
            if any(c.type == "image" for c in children) and all(
                    c.type in ("image", "softbreak") or c.type == "text" and not c.content.strip() for c in children):
                out.update(range(start, end))
    return out


def parse(text: str, offset: int = 0) -> list[Item]:
    """Split a markdown source into items: language containers, directives (their bodies parsed the same way),
    display math, code, MyST markup lines, and each remaining source line. ``offset``: the line number of
    ``text``'s first line - 1."""
    lines = text.split("\n")
    tokens = markdown_parser().parse(text)
    markup = _markup_lines(tokens)

    def source_lines(a: int, b: int) -> list[Item]:
        return [Item("markup" if j in markup else "line", lines[j], offset + j + 1) for j in range(a, b)]

    items: list[Item] = []
    i = 0
    for token in tokens:
        if token.type not in BLOCKS or token.map is None:
            continue
        start, end = _span(token, len(lines))
        if start < i:
            continue  # inside a block already taken (a fence cannot hold another in markdown-it's stream)
        items.extend(source_lines(i, start))
        items.append(_item(token, lines, start, end, offset))
        i = end
    items.extend(source_lines(i, len(lines)))
    return items


def tokens(text: str) -> Iterator[Token]:
    """Every block token of a markdown source in order, with the bodies of its containers and prose directives
    (colon fences, exercises, solutions, proofs) parsed in turn, their option lines left out; a code fence and a
    ``{math}`` directive are one token each (their bodies are not markdown)."""
    for token in markdown_parser().parse(text):
        yield token
        if token.type in ("fence", "colon_fence"):
            name, _ = _directive(token)
            if name != "math" and (_is_directive(token, name) or name == "container"):
                yield from tokens(_options_blanked(token.content))


def _math_directive(token: Token) -> bool:
    return token.type in ("fence", "colon_fence") and _directive(token)[0] == "math"


def code_blocks(text: str, language: str) -> list[str]:
    """The bodies of the fenced code blocks in ``language`` (```` ```python ````), in order, as markdown-it reads
    them (also inside lists, containers and directives)."""
    return [t.content for t in tokens(text) if t.type == "fence" and t.info.strip().partition(" ")[0] == language]


def equation_labels(text: str, *, targets: bool = True) -> list[str]:
    """The equation labels a markdown source defines, in order: ``$$ … $$ (eq-x)``, a ``{math}`` directive's
    ``:label: eq-x`` and (with ``targets``) a MyST target ``(eq-x)=``, also inside directives and containers."""
    out: list[str] = []
    for token in tokens(text):
        if token.type == "math_block_label":
            out.append(token.info)
        elif token.type == "myst_target" and targets and token.content.startswith("eq-"):
            out.append(token.content)
        elif _math_directive(token):
            for line in token.content.split("\n"):
                if not OPTION.match(line):
                    break
                key, _, value = line.strip().partition(" ")
                if key == ":label:" and value.strip().startswith("eq-"):
                    out.append(value.strip())
    return out


def display_math(text: str) -> set[str]:
    """The set of display-math blocks in a container body, whitespace removed: ``$$ … $$`` (alone on its lines,
    labelled, or inline), ``{math}`` directives (their options left out) and amsmath environments."""
    blocks: list[str] = []
    for token in tokens(text):
        if token.type in MATH_TOKENS:
            blocks.append(token.content)
        elif _math_directive(token):
            blocks.append(_options_blanked(token.content))
        elif token.type == "inline":
            blocks.extend(c.content for c in token.children or [] if c.type in MATH_TOKENS)
    return {re.sub(r"\s+", "", block) for block in blocks}


#: inline tokens whose text is not prose: code, math, MyST roles (``{term}`score <s>```), raw HTML
NOT_PROSE = ("code_inline", "math_inline", "math_inline_double", "myst_role", "html_inline", "image")


def _inline_prose(children: list[Token], hidden: str) -> str:
    """The text of inline tokens: text and link texts as written, line breaks as ``\\n``, emphasis marks and link
    targets dropped, and code, math, roles, HTML, images and URLs replaced by ``hidden``."""
    out: list[str] = []
    in_url = False
    for token in children:
        if token.type == "link_open":
            in_url = token.markup in ("autolink", "linkify")
            out.append(hidden if in_url else "")
        elif token.type == "link_close":
            in_url = False
        elif token.type == "text" and not in_url:
            out.append(token.content)
        elif token.type in NOT_PROSE:
            out.append(hidden)
        elif token.type in ("softbreak", "hardbreak"):
            out.append("\n")
    return "".join(out)


def prose_text(line: str, hidden: str = "") -> str:
    """The words a reader reads in one line of markdown, from markdown-it's inline tokens: text and link texts;
    code, math, roles, HTML, images and link targets left out (so are the URLs of autolinks and bare links), or
    each replaced by ``hidden``."""
    return _inline_prose(markdown_parser().parseInline(line)[0].children or [], hidden)


def prose(text: str, hidden: str = "") -> str:
    """The words of a markdown text (a container's body, a chunk of Chinese prose), one inline run (a paragraph,
    heading, list item or table cell) a line, by :func:`prose_text`'s rules; code blocks, display math and
    directive options are left out, nested directives read too."""
    return "\n".join(_inline_prose(t.children or [], hidden) for t in tokens(text) if t.type == "inline")


def _words(s: str) -> tuple[bool, bool]:
    """(has Chinese, has English words) of a line, ignoring math, code, roles and link targets."""
    text = prose_text(s)
    return bool(CJK.search(text)), bool(LATIN_WORD.search(text))


def neutral_line(line: str) -> bool:
    """True for a line of prose that may stand outside a language pair: a blank line, or one whose words
    (:func:`prose_text`) are in both languages (headings and table rows included) or in neither (symbols,
    numbers). MyST markup (targets, comments, a table's separator row, images) is an item of its own kind,
    ``markup``, and fences, math and directive options never reach this test."""
    has_cjk, has_latin = _words(line)
    return not line.strip() or has_cjk == has_latin


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
            words = prose(it.text)
            if CJK.search(words) and not LATIN_WORD.search(words):
                out.append(f"{where}:{it.line}: lang-en block has no English")
            if not LATIN_WORD.search(words):
                out.append(f"{where}:{it.line}: lang-en block has no English words")
        elif it.kind == "zh":
            if prev is None or prev.kind != "en":
                out.append(f"{where}:{it.line}: 繁體中文 block without an English block right before it")
            if not CJK.search(prose(it.text)):
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


def _without_front_matter(text: str) -> str:
    """``text`` with its YAML front matter (markdown-it's ``front_matter`` token) blanked, line numbers kept."""
    tokens = markdown_parser().parse(text)
    if not tokens or tokens[0].type != "front_matter" or tokens[0].map is None:
        return text
    lines = text.split("\n")
    end = tokens[0].map[1]
    return "\n" * end + "\n".join(lines[end:])


def sources() -> list[tuple[str, str]]:
    """(where, markdown text) for every book page and every notebook markdown cell."""
    out: list[tuple[str, str]] = []
    for page in book_pages():
        out.append((str(page.relative_to(ROOT)), _without_front_matter(page.read_text(encoding="utf-8"))))
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
