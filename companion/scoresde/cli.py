r"""The package's one command line: train, sample, draw, and regenerate the committed checkpoints.

Commands (``python -m scoresde.cli COMMAND --help`` lists every option with its default):

* ``train``: a time-conditional score model :math:`s_\theta(x,t)` of an SDE on a 2-D toy or the 8x8 digits
  (chapters 5 and 7);
* ``sample``: sample from a ``train`` checkpoint, draw the samples, save them;
* ``train-score``: a score network :math:`s_\theta(x)` (no time input) with one of chapter 2's losses, on a CPU,
  a GPU or, under ``torchrun --nproc_per_node=N -m scoresde.cli train-score``, several GPUs;
* ``train-density``: a density model (a NICE flow or an MLP energy) by maximum likelihood or score matching
  (chapter 8: ``--model nice --objective mle|ism|ssm|ssm-vr|dsm``, ``--sigma`` for dsm);
* ``checkpoints``: retrain the committed checkpoints of chapters 2, 5, 7 and 8 (:data:`CHECKPOINT_RUNS`).

A GPU user's path through chapter 5, one command per step::

    python -m scoresde.cli train --toy eight_gaussians --sde vp --objective dsm --steps 10000 \
        --device cuda --checkpoint runs/vp_dsm.pt --figure runs/vp_dsm.png --progress
    python -m scoresde.cli sample --checkpoint runs/vp_dsm.pt --sampler pc --n-steps 500 \
        --n-samples 20000 --device cuda --figure runs/vp_dsm_pc.png --out runs/samples.pt

``train`` minimises the time-weighted objective :func:`scoresde.losses.sde_score_matching`
(book: eq-weighted-dsm) with :func:`scoresde.train.train` (EMA, checkpoints, progress bar, device) and writes a
checkpoint whose configuration also records the toy, the SDE and the objective, so ``sample`` (and
:func:`load_score_model`) can rebuild everything from the file alone. ``sample`` runs one of the samplers of
:mod:`scoresde.sampling.reverse` and, with ``--figure``, draws the samples next to fresh data; with
``--out`` it saves them (a tensor file, read back with ``torch.load(..., weights_only=True)``).
The committed checkpoints of chapter 5 were written by :data:`CH05_COMMANDS`. Chapter 7 trains on images,
``--data digits`` (a :class:`~scoresde.nets.TimeScoreConv` on :class:`~scoresde.data.Digits`, with
``--objective dsm|ssm|ssm-vr`` and ``--n-projections``); its checkpoints were written by :data:`CH07_COMMANDS`.
Chapter 2's were written by :func:`scoresde.checkpoints.make_ch2.make`; ``python -m scoresde.cli checkpoints``
reruns any of them (``--only ch02_ssm ch07_vp_dsm``). Chapter 8's NICE flows were written by :data:`CH08_COMMANDS`.
All of them are rendered from one table of recipes, :data:`scoresde.checkpoints.recipes.RECIPES`.

Guards: ``--resume`` continues only the same run (the SDE and its parameters, the objective and its options, the
network's shape and dtype; only ``--steps`` may change, and every difference is named); no output overwrites an
input or another output of the same command (paths resolved, symlinks followed), and only ``checkpoints`` writes
into the committed folder; a ``--steps`` above ``--max-steps`` (default :data:`MAX_STEPS`) is refused with the
estimated duration of the run, and sizes that cannot fit in memory are refused with their estimate, before
anything is built.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from ._checks import (
    check_distinct_paths,
    check_fits_memory,
    check_outside,
    check_positive_int,
    check_seed,
    check_snr,
    check_writable_file,
)
from .checkpoints import CHECKPOINT_DIR, make_ch2
from .checkpoints.recipes import RECIPES
from .data import TOY_NAMES, Digits, make_toy
from .density import DENSITY_OBJECTIVES, NICE, DensityScore, EnergyMLP, objective_loss
from .losses import flow_matching, sde_score_matching
from .nets import ScoreMLP, TimeScoreConv, TimeScoreMLP
from .sampling import CORRECTORS, PREDICTORS, SAMPLERS, LinearPath, Prediction, flow_sample
from .sampling.registry import sampler_help
from .sde import SDE, SDES
from .train import (
    LOSS_NAMES,
    OPTIMIZERS,
    TrainResult,
    init_distributed,
    load_checkpoint,
    load_trained,
    resolve_loss,
    train,
    write_checkpoint,
)

__all__ = ["DATA_NAMES", "OBJECTIVES", "CH05_COMMANDS", "CH07_COMMANDS", "CH08_COMMANDS", "CH09_COMMANDS",
           "CHECKPOINT_RUNS", "load_velocity_model",
           "make_sde", "load_score_model", "image_grid", "draw", "ema_warning", "committed_argv", "main"]


def _commands(prefix: str) -> dict[str, str]:
    """The command lines of the committed checkpoints whose names start with ``prefix`` (:data:`RECIPES`)."""
    return {name: r.command_line(name) for name, r in RECIPES.items() if name.startswith(prefix)}


#: The commands that wrote the committed checkpoints ``scoresde/checkpoints/ch05_*.pt`` (CPU, seed 0), rendered
#: from their recipes (:data:`scoresde.checkpoints.recipes.RECIPES`).
CH05_COMMANDS: dict[str, str] = _commands("ch05_")


#: ``--data``: the 2-D toys of :mod:`scoresde.data`, and ``"digits"`` (8x8 images, :class:`~scoresde.data.Digits`,
#: trained with the convolutional :class:`~scoresde.nets.TimeScoreConv`; chapter 7).
DATA_NAMES: tuple[str, ...] = (*TOY_NAMES, "digits")
#: ``--objective``: denoising, sliced, and sliced with variance reduction (book: eq-ssm-vr) score matching, and
#: ``"flow"``: flow matching (book: eq-fm-loss), which trains a velocity :math:`v_\theta(x,t)` and no SDE (chapter 9).
OBJECTIVES: tuple[str, ...] = ("dsm", "ssm", "ssm-vr", "flow")

#: The commands that wrote the committed checkpoints ``scoresde/checkpoints/ch07_*.pt`` (CPU): seed 0 under the
#: plain names (``ch07_vp_dsm``), seeds 1 and 2 with the suffix ``_seed1``, ``_seed2`` (the spread over training runs).
CH07_COMMANDS: dict[str, str] = _commands("ch07_")

#: Chapter 8's fits of a NICE flow to the digits, one per objective and seed (CPU): MLE, exact ISM (the chapter's
#: referee; it costs about a hundred times an MLE step), SSM, SSM-VR and DSM at four noise levels, seeds 0, 1, 2, the
#: same network, Adam and budget (500 steps of 64 images) for all; and two MLP energy models fitted by SSM-VR.
CH08_COMMANDS: dict[str, str] = _commands("ch08_")

#: The command that wrote ``scoresde/checkpoints/ch09_fm.pt``: flow matching on chapter 7's digits with chapter 7's
#: network, steps, batch, learning rate and EMA (CPU, seed 0).
CH09_COMMANDS: dict[str, str] = _commands("ch09_")

#: Every committed checkpoint that ``python -m scoresde.cli checkpoints`` can retrain, in the order of
#: :data:`scoresde.checkpoints.recipes.RECIPES`: chapter 2's runs (trained by
#: :func:`scoresde.checkpoints.make_ch2.make`), then those of :data:`CH05_COMMANDS`, :data:`CH07_COMMANDS`,
#: :data:`CH08_COMMANDS` and :data:`CH09_COMMANDS`.
CHECKPOINT_RUNS: tuple[str, ...] = tuple(RECIPES)


def committed_argv(name: str, out_dir: str | os.PathLike[str] = CHECKPOINT_DIR, steps: int | None = None) -> list[str]:
    """The arguments of ``python -m scoresde.cli`` that wrote the chapter-5, 7 or 8 checkpoint ``name``,
    writing to ``out_dir`` instead and, if given, training for ``steps`` steps."""
    commands = tuple(n for n, r in RECIPES.items() if r.command is not None)
    if name not in commands:
        raise ValueError(f"no command for checkpoint {name!r}; expected one of {commands}")
    return RECIPES[name].argv(Path(out_dir) / f"{name}.pt",
                              steps=None if steps is None else check_positive_int(steps, "steps"))


def _dataset(name: str) -> Any:
    """The sampler for ``--data name``: a 2-D toy, or the dequantised training digits."""
    return Digits("train", dequantize=True) if name == "digits" else make_toy(name)


def _event_shape(cli: dict[str, Any]) -> tuple[int, ...]:
    return (1, 8, 8) if cli.get("toy") == "digits" else (2,)


def make_sde(spec: dict[str, Any]) -> SDE:
    """Build an SDE from a plain spec, e.g. ``{"name": "vp", "beta_min": 0.1, "beta_max": 20.0}``.

    ``name`` is one of :data:`scoresde.sde.SDES` (``"vp"``, ``"subvp"``, ``"ve"``...); the other entries are
    keyword arguments of that class's constructor (e.g. ``beta_min``, ``beta_max`` or ``sigma_min``,
    ``sigma_max``, and ``T``).
    """
    if not isinstance(spec, dict) or "name" not in spec:
        raise ValueError(f"an SDE spec is a dict with a 'name' entry, got {spec!r}")
    kwargs = dict(spec)
    name = kwargs.pop("name")
    cls = SDES.lookup(name, "sde")
    allowed = _sde_parameters(cls)
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ValueError(f"sde {name!r} does not take {unknown}; it takes {sorted(allowed)}")
    return cls(**kwargs)


def _sde_parameters(cls: type[SDE]) -> tuple[str, ...]:
    """The keyword parameters of an SDE class's constructor, in order."""
    return tuple(n for n, p in inspect.signature(cls).parameters.items()
                 if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def load_score_model(
    path: str | os.PathLike[str], *, ema: bool = True, map_location: str | torch.device = "cpu"
) -> tuple[nn.Module, SDE, dict[str, Any]]:
    """Read a checkpoint written by ``python -m scoresde.cli train``: ``(score model, SDE, its cli config)``.

    The model is in eval mode (its EMA weights when ``ema`` and present); the cli config holds the toy's
    name, the SDE spec, the objective and the weighting. Uses ``torch.load(..., weights_only=True)``.

    Raises:
        ValueError: the file is not a checkpoint of this command (see :func:`scoresde.train.load_checkpoint`).
    """
    cli = _cli_config(path, map_location)
    if cli.get("objective") == "flow":
        raise ValueError(f"{path} holds a flow-matching velocity model, not a score model; read it with "
                         "load_velocity_model")
    if "sde" not in cli or cli["sde"] is None:
        raise ValueError(f"{path} was not written by `python -m scoresde.cli train` (no SDE recorded)")
    for key, choices in (("toy", DATA_NAMES), ("objective", OBJECTIVES)):
        if cli.get(key) not in choices:
            raise ValueError(f"{path}: its cli record has {key}={cli.get(key)!r}, expected one of {choices}")
    try:
        sde = make_sde(cli["sde"])
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: its cli record holds a bad SDE spec: {str(err).splitlines()[0]}") from err
    return load_trained(path, ema=ema, map_location=map_location), sde, cli


def load_velocity_model(
    path: str | os.PathLike[str], *, ema: bool = True, map_location: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Read a flow-matching checkpoint written by ``python -m scoresde.cli train --objective flow``:
    ``(velocity model v(x, t), its cli config)``, the model in eval mode (its EMA weights when ``ema``).

    Raises:
        ValueError: the file is not a flow-matching checkpoint of this command.
    """
    cli = _cli_config(path, map_location)
    if cli.get("objective") != "flow":
        raise ValueError(f"{path} is not a flow-matching checkpoint (objective {cli.get('objective')!r}); "
                         "read a score model with load_score_model")
    return load_trained(path, ema=ema, map_location=map_location), cli


def _cli_config(path: str | os.PathLike[str], map_location: str | torch.device) -> dict[str, Any]:
    cli = load_checkpoint(path, map_location=map_location)["config"].get("cli")
    if not isinstance(cli, dict):
        raise ValueError(f"{path} was not written by `python -m scoresde.cli train` (no SDE recorded)")
    return cli


def _sample(model: nn.Module, sde: SDE, args: argparse.Namespace, device: torch.device, seed: int,
            event_shape: tuple[int, ...] = (2,)) -> torch.Tensor:
    """Run the registered ``--sampler`` (:data:`scoresde.sampling.SAMPLERS`) with the sampling options."""
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    sampler = SAMPLERS.lookup(args.sampler, "--sampler")
    with torch.no_grad():
        return sampler(sde, model, (args.n_samples, *event_shape), n_steps=args.n_steps, snr=args.snr,
                       predictor=args.predictor, corrector=args.corrector, generator=g,
                       progress=_progress(getattr(args, "progress", None)))


def image_grid(images: torch.Tensor, ncols: int = 8, pad: int = 1) -> torch.Tensor:
    """Tile grey images ``(n, 1, H, W)`` into one ``(rows*(H+pad)-pad, ncols*(W+pad)-pad)`` array (padding: -1)."""
    n, _, h, w = images.shape
    rows = -(-n // ncols)
    grid = torch.full((rows * (h + pad) - pad, ncols * (w + pad) - pad), -1.0, dtype=torch.float32)
    for i, img in enumerate(images.detach().cpu().float()):
        r, c = divmod(i, ncols)
        grid[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = img[0].clamp(-1, 1)
    return grid


def draw(samples: torch.Tensor, data: torch.Tensor, path: str | os.PathLike[str], title: str) -> None:
    """Scatter ``samples`` next to ``data`` (both ``(n, 2)``), or show the first 64 of each as an image grid
    (both ``(n, 1, H, W)``), with bilingual labels, and save to ``path``.

    No global state changes: the figure is a :class:`matplotlib.figure.Figure` (no pyplot, no backend switch),
    and the book's style is applied inside ``matplotlib.rc_context``, which restores the caller's settings."""
    import matplotlib
    from matplotlib.figure import Figure

    from .plotting import bilingual, use_book_style

    with matplotlib.rc_context():
        use_book_style()
        fig = Figure(figsize=(8, 4))
        axes = fig.subplots(1, 2, sharex=True, sharey=True)
        for ax, pts, (en, zh) in zip(axes, (data, samples), (("Data", "資料"), ("Samples", "樣本"))):
            ax.set_title(bilingual(en, zh, " · "))
            if pts.ndim == 4:
                ax.imshow(image_grid(pts[:64]), cmap="gray_r", vmin=-1, vmax=1)
                ax.set_axis_off()
                continue
            p = pts.detach().cpu().numpy()
            ax.scatter(p[:, 0], p[:, 1], s=2, alpha=0.4)
            ax.set_aspect("equal")
        fig.suptitle(title)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, bbox_inches="tight")


def _add_sampling_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sampler", default="pc", choices=SAMPLERS.names,
                   help=sampler_help() + " (a flow-matching checkpoint: --sampler ode, --n-steps Heun steps of its "
                        "velocity ODE)")
    p.add_argument("--predictor", default="euler", choices=PREDICTORS.names,
                   help="the step of the sde and pc samplers (a solver for additive noise, or a discrete chain)")
    p.add_argument("--corrector", default="langevin", choices=CORRECTORS.names, help="the corrector of the pc sampler")
    p.add_argument("--n-steps", type=int, default=500, help="steps of the sde and pc samplers")
    p.add_argument("--snr", type=float, default=0.16, help="signal-to-noise ratio of the pc corrector")
    p.add_argument("--n-samples", type=int, default=2000, help="how many samples to draw")
    p.add_argument("--figure", default=None, help="write a figure of the samples (png, pdf, svg)")
    _add_progress_arg(p)


#: ``--max-steps``' default: a longer ``--steps`` is refused with an estimate of its duration unless raised
MAX_STEPS = 1_000_000


def _add_max_steps_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-steps", type=int, default=MAX_STEPS,
                   help="refuse a longer --steps, printing the estimated duration (one step is timed); raise it to "
                        "confirm a long run")


def _add_run_args(p: argparse.ArgumentParser) -> None:
    """The options every training command shares: seed, device, the checkpoint it writes, and resuming it."""
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights, batches and probes")
    p.add_argument("--device", default="cpu", type=_device, help="cpu, cuda or cuda:N")
    p.add_argument("--checkpoint", required=True, help="checkpoint file to write")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint if it exists")


def _add_progress_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                   help="show a progress bar (default: shown when stderr is a terminal, hidden in CI and notebooks)")


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.ArgumentDefaultsHelpFormatter(prog, max_help_position=32, width=100)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m scoresde.cli", formatter_class=_formatter,
                                description="The course's command line: train a time-conditional score model of an "
                                            "SDE on 2-D toy data (chapter 5) or the 8x8 digits (chapter 7) and sample "
                                            "from it; train chapter 2's score network s(x), on one or several GPUs; "
                                            "retrain the committed checkpoints.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a time-conditional score model and write a checkpoint",
                       description="Train a time-conditional score model (book: eq-weighted-dsm) and write a "
                                   "checkpoint that `sample` can rebuild everything from.", formatter_class=_formatter)
    t.add_argument("--toy", default="eight_gaussians", choices=TOY_NAMES, help="2-D training data")
    t.add_argument("--data", default=None, choices=DATA_NAMES,
                   help="training data (overrides --toy); 'digits': 8x8 images with a convolutional score model")
    t.add_argument("--sde", default="vp", choices=SDES.names,
                   help="forward SDE (" + ", ".join(f"{n}: {c.__name__}" for n, c in SDES.items()) + ")")
    t.add_argument("--beta-min", type=float, default=0.1, help="beta(0) of the vp and subvp SDEs")
    t.add_argument("--beta-max", type=float, default=20.0, help="beta(1) of the vp and subvp SDEs")
    t.add_argument("--sigma-min", type=float, default=0.01, help="sigma(0) of the ve SDE")
    t.add_argument("--sigma-max", type=float, default=10.0, help="sigma(1) of the ve SDE")
    t.add_argument("--objective", default="dsm", choices=OBJECTIVES,
                   help="denoising, sliced, or sliced with variance reduction score matching")
    t.add_argument("--n-projections", type=int, default=1, help="probes per point (ssm, ssm-vr)")
    t.add_argument("--weighting", default="sigma2", choices=("sigma2", "likelihood"),
                   help="time weighting lambda(t) of the objective")
    t.add_argument("--steps", type=int, default=10000, help="optimiser steps")
    _add_max_steps_arg(t)
    t.add_argument("--batch-size", type=int, default=512, help="points per step")
    t.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate")
    t.add_argument("--ema-decay", type=float, default=0.999,
                   help="decay of the weights' moving average; sampling uses the average, so keep it below "
                        "1 - 3/steps (a warning says when it is not)")
    t.add_argument("--hidden", type=int, default=128, help="hidden width (channels for --data digits)")
    t.add_argument("--depth", type=int, default=3, help="hidden layers (blocks for --data digits)")
    _add_run_args(t)
    _add_sampling_args(t)
    s = sub.add_parser("sample", help="sample from a checkpoint written by `train`",
                       description="Sample from a checkpoint written by `train`; write a figure and/or the samples.",
                       formatter_class=_formatter)
    s.add_argument("--checkpoint", required=True, help="checkpoint written by `train`")
    s.add_argument("--device", default="cpu", type=_device, help="cpu, cuda or cuda:N")
    s.add_argument("--seed", type=int, default=1, help="seed of the prior draw and the sampler's noise")
    s.add_argument("--out", default=None, help="save the samples as a tensor file (torch.load(..., weights_only=True))")
    _add_sampling_args(s)
    _add_train_score_parser(sub)
    _add_train_density_parser(sub)
    c = sub.add_parser("checkpoints", help="retrain the committed checkpoints (chapters 2, 5, 7, 8 and 9)",
                       description="Retrain the committed checkpoints (one CPU thread, each with the seed of its "
                                   "recipe, as committed) and print the CPU time of each.", formatter_class=_formatter)
    c.add_argument("--only", nargs="+", choices=CHECKPOINT_RUNS, default=list(CHECKPOINT_RUNS), metavar="NAME",
                   help=f"which checkpoints: {', '.join(CHECKPOINT_RUNS)}")
    c.add_argument("--out", default=None, help="directory to write them to; None: the package's committed folder")
    c.add_argument("--steps", type=int, default=None,
                   help="fewer steps, for a quick check (needs an --out other than the committed folder)")
    _add_progress_arg(c)
    return p


def _add_train_score_parser(sub: Any) -> None:
    p = sub.add_parser("train-score", help="train a score network s(x) (no time input) with a chapter-2 loss",
                       description="Train an MLP score network s(x) on a 2-D toy with SSM, SSM-VR, DSM or ISM "
                                   "(chapter 2). Several processes: torchrun --nproc_per_node=N -m scoresde.cli "
                                   "train-score ...", formatter_class=_formatter)
    p.add_argument("--data", default="three_gaussians", choices=TOY_NAMES, help="2-D training data")
    p.add_argument("--loss", default="ssm", choices=LOSS_NAMES, help="score-matching loss")
    p.add_argument("--sigma", type=float, default=None, help="noise level of dsm")
    p.add_argument("--method", default=None, choices=("auto", "jvp", "vjp"), help="SSM path of ssm and ssm_vr")
    p.add_argument("--steps", type=int, default=2000, help="optimiser steps")
    _add_max_steps_arg(p)
    p.add_argument("--batch-size", type=int, default=256, help="points per step (all ranks together)")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    p.add_argument("--optimizer", default="adam", choices=OPTIMIZERS, help="optimiser")
    p.add_argument("--hidden", type=int, default=128, help="hidden width")
    p.add_argument("--depth", type=int, default=3, help="hidden layers")
    p.add_argument("--ema-decay", type=float, default=None, help="decay of the weights' moving average; None: no average")
    p.add_argument("--grad-clip", type=float, default=None, help="clip the gradient norm to this; None: no clipping")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights, batches and probes")
    p.add_argument("--device", default="cpu", type=_device, help="cpu, cuda or cuda:N (under torchrun: cuda:LOCAL_RANK)")
    p.add_argument("--backend", default=None, choices=("nccl", "gloo"),
                   help="process-group backend under torchrun; None: nccl with CUDA, else gloo")
    p.add_argument("--checkpoint", default=None, help="checkpoint file (written by rank 0)")
    p.add_argument("--checkpoint-every", type=int, default=None, help="also write one every this many steps")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint if it exists")
    _add_progress_arg(p)


def _add_train_density_parser(sub: Any) -> None:
    p = sub.add_parser("train-density", help="fit a density model (NICE flow, MLP energy) by MLE or score matching",
                       description="Fit a density model p(x) (chapter 8): a NICE flow or an MLP energy exp(-E(x)) on a "
                                   "2-D toy or the 8x8 digits, by maximum likelihood (nice only), exact implicit, "
                                   "sliced or denoising score matching of its score grad log p(x).",
                       formatter_class=_formatter)
    p.add_argument("--model", default="nice", choices=("nice", "energy"), help="NICE flow or MLP energy model")
    p.add_argument("--data", default="digits", choices=DATA_NAMES, help="training data (digits: dequantised 8x8)")
    p.add_argument("--objective", default="ssm", choices=DENSITY_OBJECTIVES, help="training objective")
    p.add_argument("--sigma", type=float, default=None, help="noise level of dsm (required for dsm)")
    p.add_argument("--steps", type=int, default=1000, help="optimiser steps")
    p.add_argument("--batch-size", type=int, default=64, help="points per step")
    p.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate")
    p.add_argument("--hidden", type=int, default=64, help="hidden width (of each coupling MLP for nice)")
    p.add_argument("--depth", type=int, default=2, help="hidden layers (of each coupling MLP for nice)")
    p.add_argument("--n-couplings", type=int, default=4, help="coupling layers of nice")
    _add_run_args(p)
    _add_progress_arg(p)


def ema_warning(steps: int, decay: float) -> str | None:
    r"""A warning when the EMA of the weights (book: eq-ema) still holds much of the untrained network.

    The average starts from the initial weights, which keep weight :math:`\beta^{k-1}` after :math:`k` steps;
    above 5 % the averaged model is mostly untrained and samples look like noise. ``None`` when the run is long
    enough (:math:`\beta \le 1 - 3/k` gives :math:`\beta^{k-1} \lesssim e^{-3} = 5\,\%`)."""
    if decay <= 0 or steps <= 1:
        return None
    left = math.exp((steps - 1) * math.log(decay))
    if left <= 0.05:
        return None
    suggestion = max(0.0, 1 - 3 / steps)
    return (f"--ema-decay {decay:g} with --steps {steps}: the moving average still gives {left:.0%} of its weight "
            f"to the untrained network, so its samples will look like noise; use --ema-decay {suggestion:.3g} or "
            f"less, or more steps")


def _progress(flag: bool | None) -> bool:
    """``--progress``/``--no-progress``, else a bar only on an interactive terminal (not in CI or a notebook)."""
    if flag is not None:
        return flag
    return sys.stderr.isatty() and not os.environ.get("CI")


def _sde_spec(args: argparse.Namespace) -> dict[str, Any]:
    """``{"name": --sde, ...}`` with the SDE's constructor parameters that the command line sets (e.g. --beta-min)."""
    params = _sde_parameters(SDES.lookup(args.sde, "--sde"))
    return {"name": args.sde, **{p: getattr(args, p) for p in params if hasattr(args, p)}}


def _record(path: Path, cli: dict[str, Any]) -> None:
    """Add the cli config to a checkpoint written by :func:`scoresde.train.train` (atomically)."""
    ckpt = load_checkpoint(path)
    ckpt["config"]["cli"] = cli
    write_checkpoint(path, ckpt)


class _SDELoss:
    """``train``'s objective, :func:`scoresde.losses.sde_score_matching` on one SDE, as a loss callable whose
    ``config`` (the SDE spec, the objective and its options) the checkpoint records and a resumed run must match."""

    def __init__(self, spec: dict[str, Any], objective: str, weighting: str, n_projections: int) -> None:
        self.sde = make_sde(spec)
        self.objective, self.weighting, self.n_projections = objective, weighting, n_projections
        self.config = {"sde": dict(spec), "objective": objective, "weighting": weighting,
                       "n_projections": n_projections}
        self.__qualname__ = ("flow_matching[linear]" if objective == "flow"
                             else f"sde_score_matching[{spec['name']},{objective},{weighting}]")

    def __call__(self, model: nn.Module, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if self.objective == "flow":
            return flow_matching(model, x, generator=generator)
        return sde_score_matching(model, x, self.sde, objective="dsm" if self.objective == "dsm" else "ssm",
                                  weighting=cast(Any, self.weighting), n_projections=self.n_projections,
                                  variance_reduction=self.objective == "ssm-vr", generator=generator)


def _check_model_size(digits: bool, hidden: int, depth: int, batch_size: int, device: torch.device) -> None:
    """Refuse, before building anything, a network and batch that cannot fit in memory (an estimate: weights,
    gradients, two Adam moments and the EMA, plus the activations a double backward keeps)."""
    hidden = check_positive_int(hidden, "--hidden")
    depth = check_positive_int(depth, "--depth")
    batch = check_positive_int(batch_size, "--batch-size")
    pixels = 64 if digits else 1
    n_params = depth * hidden * hidden * (9 if digits else 1) + 8 * hidden
    activations = batch * pixels * hidden * (depth + 2)
    check_fits_memory(4 * (5 * n_params + 6 * activations),
                      f"a network of --hidden {hidden} --depth {depth} trained on --batch-size {batch}", device)


def _check_sample_size(n: int, event_shape: tuple[int, ...], device: torch.device) -> None:
    """Refuse ``--n-samples`` that cannot fit (the samplers keep about 8 arrays of the samples' size)."""
    n = check_positive_int(n, "--n-samples")
    check_fits_memory(8 * 4 * n * math.prod(event_shape), f"--n-samples {n} of shape {event_shape}", device)


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def _check_run_length(steps: int, max_steps: int, one_step: Callable[[], float]) -> None:
    """Refuse ``--steps`` above ``--max-steps`` with the estimated duration (``one_step()`` times one step)."""
    steps, limit = check_positive_int(steps, "--steps"), check_positive_int(max_steps, "--max-steps")
    if steps > limit:
        seconds = one_step()
        raise ValueError(f"--steps {steps} exceeds --max-steps {limit}: at {seconds * 1e3:.3g} ms per step (one "
                         f"step timed here) it would run about {_duration(steps * seconds)}; pass --max-steps "
                         f"{steps} to confirm")


def _time_one_step(model: nn.Module, data: Any, loss: Callable[..., torch.Tensor], batch_size: int,
                   device: torch.device) -> float:
    """Seconds of one loss evaluation and backward pass on a copy of ``model`` (the estimate of a step)."""
    import copy

    net = copy.deepcopy(model).to(device)
    g = torch.Generator(device=device)
    g.manual_seed(0)
    x = data.sample(batch_size, generator=g, device=device)
    t0 = time.perf_counter()
    loss(net, x, g).backward()
    return time.perf_counter() - t0


def _check_outputs(args: argparse.Namespace, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
    """No output overwrites an input or another output (symlinks followed); none lands among the committed
    checkpoints, which only the ``checkpoints`` command rewrites."""
    check_distinct_paths(inputs, outputs)
    if not getattr(args, "committed", False):
        for flag, path in outputs.items():
            check_outside(path, CHECKPOINT_DIR, flag, "the committed checkpoints are rewritten only by "
                          "`python -m scoresde.cli checkpoints`; write elsewhere")


def _train(args: argparse.Namespace) -> dict[str, Any]:
    spec = _sde_spec(args)
    data_name = args.data or args.toy
    objective, weighting = args.objective, args.weighting
    n_proj = check_positive_int(args.n_projections, "--n-projections")
    loss = _SDELoss(spec, objective, weighting, n_proj)
    seed = check_seed(args.seed, "--seed")
    _check_model_size(data_name == "digits", args.hidden, args.depth, args.batch_size, args.device)
    toy = _dataset(data_name)
    init = torch.Generator().manual_seed(seed)  # the nets are float32 unless told otherwise, like the data
    if data_name == "digits":
        model: nn.Module = TimeScoreConv(1, args.hidden, args.depth, generator=init)
    else:
        model = TimeScoreMLP(2, args.hidden, args.depth, generator=init)
    _check_run_length(args.steps, args.max_steps,
                      lambda: _time_one_step(model, toy, loss, args.batch_size, args.device))
    path = Path(args.checkpoint)
    warning = ema_warning(args.steps, args.ema_decay)
    if warning is not None:
        print(f"warning: {warning}", file=sys.stderr)
    t0 = time.perf_counter()
    result = train(model, toy, loss, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                   ema_decay=args.ema_decay, seed=args.seed, device=args.device, checkpoint_path=path,
                   resume=args.resume, progress=_progress(getattr(args, "progress", None)))
    seconds = time.perf_counter() - t0
    cli = {"toy": data_name, "sde": None if objective == "flow" else spec, "objective": objective,
           "weighting": weighting,
           "train_seconds": seconds, "device": str(args.device)}
    _record(path, cli)
    print(f"trained {args.steps} steps on {args.device} in {seconds:.1f} s; final loss "
          f"{result.losses[-1]:.4g}; checkpoint {path}")
    return cli


def main(argv: list[str] | None = None) -> torch.Tensor | TrainResult | None:
    """Entry point of ``python -m scoresde.cli``. Returns what the command made: the samples of ``train`` and
    ``sample`` when a figure or file was asked for, the :class:`~scoresde.train.TrainResult` of ``train-score``.

    A user error (a bad value, a missing or unwritable file, an unavailable device) is reported as argparse
    reports one: a one-line message and exit status 2, never a traceback.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (ValueError, TypeError, OSError) as err:
        parser.error(f"{args.command}: {str(err).splitlines()[0] if str(err) else type(err).__name__}")


def _device(text: str) -> torch.device:
    """argparse type of ``--device``: a torch device that exists here (one-line error otherwise)."""
    try:
        dev = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"unknown device {text!r} (expected e.g. cpu, cuda, cuda:1)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(f"device {text!r} requested but CUDA is not available here")
    if dev.type not in ("cpu", "cuda"):
        raise argparse.ArgumentTypeError(f"device {text!r}: only cpu and cuda are supported")
    return dev


def _cmd_train(args: argparse.Namespace) -> torch.Tensor | None:
    _check_sampling_args(args)
    _check_outputs(args, {}, {"--checkpoint": args.checkpoint, "--figure": args.figure})
    if args.figure is not None:
        _check_sample_size(args.n_samples, _event_shape({"toy": args.data or args.toy}), args.device)
    _train(args)
    return None if args.figure is None else _cmd_sample(args)


def _check_sampling_args(args: argparse.Namespace) -> None:
    """The sampling options of ``train`` and ``sample``, checked before any training or sampling."""
    check_positive_int(args.n_steps, "--n-steps")
    check_positive_int(args.n_samples, "--n-samples")
    check_snr(args.snr, "--snr")
    for path, flag in ((args.figure, "--figure"), (getattr(args, "out", None), "--out")):
        if path is not None:
            check_writable_file(path, flag)


def _cmd_sample(args: argparse.Namespace) -> torch.Tensor:
    _check_sampling_args(args)
    if args.command == "sample" and args.figure is None and args.out is None:
        raise SystemExit("sample: give --figure and/or --out (where the samples go)")
    out = getattr(args, "out", None)
    if args.command == "sample":
        _check_outputs(args, {"--checkpoint": args.checkpoint}, {"--figure": args.figure, "--out": out})
    device = torch.device(args.device)
    seed = check_seed(getattr(args, "seed", 1), "--seed") % (2**63 - 2)  # the sampler and the data use seed + 1, + 2
    if _cli_config(args.checkpoint, device).get("objective") == "flow":
        _check_sample_size(args.n_samples, _event_shape(_cli_config(args.checkpoint, device)), device)
        x, cli = _sample_flow(args, device, seed + 1)
    else:
        model, sde, cli = load_score_model(args.checkpoint, map_location=device)
        _check_sample_size(args.n_samples, _event_shape(cli), device)
        x = _sample(model, sde, args, device, seed + 1, _event_shape(cli))
    if args.figure is not None:
        g = torch.Generator(device=device)
        g.manual_seed(seed + 2)
        data = _dataset(cli["toy"]).sample(args.n_samples, generator=g)
        title = ("flow matching, Heun on the velocity ODE" if cli["sde"] is None
                 else f"{cli['sde']['name'].upper()} SDE, {cli['objective'].upper()}, sampler {args.sampler}")
        draw(x, data, args.figure, title)
        print(f"figure {args.figure}")
    if out is not None:
        write_checkpoint(out, x.detach().cpu())
        print(f"samples {out}")
    return x


def _sample_flow(args: argparse.Namespace, device: torch.device, seed: int) -> tuple[torch.Tensor, dict[str, Any]]:
    """Samples of a flow-matching checkpoint: ``--n-steps`` Heun steps of the velocity ODE (``--sampler ode``)."""
    if args.sampler != "ode":
        raise ValueError(f"--sampler {args.sampler}: a flow-matching checkpoint has no SDE; use --sampler ode "
                         "(Heun on the velocity ODE, --n-steps steps)")
    model, cli = load_velocity_model(args.checkpoint, map_location=device)
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    pred = Prediction(model, LinearPath(), "flow")
    return flow_sample(pred, (args.n_samples, *_event_shape(cli)), n_steps=args.n_steps, method="heun",
                       generator=g, device=device), cli


def _cmd_train_score(args: argparse.Namespace) -> TrainResult:
    _check_outputs(args, {}, {"--checkpoint": args.checkpoint})
    seed = check_seed(args.seed, "--seed")
    _check_model_size(False, args.hidden, args.depth, args.batch_size, args.device)
    rank, _, _ = init_distributed(args.backend)
    model = ScoreMLP(2, args.hidden, args.depth, generator=torch.Generator().manual_seed(seed))
    loss_kwargs: dict[str, Any] = {"sigma": args.sigma} if args.sigma is not None else {}
    if args.method is not None:
        loss_kwargs["method"] = args.method
    toy = make_toy(args.data)
    _check_run_length(args.steps, args.max_steps, lambda: _time_one_step(
        model, toy, resolve_loss(args.loss, **loss_kwargs), args.batch_size, args.device))
    try:
        result = train(
            model, toy, args.loss, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
            optimizer=args.optimizer, loss_kwargs=loss_kwargs, ema_decay=args.ema_decay, grad_clip=args.grad_clip,
            seed=args.seed, device=args.device, checkpoint_path=args.checkpoint,
            checkpoint_every=args.checkpoint_every, resume=args.resume,
            progress=_progress(getattr(args, "progress", None)),
        )
        if rank == 0:
            print(f"step {result.step}: loss {result.losses[-1]:.6g}")
    finally:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    return result


def _cmd_train_density(args: argparse.Namespace) -> TrainResult:
    _check_outputs(args, {}, {"--checkpoint": args.checkpoint})
    data = _dataset(args.data)
    dim, init = int(data.dim), torch.Generator().manual_seed(args.seed)
    if args.model == "nice":
        density: nn.Module = NICE(dim, args.hidden, args.depth, args.n_couplings, generator=init)
    else:
        density = EnergyMLP(dim, args.hidden, args.depth, generator=init)
    loss = objective_loss(args.objective, sigma=args.sigma)
    t0 = time.perf_counter()
    result = train(DensityScore(density), data, loss, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                   seed=args.seed, device=args.device, checkpoint_path=args.checkpoint, resume=args.resume,
                   progress=_progress(getattr(args, "progress", None)))
    print(f"trained {args.steps} steps on {args.device} in {time.perf_counter() - t0:.1f} s; final loss "
          f"{result.losses[-1]:.4g}; checkpoint {args.checkpoint}")
    return result


def _cmd_checkpoints(args: argparse.Namespace) -> None:
    out = CHECKPOINT_DIR if args.out is None else Path(args.out)
    if args.steps is not None and out.resolve() == CHECKPOINT_DIR:
        raise ValueError(f"--steps {args.steps} would overwrite the committed checkpoints with shorter runs; "
                         "give --out DIR for a quick check")
    progress = _progress(getattr(args, "progress", None))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as committed: small problems, one thread is fast and the same on every machine
    try:
        for name in args.only:
            t0 = time.process_time()
            if RECIPES[name].command is None:
                result = make_ch2.make(name, out, steps=args.steps, progress=progress)
                print(f"{name}: {result.step} steps, final loss {result.losses[-1]:.4g}")
            else:
                flag = "--progress" if progress else "--no-progress"
                nested = _parser().parse_args([*committed_argv(name, out, args.steps), flag])
                nested.committed = True  # the one command that may rewrite the committed checkpoints
                _COMMANDS[nested.command](nested)
            print(f"{name}: {time.process_time() - t0:.0f} s CPU time -> {out / name}.pt")
    finally:
        torch.set_num_threads(threads)


_COMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "train": _cmd_train, "sample": _cmd_sample, "train-score": _cmd_train_score, "checkpoints": _cmd_checkpoints,
    "train-density": _cmd_train_density,
}

if __name__ == "__main__":
    main()
