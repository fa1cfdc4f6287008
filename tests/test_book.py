"""Tests of scoresde.book, the checks the notebooks run: each check must fail on a wrong step, and the printed
digits follow the tolerance (so that another CPU's last-bit differences do not change the printed text)."""

from __future__ import annotations

import math

import pytest
import sympy as sp
import torch

from scoresde.book import (
    CheckLog,
    format_estimate,
    gaussian_expectation,
    ks_distance,
    loglog_slope,
    rademacher_expectation,
    se5,
)


@pytest.mark.parametrize(
    "estimate, tol, text",
    [
        (-0.001656, 0.0049, "-0.0017"),
        (99.8123, 6.9, "99.8"),
        (0.002716, 0.013, "0.003"),
        (1.1344, 0.0053, "1.1344"),
        (0.4778, 0.15, "0.48"),
        (1234.5, 150.0, "1234"),  # 0 decimals at most: integers stay integers
        (-0.0001, 0.013, "0.000"),  # never "-0.000"
    ],
)
def test_format_estimate_keeps_only_the_digits_the_tolerance_supports(estimate, tol, text):
    assert format_estimate(estimate, tol) == text


def test_format_estimate_is_stable_under_last_bit_perturbations():
    # a perturbation of 1e-12 relative (another CPU's rounding) leaves the printed text unchanged
    rng = torch.Generator().manual_seed(0)
    values = torch.rand(2000, generator=rng, dtype=torch.float64)
    same = sum(format_estimate(v, 0.013) == format_estimate(v * (1 + 1e-12), 0.013) for v in values.tolist())
    assert same >= 1990


@pytest.mark.parametrize("estimate, tol", [(float("nan"), 0.1), (1.0, 0.0), (1.0, -1.0), (1.0, float("inf"))])
def test_format_estimate_refuses_bad_numbers(estimate, tol):
    with pytest.raises(ValueError):
        format_estimate(estimate, tol)


def test_checklog_counts_and_prints(capsys):
    log = CheckLog()
    x = sp.Symbol("x")
    log.sympy("(x+1)^2 expands", (x + 1) ** 2 - (x**2 + 2 * x + 1))
    log.sympy("a zero matrix", sp.Matrix([[x - x, 0]]))
    log.mc("a mean", 0.5012, 0.5, 0.01)
    assert log.counts == {"sympy": 2, "monte carlo": 1}
    out = capsys.readouterr().out
    assert "MC  a mean" in out and "0.501 vs 0.500" in out and out.count("ok") == 3
    assert log.summary() == "sympy checks: 2,  Monte Carlo checks: 1"


def test_checklog_fails_on_a_wrong_step():
    log = CheckLog()
    x = sp.Symbol("x")
    with pytest.raises(AssertionError, match="wrong expansion"):
        log.sympy("wrong expansion", (x + 1) ** 2 - (x**2 + 1))
    with pytest.raises(AssertionError, match="wrong matrix"):
        log.sympy("wrong matrix", sp.Matrix([[x, 0]]))
    with pytest.raises(AssertionError, match="a mean"):
        log.mc("a mean", 0.52, 0.5, 0.01)
    assert log.counts == {"sympy": 0, "monte carlo": 0}  # failed checks are not counted


def test_two_logs_share_no_state():
    a, b = CheckLog(), CheckLog()
    a.mc("x", 1.0, 1.0, 0.1)
    assert b.counts["monte carlo"] == 0


def test_se5_is_five_standard_errors():
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert se5(x) == pytest.approx(5 * float(x.double().std()) / 2)
    with pytest.raises(ValueError, match="at least 2"):
        se5(torch.tensor([1.0]))


def test_gaussian_and_rademacher_expectations():
    z1, z2 = sp.symbols("z1 z2")
    assert gaussian_expectation(z1**4 + z1 * z2 + z2**2, [z1, z2]) == 4  # 3 + 0 + 1
    assert gaussian_expectation(z1**6, [z1, z2]) == 15
    assert rademacher_expectation(z1**4 + z1 * z2 + z2**2, [z1, z2]) == 2  # 1 + 0 + 1
    # the mutation that treats a Rademacher variable as Gaussian would be caught
    assert rademacher_expectation(z1**4, [z1, z2]) != gaussian_expectation(z1**4, [z1, z2])


def test_ks_distance_small_for_the_right_law_large_for_a_wrong_one():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(20_000, generator=g, dtype=torch.float64)
    right = ks_distance(x, torch.special.ndtr)
    wrong = ks_distance(x, lambda u: torch.special.ndtr(u / 1.2))
    dkw = math.sqrt(math.log(2 / 1e-6) / (2 * x.numel()))
    assert right < dkw < wrong
    with pytest.raises(ValueError, match="empty"):
        ks_distance(torch.empty(0), torch.special.ndtr)


def test_loglog_slope_recovers_a_power():
    xs = [2.0**-k for k in range(2, 9)]
    assert loglog_slope(xs, [3 * h**0.5 for h in xs]) == pytest.approx(0.5)
    assert loglog_slope(xs, [h**-1.5 for h in xs]) == pytest.approx(-1.5)
    with pytest.raises(ValueError, match="same length"):
        loglog_slope([1.0, 2.0], [1.0])
