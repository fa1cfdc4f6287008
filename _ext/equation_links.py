"""Formula to code and back · 公式與程式碼互連 (issue 18): the API reference cites the book's equations as links.

Docstrings name the equation they implement as ``book: eq-…`` (the label of the ``$$ … $$ (eq-…)`` display in a
chapter). Rendered by autodoc in ``book/api.md``, that text becomes ``book`` followed by the equation's number, a
link to it; the chapters link each function they call to its entry with ``{py:func}`` roles.
"""

from __future__ import annotations

import re

from sphinx.application import Sphinx

LABEL = r"eq-[A-Za-z0-9_-]*[A-Za-z0-9]"
BOOK_EQ = re.compile(rf"book: ({LABEL}(?:, {LABEL})*)")
IN_MATH = re.compile(
    rf"\\q?quad\s*\\text\{{\(book: ({LABEL}(?:, {LABEL})*)\)\}}"
    rf"|&&\s*\\text\{{\(book: ({LABEL}(?:, {LABEL})*)\)\}}"
)


def _links(labels: str) -> str:
    return ", ".join(f":eq:`{label}`" for label in labels.split(", "))


def link_equations(line: str) -> str:
    """``book: eq-em`` → ``book :eq:`eq-em``` (the number of the equation, linked)."""
    return BOOK_EQ.sub(lambda m: f"book {_links(m[1])}", line)


def link_docstring(lines: list[str]) -> list[str]:
    r"""Every ``book: eq-…`` of a docstring as links. Inside a ``.. math::`` block a link cannot be set, so a
    ``\qquad\text{(book: eq-…)}`` tag there is taken out of the formula and cited in a line after the block."""
    out: list[str] = []
    pending: list[str] = []
    math_indent: int | None = None

    def flush() -> None:
        if pending:
            indent = " " * (math_indent or 0)
            out.extend(["", f"{indent}(book {', '.join(_links(p) for p in pending)})", ""])
            pending.clear()

    for line in lines:
        indent = len(line) - len(line.lstrip())
        if math_indent is not None and line.strip() and indent <= math_indent:
            flush()
            math_indent = None
        if line.lstrip().startswith(".. math::"):
            flush()
            math_indent = indent
        if math_indent is not None:
            for m in IN_MATH.finditer(line):
                pending.append(m[1] or m[2])
            new = IN_MATH.sub(lambda m: "&&" if m[2] else "", line).rstrip()
            if new.strip() or not line.strip():  # a line that held only the tag goes (a blank line splits a formula)
                out.append(new)
        else:
            out.append(link_equations(line))
    flush()
    return out


def process_docstring(app: Sphinx, what: str, name: str, obj, options, lines: list[str]) -> None:
    lines[:] = link_docstring(lines)


def configure(app: Sphinx, config) -> None:
    config.autodoc_member_order = "bysource"
    config.autodoc_typehints = "signature"
    config.napoleon_google_docstring = True
    config.napoleon_numpy_docstring = False


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", configure)
    app.connect("autodoc-process-docstring", process_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
