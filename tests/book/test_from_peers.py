"""Every example on book/from-peers.md runs (the mapping from score_sde and torchsde is executed, not only read)."""

from __future__ import annotations

import pytest

from .bookcheck import ROOT, code_blocks

PAGE = ROOT / "book" / "from-peers.md"


def examples() -> list[str]:
    return code_blocks(PAGE.read_text(encoding="utf-8"), "python")


def test_the_page_has_an_example_per_peer():
    blocks = examples()
    assert len(blocks) == 2
    assert "predictor_corrector_sample" in blocks[0] and "torchsde.sdeint" in blocks[1]


@pytest.mark.parametrize("index", range(2))
def test_example_runs(index):
    code = examples()[index]
    if "torchsde" in code:
        pytest.importorskip("torchsde")
    exec(compile(code, f"{PAGE.name} example {index + 1}", "exec"), {"__name__": "from_peers_example"})


def test_code_blocks_are_read_as_myst_parses_them():
    """A python block quoted inside a longer fence is not an example; one inside a list item is."""
    text = "````markdown\n```python\nquoted = True\n```\n````\n\n- item\n\n  ```python\n  x = 1\n  ```\n"
    assert code_blocks(text, "python") == ["x = 1\n"]
