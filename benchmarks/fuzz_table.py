"""Print the fuzz table of issues 13 and 31: every case of ``tests/fuzz_cases.py``, its outcome, and the counts by class.

    python benchmarks/fuzz_table.py            # the counts, and every case whose outcome is not a good one
    python benchmarks/fuzz_table.py --all      # every case
    python benchmarks/fuzz_table.py --match cli  # only the cases whose name contains "cli"

Outcome classes: code executed / hang / silent wrong / obscure error (the bad ones), clear error / accepted (ok).
Each case runs in a fresh temporary directory under a wall-clock limit (SIGALRM; run it in the main thread).
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzz_cases import GOOD, OUTCOMES, cases, classify  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="print every case, not only the bad ones")
    parser.add_argument("--match", default="", help="run only the cases whose name contains this text")
    args = parser.parse_args()
    counts: collections.Counter[str] = collections.Counter()
    start = time.perf_counter()
    rows = []
    for name, call, expect in cases():
        if args.match not in name:
            continue
        outcome, detail = classify(call, expect)
        counts[outcome] += 1
        rows.append((name, outcome, detail))
    width = max((len(r[0]) for r in rows), default=0)
    for name, outcome, detail in rows:
        if args.all or outcome not in GOOD:
            print(f"{name:<{width}}  {outcome:<13}  {detail}")
    print(f"\n{len(rows)} cases in {time.perf_counter() - start:.0f} s")
    for outcome in OUTCOMES:
        print(f"  {outcome:<14} {counts[outcome]:4d}")


if __name__ == "__main__":
    main()
