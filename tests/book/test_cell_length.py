"""Notebook code cells stay short, and no notebook changes torch's process-wide default dtype.

Short cells (at most :data:`MAX_LINES` lines: this course's own choice, about one screen of a laptop; not a
convention taken from another book) keep each step of a chapter readable on its own: a long computation is split at
a natural seam, and a long figure is drawn by small functions defined in a cell before the one that creates it. A
notebook that calls ``torch.set_default_dtype`` changes the dtype of every tensor created afterwards, in its own
cells and inside the companion, which hides where a float64 comes from: a notebook passes ``dtype=`` where it
creates a tensor instead.
"""

from __future__ import annotations

import copy
import json
import re

import pytest

from .bookcheck import ROOT, notebooks

MAX_LINES = 25
GLOBAL_DTYPE = re.compile(r"\bset_default_(?:dtype|tensor_type)\s*\(")

NOTEBOOKS = notebooks()


def code_cells(nb: dict) -> list[tuple[int, str]]:
    """(index, source) of every code cell of a notebook read as JSON."""
    return [(n, "".join(cell["source"])) for n, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"]


def long_cells(nb: dict, limit: int = MAX_LINES) -> list[tuple[int, int]]:
    """(index, number of lines) of the code cells longer than ``limit`` lines."""
    return [(n, len(text.splitlines())) for n, text in code_cells(nb) if len(text.splitlines()) > limit]


def global_dtype_calls(nb: dict) -> list[int]:
    """Indices of the code cells that set torch's default dtype (or tensor type) for the whole process."""
    return [n for n, text in code_cells(nb) if GLOBAL_DTYPE.search(text)]


def _load(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_code_cells_are_short(path):
    too_long = long_cells(_load(path))
    assert not too_long, f"{path.relative_to(ROOT)}: code cells (index, lines) over {MAX_LINES} lines: {too_long}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_global_default_dtype(path):
    cells = global_dtype_calls(_load(path))
    assert not cells, f"{path.relative_to(ROOT)}: torch.set_default_dtype in code cells {cells}; pass dtype= instead"


def test_there_are_notebooks_to_check():
    assert len(NOTEBOOKS) >= 7


# ---- the checks themselves must catch what they are meant to catch --------------------------------------


def _doctored(extra_lines: int) -> tuple[dict, int]:
    """A real notebook whose first code cell is padded to exactly MAX_LINES + extra_lines lines."""
    nb = copy.deepcopy(_load(NOTEBOOKS[0]))
    n, text = code_cells(nb)[0]
    lines = text.splitlines()[:MAX_LINES]
    lines += [f"pad_{k} = {k}" for k in range(MAX_LINES + extra_lines - len(lines))]
    nb["cells"][n]["source"] = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    return nb, n


def test_long_cell_is_caught():
    nb, n = _doctored(1)
    assert long_cells(nb) == [(n, MAX_LINES + 1)]
    with pytest.raises(AssertionError):
        assert not long_cells(nb)


def test_cell_at_the_limit_passes():
    nb, _ = _doctored(0)
    assert long_cells(nb) == []


def test_long_markdown_is_not_a_code_cell():
    nb = {"cells": [{"cell_type": "markdown", "source": ["line\n"] * 100},
                    {"cell_type": "code", "source": ["x = 1\n"] * 3}]}
    assert long_cells(nb) == []


def test_global_dtype_is_caught():
    nb = copy.deepcopy(_load(NOTEBOOKS[0]))
    assert global_dtype_calls(nb) == []
    for call in ("torch.set_default_dtype(torch.float64)", "torch.set_default_dtype (torch.float64)",
                 "torch.set_default_tensor_type(torch.DoubleTensor)"):
        bad = copy.deepcopy(nb)
        bad["cells"].append({"cell_type": "code", "source": ["import torch\n", call]})
        assert global_dtype_calls(bad) == [len(bad["cells"]) - 1], call


def test_global_dtype_only_in_code():
    nb = {"cells": [{"cell_type": "markdown", "source": ["We never call `torch.set_default_dtype(...)`."]},
                    {"cell_type": "code", "source": ["x = torch.zeros(3, dtype=torch.float64)"]}]}
    assert global_dtype_calls(nb) == []
