"""Chapter 7's prose quotes the thresholds its code asserts (text = code).

The code cells of notebooks/07 name their thresholds once (``SLOPE_ISM_MIN, SLOPE_OTHERS_MAX, RATIO_64_MIN = ...``,
``Z_FLAG, OUT = ...``); the English and the Chinese prose must quote the same numbers. A mutated constant fails.
"""

from __future__ import annotations

import json
import re

from .bookcheck import ROOT

NOTEBOOK = ROOT / "notebooks" / "07_ssm_high_dimension.ipynb"
NUMBER_WORDS = {10: ("more than ten", "超過十")}


def constants(code: str) -> dict[str, float]:
    """Values of the tuple assignments ``A, B = 0.6, 10`` at the start of a line of ``code``."""
    out: dict[str, float] = {}
    for names, values in re.findall(r"^([A-Z_0-9]+(?:, [A-Z_0-9]+)*) = ([0-9.]+(?:, [0-9.]+)*)", code, re.M):
        out |= dict(zip(names.split(", "), (float(v) for v in values.split(", "))))
    return out


def problems(nb: dict) -> list[str]:
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    prose = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    k = constants(code)
    missing = [name for name in ("SLOPE_ISM_MIN", "SLOPE_OTHERS_MAX", "RATIO_64_MIN", "Z_FLAG", "OUT") if name not in k]
    if missing:
        return [f"constants not found in the code: {missing}"]
    fmt = lambda v: f"{v:g}"  # noqa: E731
    wanted = [f"slope exceeds {fmt(k['SLOPE_ISM_MIN'])}", f"斜率大於 {fmt(k['SLOPE_ISM_MIN'])}",
              f"stay below {fmt(k['SLOPE_OTHERS_MAX'])}", f"斜率小於 {fmt(k['SLOPE_OTHERS_MAX'])}",
              *NUMBER_WORDS.get(int(k["RATIO_64_MIN"]), (f"more than {fmt(k['RATIO_64_MIN'])}",)),
              f"$z>{fmt(k['Z_FLAG'])}$", f"$|x|>{fmt(k['OUT'])}$"]
    return [f"the prose does not quote {w!r}" for w in wanted if w not in prose]


def test_chapter_7_prose_quotes_the_asserted_thresholds():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert problems(nb) == []
    for old, new in (("= 0.6, 0.6, 10", "= 0.7, 0.6, 10"), ("= 0.6, 0.6, 10", "= 0.6, 0.6, 100"),
                     ("Z_FLAG, OUT = 3.0", "Z_FLAG, OUT = 2.0")):
        mutated = json.loads(json.dumps(nb))
        for cell in mutated["cells"]:
            if cell["cell_type"] == "code":
                cell["source"] = [line.replace(old, new) for line in cell["source"]]
        assert problems(mutated), f"a mutated threshold ({new}) went unnoticed"
