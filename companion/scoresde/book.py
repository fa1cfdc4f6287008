"""The checks the book's notebooks run: sympy identities and Monte Carlo estimates that assert and print a verdict.

Every chapter opens with ``log = CheckLog()`` and checks a step with ``log.sympy(label, difference)`` (the
difference must simplify to zero) or ``log.mc(label, estimate, exact, tol)`` (``|estimate - exact| <= tol``).
Both raise ``AssertionError`` when the step is wrong, so a notebook that runs is a notebook whose checks hold;
``log.counts`` tells how many of each kind a chapter has.

Printed numbers are portable: a Monte Carlo estimate is printed only to the leading digit of its standard error
(:func:`format_estimate`), so last-bit floating-point differences between CPUs do not change the printed text.
The assertion, not the printed digits, carries the check.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

import torch

from ._checks import check_callable, check_finite, check_positive_int, check_tensor

__all__ = [
    "CheckLog",
    "format_estimate",
    "round_guarded",
    "se5",
    "gaussian_expectation",
    "rademacher_expectation",
    "ks_distance",
    "loglog_slope",
    "MAX_RADEMACHER_SYMBOLS",
    "MAX_GAUSSIAN_SYMBOLS",
]

#: :func:`rademacher_expectation` averages over all :math:`2^d` sign vectors: at most this many symbols
#: (about a million substitutions), so a call always ends in seconds.
MAX_RADEMACHER_SYMBOLS = 20
#: :func:`gaussian_expectation` takes at most this many variables.
MAX_GAUSSIAN_SYMBOLS = 64


def _number(x: Any, name: str) -> float:
    """``float(x)`` for a finite real number (Python, NumPy, sympy, or a one-element tensor), else raise; a string
    is refused, never parsed."""
    if isinstance(x, (str, bytes, bool)):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    if isinstance(x, torch.Tensor) and x.numel() != 1:
        raise ValueError(f"{name} must be one number, got a tensor of shape {tuple(x.shape)}")
    try:
        value = float(x)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def _label(label: Any) -> str:
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}")
    return label


def _sympy_expr(expr: Any, name: str) -> Any:
    """``expr`` if it is a sympy expression or matrix (a real number becomes a sympy number), else raise
    ``TypeError``: a string is never handed to ``sympify``, which would evaluate it as Python code."""
    import sympy as sp

    if isinstance(expr, (sp.Basic, sp.MatrixBase)):
        return expr
    if isinstance(expr, Real) and not isinstance(expr, bool):
        return sp.sympify(expr)  # a number: sympy's converter for numbers, no parsing
    hint = ("; build it from sympy symbols (sympy strings are evaluated as Python code, so they are refused)"
            if isinstance(expr, str) else "")
    raise TypeError(f"{name} must be a sympy expression (or a number), got {type(expr).__name__}{hint}")


def _symbols(vs: Any, name: str, limit: int) -> list[Any]:
    """``vs`` (a sequence or matrix of sympy symbols, at most ``limit`` of them) as a list, else raise."""
    import sympy as sp

    if isinstance(vs, (str, bytes)) or not isinstance(vs, (Sequence, sp.MatrixBase)):
        raise TypeError(f"{name} must be a sequence of sympy symbols, got {type(vs).__name__}")
    symbols = list(vs)
    for v in symbols:
        if not isinstance(v, sp.Symbol):
            raise TypeError(f"each entry of {name} must be a sympy Symbol, got {type(v).__name__}")
    if len(symbols) != len(set(symbols)):
        raise ValueError(f"{name} repeats a symbol: {symbols}")
    if len(symbols) > limit:
        raise ValueError(f"{name} has {len(symbols)} symbols; at most {limit} are allowed (the work grows "
                         f"{'as 2^d' if limit == MAX_RADEMACHER_SYMBOLS else 'with d'})")
    return symbols


def format_estimate(estimate: float, tol: float) -> str:
    """``estimate`` rounded to the leading digit of its standard error, taken as ``tol / 5`` (the notebooks'
    tolerances are 5 standard errors): the digits beyond it are noise, and may differ between CPUs.

    >>> format_estimate(-0.001656, 0.0049)   # SE ~ 0.001: three decimals
    '-0.002'
    >>> format_estimate(99.8123, 6.9)        # SE ~ 1.4: units
    '100'
    >>> format_estimate(1234.5, 150.0)       # SE = 30: tens
    '1230'
    """
    estimate, tol = _number(estimate, "estimate"), _number(tol, "tol")
    if tol <= 0:
        raise ValueError(f"tol must be a positive finite number, got {tol}")
    se = float(f"{tol / 5:.0e}")  # the standard error to one significant digit (0.00098 -> 0.001)
    if se < 1e-300:
        raise ValueError(f"tol = {tol:g} is too small to give a standard error to round to (at least 1e-299)")
    place = math.floor(math.log10(se))  # 10**place: the place of its leading digit
    if place >= 0:
        text = f"{round(estimate, -place):.0f}"
    else:
        text = f"{estimate:.{min(-place, 12)}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.000"


def round_guarded(x: float, decimals: int, guard: float) -> str:
    """``x`` to ``decimals`` decimals, refusing (``AssertionError``) when ``x`` lies within ``guard`` of a rounding
    boundary: a number that another CPU's last bits, or a solver's tolerance, could round the other way fails when
    the notebook is executed, not on a reader's machine.

    >>> round_guarded(3.5601, 1, 0.002)
    '3.6'

    Raises:
        ValueError: ``x`` not finite or too large to round at ``decimals``; ``decimals`` outside ``0..15``; ``guard``
            not in ``(0, 0.5 * 10**-decimals)`` (a guard of 0 or less would switch the check off, a larger one
            refuses every number).
    """
    x = _number(x, "x")
    decimals = check_positive_int(decimals, "decimals", minimum=0)
    if decimals > 15:
        raise ValueError(f"decimals must be <= 15 (a float64 holds about 16 digits), got {decimals}")
    guard = _number(guard, "guard")
    if not 0 < guard < 0.5 * 10.0**-decimals:
        raise ValueError(f"guard must be in (0, {0.5 * 10.0**-decimals:g}) for decimals={decimals}, got {guard:g}")
    if abs(x) * 10**decimals >= 2**52:
        raise ValueError(f"x = {x:g} is too large to round at {decimals} decimals (a float64 has no digits there)")
    scaled = x * 10**decimals
    distance = abs(scaled - math.floor(scaled) - 0.5) / 10**decimals  # to the nearest half-way point
    assert distance > guard, f"{x} is within {guard} of a rounding boundary at {decimals} decimals"
    text = f"{x:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


class CheckLog:
    """Counts and prints the checks of one chapter (no module-level state: one log per notebook)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {"sympy": 0, "monte carlo": 0}

    def sympy(self, label: str, difference: Any) -> None:
        """Assert that a sympy expression (or matrix) simplifies to zero; count it and print ``ok``."""
        import sympy as sp

        label = _label(label)
        difference = _sympy_expr(difference, "difference")

        def is_zero(e: Any) -> bool:
            return bool(e.is_zero_matrix) if isinstance(e, sp.MatrixBase) else e == 0

        d = sp.expand(difference)
        if not is_zero(d):
            d = sp.simplify(d)
        assert is_zero(d), f"{label}: {d}"
        self.counts["sympy"] += 1
        print(f"sympy  {label:<62} ok")

    def mc(self, label: str, estimate: Any, exact: Any, tol: float) -> None:
        """Assert ``|estimate - exact| <= tol`` for a Monte Carlo estimate; count it and print a verdict
        with the estimate (and the exact value beside it) rounded to what ``tol`` supports (:func:`format_estimate`)."""
        label = _label(label)
        estimate, exact, tol = _number(estimate, "estimate"), _number(exact, "exact"), _number(tol, "tol")
        if tol <= 0:
            raise ValueError(f"{label}: tol must be > 0, got {tol}")
        assert abs(estimate - exact) <= tol, f"{label}: {estimate} vs {exact}, tolerance {tol}"
        self.counts["monte carlo"] += 1
        est, ref = format_estimate(estimate, tol), format_estimate(exact, tol)
        print(f"MC  {label:<40} {est:>10} vs {ref:<9} tol {tol:.2g}  ok")

    def summary(self) -> str:
        """One line with the counts, e.g. ``sympy checks: 24,  Monte Carlo checks: 32``."""
        return f"sympy checks: {self.counts['sympy']},  Monte Carlo checks: {self.counts['monte carlo']}"


def se5(samples: torch.Tensor) -> float:
    """Five estimated standard errors of the mean of i.i.d. samples, :math:`5\\,\\hat s/\\sqrt n`."""
    if not isinstance(samples, torch.Tensor):
        raise TypeError(f"samples must be a torch.Tensor, got {type(samples).__name__}")
    samples = check_finite(samples.detach().reshape(-1), "samples")
    if samples.numel() < 2:
        raise ValueError(f"se5 needs at least 2 samples, got {samples.numel()}")
    return 5 * float(samples.double().std()) / math.sqrt(samples.numel())


def gaussian_expectation(expr: Any, zs: Sequence[Any]) -> Any:
    """:math:`\\mathbb E[\\text{expr}]` for a polynomial in independent :math:`N(0,1)` variables ``zs``,
    monomial by monomial from :math:`\\mathbb E[Z^m] = (m-1)!!` (``m`` even) and ``0`` (``m`` odd)."""
    import sympy as sp

    expr = _sympy_expr(expr, "expr")
    zs = _symbols(zs, "zs", MAX_GAUSSIAN_SYMBOLS)
    if not zs:
        return sp.expand(expr)
    poly = sp.Poly(sp.expand(expr), *zs)

    def moment(m: int) -> Any:
        return sp.factorial2(m - 1) if m % 2 == 0 else 0

    return sp.expand(sum(c * sp.prod([moment(m) for m in mono]) for mono, c in poly.terms()))


def rademacher_expectation(expr: Any, vs: Sequence[Any]) -> Any:
    """:math:`\\mathbb E[\\text{expr}]` for ``v`` uniform on :math:`\\{-1,+1\\}^d`: the exact average over
    all :math:`2^d` sign vectors (:math:`d \\le` :data:`MAX_RADEMACHER_SYMBOLS`)."""
    import sympy as sp

    expr = _sympy_expr(expr, "expr")
    vs = _symbols(vs, "vs", MAX_RADEMACHER_SYMBOLS)
    signs = itertools.product([-1, 1], repeat=len(vs))
    return sp.expand(sum(expr.subs(dict(zip(vs, s)), simultaneous=True) for s in signs) / 2 ** len(vs))


def ks_distance(samples: torch.Tensor, cdf: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """Kolmogorov–Smirnov distance :math:`\\sup_x |F_N(x) - F(x)|` of 1-D samples to a distribution function."""
    check_tensor(samples, "samples", floating=False)
    check_callable(cdf, "cdf")
    x, _ = torch.sort(samples.detach().reshape(-1).double())
    if x.numel() == 0:
        raise ValueError("samples must not be empty")
    F = cdf(x)
    if not isinstance(F, torch.Tensor) or F.shape != x.shape:
        raise TypeError(f"cdf must return a tensor shaped like its input {tuple(x.shape)}, "
                        f"got {getattr(F, 'shape', type(F).__name__)}")
    F = check_finite(F.double(), "the output of cdf")
    if bool(((F < 0) | (F > 1)).any()) or bool((F.diff() < 0).any()):
        raise ValueError("the output of cdf must be a distribution function: values in [0, 1], non-decreasing")
    i = torch.arange(1, x.numel() + 1, dtype=x.dtype)
    return float(torch.maximum(i / x.numel() - F, F - (i - 1) / x.numel()).max())


def loglog_slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of :math:`\\log y` against :math:`\\log x` (an order of convergence)."""
    x = [_number(v, "each entry of xs") for v in xs]
    y = [_number(v, "each entry of ys") for v in ys]
    if len(x) < 2 or len(x) != len(y):
        raise ValueError("loglog_slope needs two sequences xs, ys of the same length >= 2")
    if min(x) <= 0 or min(y) <= 0:
        raise ValueError("loglog_slope needs positive xs and ys (their logarithms are fitted)")
    if len(set(x)) < 2:
        raise ValueError(f"xs must hold at least two different values (a slope needs a spread), got {x}")
    lx = torch.tensor(x, dtype=torch.float64).log()
    ly = torch.tensor(y, dtype=torch.float64).log()
    lx, ly = lx - lx.mean(), ly - ly.mean()
    return float((lx * ly).sum() / lx.square().sum())
