"""Chapter 2's committed runs, retrained by ``python -m scoresde.cli checkpoints --only ch02_ssm ch02_ssm_vr ch02_dsm``.

Three runs of :func:`scoresde.train.train` on :func:`scoresde.data.three_gaussians`, identical except for the
loss: sliced score matching (SSM), its variance-reduced form (SSM-VR), and denoising score matching at
``sigma = 0.1`` (DSM). Same network initialisation (seed 0), same batches (seed 0), EMA of the weights.
About a minute per run on one CPU core.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..data import three_gaussians
from ..nets import ScoreMLP
from ..train import TrainResult, train
from . import CHECKPOINT_DIR

__all__ = ["MODEL", "COMMON", "RUNS", "make"]

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
