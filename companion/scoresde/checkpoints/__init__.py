"""Small committed checkpoints for the chapters, and where to find them.

Chapter 2's checkpoints (``ch02_*.pt``: an MLP score model trained on the chapter's three-Gaussian mixture with
SSM, SSM-VR and DSM; :mod:`scoresde.checkpoints.make_ch2`), chapter 5's (``ch05_vp_*.pt``: the commands
:data:`scoresde.cli.CH05_COMMANDS`) and chapter 7's (``ch07_vp_*.pt``: a convolutional score model on the 8x8
digits, VP SDE, trained with DSM, SSM and SSM-VR, three seeds each, seeds 1 and 2 as ``ch07_vp_*_seed1.pt``,
``ch07_vp_*_seed2.pt``; :data:`scoresde.cli.CH07_COMMANDS`), chapter 8's and chapter 9's are regenerated, bit for
bit on the same CPU type (apart from the recorded training time), by one command (``--only NAME ...`` for some of
them), from one table of recipes, :data:`scoresde.checkpoints.recipes.RECIPES`::

    python -m scoresde.cli checkpoints

Each file is a :mod:`scoresde.train` checkpoint (weights, optimizer state, EMA weights, step, loss curve,
configuration), read with :func:`scoresde.train.load_checkpoint` / :func:`scoresde.train.load_trained`.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CHECKPOINT_DIR", "checkpoint_path"]

CHECKPOINT_DIR = Path(__file__).resolve().parent


def checkpoint_path(name: str) -> Path:
    """The path of the committed checkpoint ``name`` (e.g. ``"ch02_ssm"``; the ``.pt`` suffix is optional).

    Raises:
        FileNotFoundError: no such checkpoint; the message lists the ones present.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    path = CHECKPOINT_DIR / (name if name.endswith(".pt") else f"{name}.pt")
    if not path.is_file():
        present = sorted(p.stem for p in CHECKPOINT_DIR.glob("*.pt"))
        raise FileNotFoundError(
            f"no committed checkpoint {name!r} (present: {present}); they are made by "
            "`python -m scoresde.cli checkpoints`"
        )
    return path
