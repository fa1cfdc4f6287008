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
from typing import Any

import torch

__all__ = [
    "CheckLog",
    "format_estimate",
    "round_guarded",
    "se5",
    "gaussian_expectation",
    "rademacher_expectation",
    "ks_distance",
    "loglog_slope",
]


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
    estimate, tol = float(estimate), float(tol)
    if not math.isfinite(estimate):
        raise ValueError(f"estimate must be finite, got {estimate}")
    if not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive finite number, got {tol}")
    se = float(f"{tol / 5:.0e}")  # the standard error to one significant digit (0.00098 -> 0.001)
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
    """
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"x must be finite, got {x}")
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
        estimate, exact, tol = float(estimate), float(exact), float(tol)
        assert abs(estimate - exact) <= tol, f"{label}: {estimate} vs {exact}, tolerance {tol}"
        self.counts["monte carlo"] += 1
        est, ref = format_estimate(estimate, tol), format_estimate(exact, tol)
        print(f"MC  {label:<40} {est:>10} vs {ref:<9} tol {tol:.2g}  ok")

    def summary(self) -> str:
        """One line with the counts, e.g. ``sympy checks: 24,  Monte Carlo checks: 32``."""
        return f"sympy checks: {self.counts['sympy']},  Monte Carlo checks: {self.counts['monte carlo']}"


def se5(samples: torch.Tensor) -> float:
    """Five estimated standard errors of the mean of i.i.d. samples, :math:`5\\,\\hat s/\\sqrt n`."""
    samples = samples.detach().reshape(-1)
    if samples.numel() < 2:
        raise ValueError(f"se5 needs at least 2 samples, got {samples.numel()}")
    return 5 * float(samples.double().std()) / math.sqrt(samples.numel())


def gaussian_expectation(expr: Any, zs: Sequence[Any]) -> Any:
    """:math:`\\mathbb E[\\text{expr}]` for a polynomial in independent :math:`N(0,1)` variables ``zs``,
    monomial by monomial from :math:`\\mathbb E[Z^m] = (m-1)!!` (``m`` even) and ``0`` (``m`` odd)."""
    import sympy as sp

    poly = sp.Poly(sp.expand(expr), *zs)

    def moment(m: int) -> Any:
        return sp.factorial2(m - 1) if m % 2 == 0 else 0

    return sp.expand(sum(c * sp.prod([moment(m) for m in mono]) for mono, c in poly.terms()))


def rademacher_expectation(expr: Any, vs: Sequence[Any]) -> Any:
    """:math:`\\mathbb E[\\text{expr}]` for ``v`` uniform on :math:`\\{-1,+1\\}^d`: the exact average over
    all :math:`2^d` sign vectors."""
    import sympy as sp

    signs = itertools.product([-1, 1], repeat=len(vs))
    return sp.expand(sum(expr.subs(dict(zip(vs, s)), simultaneous=True) for s in signs) / 2 ** len(vs))


def ks_distance(samples: torch.Tensor, cdf: Callable[[torch.Tensor], torch.Tensor]) -> float:
    """Kolmogorov–Smirnov distance :math:`\\sup_x |F_N(x) - F(x)|` of 1-D samples to a distribution function."""
    x, _ = torch.sort(samples.detach().reshape(-1).double())
    if x.numel() == 0:
        raise ValueError("samples must not be empty")
    F = cdf(x)
    i = torch.arange(1, x.numel() + 1, dtype=x.dtype)
    return float(torch.maximum(i / x.numel() - F, F - (i - 1) / x.numel()).max())


def loglog_slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of :math:`\\log y` against :math:`\\log x` (an order of convergence)."""
    lx = torch.tensor(list(xs), dtype=torch.float64).log()
    ly = torch.tensor(list(ys), dtype=torch.float64).log()
    if lx.numel() < 2 or lx.numel() != ly.numel():
        raise ValueError("loglog_slope needs two sequences of the same length >= 2")
    lx, ly = lx - lx.mean(), ly - ly.mean()
    return float((lx * ly).sum() / lx.square().sum())
