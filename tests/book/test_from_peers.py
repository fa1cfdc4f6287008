"""Every example on book/from-peers.md runs (the mapping from score_sde and torchsde is executed, not only read)."""

from __future__ import annotations

import re

import pytest

from .bookcheck import ROOT

PAGE = ROOT / "book" / "from-peers.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def examples() -> list[str]:
    return BLOCK.findall(PAGE.read_text(encoding="utf-8"))


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
