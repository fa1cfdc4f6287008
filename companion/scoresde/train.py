r"""One training loop for every score-matching loss, on a CPU, a GPU, or several GPUs.

:func:`train` minimises :math:`\mathbb{E}[J(\theta)]` for a loss callable ``loss_fn(model, x, generator)``
(or a name from :data:`LOSS_NAMES`, resolved to :mod:`scoresde.losses`) with Adam, AdamW or SGD, optional
gradient clipping and an optional exponential moving average (EMA) of the weights,

.. math::  \bar\theta_k = \beta\,\bar\theta_{k-1} + (1-\beta)\,\theta_k, \qquad \bar\theta_1=\theta_1
           \qquad\text{(book: eq-ema)}

kept by :class:`torch.optim.swa_utils.AveragedModel`.

**Determinism.** Step :math:`k` draws its batch from a ``torch.Generator`` seeded by ``(seed, k)`` and hands
the loss a generator seeded by ``(seed, k, rank)``, so a run is a function of ``seed`` alone, and a run
resumed from a checkpoint continues exactly as if it had never stopped (no RNG state to save).

**Several GPUs.** Started under ``torchrun --nproc_per_node=N`` (see :func:`init_distributed` and ``python -m
scoresde.train --help``), the same loop wraps the model in PyTorch's ``DistributedDataParallel``: every rank
draws the same global batch of ``batch_size`` points and keeps its own slice of ``batch_size / N``; DDP
averages the gradients, so with equal slices

.. math::  \nabla_\theta\,\frac1B\sum_{i=1}^B \ell_i
           = \frac1N\sum_{r=1}^N \nabla_\theta\,\frac{N}{B}\sum_{i\in\text{slice } r}\ell_i
           \qquad\text{(book: eq-ddp-mean)}

and a deterministic loss follows the single-process loss curve up to floating-point rounding. A loss that
draws random probes or noise draws them per rank (stream ``rank``), independent across ranks, so its curve
agrees with the single-process one in distribution.

**Checkpoints** hold the weights, the optimizer state, the EMA weights, the step, the loss curve and the
configuration (plain data and tensors only), written atomically every ``checkpoint_every`` steps and at the
end, and read with ``torch.load(..., weights_only=True)``; a truncated or foreign file raises ``ValueError``.
"""

from __future__ import annotations

import argparse
import inspect
import os
import pickle
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import losses as _losses
from ._checks import (
    DivergenceError,
    check_callable,
    check_choice,
    check_module_input,
    check_positive_float,
    check_positive_int,
    check_tensor,
    check_writable_file,
)
from .data import TOY_NAMES, make_toy
from .nets import ScoreMLP, from_config

__all__ = [
    "LOSS_NAMES",
    "OPTIMIZERS",
    "CHECKPOINT_FORMAT",
    "TrainResult",
    "resolve_loss",
    "train",
    "load_checkpoint",
    "load_trained",
    "init_distributed",
    "main",
]

LossFn = Callable[[nn.Module, torch.Tensor, torch.Generator], torch.Tensor]

CHECKPOINT_FORMAT = "scoresde.train"
CHECKPOINT_VERSION = 1
OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "sgd")

# short name -> (function of scoresde.losses, fixed keyword arguments)
_LOSS_TABLE: dict[str, tuple[str, dict[str, Any]]] = {
    "ssm": ("sliced_score_matching", {}),
    "ssm_vr": ("sliced_score_matching", {"variance_reduction": True}),
    "dsm": ("denoising_score_matching", {}),
    "ism": ("implicit_score_matching", {}),
    "sliced_score_matching": ("sliced_score_matching", {}),
    "denoising_score_matching": ("denoising_score_matching", {}),
    "implicit_score_matching": ("implicit_score_matching", {}),
}
LOSS_NAMES: tuple[str, ...] = tuple(_LOSS_TABLE)

_PLAIN = (bool, int, float, str, type(None))


def _is_plain(value: Any) -> bool:
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def resolve_loss(name: str, **loss_kwargs: Any) -> LossFn:
    """Turn a loss name into ``loss_fn(model, x, generator) -> 0-dim tensor`` over :mod:`scoresde.losses`.

    ``"ssm"`` / ``"sliced_score_matching"`` (book: eq-ssm), ``"ssm_vr"`` (SSM-VR, book: eq-ssm-vr),
    ``"dsm"`` / ``"denoising_score_matching"`` (book: eq-dsm; needs ``sigma=``) and ``"ism"`` /
    ``"implicit_score_matching"`` (book: eq-ism). ``loss_kwargs`` go to the loss function (e.g.
    ``n_projections=4``, ``dist="rademacher"``, ``method="jvp"``); the generator is passed when it takes one.
    """
    check_choice(name, "loss", LOSS_NAMES)
    func_name, fixed = _LOSS_TABLE[name]
    func = getattr(_losses, func_name)
    params = inspect.signature(func).parameters
    kwargs = {**fixed, **loss_kwargs}
    unknown = sorted(set(kwargs) - set(params) | ({"reduction", "generator"} & set(loss_kwargs)))
    if unknown:
        raise ValueError(f"loss {name!r} does not take the keyword argument(s) {unknown}")
    if func_name == "denoising_score_matching" and "sigma" not in kwargs:
        raise ValueError("loss 'dsm' needs a noise level: pass sigma=... (e.g. loss_kwargs={'sigma': 0.1})")
    takes_generator = "generator" in params

    def loss_fn(model: nn.Module, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if takes_generator:
            return func(model, x, generator=generator, **kwargs)
        return func(model, x, **kwargs)

    loss_fn.__qualname__ = f"resolve_loss({name!r})"
    return loss_fn


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes:
        model: the trained network (unwrapped from DDP), on the training device.
        ema_model: the EMA copy of the network (``None`` without ``ema_decay``).
        losses: the loss of every step so far, the mean over the global batch (resumed steps included).
        step: the number of optimisation steps taken.
        config: the run's configuration (plain data), as stored in checkpoints.
    """

    model: nn.Module
    ema_model: nn.Module | None
    losses: list[float] = field(default_factory=list)
    step: int = 0
    config: dict[str, Any] = field(default_factory=dict)


# ---- seeds: a run is a function of (seed, step, stream) -------------------------------------------------------

_MASK = (1 << 63) - 1


def _stream_seed(seed: int, step: int, stream: int) -> int:
    """An integer seed for step ``step`` and stream ``stream`` (0: data, 1 + rank: the loss's draws)."""
    h = (seed * 0x9E3779B97F4A7C15 + step * 0xBF58476D1CE4E5B9 + stream * 0x94D049BB133111EB) & _MASK
    h ^= h >> 31
    return (h * 0xD6E8FEB86659FD93) & _MASK


def _generator(device: torch.device, seed: int) -> torch.Generator:
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    return g


def _draw_batch(data: Any, batch_size: int, g: torch.Generator, device: torch.device) -> torch.Tensor:
    if isinstance(data, torch.Tensor):
        idx = torch.randint(0, data.shape[0], (batch_size,), generator=g, device=device)
        return data[idx]
    return data.sample(batch_size, generator=g, device=device)


# ---- checkpoints -------------------------------------------------------------------------------------------


def _save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)  # atomic: a crash never leaves a half-written checkpoint under the real name


def load_checkpoint(path: str | os.PathLike[str], *, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`train` with ``torch.load(..., weights_only=True)``.

    Returns:
        A dict with ``format``, ``version``, ``step``, ``model``, ``optimizer``, ``ema`` (state dicts or
        ``None``), ``losses`` (float64 tensor, one entry per step) and ``config`` (plain data).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is truncated or corrupted, holds something other than plain tensors and data,
            or is not a :mod:`scoresde.train` checkpoint.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    if isinstance(map_location, (str, torch.device)):
        _resolve_device(map_location, False)  # an unknown or unavailable device is named as such
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError) as err:
        raise ValueError(
            f"{path} is not a readable checkpoint (truncated, corrupted, or holding objects other than "
            f"tensors and plain data): {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        ) from err
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{path} is not a scoresde training checkpoint (expected a dict with format={CHECKPOINT_FORMAT!r}; "
            "a bare state_dict can be loaded with torch.load and model.load_state_dict)"
        )
    if ckpt.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"{path} has checkpoint version {ckpt.get('version')}, this scoresde reads {CHECKPOINT_VERSION}")
    missing = {"step", "model", "optimizer", "ema", "losses", "config"} - set(ckpt)
    if missing:
        raise ValueError(f"{path} is an incomplete checkpoint: missing {sorted(missing)}")
    return ckpt


def load_trained(
    path: str | os.PathLike[str], *, ema: bool = True, map_location: str | torch.device = "cpu"
) -> nn.Module:
    """Rebuild the network saved in a checkpoint (its EMA weights when ``ema`` and present), in eval mode.

    The network must have been built by :mod:`scoresde.nets` (its ``config`` is in the checkpoint).
    """
    ckpt = load_checkpoint(path, map_location=map_location)
    model_config = ckpt["config"].get("model")
    if model_config is None:
        raise ValueError(f"{path} does not record the network's config; build the network yourself and load "
                         "load_checkpoint(path)['model'] into it")
    model = from_config(model_config).to(map_location)
    if ema and ckpt["ema"] is not None:
        state = {k[len("module."):]: v for k, v in ckpt["ema"].items() if k.startswith("module.")}
    else:
        state = ckpt["model"]
    model.load_state_dict(state)
    return model.eval()


# ---- the loop ----------------------------------------------------------------------------------------------


def _make_optimizer(name: str, params, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)


def _distributed_state(distributed: bool | None) -> tuple[bool, int, int]:
    available = torch.distributed.is_available() and torch.distributed.is_initialized()
    if distributed is None:
        distributed = available
    if not isinstance(distributed, bool):
        raise TypeError(f"distributed must be a bool or None, got {type(distributed).__name__}")
    if distributed and not available:
        raise ValueError("distributed=True needs an initialised process group: start under torchrun and call "
                         "scoresde.train.init_distributed() first")
    if not distributed:
        return False, 0, 1
    return True, torch.distributed.get_rank(), torch.distributed.get_world_size()


def _resolve_device(device: str | torch.device, distributed: bool) -> torch.device:
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a str or torch.device, got {type(device).__name__}")
    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"unknown device {device!r}: {err}") from err
    if dev.type == "meta":
        raise ValueError("device 'meta' holds no data and cannot train; use 'cpu' or 'cuda'")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} requested but CUDA is not available")
        if dev.index is None:
            dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)) if distributed else torch.cuda.current_device())
    return dev


def train(
    model: nn.Module,
    data: Any,
    loss: str | LossFn,
    *,
    steps: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    loss_kwargs: dict[str, Any] | None = None,
    ema_decay: float | None = None,
    grad_clip: float | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    checkpoint_path: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    progress: bool = False,
    distributed: bool | None = None,
) -> TrainResult:
    r"""Train ``model`` by stochastic optimisation of a score-matching loss.

    Args:
        model: the network (an ``nn.Module``); moved to ``device`` and trained in place.
        data: where batches come from: an object with ``sample(n, *, generator, device)`` (e.g. a
            :mod:`scoresde.data` toy) or a tensor of shape ``(N, *event_shape)`` sampled with replacement.
        loss: ``loss_fn(model, x, generator) -> 0-dim tensor`` (free to draw its own noise, probes or times
            from ``generator``), or a name from :data:`LOSS_NAMES` (see :func:`resolve_loss`).
        steps: total number of optimisation steps (a resumed run continues up to this number).
        batch_size: global batch size (split evenly over the ranks under DDP).
        lr: learning rate.
        optimizer: ``"adam"``, ``"adamw"`` or ``"sgd"`` (momentum 0.9).
        weight_decay: L2 penalty (decoupled for AdamW).
        loss_kwargs: keyword arguments for a loss given by name (e.g. ``{"sigma": 0.1}`` for ``"dsm"``).
        ema_decay: :math:`\beta\in(0,1)` for an EMA of the weights (book: eq-ema); ``None``: no EMA.
        grad_clip: clip the global gradient norm to this value; ``None``: no clipping.
        seed: the run's seed (batches and the loss's random draws; not the initial weights: build the model
            with a ``generator`` for those).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; under DDP ``"cuda"`` means ``cuda:LOCAL_RANK``.
        checkpoint_path: file to write checkpoints to (rank 0 only); ``None``: no checkpoints.
        checkpoint_every: also write one every this many steps (one is always written at the end).
        resume: continue from ``checkpoint_path`` if that file exists (and start afresh if not). The saved run
            must have the same seed, batch size, loss and number of ranks.
        progress: show a tqdm progress bar (rank 0 only). Off by default: notebooks and CI stay quiet.
        distributed: use DDP; ``None`` (default) means "if a process group is initialised". Under DDP a sliced
            loss given by name uses the double-backward path (``method="vjp"``): forward-mode
            ``torch.func.jvp`` cannot pass through DDP's forward.

    Returns:
        A :class:`TrainResult`.

    Raises:
        DivergenceError: (a ``FloatingPointError``) the loss became NaN or infinite (the message gives the step).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(data, torch.Tensor):
        check_tensor(data, "data", min_dim=2)
    elif not callable(getattr(data, "sample", None)):
        raise TypeError("data must be a tensor (N, *event_shape) or have a sample(n, *, generator, device) method, "
                        f"got {type(data).__name__}")
    loss_kwargs = dict(loss_kwargs or {})
    is_dist, rank, world = _distributed_state(distributed)
    dev = _resolve_device(device, is_dist)
    if isinstance(loss, str):
        loss_name = loss
        effective = dict(loss_kwargs)
        if is_dist and loss in _LOSS_TABLE and _LOSS_TABLE[loss][0] == "sliced_score_matching":
            # forward mode (torch.func.jvp) cannot pass through DistributedDataParallel's forward
            method = effective.get("method", "auto")
            if method == "jvp":
                raise ValueError("method='jvp' (torch.func forward mode) cannot run through DistributedDataParallel; "
                                 "use method='vjp' (the same number) or 'auto'")
            if method == "auto":
                effective["method"] = "vjp"
        loss_fn = resolve_loss(loss, **effective)
    else:
        check_callable(loss, "loss")
        if loss_kwargs:
            raise ValueError("loss_kwargs are only used with a loss given by name; bind them into your callable")
        loss_fn, loss_name = loss, getattr(loss, "__qualname__", type(loss).__name__)
    if not _is_plain(loss_kwargs):
        raise TypeError("loss_kwargs must hold plain data (numbers, strings, bools) so checkpoints can store them")
    steps = check_positive_int(steps, "steps")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_positive_float(lr, "lr")
    check_choice(optimizer, "optimizer", OPTIMIZERS)
    weight_decay = check_positive_float(weight_decay, "weight_decay", allow_zero=True)
    if ema_decay is not None:
        ema_decay = check_positive_float(ema_decay, "ema_decay")
        if ema_decay >= 1:
            raise ValueError(f"ema_decay must be in (0, 1), got {ema_decay}")
    if grad_clip is not None:
        grad_clip = check_positive_float(grad_clip, "grad_clip")
    seed = check_positive_int(seed, "seed", minimum=0)
    if checkpoint_every is not None:
        checkpoint_every = check_positive_int(checkpoint_every, "checkpoint_every")
        if checkpoint_path is None:
            raise ValueError("checkpoint_every needs a checkpoint_path")
    if not isinstance(resume, bool) or not isinstance(progress, bool):
        raise TypeError("resume and progress must be bools")
    if resume and checkpoint_path is None:
        raise ValueError("resume=True needs a checkpoint_path")
    if batch_size % world:
        raise ValueError(f"batch_size={batch_size} must be divisible by the number of ranks ({world})")
    if isinstance(data, torch.Tensor):
        data = data.to(dev)

    config: dict[str, Any] = {
        "loss": loss_name, "loss_kwargs": loss_kwargs, "steps": steps, "batch_size": batch_size, "lr": lr,
        "optimizer": optimizer, "weight_decay": weight_decay, "ema_decay": ema_decay, "grad_clip": grad_clip,
        "seed": seed, "world_size": world, "model": getattr(model, "config", None),
        "data": repr(data) if not isinstance(data, torch.Tensor) else f"tensor{tuple(data.shape)}",
    }
    if not _is_plain(config["model"]):
        config["model"] = None

    model.to(dev).train()
    if isinstance(data, torch.Tensor):
        check_module_input(data[:1], model, "data")
    net: nn.Module = model
    if is_dist:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    opt = _make_optimizer(optimizer, model.parameters(), lr, weight_decay)
    ema: torch.optim.swa_utils.AveragedModel | None = None
    if ema_decay is not None:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=True)

    history: list[float] = []
    start = 0
    ckpt_path = check_writable_file(checkpoint_path, "checkpoint_path") if checkpoint_path is not None else None
    if resume and ckpt_path is not None and ckpt_path.is_file():
        ckpt = load_checkpoint(ckpt_path, map_location=dev)
        # everything that shapes the trajectory must match; only `steps` (how far to go) may change
        for key in ("seed", "batch_size", "loss", "loss_kwargs", "lr", "optimizer", "weight_decay", "ema_decay",
                    "grad_clip", "world_size", "model", "data"):
            if ckpt["config"].get(key) != config[key]:
                raise ValueError(f"cannot resume {ckpt_path}: it was trained with {key}={ckpt['config'].get(key)!r}, "
                                 f"this run has {key}={config[key]!r}")
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        if ema is not None:
            ema.load_state_dict(ckpt["ema"])
        start = int(ckpt["step"])
        history = [float(v) for v in ckpt["losses"]]
        if start > steps:
            raise ValueError(f"{ckpt_path} is at step {start}, beyond steps={steps}")

    def checkpoint(step: int) -> None:
        if ckpt_path is None or rank != 0:
            return
        _save_checkpoint(ckpt_path, {
            "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "step": step,
            "model": model.state_dict(), "optimizer": opt.state_dict(),
            "ema": ema.state_dict() if ema is not None else None,
            "losses": torch.tensor(history, dtype=torch.float64), "config": config,
        })

    bar = None
    if progress and rank == 0:
        from tqdm import tqdm  # lazily: only when a progress bar is asked for

        bar = tqdm(total=steps, initial=start, desc=f"train {loss_name}", leave=True)

    pending: list[torch.Tensor] = []

    def flush(step: int) -> None:
        """Move the pending losses to the host (one synchronisation) and stop on a non-finite one."""
        if not pending:
            return
        values = torch.stack(pending).double().cpu()
        first_step = step - len(pending) + 1
        pending.clear()
        bad = (~torch.isfinite(values)).nonzero()
        if len(bad):
            raise DivergenceError(
                f"the loss became non-finite ({float(values[bad[0, 0]])}) at step {first_step + int(bad[0, 0])}; "
                "lower lr, set grad_clip, or check the data"
            )
        history.extend(values.tolist())
        if bar is not None:
            bar.set_postfix(loss=f"{history[-1]:.4g}")

    local = batch_size // world
    try:
        for step in range(start + 1, steps + 1):
            g_data = _generator(dev, _stream_seed(seed, step, 0))
            x = _draw_batch(data, batch_size, g_data, dev)[rank * local : (rank + 1) * local]
            g_loss = _generator(dev, _stream_seed(seed, step, 1 + rank))
            value = loss_fn(net, x, g_loss)
            if not isinstance(value, torch.Tensor) or value.ndim != 0:
                raise TypeError(f"the loss must return a 0-dim tensor, got {getattr(value, 'shape', type(value))}")
            opt.zero_grad(set_to_none=True)
            value.backward()
            if grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            opt.step()
            if ema is not None:
                ema.update_parameters(model)
            logged = value.detach()
            if is_dist:
                logged = logged.clone()
                torch.distributed.all_reduce(logged)
                logged = logged / world
            pending.append(logged)
            if bar is not None:
                bar.update(1)
            if step % 100 == 0 or step == steps:
                flush(step)
            if checkpoint_every is not None and step % checkpoint_every == 0:
                flush(step)
                checkpoint(step)
        flush(steps)
        checkpoint(steps)
    finally:
        if bar is not None:
            bar.close()
    return TrainResult(model=model, ema_model=ema.module if ema is not None else None, losses=history,
                       step=steps, config=config)


# ---- several processes -------------------------------------------------------------------------------------


def init_distributed(backend: str | None = None) -> tuple[int, int, int]:
    """Initialise the default process group from torchrun's environment; return ``(rank, world_size, local_rank)``.

    ``backend``: ``"nccl"`` (CUDA) or ``"gloo"`` (CPU); default: ``"nccl"`` when CUDA is available, else
    ``"gloo"``. Without torchrun's variables (``RANK``, ``WORLD_SIZE``) it does nothing and returns ``(0, 1, 0)``.
    """
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return 0, 1, 0
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if not torch.distributed.is_initialized():
        if backend is None:
            backend = "nccl" if torch.cuda.is_available() else "gloo"
        check_choice(backend, "backend", ("nccl", "gloo"))
        if backend == "nccl":
            torch.cuda.set_device(local_rank)
        torch.distributed.init_process_group(backend=backend)
    return torch.distributed.get_rank(), torch.distributed.get_world_size(), local_rank


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m scoresde.train",
        description="Train an MLP score model on a 2-D toy distribution. Several processes: "
        "torchrun --nproc_per_node=N -m scoresde.train ...",
    )
    p.add_argument("--data", default="three_gaussians", choices=TOY_NAMES)
    p.add_argument("--loss", default="ssm", choices=LOSS_NAMES)
    p.add_argument("--sigma", type=float, default=None, help="noise level for dsm")
    p.add_argument("--method", default=None, choices=("auto", "jvp", "vjp"), help="SSM path for ssm/ssm_vr")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--optimizer", default="adam", choices=OPTIMIZERS)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--ema-decay", type=float, default=None)
    p.add_argument("--grad-clip", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--backend", default=None, choices=("nccl", "gloo"))
    p.add_argument("--checkpoint", default=None, help="checkpoint file (written by rank 0)")
    p.add_argument("--checkpoint-every", type=int, default=None)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> TrainResult:
    """Command line entry: ``python -m scoresde.train`` or ``torchrun --nproc_per_node=N -m scoresde.train``."""
    args = _parser().parse_args(argv)
    rank, _, _ = init_distributed(args.backend)
    model = ScoreMLP(2, args.hidden, args.depth, generator=torch.Generator().manual_seed(args.seed))
    loss_kwargs: dict[str, Any] = {"sigma": args.sigma} if args.sigma is not None else {}
    if args.method is not None:
        loss_kwargs["method"] = args.method
    try:
        result = train(
            model, make_toy(args.data), args.loss, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
            optimizer=args.optimizer, loss_kwargs=loss_kwargs, ema_decay=args.ema_decay, grad_clip=args.grad_clip,
            seed=args.seed, device=args.device, checkpoint_path=args.checkpoint,
            checkpoint_every=args.checkpoint_every, resume=args.resume, progress=args.progress,
        )
        if rank == 0:
            print(f"step {result.step}: loss {result.losses[-1]:.6g}")
    finally:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    return result


if __name__ == "__main__":
    main()
