"""Regenerate chapter 2's checkpoints: ``python -m scoresde.checkpoints.make_ch2 [--only ch02_ssm] [--out DIR]``.

Three runs of :func:`scoresde.train.train` on :func:`scoresde.data.three_gaussians`, identical except for the
loss: sliced score matching (SSM), its variance-reduced form (SSM-VR), and denoising score matching at
``sigma = 0.1`` (DSM). Same network initialisation (seed 0), same batches (seed 0), EMA of the weights.
About a minute per run on one CPU core.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch

from ..data import three_gaussians
from ..nets import ScoreMLP
from ..train import TrainResult, train
from . import CHECKPOINT_DIR

__all__ = ["MODEL", "COMMON", "RUNS", "make", "main"]

#: the network of every chapter-2 run (``ScoreMLP`` arguments)
MODEL: dict[str, Any] = {"dim": 2, "hidden": 64, "depth": 3, "activation": "silu"}
#: the training settings shared by every run
COMMON: dict[str, Any] = {"steps": 4000, "batch_size": 512, "lr": 2e-3, "ema_decay": 0.999, "seed": 0}
#: run name -> (loss name, loss keyword arguments)
RUNS: dict[str, tuple[str, dict[str, Any]]] = {
    "ch02_ssm": ("ssm", {}),
    "ch02_ssm_vr": ("ssm_vr", {}),
    "ch02_dsm": ("dsm", {"sigma": 0.1}),
}


def make(name: str, out_dir: Path | str = CHECKPOINT_DIR, *, steps: int | None = None,
         progress: bool = False) -> TrainResult:
    """Train run ``name`` (a key of :data:`RUNS`) and write ``out_dir/name.pt``."""
    if name not in RUNS:
        raise ValueError(f"unknown run {name!r}; expected one of {tuple(RUNS)}")
    loss, loss_kwargs = RUNS[name]
    settings = {**COMMON, **({"steps": steps} if steps is not None else {})}
    model = ScoreMLP(**MODEL, generator=torch.Generator().manual_seed(0))
    return train(model, three_gaussians(), loss, loss_kwargs=loss_kwargs, device="cpu",
                 checkpoint_path=Path(out_dir) / f"{name}.pt", progress=progress, **settings)


def main(argv: list[str] | None = None) -> None:
    """Command line: retrain the chapter-2 checkpoints (``--only`` some of them) and write them."""
    ap = argparse.ArgumentParser(prog="python -m scoresde.checkpoints.make_ch2", description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="+", choices=tuple(RUNS), default=list(RUNS))
    ap.add_argument("--out", default=str(CHECKPOINT_DIR))
    ap.add_argument("--steps", type=int, default=None, help="override the number of steps (a quick check)")
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # small 2-D problem: one thread is fastest and the same on every machine
    for name in args.only:
        result = make(name, args.out, steps=args.steps, progress=args.progress)
        print(f"{name}: {result.step} steps, final loss {result.losses[-1]:.4g} -> {Path(args.out) / name}.pt")


if __name__ == "__main__":
    main()
