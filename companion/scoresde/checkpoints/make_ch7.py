"""Regenerate chapter 7's checkpoints: ``python -m scoresde.checkpoints.make_ch7 [--only ch07_vp_ssm] [--out DIR]``.

Runs the commands of :data:`scoresde.cli.CH07_COMMANDS` (``python -m scoresde.cli train --data digits …``) in
this process on one CPU thread: a convolutional score model (:class:`scoresde.nets.TimeScoreConv`) on the
dequantised 8x8 training digits, VP SDE, trained with DSM, SSM and SSM-VR. Same initialisation (seed 0), same
batches (seed 0), EMA of the weights. Prints the CPU time of each run.
"""

from __future__ import annotations

import argparse
import shlex
import time
from pathlib import Path

import torch

from ..cli import CH07_COMMANDS
from ..cli import main as cli_main
from . import CHECKPOINT_DIR

__all__ = ["argv_of", "main"]


def argv_of(name: str, out_dir: Path | str = CHECKPOINT_DIR, steps: int | None = None) -> list[str]:
    """The ``scoresde.cli`` arguments of run ``name`` (a key of :data:`~scoresde.cli.CH07_COMMANDS`), writing to
    ``out_dir`` and, if given, training for ``steps`` steps instead."""
    if name not in CH07_COMMANDS:
        raise ValueError(f"unknown run {name!r}; expected one of {tuple(CH07_COMMANDS)}")
    argv = shlex.split(CH07_COMMANDS[name])[3:]  # drop "python -m scoresde.cli"
    argv[argv.index("--checkpoint") + 1] = str(Path(out_dir) / f"{name}.pt")
    if steps is not None:
        argv[argv.index("--steps") + 1] = str(steps)
    return argv


def main(argv: list[str] | None = None) -> None:
    """Command line: retrain the chapter-7 checkpoints (``--only`` some of them) through :mod:`scoresde.cli`."""
    ap = argparse.ArgumentParser(prog="python -m scoresde.checkpoints.make_ch7", description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="+", choices=tuple(CH07_COMMANDS), default=list(CH07_COMMANDS))
    ap.add_argument("--out", default=str(CHECKPOINT_DIR))
    ap.add_argument("--steps", type=int, default=None, help="override the number of steps (a quick check)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # small images: one thread is fast, and the same on every machine
    for name in args.only:
        t0 = time.process_time()
        cli_main(argv_of(name, args.out, args.steps))
        print(f"{name}: {time.process_time() - t0:.0f} s CPU time")


if __name__ == "__main__":
    main()
