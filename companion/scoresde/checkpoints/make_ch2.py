"""Chapter 2's committed runs, retrained by ``python -m scoresde.cli checkpoints --only ch02_ssm ch02_ssm_vr ch02_dsm``.

Three runs of :func:`scoresde.train.train` on :func:`scoresde.data.three_gaussians`, identical except for the
loss: sliced score matching (SSM), its variance-reduced form (SSM-VR), and denoising score matching at
``sigma = 0.1`` (DSM). Same network initialisation (seed 0), same batches (seed 0), EMA of the weights.
About a minute per run on one CPU core. Their recipes are the ``ch02_*`` entries of
:data:`scoresde.checkpoints.recipes.RECIPES`; :data:`MODEL`, :data:`COMMON` and :data:`RUNS` read them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..data import three_gaussians
from ..nets import ScoreMLP
from ..train import TrainResult, train
from . import CHECKPOINT_DIR
from .recipes import RECIPES

__all__ = ["MODEL", "COMMON", "RUNS", "make"]

_RECIPES = {name: r for name, r in RECIPES.items() if r.command is None}
_FIRST = next(iter(_RECIPES.values()))
#: the network of every chapter-2 run (``ScoreMLP`` arguments; the runs differ only in the loss)
MODEL: dict[str, Any] = dict(_FIRST.network)
#: the training settings shared by every run
COMMON: dict[str, Any] = {key: getattr(_FIRST.config, key) for key in ("steps", "batch_size", "lr", "ema_decay", "seed")}
#: run name -> (loss name, loss keyword arguments)
RUNS: dict[str, tuple[str, dict[str, Any]]] = {
    name: (r.task["loss"], dict(r.config.loss_kwargs)) for name, r in _RECIPES.items()
}


def make(name: str, out_dir: Path | str = CHECKPOINT_DIR, *, steps: int | None = None,
         progress: bool = False) -> TrainResult:
    """Train run ``name`` (a key of :data:`RUNS`) and write ``out_dir/name.pt``."""
    if name not in RUNS:
        raise ValueError(f"unknown run {name!r}; expected one of {tuple(RUNS)}")
    r = _RECIPES[name]
    model = ScoreMLP(**r.network, generator=torch.Generator().manual_seed(0))
    return train(model, three_gaussians(), r.task["loss"], r.config, checkpoint_path=Path(out_dir) / f"{name}.pt",
                 progress=progress, **({"steps": steps} if steps is not None else {}))
