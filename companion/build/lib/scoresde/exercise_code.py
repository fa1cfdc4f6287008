r"""Code exercises: ``check("2.4", my_function)`` runs the student's function on hidden cases and compares it
with a reference, saying which case failed and why, never what the reference returns.

A :class:`CodeExercise` holds the reference function and its :class:`CodeCase`\ s. Each case builds the
arguments from its own seed (shapes, edge cases such as a batch of one row), calls the reference and the
student's function on separate copies (so an in-place edit by one cannot change the other's input), and
compares the results: the type (tensor or number), the shape, finiteness, and the values within
``atol + rtol |reference|``. The verdict of a failed case names it in both languages and gives the reason:
an exception it raised, a wrong type or shape, NaN, values off by a constant factor, or the largest error.

Each case runs under a wall-clock limit (:func:`scoresde._safe_expr.time_limit`: ``SIGALRM``, so Unix and the
main thread, which is where a notebook kernel runs a cell; elsewhere the case runs unbounded). The student's
function runs in the student's own kernel: this is a self-check, not a sandbox.

To make one, pass an entry ``{"kind": "code", "code": CodeExercise(...), ...}`` to
:func:`scoresde.exercises._build_registry` (the answers' file :mod:`scoresde.exercise_answers` holds data only,
so a chapter's code exercises live in a module of references next to it).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ._safe_expr import time_limit

__all__ = ["CodeCase", "CodeExercise", "run_cases"]


@dataclass(frozen=True)
class CodeCase:
    """One hidden case: ``make(generator)`` returns the positional arguments; ``what`` describes it (EN, 中文)."""

    what: tuple[str, str]
    make: Callable[[torch.Generator], tuple[Any, ...]]
    seed: int = 0


@dataclass(frozen=True)
class CodeExercise:
    """A reference function, its hidden cases, tolerances and the time limit of one case (seconds)."""

    reference: Callable[..., Any]
    cases: Sequence[CodeCase]
    rtol: float = 1e-5
    atol: float = 1e-6
    seconds: float = 5.0


def _as_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return torch.tensor(float(value), dtype=torch.float64)
    if hasattr(value, "__array__") and hasattr(value, "shape"):  # NumPy
        return torch.as_tensor(value).detach()
    return None


def _compare(got: Any, want: Any, code: CodeExercise) -> tuple[str, str] | None:
    """Why ``got`` is not ``want`` (EN, 中文), or ``None``; no value of ``want`` is ever named."""
    g, w = _as_tensor(got), _as_tensor(want)
    assert w is not None, "a reference must return a tensor or a number"
    if g is None:
        return (f"returned a {type(got).__name__}, expected a tensor or a number",
                f"回傳了 {type(got).__name__}，應該回傳張量或數")
    if tuple(g.shape) != tuple(w.shape):
        return (f"wrong shape: got {tuple(g.shape)}, expected {tuple(w.shape)}",
                f"形狀不對：得到 {tuple(g.shape)}，應為 {tuple(w.shape)}")
    if g.is_complex() or not (g.is_floating_point() or g.dtype in (torch.int32, torch.int64)):
        return f"returned dtype {g.dtype}, expected real numbers", f"回傳的 dtype 是 {g.dtype}，應為實數"
    g, w = g.to(torch.float64).cpu(), w.to(torch.float64).cpu()
    if not bool(torch.isfinite(g).all()):
        return "returned NaN or infinite values", "回傳了 NaN 或無窮大的值"
    err = (g - w).abs()
    if bool((err <= code.atol + code.rtol * w.abs()).all()):
        return None
    nonzero = w.abs() > code.atol
    if bool(nonzero.any()):
        ratio = g[nonzero] / w[nonzero]
        if bool(((ratio - ratio[0]).abs() <= 1e-6 * ratio[0].abs()).all()) and bool(
                (g[~nonzero].abs() <= code.atol).all()):
            return "values off by a constant factor", "數值差了一個常數倍"
    rel = float((err / (w.abs() + code.atol)).max())
    return (f"wrong values (largest relative error {rel:.2g})", f"數值不對（最大相對誤差 {rel:.2g}）")


def run_cases(code: CodeExercise, function: Callable[..., Any]) -> tuple[int, str]:
    """Run ``function`` on every hidden case; return (number of cases passed before the first failure,
    the bilingual reason of that failure or ``""``)."""
    n = len(code.cases)
    for k, case in enumerate(code.cases, start=1):
        args = case.make(torch.Generator().manual_seed(case.seed))
        want = code.reference(*copy.deepcopy(args))
        head = f"Case {k} of {n} ({case.what[0]}) · 第 {k} 個測試（共 {n} 個；{case.what[1]}）"
        try:
            with time_limit(code.seconds):
                got = function(*copy.deepcopy(args))
        except TimeoutError:
            return k - 1, f"{head}: took longer than {code.seconds:g} s · 執行超過 {code.seconds:g} 秒"
        except Exception as err:  # the student's own exception, reported by type and first line
            first = str(err).splitlines()[0][:200] if str(err) else ""
            return k - 1, f"{head}: raised {type(err).__name__}: {first} · 拋出 {type(err).__name__}"
        why = _compare(got, want, code)
        if why is not None:
            return k - 1, f"{head}: {why[0]} · {why[1]}"
    return n, ""
