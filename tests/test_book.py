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
    round_guarded,
    gaussian_expectation,
    ks_distance,
    loglog_slope,
    rademacher_expectation,
    se5,
)


@pytest.mark.parametrize(
    "estimate, tol, text",
    [
        (-0.001656, 0.0049, "-0.002"),  # SE ~ 0.001 is not printed to 1e-4
        (99.8123, 6.9, "100"),
        (0.002716, 0.013, "0.003"),
        (1.1344, 0.0053, "1.134"),
        (0.4778, 0.15, "0.48"),
        (1234.5, 150.0, "1230"),  # SE = 30: tens, not units
        (-0.0001, 0.013, "0.000"),  # never "-0.000"
    ],
)
def test_format_estimate_prints_to_the_leading_digit_of_the_standard_error(estimate, tol, text):
    assert format_estimate(estimate, tol) == text


@pytest.mark.parametrize("tol", [0.0049, 0.013, 0.15, 6.9, 150.0])
def test_no_printed_digit_is_finer_than_the_standard_error(tol):
    se = tol / 5
    text = format_estimate(1.23456789 * 10 ** math.floor(math.log10(se) + 2), tol)
    step = 10.0 ** -len(text.split(".")[1]) if "." in text else 10.0 ** (len(text) - len(text.rstrip("0")))
    assert step >= 10 ** math.floor(math.log10(se)) * 0.999  # the last printed digit is the SE's leading digit


def test_format_estimate_is_stable_under_perturbations_well_below_the_standard_error():
    # perturbations of tol/1000 (far larger than another CPU's rounding) flip the text for < 2% of values
    rng = torch.Generator().manual_seed(0)
    values = torch.rand(4000, generator=rng, dtype=torch.float64)
    tol = 0.013
    flips = sum(format_estimate(v, tol) != format_estimate(v + tol / 1000, tol) for v in values.tolist())
    assert flips < 0.02 * len(values)


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


def test_round_guarded_rounds_far_from_boundaries_and_refuses_near_them():
    assert round_guarded(3.5601, 1, 0.002) == "3.6"
    assert round_guarded(-0.01, 1, 0.002) == "0.0"
    with pytest.raises(AssertionError, match="rounding boundary"):
        round_guarded(3.5505, 1, 0.002)  # 0.0005 from 3.55: another CPU could print 3.5
    with pytest.raises(AssertionError, match="rounding boundary"):
        round_guarded(0.8151, 2, 0.0005)
    with pytest.raises(ValueError):
        round_guarded(float("nan"), 1, 0.01)
