"""Argument validation shared by every public function of :mod:`scoresde`.

One place, so that every function fails the same clear way: a ``TypeError`` when an argument has the
wrong kind (not a tensor, an integer dtype, a non-callable), a ``ValueError`` when it has the right kind
but a bad value (shape, NaN/inf, a parameter out of range, tensors on different devices).
Nothing here computes anything the course teaches; it only refuses input that would give a silent
wrong answer.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "DivergenceError",
    "MAX_STEPS",
    "check_steps",
    "check_time",
    "check_same_shape_dtype",
    "check_noise_level",
    "check_module_input",
    "check_writable_file",
    "check_tensor",
    "check_finite",
    "check_same_device",
    "check_generator",
    "check_bool",
    "check_optional_bool",
    "check_real",
    "check_float_dtype",
    "check_eps",
    "draw_device",
    "as_column",
    "check_shape",
    "check_positive_int",
    "check_positive_float",
    "check_choice",
    "check_callable",
    "check_output_like",
    "nbytes",
    "check_fits_memory",
    "check_seed",
    "check_time_between",
    "check_nondegenerate_probes",
    "check_distinct_paths",
    "check_outside",
    "check_snr",
]


class DivergenceError(FloatingPointError, ValueError):
    """A computation produced NaN or infinite values (a step too large, a score that blew up).

    The one exception type every solver, sampler and trainer of :mod:`scoresde` raises on divergence; it is
    a ``FloatingPointError`` and, for code written against older versions, a ``ValueError``.
    """


#: Default bound on the number of steps of a solver, Brownian grid or sampler, read at each call: override it
#: with the ``max_steps=`` argument (``solve``, ``BrownianPath.sample``, ``langevin``, ``annealed_langevin``), or
#: by setting ``scoresde._checks.MAX_STEPS`` (the reverse-time samplers, ``BrownianPath.refine``).
MAX_STEPS = 10_000_000


def check_steps(n: int, name: str, max_steps: int | None = None) -> int:
    """Refuse ``n`` steps beyond ``max_steps`` (default :data:`MAX_STEPS`): work and memory stay bounded."""
    limit = MAX_STEPS if max_steps is None else check_positive_int(max_steps, "max_steps")
    if n > limit:
        raise ValueError(f"{name} = {n} steps exceeds max_steps = {limit}; use fewer steps, or raise the limit "
                         f"(max_steps={n} where the function takes it, else scoresde._checks.MAX_STEPS)")
    return n


def check_noise_level(sigma: float, dtype: torch.dtype, name: str = "sigma") -> float:
    """Refuse a noise level so small that ``1/sigma**2`` (and a loss built on it) overflows ``dtype``."""
    smallest = float(torch.finfo(dtype).max) ** -0.25
    if sigma < smallest:
        raise ValueError(f"{name} = {sigma:g} is below {smallest:.2g}, the smallest noise level whose 1/{name}^2 "
                         f"leaves room for a finite loss in {dtype}")
    return sigma


def check_tensor(
    x: Any,
    name: str,
    *,
    min_dim: int | None = None,
    ndim: int | None = None,
    floating: bool = True,
    finite: bool = True,
) -> torch.Tensor:
    """Return ``x`` if it is a tensor with the required rank and dtype, else raise.

    Args:
        x: the candidate tensor.
        name: the argument's name, used in the message.
        min_dim: smallest allowed ``x.ndim`` (e.g. 2 for a batch ``(batch, *event_shape)``).
        ndim: exact ``x.ndim`` required.
        floating: require a floating-point dtype (float16/bfloat16/float32/float64).
        finite: reject NaN and infinite entries.

    Raises:
        TypeError: ``x`` is not a ``torch.Tensor`` or has a non-floating dtype when one is required.
        ValueError: wrong rank, or NaN/inf entries.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.device.type == "meta":
        raise ValueError(f"{name} is on the meta device (a shape without data); move it to 'cpu' or 'cuda'")
    if floating and not torch.is_floating_point(x):
        raise TypeError(f"{name} must have a floating-point dtype, got {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if min_dim is not None and x.ndim < min_dim:
        raise ValueError(
            f"{name} must have at least {min_dim} dimensions (batch, *event_shape), "
            f"got shape {tuple(x.shape)}"
        )
    if (min_dim is not None or (ndim is not None and ndim >= 2)) and x.ndim >= 1 and x.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {tuple(x.shape)}); pass at least one sample")
    if finite:
        check_finite(x, name)
    return x


def check_finite(x: torch.Tensor, name: str) -> torch.Tensor:
    """Raise ``ValueError`` if ``x`` holds NaN or infinite entries (``x`` must be a tensor)."""
    if torch.is_floating_point(x) or torch.is_complex(x):
        bad = ~torch.isfinite(x)
        if bool(bad.any()):
            n_nan = int(torch.isnan(x).sum())
            n_inf = int(bad.sum()) - n_nan
            raise ValueError(f"{name} contains non-finite values ({n_nan} NaN, {n_inf} inf)")
    return x


def check_same_device(*named: tuple[str, torch.Tensor]) -> torch.device:
    """Return the common device of the named tensors, or raise ``ValueError`` naming the mismatch."""
    if not named:
        raise ValueError("check_same_device needs at least one tensor")
    first_name, first = named[0]
    for other_name, other in named[1:]:
        if other.device != first.device:
            raise ValueError(
                f"{other_name} is on {other.device} but {first_name} is on {first.device}; "
                "move them to the same device"
            )
    return first.device


def check_generator(generator: Any, device: torch.device, name: str = "generator") -> None:
    """Check that ``generator`` is ``None`` or a ``torch.Generator`` on ``device``'s type."""
    if generator is None:
        return
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator or None, got {type(generator).__name__}")
    if torch.device(generator.device).type != torch.device(device).type:
        raise ValueError(
            f"{name} lives on {generator.device} but the tensors are on {device}; "
            f"create it with torch.Generator(device={str(device)!r})"
        )


def check_bool(flag: Any, name: str) -> bool:
    """Return ``flag`` if it is a ``bool`` (not merely truthy), else raise ``TypeError``."""
    if not isinstance(flag, bool):
        raise TypeError(f"{name} must be a bool, got {type(flag).__name__}")
    return flag


def check_optional_bool(flag: Any, name: str) -> bool | None:
    """Return ``flag`` if it is a ``bool`` or ``None``, else raise ``TypeError``."""
    if flag is not None and not isinstance(flag, bool):
        raise TypeError(f"{name} must be a bool or None, got {type(flag).__name__}")
    return flag


def check_float_dtype(dtype: Any, name: str = "dtype") -> torch.dtype:
    """Return ``dtype`` if it is a floating ``torch.dtype`` (float16/32/64, bfloat16), else raise ``TypeError``."""
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"{name} must be a floating torch.dtype, got {dtype}")
    return dtype


def draw_device(
    generator: torch.Generator | None,
    device: torch.device | str | None,
    dtype: torch.dtype,
    *,
    default: torch.device | None = None,
) -> torch.device:
    """The device to draw random numbers on, after checking ``dtype`` and that the generator agrees.

    ``device`` when given, else the generator's, else ``default``, else the CPU.
    """
    check_float_dtype(dtype)
    if device is None:
        if isinstance(generator, torch.Generator):
            device = generator.device
        else:
            device = default if default is not None else torch.device("cpu")
    device = torch.device(device)
    check_generator(generator, device)
    return device


def as_column(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A per-sample vector ``(batch,)`` viewed as ``(batch, 1, ..., 1)`` to broadcast against ``like``."""
    return v.reshape(-1, *([1] * (like.ndim - 1)))


def check_shape(shape: Any, name: str = "shape", *, dtype: torch.dtype | None = None,
                device: torch.device | str | None = None) -> tuple[int, ...]:
    """Return ``shape`` as a tuple if it is a non-empty tuple/list/``torch.Size`` of positive ints, else raise;
    with ``dtype``, also refuse a tensor of that shape that cannot fit in ``device``'s memory
    (:func:`check_fits_memory`), before anything is allocated."""
    if isinstance(shape, int) or not isinstance(shape, (tuple, list, torch.Size)):
        raise TypeError(f"{name} must be a tuple of ints, got {type(shape).__name__}")
    shape = tuple(shape)
    if len(shape) == 0:
        raise ValueError(f"{name} must have at least one dimension (batch, *event_shape)")
    for s in shape:
        check_positive_int(s, f"each entry of {name}")
    if dtype is not None:
        check_fits_memory(nbytes(shape, dtype), f"{name} {shape} of {dtype}", device)
    return shape


def check_positive_int(n: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``int(n)`` if ``n`` is an integer (not a bool) and ``n >= minimum``, else raise."""
    if isinstance(n, bool) or not isinstance(n, Integral):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}")
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n}")
    return int(n)


def check_real(x: Any, name: str) -> float:
    """Return ``float(x)`` if ``x`` is a finite real number (not a bool; a one-element floating tensor counts)."""
    if isinstance(x, bool) or not isinstance(x, Real):
        if isinstance(x, torch.Tensor) and x.numel() == 1 and torch.is_floating_point(x):
            x = float(x)
        else:
            raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    value = float(x)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_positive_float(x: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``float(x)`` if ``x`` is a finite real number > 0 (or >= 0 with ``allow_zero``)."""
    value = check_real(x, name)
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def check_eps(eps: Any, T: float, name: str = "eps") -> float:
    """Return ``float(eps)`` if it lies in the open interval :math:`(0, T)` (the smallest time a sampler, a
    likelihood or a time-weighted loss reaches), else raise."""
    eps = check_positive_float(eps, name)
    if eps >= T:
        raise ValueError(f"{name} must be in (0, T) = (0, {T:g}), got {eps}")
    return eps


def check_choice(value: Any, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices`` (strings), else raise ``ValueError`` listing them."""
    options: Sequence[str] = tuple(choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {options}, got {type(value).__name__}")
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}; expected one of {options}")
    return value


def check_callable(f: Any, name: str) -> Callable[..., Any]:
    """Return ``f`` if it is callable, else raise ``TypeError``."""
    if not callable(f):
        raise TypeError(f"{name} must be callable, got {type(f).__name__}")
    return f


def check_output_like(
    out: Any, x: torch.Tensor, what: str, *, finite: bool = True, same_dtype: bool = False
) -> torch.Tensor:
    """Check that a user function's output ``out`` is a tensor shaped, placed and typed like ``x``.

    Used for score functions and vector fields ``f: R^d -> R^d`` whose output must match the input.
    ``same_dtype`` also requires ``x``'s dtype (where a promotion would silently change the state's dtype).
    """
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"{what} must return a torch.Tensor, got {type(out).__name__}")
    if out.shape != x.shape:
        raise ValueError(
            f"{what} must return a tensor of the input's shape {tuple(x.shape)}, got {tuple(out.shape)}"
        )
    if out.device != x.device:
        raise ValueError(f"{what} returned a tensor on {out.device} for an input on {x.device}")
    if not torch.is_floating_point(out):
        raise TypeError(f"{what} must return a floating-point tensor, got {out.dtype}")
    if same_dtype and out.dtype != x.dtype:
        raise TypeError(f"{what} returned dtype {out.dtype} for an input of dtype {x.dtype}; return x's dtype")
    if finite:
        check_finite(out, f"the output of {what}")
    return out


def check_time(t: Any, name: str = "t", *, minimum: float = 0.0) -> Any:
    """Return ``t`` (a real number or a floating tensor) if every entry is finite and ``>= minimum``, else raise.

    A negative time would give the square root of a negative variance (NaN) in a closed-form marginal.
    """
    if isinstance(t, torch.Tensor):
        if not (torch.is_floating_point(t) or t.dtype in (torch.int32, torch.int64)):
            raise TypeError(f"{name} must be a real number or a real tensor, got dtype {t.dtype}")
        check_finite(t, name)
        if t.numel() and bool((t < minimum).any()):
            raise ValueError(f"{name} must be >= {minimum:g}, got min {float(t.min()):g}")
        return t
    if isinstance(t, bool) or not isinstance(t, Real):
        raise TypeError(f"{name} must be a real number or a tensor, got {type(t).__name__}")
    if not math.isfinite(float(t)):
        raise ValueError(f"{name} must be finite, got {float(t)}")
    if float(t) < minimum:
        raise ValueError(f"{name} must be >= {minimum:g}, got {float(t):g}")
    return t


def check_same_shape_dtype(out: torch.Tensor, x: torch.Tensor, what: str) -> torch.Tensor:
    """Cheap (no device sync) check that ``out`` has ``x``'s shape and dtype: a drift that changes shape or
    dtype mid-solve would otherwise be broadcast or promoted silently."""
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(out).__name__}")
    if out.shape != x.shape:
        raise ValueError(f"{what} has shape {tuple(out.shape)}, expected the input's shape {tuple(x.shape)}")
    if out.dtype != x.dtype:
        raise TypeError(f"{what} has dtype {out.dtype}, expected the input's dtype {x.dtype}")
    return out


def check_module_input(x: torch.Tensor, module: torch.nn.Module, name: str = "x") -> torch.Tensor:
    """Refuse ``x`` whose dtype or device differs from ``module``'s parameters (torch's own error is a matmul
    message that names neither); a module without parameters accepts anything."""
    p = next(module.parameters(), None)
    if p is None:
        return x
    if x.dtype != p.dtype:
        raise TypeError(f"{name} has dtype {x.dtype} but {type(module).__name__}'s parameters are {p.dtype}; "
                        f"convert one of them (e.g. {name}.to({p.dtype}) or model.to({x.dtype}))")
    if x.device != p.device:
        raise ValueError(f"{name} is on {x.device} but {type(module).__name__} is on {p.device}; move one of them")
    return x


def check_writable_file(path: Any, name: str) -> Path:
    """``path`` as a ``Path`` whose nearest existing parent is a writable directory (created later), else raise."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(path).__name__}")
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"{name} {str(target)!r} is a directory; give a file name")
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{name} {str(target)!r}: {str(parent)!r} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{name} {str(target)!r}: the directory {str(parent)!r} is not writable")
    return target


# ---- sizes, seeds, times, probes and paths (issue 31) ------------------------------------------------------


def nbytes(shape: Sequence[int], dtype: torch.dtype) -> int:
    """The bytes of a tensor of ``shape`` and ``dtype`` (exact integer arithmetic: no overflow)."""
    return math.prod(int(s) for s in shape) * torch.empty((), dtype=dtype).element_size()


def _memory_of(device: torch.device | str | None) -> int:
    """The total memory of ``device`` in bytes: physical RAM for the CPU, the card's memory for CUDA."""
    dev = torch.device("cpu" if device is None else device)
    if dev.type == "cuda" and torch.cuda.is_available():
        return int(torch.cuda.get_device_properties(dev.index or 0).total_memory)
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # no sysconf (Windows): assume a large workstation
        return 1 << 40


def _size_text(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} PB"


def check_fits_memory(n_bytes: int, what: str, device: torch.device | str | None = None) -> int:
    """Refuse, before allocating, ``n_bytes`` for ``what`` when they exceed the total memory of ``device``
    (RAM for the CPU, the card's memory for CUDA); the message gives the estimate."""
    total = _memory_of(device)
    if n_bytes > total:
        where = "cpu" if device is None else str(device)
        raise ValueError(f"{what} needs about {_size_text(n_bytes)}, more than the {_size_text(total)} of memory "
                         f"on {where}; use a smaller size")
    return n_bytes


def check_seed(seed: Any, name: str = "seed") -> int:
    """Return ``seed`` if it is an int in ``[0, 2**63)`` (what ``torch.Generator.manual_seed`` takes), else raise."""
    seed = check_positive_int(seed, name, minimum=0)
    if seed >= 2**63:
        raise ValueError(f"{name} must be below 2**63 (a torch.Generator seed), got {seed}")
    return seed


def check_time_between(t: Any, low: float, high: float, name: str = "t") -> Any:
    """:func:`check_time` and ``t <= high`` (up to ``1e-6`` relative rounding): a time on the SDE's interval.

    A floating tensor inside the interval is accepted fast (a solver's predictor calls this on every step): one
    time expanded over the batch (stride 0, as :func:`~scoresde.solvers.solve` passes it) is read once, any other
    tensor takes one fused comparison; only a failing ``t`` takes the slower path that names what is wrong (NaN
    fails every comparison)."""
    top = high + 1e-6 * max(1.0, abs(high))
    if isinstance(t, torch.Tensor) and torch.is_floating_point(t) and t.numel():
        if t.ndim == 1 and t.stride(0) == 0:  # every entry is the one element t[0]
            if low <= t[0].item() <= top:
                return t
        elif bool(((t >= low) & (t <= top)).all()):
            return t
    check_time(t, name, minimum=low)
    if isinstance(t, torch.Tensor):
        biggest = float(t.max()) if t.numel() else low
    else:
        biggest = float(t)
    if biggest > top:
        raise ValueError(f"{name} must lie in [{low:g}, {high:g}] (the SDE's time interval), got {biggest:g}")
    return t


def check_nondegenerate_probes(probes: torch.Tensor, name: str = "probes") -> torch.Tensor:
    """Refuse probes ``(M, batch, *event)`` in which some probe is the zero vector for some row: it adds
    :math:`v^\top A v = 0` to the average whatever :math:`A` is, a silent bias (Hutchinson needs
    :math:`\\mathbb E[vv^\top] = I`, which no zero probe can contribute to)."""
    if probes.ndim >= 2 and probes.numel():
        zero = probes.reshape(probes.shape[0], probes.shape[1], -1).abs().amax(-1) == 0
        if bool(zero.any()):
            m, row = (int(i) for i in zero.nonzero()[0])
            raise ValueError(f"{name}[{m}, {row}] is the zero vector ({int(zero.sum())} of {zero.numel()} probe "
                             "vectors are zero); a zero probe contributes 0 to every trace estimate, so the "
                             "average is biased: pass probes with E[v v^T] = I (Rademacher or Gaussian)")
    return probes


def _resolved(path: Any) -> str:
    return os.path.realpath(os.fspath(path))  # absolute, symlinks followed (also for a file not yet there)


def check_distinct_paths(inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
    """Refuse an output that would overwrite an input, or another output, of the same command.

    ``inputs`` and ``outputs`` map an argument's name (``"--checkpoint"``) to a path or ``None`` (not given);
    paths are compared resolved, symlinks followed."""
    seen: dict[str, str] = {_resolved(p): flag for flag, p in inputs.items() if p is not None}
    for flag, p in outputs.items():
        if p is None:
            continue
        key = _resolved(p)
        if key in seen:
            raise ValueError(f"{flag} {os.fspath(p)!r} is the same file as {seen[key]}; writing it would destroy "
                             f"{seen[key]}: choose another file name")
        seen[key] = flag


def check_outside(path: Any, folder: Any, name: str, why: str) -> None:
    """Refuse a path that resolves (symlinks followed) into ``folder``."""
    if path is None:
        return
    target, root = Path(_resolved(path)), Path(_resolved(folder))
    if target == root or root in target.parents:
        raise ValueError(f"{name} {os.fspath(path)!r} lies in {root}: {why}")


def check_snr(snr: Any, name: str = "snr") -> float:
    """Return the predictor-corrector's signal-to-noise ratio if it lies in ``(0, 1]``. The Langevin step grows as
    ``snr**2`` (book: eq-pc-snr); score_sde uses 0.01 to 0.17, and above 1 the corrector's step exceeds the
    noise-matched one so far that the chain leaves the data's scale."""
    value = check_positive_float(snr, name)
    if value > 1:
        raise ValueError(f"{name} = {value:g} is above 1: the corrector's steps (which grow as {name}^2) would throw "
                         "the samples off the data's scale; use 0.01 to 0.2")
    return value
