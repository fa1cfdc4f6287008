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

**Several GPUs.** Started under ``torchrun --nproc_per_node=N -m scoresde.cli train-score`` (see
:func:`init_distributed` and ``python -m scoresde.cli train-score --help``), the same loop wraps the model in
PyTorch's ``DistributedDataParallel``: every rank draws the same global batch of ``batch_size`` points and
keeps its own slice of ``batch_size / N``; DDP averages the gradients, so with equal slices

.. math::  \nabla_\theta\,\frac1B\sum_{i=1}^B \ell_i
           = \frac1N\sum_{r=1}^N \nabla_\theta\,\frac{N}{B}\sum_{i\in\text{slice } r}\ell_i
           \qquad\text{(book: eq-ddp-mean)}

and a deterministic loss follows the single-process loss curve up to floating-point rounding. A loss that
draws random probes or noise draws them per rank (stream ``rank``), independent across ranks, so its curve
agrees with the single-process one in distribution.

**Settings** are a frozen :class:`TrainConfig`, checked once when it is built; ``train(model, data, loss,
steps=...)`` builds one from its keyword arguments, ``train(model, data, loss, config)`` takes one as it is.

**Checkpoints** hold the weights, the optimizer state, the EMA weights, the step, the loss curve and the
configuration (plain data and tensors only), written atomically every ``checkpoint_every`` steps and at the
end, and read with ``torch.load(..., weights_only=True)``; a truncated or foreign file raises ``ValueError``.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import pickle
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import losses as _losses
from ._checks import (
    DivergenceError,
    check_bool,
    check_callable,
    check_choice,
    check_finite,
    check_module_input,
    check_optional_bool,
    check_positive_float,
    check_positive_int,
    check_seed,
    check_tensor,
    check_writable_file,
)
from ._progress import Bar, progress_bar
from .nets import from_config

__all__ = [
    "LOSS_NAMES",
    "OPTIMIZERS",
    "CHECKPOINT_FORMAT",
    "TrainConfig",
    "RESUME_KEYS",
    "TrainResult",
    "resolve_loss",
    "train",
    "write_checkpoint",
    "load_checkpoint",
    "load_trained",
    "init_distributed",
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


def _is_plain(value: Any, depth: int = 0) -> bool:
    """Plain data (numbers, strings, bools, None, and lists/tuples/dicts of them), nested at most 32 deep (a
    self-referencing list is not plain data; without the bound it would recurse forever)."""
    if isinstance(value, _PLAIN):
        return True
    if depth >= 32:
        return False
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v, depth + 1) for k, v in value.items())
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
        config: the run's record (plain data, as stored in checkpoints under ``"config"``; see
            :meth:`TrainConfig.record`), not the :class:`TrainConfig` object itself.
    """

    model: nn.Module
    ema_model: nn.Module | None
    losses: list[float] = field(default_factory=list)
    step: int = 0
    config: dict[str, Any] = field(default_factory=dict)



#: the record entries that shape the trajectory: a resumed run must match them all (only the run-length settings
#: :data:`RUN_LENGTH_KEYS` may change). ``loss_config`` is the ``config`` a loss callable carries (the CLI's: the
#: SDE and its parameters, the objective and its options); ``dtype`` and ``params`` the model's dtype and shapes.
RESUME_KEYS: tuple[str, ...] = ("seed", "batch_size", "loss", "loss_kwargs", "loss_config", "lr", "optimizer",
                                "weight_decay", "ema_decay", "grad_clip", "world_size", "model", "dtype", "params",
                                "data")
#: the record entries a resumed run may change (``checkpoint_every`` and ``progress`` are not recorded at all)
RUN_LENGTH_KEYS: tuple[str, ...] = ("steps",)


@dataclass(frozen=True)
class TrainConfig:
    r"""Every setting of a :func:`train` run: plain data, checked once when the object is built.

    Attributes:
        steps: total number of optimisation steps (a resumed run continues up to this number).
        batch_size: global batch size (split evenly over the ranks under DDP).
        lr: learning rate.
        optimizer: ``"adam"``, ``"adamw"`` or ``"sgd"`` (momentum 0.9).
        weight_decay: L2 penalty (decoupled for AdamW).
        loss_kwargs: keyword arguments for a loss given by name (e.g. ``{"sigma": 0.1}`` for ``"dsm"``); plain
            data only, so checkpoints can store them. The config keeps a checked copy; treat it as read-only
            (:func:`train` checks a config it is given again).
        ema_decay: :math:`\beta\in(0,1)` for an EMA of the weights (book: eq-ema); ``None``: no EMA.
        grad_clip: clip the global gradient norm to this value; ``None``: no clipping.
        seed: the run's seed (batches and the loss's random draws; not the initial weights: build the model
            with a ``generator`` for those).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; under DDP ``"cuda"`` means ``cuda:LOCAL_RANK``. A
            config for a device this machine lacks can be built; :func:`train` refuses it.
        checkpoint_path: file to write checkpoints to (rank 0 only); ``None``: no checkpoints.
        checkpoint_every: also write one every this many steps (one is always written at the end).
        resume: continue from ``checkpoint_path`` if that file exists (and start afresh if not). The saved run
            must have the same settings (:data:`RESUME_KEYS`) and number of ranks.
        progress: show a tqdm progress bar (rank 0 only). Off by default: notebooks and CI stay quiet.
        distributed: use DDP; ``None`` (default) means "if a process group is initialised". Under DDP a sliced
            loss given by name uses the double-backward path (``method="vjp"``): forward-mode
            ``torch.func.jvp`` cannot pass through DDP's forward.
    """

    steps: int
    batch_size: int = 256
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    loss_kwargs: Mapping[str, Any] = field(default_factory=dict, hash=False)
    ema_decay: float | None = None
    grad_clip: float | None = None
    seed: int = 0
    device: str | torch.device = "cpu"
    checkpoint_path: str | os.PathLike[str] | None = None
    checkpoint_every: int | None = None
    resume: bool = False
    progress: bool = False
    distributed: bool | None = None

    def __post_init__(self) -> None:
        for name, value in self._checked().items():
            object.__setattr__(self, name, value)

    def _checked(self) -> dict[str, Any]:
        """The fields after their checks (numbers as ``int``/``float``, the path as a ``Path``)."""
        if not isinstance(self.loss_kwargs, Mapping) or not _is_plain(dict(self.loss_kwargs)):
            raise TypeError("loss_kwargs must hold plain data (numbers, strings, bools) so checkpoints can store them")
        ema, clip, every = self.ema_decay, self.grad_clip, self.checkpoint_every
        if ema is not None and check_positive_float(ema, "ema_decay") >= 1:
            raise ValueError(f"ema_decay must be in (0, 1), got {ema}")
        if every is not None and self.checkpoint_path is None:
            raise ValueError("checkpoint_every needs a checkpoint_path")
        if check_bool(self.resume, "resume") and self.checkpoint_path is None:
            raise ValueError("resume=True needs a checkpoint_path")
        check_bool(self.progress, "progress")
        check_optional_bool(self.distributed, "distributed")
        _parse_device(self.device)  # an unknown device is named now; availability is checked by train()
        return {
            "steps": check_positive_int(self.steps, "steps"),
            "batch_size": check_positive_int(self.batch_size, "batch_size"),
            "lr": check_positive_float(self.lr, "lr"),
            "optimizer": check_choice(self.optimizer, "optimizer", OPTIMIZERS),
            "weight_decay": check_positive_float(self.weight_decay, "weight_decay", allow_zero=True),
            "loss_kwargs": dict(self.loss_kwargs),  # a copy: the caller's dict may change, this one is checked
            "ema_decay": None if ema is None else float(ema),
            "grad_clip": None if clip is None else check_positive_float(clip, "grad_clip"),
            "seed": check_seed(self.seed, "seed"),
            "checkpoint_path": None if self.checkpoint_path is None
            else check_writable_file(self.checkpoint_path, "checkpoint_path"),
            "checkpoint_every": None if every is None else check_positive_int(every, "checkpoint_every"),
        }

    def record(self, loss_name: str, world_size: int, model: nn.Module, data: Any,
               loss_config: Any = None) -> dict[str, Any]:
        """The plain-data description of the run that checkpoints store (and :data:`RESUME_KEYS` compares)."""
        model_config = getattr(model, "config", None)
        first = next((p for p in model.parameters() if p.is_floating_point()), None)
        return {
            "loss": loss_name, "loss_kwargs": dict(self.loss_kwargs), "steps": self.steps,
            "loss_config": loss_config if _is_plain(loss_config) else repr(loss_config),
            "dtype": None if first is None else str(first.dtype),
            "params": [[name, list(p.shape)] for name, p in model.named_parameters()],
            "batch_size": self.batch_size, "lr": self.lr, "optimizer": self.optimizer,
            "weight_decay": self.weight_decay, "ema_decay": self.ema_decay, "grad_clip": self.grad_clip,
            "seed": self.seed, "world_size": world_size, "model": model_config if _is_plain(model_config) else None,
            "data": f"tensor{tuple(data.shape)}" if isinstance(data, torch.Tensor) else repr(data),
        }

    @staticmethod
    def check_resumable(saved: Mapping[str, Any], current: Mapping[str, Any], path: Path) -> None:
        """Raise ``ValueError`` naming every difference between two records (nested entries by their dotted
        name, e.g. ``loss_config.sde.beta_max``), outside the run-length settings :data:`RUN_LENGTH_KEYS`."""
        keys = [k for k in dict.fromkeys((*RESUME_KEYS, *current)) if k not in RUN_LENGTH_KEYS]
        diffs = [d for key in keys for d in _differences(key, saved.get(key), current.get(key))]
        if diffs:
            shown = "; ".join(f"it was trained with {k}={a!r}, this run has {k}={b!r}" for k, a, b in diffs[:6])
            more = f"; and {len(diffs) - 6} more" if len(diffs) > 6 else ""
            raise ValueError(f"cannot resume {path}: {shown}{more} (only {', '.join(RUN_LENGTH_KEYS)} may change; "
                             "start a new checkpoint for a different run)")


def _differences(key: str, a: Any, b: Any) -> list[tuple[str, Any, Any]]:
    """The leaves on which two plain records differ, as ``(dotted key, saved, current)``."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in dict.fromkeys((*a, *b)) for d in _differences(f"{key}.{k}", a.get(k), b.get(k))]
    return [] if a == b else [(key, a, b)]


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
    batch = data.sample(batch_size, generator=g, device=device)
    if not isinstance(batch, torch.Tensor):
        raise TypeError(f"data.sample({batch_size}) must return a torch.Tensor, got {type(batch).__name__}")
    if batch.ndim < 2 or batch.shape[0] != batch_size:
        raise ValueError(f"data.sample({batch_size}) returned shape {tuple(batch.shape)}: the trainer needs "
                         f"batch_size={batch_size} rows (batch, *event_shape) at every step")
    return batch


# ---- checkpoints -------------------------------------------------------------------------------------------


def write_checkpoint(path: str | os.PathLike[str], payload: Any) -> Path:
    """Write ``payload`` (tensors and plain data: a checkpoint, or a tensor of samples) to ``path`` atomically: to
    ``path.tmp``, then renamed, so a crash never leaves a half-written file under the real name. The package's only
    writer of tensor files.

    Raises:
        OSError: the file cannot be written (the temporary file is removed; an existing checkpoint is untouched).
    """
    path = check_writable_file(path, "path")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    except RuntimeError as err:  # torch reports a file it cannot open as a RuntimeError
        tmp.unlink(missing_ok=True)
        raise OSError(f"cannot write the checkpoint {path}: {str(err).splitlines()[0]}") from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


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
    _check_record(ckpt, path)
    return ckpt


def _check_state_dict(state: Any, what: str, path: Path) -> None:
    if not isinstance(state, dict) or not state:
        raise ValueError(f"{path}: {what} must be a non-empty dict of tensors, got {type(state).__name__}")
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise ValueError(f"{path}: {what} must map names to tensors; entry {key!r} holds "
                             f"{type(value).__name__}")
        check_finite(value, f"{path}: {what}[{key!r}]")


def _check_record(ckpt: dict[str, Any], path: Path) -> None:
    """The fields of a checkpoint: types, ranges and their agreement (a forged or damaged file fails here, with
    one line naming the field, not later in the middle of a run)."""
    step, losses, config = ckpt["step"], ckpt["losses"], ckpt["config"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"{path}: step must be a non-negative int, got {step!r}")
    if not (isinstance(losses, torch.Tensor) and losses.is_floating_point() and losses.ndim == 1):
        raise ValueError(f"{path}: losses must be a 1-D floating tensor, got {getattr(losses, 'shape', losses)!r}")
    if losses.numel() != step:
        raise ValueError(f"{path}: losses holds {losses.numel()} values for step {step} (one per step)")
    check_finite(losses, f"{path}: losses")
    if not isinstance(config, dict) or not _is_plain(config):
        raise ValueError(f"{path}: config must be a dict of plain data, got {type(config).__name__}")
    if not isinstance(config.get("model"), (dict, type(None))):
        raise ValueError(f"{path}: config['model'] must be a dict (a scoresde.nets config) or None")
    _check_state_dict(ckpt["model"], "model", path)
    ema = ckpt["ema"]
    if ema is None:
        if config.get("ema_decay") is not None:
            raise ValueError(f"{path}: config records ema_decay={config['ema_decay']!r} but ema holds no weights")
    else:
        _check_state_dict(ema, "ema", path)
    opt = ckpt["optimizer"]
    if not (isinstance(opt, dict) and isinstance(opt.get("state"), dict)
            and isinstance(opt.get("param_groups"), list)):
        raise ValueError(f"{path}: optimizer must be an optimizer state dict (with 'state' and 'param_groups')")


def _check_shapes(state: Mapping[str, Any], expected: Mapping[str, Any], what: str, path: Path) -> None:
    """Refuse a saved state dict whose names or shapes differ from the model's (one line naming the first)."""
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise ValueError(f"{path}: {what} does not fit this model: missing {missing[:3]}, unexpected {extra[:3]}")
    for key, value in expected.items():
        saved = state[key]
        if isinstance(value, torch.Tensor) and tuple(saved.shape) != tuple(value.shape):
            raise ValueError(f"{path}: {what}[{key!r}] has shape {tuple(saved.shape)}, the model's is "
                             f"{tuple(value.shape)}")


def _check_optimizer_state(state: dict[str, Any], opt: torch.optim.Optimizer, path: Path) -> None:
    """Refuse an optimizer state saved for another model (other groups, parameter counts or shapes)."""
    groups = state["param_groups"]
    ours = opt.param_groups
    counts = [len(g.get("params", ())) if isinstance(g, dict) else -1 for g in groups]
    if counts != [len(g["params"]) for g in ours]:
        raise ValueError(f"{path}: optimizer holds parameter groups of sizes {counts}, this model's are "
                         f"{[len(g['params']) for g in ours]}")
    params = [p for g in ours for p in g["params"]]
    index = [i for g in groups for i in g["params"]]
    shapes = dict(zip(index, (tuple(p.shape) for p in params)))
    for key, entry in state["state"].items():
        if key not in shapes or not isinstance(entry, dict):
            raise ValueError(f"{path}: optimizer state for parameter {key!r}, which this model does not have")
        for name, value in entry.items():
            if isinstance(value, torch.Tensor) and value.ndim and tuple(value.shape) != shapes[key]:
                raise ValueError(f"{path}: optimizer state {name!r} of parameter {key} has shape "
                                 f"{tuple(value.shape)}, the parameter's is {shapes[key]}")


def load_trained(
    path: str | os.PathLike[str], *, ema: bool = True, map_location: str | torch.device = "cpu"
) -> nn.Module:
    """Rebuild the network saved in a checkpoint (its EMA weights when ``ema`` and present), in eval mode, in the
    dtype its weights were saved in.

    The network must have been built by :mod:`scoresde.nets` (its ``config`` is in the checkpoint).
    """
    ckpt = load_checkpoint(path, map_location=map_location)
    model_config = ckpt["config"].get("model")
    if model_config is None:
        raise ValueError(f"{path} does not record the network's config; build the network yourself and load "
                         "load_checkpoint(path)['model'] into it")
    if ema and ckpt["ema"] is not None:
        state = {k[len("module."):]: v for k, v in ckpt["ema"].items() if k.startswith("module.")}
    else:
        state = ckpt["model"]
    dtype = next((v.dtype for v in state.values() if torch.is_floating_point(v)), torch.float32)
    try:
        model = from_config(model_config, dtype=dtype).to(map_location)  # built in the dtype it was saved in
    except (TypeError, ValueError, KeyError) as err:
        raise ValueError(f"{path}: config['model'] does not build a network: {str(err).splitlines()[0]}") from err
    _check_shapes(state, model.state_dict(), "the weights", Path(path))
    model.load_state_dict(state)
    return model.eval()


# ---- the loop ----------------------------------------------------------------------------------------------


def _make_optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    params, lr, wd = model.parameters(), cfg.lr, cfg.weight_decay
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=wd)


def _make_ema(model: nn.Module, decay: float | None) -> torch.optim.swa_utils.AveragedModel | None:
    if decay is None:
        return None
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def _distributed_state(distributed: bool | None) -> tuple[bool, int, int]:
    available = torch.distributed.is_available() and torch.distributed.is_initialized()
    if distributed is None:
        distributed = available
    if distributed and not available:
        raise ValueError("distributed=True needs an initialised process group: start under torchrun and call "
                         "scoresde.train.init_distributed() first")
    if not distributed:
        return False, 0, 1
    return True, torch.distributed.get_rank(), torch.distributed.get_world_size()


def _parse_device(device: Any) -> torch.device:
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"device must be a str or torch.device, got {type(device).__name__}")
    try:
        return torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"unknown device {device!r}: {err}") from err


def _resolve_device(device: str | torch.device, distributed: bool) -> torch.device:
    dev = _parse_device(device)
    if dev.type == "meta":
        raise ValueError("device 'meta' holds no data and cannot train; use 'cpu' or 'cuda'")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} requested but CUDA is not available")
        if dev.index is None:
            dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)) if distributed else torch.cuda.current_device())
    return dev


def _check_model_and_data(model: Any, data: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(data, torch.Tensor):
        check_tensor(data, "data", min_dim=2)
    elif not callable(getattr(data, "sample", None)):
        raise TypeError("data must be a tensor (N, *event_shape) or have a sample(n, *, generator, device) method, "
                        f"got {type(data).__name__}")


def _loss_callable(loss: str | LossFn, loss_kwargs: Mapping[str, Any], distributed: bool) -> tuple[LossFn, str]:
    """``(loss_fn, the name checkpoints record)``; under DDP a sliced loss by name takes the ``vjp`` path."""
    if not isinstance(loss, str):
        check_callable(loss, "loss")
        if loss_kwargs:
            raise ValueError("loss_kwargs are only used with a loss given by name; bind them into your callable")
        return loss, getattr(loss, "__qualname__", type(loss).__name__)
    effective = dict(loss_kwargs)
    if distributed and loss in _LOSS_TABLE and _LOSS_TABLE[loss][0] == "sliced_score_matching":
        # forward mode (torch.func.jvp) cannot pass through DistributedDataParallel's forward
        if effective.get("method", "auto") == "jvp":
            raise ValueError("method='jvp' (torch.func forward mode) cannot run through DistributedDataParallel; "
                             "use method='vjp' (the same number) or 'auto'")
        if effective.get("method", "auto") == "auto":
            effective["method"] = "vjp"
    return resolve_loss(loss, **effective), loss


class _Run:
    """The state a run carries between steps: the loss curve (kept on the device and moved to the host every 100
    steps, one synchronisation), the optimizer, the EMA, and how to write and resume checkpoints."""

    def __init__(self, model: nn.Module, cfg: TrainConfig, record: dict[str, Any], rank: int) -> None:
        self.model, self.cfg, self.record, self.rank = model, cfg, record, rank
        self.opt = _make_optimizer(cfg, model)
        self.ema = _make_ema(model, cfg.ema_decay)
        self.history: list[float] = []
        self.pending: list[torch.Tensor] = []

    def resume(self, device: torch.device) -> int:
        """Load the checkpoint when resuming (settings compared first); return the step to continue after."""
        path = self.cfg.checkpoint_path
        if not (self.cfg.resume and isinstance(path, Path) and path.is_file()):
            return 0
        ckpt = load_checkpoint(path, map_location=device)
        TrainConfig.check_resumable(ckpt["config"], self.record, path)
        _check_shapes(ckpt["model"], self.model.state_dict(), "model", path)
        _check_optimizer_state(ckpt["optimizer"], self.opt, path)
        if self.ema is not None:
            _check_shapes(ckpt["ema"], self.ema.state_dict(), "ema", path)
        self.model.load_state_dict(ckpt["model"])
        self.opt.load_state_dict(ckpt["optimizer"])
        if self.ema is not None:
            self.ema.load_state_dict(ckpt["ema"])
        self.history = [float(v) for v in ckpt["losses"]]
        if int(ckpt["step"]) > self.cfg.steps:
            raise ValueError(f"{path} is at step {int(ckpt['step'])}, beyond steps={self.cfg.steps}")
        return int(ckpt["step"])

    def step(self, net: nn.Module, loss_fn: LossFn, x: torch.Tensor, generator: torch.Generator,
             step: int) -> torch.Tensor:
        """One optimisation step (number ``step``) on the batch ``x``; returns the detached loss."""
        try:
            value = loss_fn(net, x, generator)
        except ValueError as err:  # weights blown up by the previous step: name the run's settings, not the loss's
            if step > 1 and not all(bool(torch.isfinite(p).all()) for p in self.model.parameters()):
                raise DivergenceError(f"the weights became non-finite at step {step - 1} (lr={self.cfg.lr:g}); "
                                      "lower lr or set grad_clip") from err
            raise
        if not isinstance(value, torch.Tensor) or value.ndim != 0:
            raise TypeError(f"the loss must return a 0-dim tensor, got {getattr(value, 'shape', type(value))}")
        self.opt.zero_grad(set_to_none=True)
        value.backward()
        if self.cfg.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.opt.step()
        if self.ema is not None:
            self.ema.update_parameters(self.model)
        return value.detach()

    def log(self, value: torch.Tensor, step: int, bar: Bar) -> None:
        """Keep the step's loss; every 100 steps, at a checkpoint and at the end, flush (and write)."""
        self.pending.append(value)
        bar.update(1)
        every = self.cfg.checkpoint_every
        if step % 100 == 0 or step == self.cfg.steps or (every is not None and step % every == 0):
            self.flush(step, bar)
        if every is not None and step % every == 0:
            self.checkpoint(step)

    def flush(self, step: int, bar: Bar) -> None:
        """Move the pending losses to the host and stop on a non-finite one."""
        if not self.pending:
            return
        values = torch.stack(self.pending).double().cpu()
        first_step = step - len(self.pending) + 1
        self.pending.clear()
        bad = (~torch.isfinite(values)).nonzero()
        if len(bad):
            raise DivergenceError(
                f"the loss became non-finite ({float(values[bad[0, 0]])}) at step {first_step + int(bad[0, 0])}; "
                "lower lr, set grad_clip, or check the data"
            )
        self.history.extend(values.tolist())
        bar.set_postfix(loss=f"{self.history[-1]:.4g}")

    def checkpoint(self, step: int) -> None:
        if self.cfg.checkpoint_path is None or self.rank != 0:
            return
        write_checkpoint(self.cfg.checkpoint_path, {
            "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "step": step,
            "model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "losses": torch.tensor(self.history, dtype=torch.float64), "config": self.record,
        })


def _mean_over_ranks(value: torch.Tensor, world: int) -> torch.Tensor:
    if world == 1:
        return value
    total = value.clone()
    torch.distributed.all_reduce(total)
    return total / world


def train(
    model: nn.Module, data: Any, loss: str | LossFn, config: TrainConfig | None = None, **settings: Any
) -> TrainResult:
    r"""Train ``model`` by stochastic optimisation of a score-matching loss.

    Args:
        model: the network (an ``nn.Module``); moved to the device and trained in place.
        data: where batches come from: an object with ``sample(n, *, generator, device)`` (e.g. a
            :mod:`scoresde.data` toy) or a tensor of shape ``(N, *event_shape)`` sampled with replacement.
        loss: ``loss_fn(model, x, generator) -> 0-dim tensor`` (free to draw its own noise, probes or times
            from ``generator``), or a name from :data:`LOSS_NAMES` (see :func:`resolve_loss`). A callable may
            carry a ``config`` attribute (plain data: what defines it, e.g. the SDE and its parameters); the
            record stores it and a resumed run must match it.
        config: the run's settings as a :class:`TrainConfig`.
        settings: fields of :class:`TrainConfig` (``steps``, ``batch_size``, ``lr``, ``optimizer``,
            ``weight_decay``, ``loss_kwargs``, ``ema_decay``, ``grad_clip``, ``seed``, ``device``,
            ``checkpoint_path``, ``checkpoint_every``, ``resume``, ``progress``, ``distributed``): they build the
            config (``steps`` is required), or replace fields of ``config``.

    Returns:
        A :class:`TrainResult`.

    Raises:
        DivergenceError: (a ``FloatingPointError``) the loss became NaN or infinite (the message gives the step).
    """
    if config is not None and not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig (or pass its fields by keyword, e.g. steps=...), "
                        f"got {type(config).__name__}")
    cfg = TrainConfig(**settings) if config is None else dataclasses.replace(config, **settings)  # checks again
    _check_model_and_data(model, data)
    is_dist, rank, world = _distributed_state(cfg.distributed)
    dev = _resolve_device(cfg.device, is_dist)
    loss_fn, loss_name = _loss_callable(loss, cfg.loss_kwargs, is_dist)
    if cfg.batch_size % world:
        raise ValueError(f"batch_size={cfg.batch_size} must be divisible by the number of ranks ({world})")
    if isinstance(data, torch.Tensor):
        data = data.to(dev)
    loss_config = None if isinstance(loss, str) else getattr(loss, "config", None)
    record = cfg.record(loss_name, world, model, data, loss_config)
    model.to(dev).train()
    if isinstance(data, torch.Tensor):
        check_module_input(data[:1], model, "data")
    net: nn.Module = model
    if is_dist:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    run = _Run(model, cfg, record, rank)
    start, local = run.resume(dev), cfg.batch_size // world
    show = cfg.progress and rank == 0
    with progress_bar(show, total=cfg.steps, initial=start, desc=f"train {loss_name}") as bar:
        for step in range(start + 1, cfg.steps + 1):
            batch = _draw_batch(data, cfg.batch_size, _generator(dev, _stream_seed(cfg.seed, step, 0)), dev)
            x = batch[rank * local : (rank + 1) * local]
            value = run.step(net, loss_fn, x, _generator(dev, _stream_seed(cfg.seed, step, 1 + rank)), step)
            run.log(_mean_over_ranks(value, world), step, bar)
        run.flush(cfg.steps, bar)
        run.checkpoint(cfg.steps)
    ema_model = run.ema.module if run.ema is not None else None
    return TrainResult(model=model, ema_model=ema_model, losses=run.history, step=cfg.steps, config=record)


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
