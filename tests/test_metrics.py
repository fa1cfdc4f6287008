"""Tests of scoresde.metrics: energy distance and MMD against closed forms, and the permutation test's null.

Closed forms used (Gaussian samples):
* E|Z| for Z ~ N(m, s^2) (1-D) is s*sqrt(2/pi)*exp(-m^2/(2 s^2)) + m*(1 - 2*Phi(-m/s)), so the energy distance
  between N(0,1) and N(mu,1) is 2*E|N(-mu,2)| - 2*E|N(0,2)|.
* For X ~ N(a, s^2 I_d), Y ~ N(b, s^2 I_d) and k(x,y) = exp(-|x-y|^2/(2h^2)),
  E k(X,Y) = (h^2/(h^2+2s^2))^(d/2) * exp(-|a-b|^2/(2(h^2+2s^2))).
The estimators are unbiased U-statistics; each Monte Carlo check averages R independent replicates and accepts
within 5 standard errors of that average (estimated from the replicates themselves).
"""

from __future__ import annotations

import math

import pytest
import torch

from scoresde.metrics import (
    PermutationResult,
    energy_distance,
    median_bandwidth,
    mmd2,
    pairwise_distances,
    permutation_test,
)


def abs_normal_mean(m: float, s: float) -> float:
    return s * math.sqrt(2 / math.pi) * math.exp(-m * m / (2 * s * s)) + m * (1 - 2 * 0.5 * math.erfc(m / (s * math.sqrt(2))))


def gauss_kernel_mean(a: torch.Tensor, b: torch.Tensor, s: float, h: float) -> float:
    d = a.numel()
    return (h * h / (h * h + 2 * s * s)) ** (d / 2) * math.exp(-float((a - b).square().sum()) / (2 * (h * h + 2 * s * s)))


def within(values: list[float], target: float, z: float = 5.0) -> None:
    v = torch.tensor(values, dtype=torch.float64)
    se = float(v.std()) / math.sqrt(len(values))
    assert abs(float(v.mean()) - target) < z * se, (float(v.mean()), target, se)


def test_pairwise_distances_match_cdist_and_blocks():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(300, 3, generator=g, dtype=torch.float64), torch.randn(200, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(pairwise_distances(x, y), torch.cdist(x, y))
    img = torch.randn(5, 2, 2, 2, generator=g, dtype=torch.float64)
    torch.testing.assert_close(pairwise_distances(img, img), torch.cdist(img.reshape(5, -1), img.reshape(5, -1)))


def test_energy_distance_is_unbiased_for_gaussians():
    mu = 0.7
    target = 2 * abs_normal_mean(-mu, math.sqrt(2)) - 2 * abs_normal_mean(0.0, math.sqrt(2))
    g = torch.Generator().manual_seed(1)
    values = []
    for _ in range(60):
        x = torch.randn(80, 1, generator=g, dtype=torch.float64)
        y = mu + torch.randn(60, 1, generator=g, dtype=torch.float64)
        values.append(energy_distance(x, y))
    within(values, target)
    assert target > 0.1  # the check has power: a biased (V-statistic) estimate would shift by ~ E|X-X'|/n


def test_mmd2_is_unbiased_for_gaussians():
    a, b, s, h = torch.zeros(2), torch.tensor([0.5, -0.3]), 1.0, 1.3
    target = gauss_kernel_mean(a, a, s, h) * 2 - 2 * gauss_kernel_mean(a, b, s, h)
    g = torch.Generator().manual_seed(2)
    values = []
    for _ in range(60):
        x = torch.randn(70, 2, generator=g, dtype=torch.float64) * s + a
        y = torch.randn(90, 2, generator=g, dtype=torch.float64) * s + b
        values.append(mmd2(x, y, bandwidth=h))
    within(values, target)


def test_same_distribution_has_mean_zero_and_the_statistics_are_symmetric():
    g = torch.Generator().manual_seed(3)
    e, m = [], []
    for _ in range(40):
        x, y = torch.randn(50, 2, generator=g, dtype=torch.float64), torch.randn(50, 2, generator=g, dtype=torch.float64)
        e.append(energy_distance(x, y))
        m.append(mmd2(x, y, bandwidth=1.0))
        assert energy_distance(x, y) == pytest.approx(energy_distance(y, x), abs=1e-12)
    within(e, 0.0)
    within(m, 0.0)


def test_median_bandwidth():
    x = torch.tensor([[0.0], [1.0]])
    y = torch.tensor([[3.0], [4.0]])
    # pooled distances: 1,3,4,2,3,1 -> median of {1,1,2,3,3,4} = 2 (torch.median takes the lower middle)
    assert median_bandwidth(x, y) == pytest.approx(2.0)
    g = torch.Generator().manual_seed(4)
    x = torch.randn(100, 2, generator=g, dtype=torch.float64)
    y = torch.randn(100, 2, generator=g, dtype=torch.float64) + 1
    assert mmd2(x, y) == pytest.approx(mmd2(x, y, bandwidth=median_bandwidth(x, y)))


@pytest.mark.parametrize("statistic", ["energy", "mmd"])
def test_permutation_test_has_level_alpha_under_the_null(statistic):
    """Under P = Q the p-value is (super-)uniform: at most ~alpha of the runs reject.

    100 runs at alpha = 0.1: the number of rejections is Binomial(100, <= 0.1); P(>= 21) < 0.001.
    """
    g = torch.Generator().manual_seed(5)
    rejections = 0
    pvals = []
    for _ in range(100):
        x, y = torch.randn(30, 2, generator=g), torch.randn(40, 2, generator=g)
        r = permutation_test(x, y, statistic, n_permutations=99, alpha=0.1, generator=g)
        rejections += r.reject
        pvals.append(r.p_value)
    assert rejections <= 20
    # and not a test that never rejects: the p-values spread over (0, 1] (mean 0.5 +- 5 * 0.29/sqrt(100))
    assert abs(sum(pvals) / len(pvals) - 0.5) < 0.15


@pytest.mark.parametrize("statistic", ["energy", "mmd"])
def test_permutation_test_detects_a_shift_and_a_scale_change(statistic):
    g = torch.Generator().manual_seed(6)
    x = torch.randn(300, 2, generator=g)
    shifted = permutation_test(x, torch.randn(300, 2, generator=g) + 0.4, statistic, generator=g)
    assert shifted.reject and shifted.p_value == pytest.approx(1 / 201) and shifted.statistic > shifted.threshold
    scaled = permutation_test(x, 1.5 * torch.randn(300, 2, generator=g), statistic, generator=g)
    assert scaled.reject
    same = permutation_test(x, torch.randn(300, 2, generator=g), statistic, generator=g)
    assert isinstance(same, PermutationResult) and same.n_permutations == 200 and same.alpha == 0.05
    assert same.threshold > 0


def test_permutation_test_is_reproducible_and_matches_the_statistic():
    g = torch.Generator().manual_seed(7)
    x, y = torch.randn(100, 2, generator=g), torch.randn(120, 2, generator=g) + 0.2
    a = permutation_test(x, y, generator=torch.Generator().manual_seed(1))
    b = permutation_test(x, y, generator=torch.Generator().manual_seed(1))
    assert a == b
    assert a.statistic == pytest.approx(energy_distance(x, y), rel=1e-5)
    m = permutation_test(x, y, "mmd", bandwidth=0.8, generator=torch.Generator().manual_seed(1))
    assert m.statistic == pytest.approx(mmd2(x, y, bandwidth=0.8), rel=1e-5)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: energy_distance([[0.0]], torch.ones(3, 1)), TypeError, "torch.Tensor"),
        (lambda: energy_distance(torch.ones(3, 1, dtype=torch.int64), torch.ones(3, 1)), TypeError, "floating"),
        (lambda: energy_distance(torch.ones(3), torch.ones(3)), ValueError, "at least 2 dimensions"),
        (lambda: energy_distance(torch.ones(3, 2), torch.ones(3, 3)), ValueError, "same shape"),
        (lambda: energy_distance(torch.ones(3, 2, dtype=torch.float32), torch.ones(3, 2, dtype=torch.float64)), TypeError, "same dtype"),
        (lambda: energy_distance(torch.ones(1, 2), torch.ones(3, 2)), ValueError, "at least 2 points"),
        (lambda: energy_distance(torch.tensor([[0.0], [float("nan")]]), torch.ones(3, 1)), ValueError, "non-finite"),
        (lambda: mmd2(torch.randn(3, 2), torch.randn(3, 2), bandwidth=0.0), ValueError, "> 0"),
        (lambda: mmd2(torch.ones(3, 2), torch.ones(3, 2)), ValueError, "coincide"),
        (lambda: permutation_test(torch.randn(3, 2), torch.randn(3, 2), "ks"), ValueError, "unknown statistic"),
        (lambda: permutation_test(torch.randn(3, 2), torch.randn(3, 2), n_permutations=0), ValueError, ">= 1"),
        (lambda: permutation_test(torch.randn(3, 2), torch.randn(3, 2), alpha=1.0), ValueError, r"\(0, 1\)"),
        (lambda: permutation_test(torch.randn(3, 2), torch.randn(3, 2), n_permutations=99, alpha=0.005), ValueError,
         "could never reject"),
        (lambda: permutation_test(torch.randn(3, 2), torch.randn(3, 2), bandwidth=1.0), ValueError, "only used"),
        (lambda: permutation_test(torch.randn(3, 2), torch.randn(3, 2), generator=1), TypeError, "Generator"),
        (lambda: pairwise_distances(torch.ones(3, 2), torch.ones(3, 4)), ValueError, "same size"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.gpu
def test_cuda_matches_cpu_and_rejects_mixed_devices():
    g = torch.Generator().manual_seed(8)
    x, y = torch.randn(200, 2, generator=g), torch.randn(150, 2, generator=g) + 0.3
    assert energy_distance(x.cuda(), y.cuda()) == pytest.approx(energy_distance(x, y), rel=1e-4)
    assert mmd2(x.cuda(), y.cuda(), 1.0) == pytest.approx(mmd2(x, y, 1.0), rel=1e-4)
    r = permutation_test(x.cuda(), y.cuda(), generator=torch.Generator("cuda").manual_seed(0))
    assert r.reject
    with pytest.raises(ValueError, match="device"):
        energy_distance(x.cuda(), y)
    with pytest.raises(ValueError, match="device"):
        permutation_test(x.cuda(), y.cuda(), generator=torch.Generator().manual_seed(0))
