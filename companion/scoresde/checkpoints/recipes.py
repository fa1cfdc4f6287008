"""How every committed checkpoint was trained: one table, :data:`RECIPES`, read by both of its trainers.

Each entry names a committed file (``NAME.pt`` in :data:`scoresde.checkpoints.CHECKPOINT_DIR`) and holds a
:class:`Recipe`: the ``python -m scoresde.cli`` command that trains it (``None`` for chapter 2's runs, which
:func:`scoresde.checkpoints.make_ch2.make` trains by calling :func:`scoresde.train.train` itself), the options that
choose its data, model, SDE and objective, its network's size, and a :class:`scoresde.train.TrainConfig` with the
training settings (steps, batch size, learning rate, EMA decay, seed, device, the loss's keyword arguments).

``python -m scoresde.cli checkpoints`` runs :meth:`Recipe.argv` through the command line; the command strings that
the chapters print (:data:`scoresde.cli.CH05_COMMANDS` and its siblings) are :meth:`Recipe.command_line`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..train import TrainConfig

__all__ = ["Recipe", "RECIPES", "COMMITTED_PREFIX", "recipe"]

#: where the printed command lines write (relative to the repository root, as the chapters show them)
COMMITTED_PREFIX = "companion/scoresde/checkpoints"
#: the ``python -m scoresde.cli`` commands a recipe may name (``None``: trained by make_ch2)
COMMANDS: tuple[str, ...] = ("train", "train-density")


def _number(x: Any) -> str:
    """A number as a command line writes it: ``repr``, except below 0.01 the ``2e-3`` form where it is shorter."""
    if not isinstance(x, float) or abs(x) >= 0.01:
        return str(x)
    plain = repr(x)
    mantissa, exponent = f"{x:e}".split("e")
    short = f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    return short if len(short) < len(plain) and float(short) == x else plain


def _flags(options: Mapping[str, Any]) -> list[str]:
    return [token for key, value in options.items() for token in (f"--{key.replace('_', '-')}", _number(value))]


@dataclass(frozen=True)
class Recipe:
    """One committed checkpoint's training.

    Attributes:
        command: ``"train"`` or ``"train-density"`` of ``python -m scoresde.cli``; ``None``: a chapter-2 run
            (:mod:`scoresde.checkpoints.make_ch2`).
        task: the options that choose data, model, SDE and objective, in command-line order (``{"toy":
            "eight_gaussians", "sde": "vp", "objective": "dsm"}``); for chapter 2 the loss's name (``{"loss": "ssm"}``).
        network: the network's size options (``{"hidden": 32, "depth": 3}``); for chapter 2 the
            :class:`scoresde.nets.ScoreMLP` arguments.
        config: the training settings, the ones the checkpoint records. A command sets only steps, batch size,
            learning rate, EMA decay, seed and device (its objective's options, e.g. ``sigma``, are in ``task``);
            chapter 2's may also set ``loss_kwargs``. ``checkpoint_path`` stays ``None``: the table names the file.
    """

    command: str | None
    task: Mapping[str, Any]
    network: Mapping[str, Any]
    config: TrainConfig

    def __post_init__(self) -> None:
        if self.command is not None and self.command not in COMMANDS:
            raise ValueError(f"command must be None or one of {COMMANDS}, got {self.command!r}")
        if not isinstance(self.config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(self.config).__name__}")
        c = self.config
        if self.command is not None and c != TrainConfig(steps=c.steps, batch_size=c.batch_size, lr=c.lr,
                                                         ema_decay=c.ema_decay, seed=c.seed, device=c.device):
            raise ValueError("a command's recipe sets only steps, batch_size, lr, ema_decay, seed and device in its "
                             "config (the command line has no other training flags; a loss's options go in task)")
        if self.command == "train" and c.ema_decay is None:
            raise ValueError("a 'train' recipe needs an ema_decay: `cli train` has no flag for no average and would "
                             "use its default 0.999")
        if self.config.checkpoint_path is not None:
            raise ValueError("a recipe's config has no checkpoint_path: the table's name gives the file")
        for field, options in (("task", self.task), ("network", self.network)):
            if not isinstance(options, Mapping):
                raise TypeError(f"{field} must be a mapping, got {type(options).__name__}")
            for token in _flags(options):
                if not token or any(c.isspace() for c in token):
                    raise ValueError(f"{field}: {token!r} is not one command-line word")
        object.__setattr__(self, "task", MappingProxyType(dict(self.task)))
        object.__setattr__(self, "network", MappingProxyType(dict(self.network)))

    def argv(self, checkpoint: str | os.PathLike[str], steps: int | None = None) -> list[str]:
        """The arguments of ``python -m scoresde.cli`` that train this recipe into ``checkpoint`` (for ``steps``
        steps instead, if given): the command, the task, steps, batch size, learning rate, EMA decay, the
        network, seed, device and checkpoint."""
        if self.command is None:
            raise ValueError("a chapter-2 recipe is trained by scoresde.checkpoints.make_ch2.make, not a command")
        cfg = self.config if steps is None else dataclasses.replace(self.config, steps=steps)
        training = {"steps": cfg.steps, "batch_size": cfg.batch_size, "lr": cfg.lr}
        if cfg.ema_decay is not None:
            training["ema_decay"] = cfg.ema_decay
        return [self.command, *_flags(self.task), *_flags(training),
                *_flags(self.network), *_flags({"seed": cfg.seed, "device": cfg.device}),
                "--checkpoint", str(checkpoint)]

    def command_line(self, name: str) -> str:
        """The shell command that wrote the committed file ``name`` (run from the repository root)."""
        return " ".join(["python -m scoresde.cli", *self.argv(f"{COMMITTED_PREFIX}/{name}.pt")])


def _ch02(loss: str, **loss_kwargs: Any) -> Recipe:
    """Chapter 2: an MLP score model on the three-Gaussian mixture, seed 0, EMA of the weights."""
    return Recipe(None, {"loss": loss}, {"dim": 2, "hidden": 64, "depth": 3, "activation": "silu"},
                  TrainConfig(steps=4000, batch_size=512, lr=2e-3, ema_decay=0.999, seed=0, loss_kwargs=loss_kwargs))


def _ch05(objective: str) -> Recipe:
    """Chapter 5: the VP SDE on the eight Gaussians, the command's default network."""
    return Recipe("train", {"toy": "eight_gaussians", "sde": "vp", "objective": objective}, {},
                  TrainConfig(steps=10000, batch_size=512, lr=2e-3, ema_decay=0.999, seed=0))


#: chapter 7's network and training, shared by chapter 9's flow matching
_DIGITS_NET: dict[str, Any] = {"hidden": 32, "depth": 3}


def _digits(task: dict[str, str], seed: int) -> Recipe:
    return Recipe("train", {"data": "digits", **task}, _DIGITS_NET,
                  TrainConfig(steps=4000, batch_size=64, lr=2e-3, ema_decay=0.995, seed=seed))


def _ch08_nice(objective: str, seed: int, **options: float) -> Recipe:
    """Chapter 8: a NICE flow on the digits, the same network, Adam and budget for every objective (``sigma`` for
    dsm is an option of the command's objective, as its checkpoints record it: ``dsm[sigma=0.1]``)."""
    return Recipe("train-density", {"model": "nice", "data": "digits", "objective": objective, **options},
                  {"hidden": 64, "depth": 2, "n_couplings": 4}, TrainConfig(steps=500, batch_size=64, lr=2e-3, seed=seed))


def _ch08_energy(data: str, steps: int, batch_size: int, hidden: int) -> Recipe:
    """Chapter 8: an MLP energy exp(-E(x)), unnormalised, fitted by SSM-VR."""
    return Recipe("train-density", {"model": "energy", "data": data, "objective": "ssm-vr"},
                  {"hidden": hidden, "depth": 2}, TrainConfig(steps=steps, batch_size=batch_size, lr=2e-3, seed=0))


_CH08_OBJECTIVES: tuple[tuple[str, str, dict[str, float]], ...] = (
    ("mle", "mle", {}), ("ism", "ism", {}), ("ssm", "ssm", {}), ("ssm_vr", "ssm-vr", {}),
    *((f"dsm{str(s).replace('.', '')}", "dsm", {"sigma": s}) for s in (0.01, 0.05, 0.1, 0.3)),
)

#: name -> recipe of every committed checkpoint (CPU), in the order ``python -m scoresde.cli checkpoints`` runs them:
#: chapter 2 (SSM, SSM-VR, DSM at sigma 0.1); chapter 5 (VP SDE on the eight Gaussians, DSM and SSM); chapter 7
#: (the digits, DSM, SSM, SSM-VR; seed 0 under the plain name, seeds 1 and 2 with ``_seed1``, ``_seed2``); chapter 8
#: (NICE flows by MLE, exact ISM, SSM, SSM-VR and DSM at four noise levels, seeds 0, 1, 2; two MLP energies);
#: chapter 9 (flow matching on the digits with chapter 7's network and training).
RECIPES: Mapping[str, Recipe] = MappingProxyType({
    "ch02_ssm": _ch02("ssm"),
    "ch02_ssm_vr": _ch02("ssm_vr"),
    "ch02_dsm": _ch02("dsm", sigma=0.1),
    **{f"ch05_vp_{objective}": _ch05(objective) for objective in ("dsm", "ssm")},
    **{f"{name}{'' if seed == 0 else f'_seed{seed}'}": _digits({"sde": "vp", "objective": objective}, seed)
       for seed in (0, 1, 2)
       for name, objective in (("ch07_vp_dsm", "dsm"), ("ch07_vp_ssm", "ssm"), ("ch07_vp_ssm_vr", "ssm-vr"))},
    **{f"ch08_nice_{label}_s{seed}": _ch08_nice(objective, seed, **options)
       for label, objective, options in _CH08_OBJECTIVES for seed in (0, 1, 2)},
    "ch08_energy_toy": _ch08_energy("three_gaussians", steps=2000, batch_size=256, hidden=64),
    "ch08_energy_digits": _ch08_energy("digits", steps=1000, batch_size=64, hidden=128),
    "ch09_fm": _digits({"objective": "flow"}, seed=0),
})


def recipe(name: str) -> Recipe:
    """The recipe of the committed checkpoint ``name`` (a key of :data:`RECIPES`)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if name not in RECIPES:
        raise ValueError(f"no recipe for checkpoint {name!r}; expected one of {tuple(RECIPES)}")
    return RECIPES[name]

