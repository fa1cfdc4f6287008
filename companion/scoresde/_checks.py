"""Argument validation shared by every public function of :mod:`scoresde`.

One place, so that every function fails the same clear way: a ``TypeError`` when an argument has the
wrong kind (not a tensor, an integer dtype, a non-callable), a ``ValueError`` when it has the right kind
but a bad value (shape, NaN/inf, a parameter out of range, tensors on different devices).
Nothing here computes anything the course teaches; it only refuses input that would give a silent
wrong answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from numbers import Integral, Real
from typing import Any

import torch

__all__ = [
    "check_tensor",
    "check_finite",
    "check_same_device",
    "check_generator",
    "check_bool",
    "check_shape",
    "check_positive_int",
    "check_positive_float",
    "check_choice",
    "check_callable",
    "check_output_like",
]


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
    if floating and not torch.is_floating_point(x):
        raise TypeError(f"{name} must have a floating-point dtype, got {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if min_dim is not None and x.ndim < min_dim:
        raise ValueError(
            f"{name} must have at least {min_dim} dimensions (batch, *event_shape), "
            f"got shape {tuple(x.shape)}"
        )
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


def check_shape(shape: Any, name: str = "shape") -> tuple[int, ...]:
    """Return ``shape`` as a tuple if it is a non-empty tuple/list/``torch.Size`` of positive ints, else raise."""
    if isinstance(shape, int) or not isinstance(shape, (tuple, list, torch.Size)):
        raise TypeError(f"{name} must be a tuple of ints, got {type(shape).__name__}")
    shape = tuple(shape)
    if len(shape) == 0:
        raise ValueError(f"{name} must have at least one dimension (batch, *event_shape)")
    for s in shape:
        check_positive_int(s, f"each entry of {name}")
    return shape


def check_positive_int(n: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``int(n)`` if ``n`` is an integer (not a bool) and ``n >= minimum``, else raise."""
    if isinstance(n, bool) or not isinstance(n, Integral):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}")
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n}")
    return int(n)


def check_positive_float(x: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``float(x)`` if ``x`` is a finite real number > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(x, bool) or not isinstance(x, Real):
        if isinstance(x, torch.Tensor) and x.numel() == 1 and torch.is_floating_point(x):
            x = float(x)
        else:
            raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    value = float(x)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


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


def check_output_like(out: Any, x: torch.Tensor, what: str, *, finite: bool = True) -> torch.Tensor:
    """Check that a user function's output ``out`` is a tensor shaped, placed and typed like ``x``.

    Used for score functions and vector fields ``f: R^d -> R^d`` whose output must match the input.
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
    if finite:
        check_finite(out, f"the output of {what}")
    return out
