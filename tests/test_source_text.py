"""The companion's source holds no control characters (other than newlines).

A raw docstring written through a non-raw string editor, or a ``\\t``/``\\f`` pasted after an escape was
interpreted, leaves a TAB or FORM FEED inside the text: ``:math:`\\hat f\\to1``` became ``\\hat f<TAB>o1`` in
``scoresde.metrics.copying_test``, which the API reference renders as broken math. Shown to fail on that file
before its fix.
"""

from __future__ import annotations

import re
from pathlib import Path

import scoresde

CONTROL = re.compile(r"[\x00-\x08\x09\x0b-\x1f\x7f]")


def test_no_control_characters_in_companion_sources():
    root = Path(scoresde.__file__).parent
    bad = []
    for path in sorted(root.rglob("*.py")):
        for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if CONTROL.search(line):
                bad.append(f"{path.relative_to(root)}:{k}: {line.strip()[:60]!r}")
    assert not bad, "control characters in the source:\n" + "\n".join(bad)
