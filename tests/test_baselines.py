"""Tests of scoresde.baselines: the per-pixel categorical and the Gaussian bits per dimension.

* The categorical model is checked against an independent count in plain Python, and shown to sit on the footing of
  eq-bits-per-dim: as a piecewise-constant density on [-1, 1]^D (value P_j(k) L/2 on each bin), the bound
  (-log p(x)/D + log(L/2))/log 2 at any dequantised point equals its exact bits per dimension.
* The Gaussian's closed-form expectation over the dequantisation noise is checked against a Monte Carlo average of
  torch's MultivariateNormal log-density over many dequantisation draws (within 5 standard errors), and its moments
  against those of dequantised training images.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch

from scoresde.baselines import gaussian_bpd, pixel_categorical_bpd


def random_levels(n: int, shape: tuple[int, ...], L: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    # a skewed law per pixel, so that the fitted model differs from the uniform one
    u = torch.rand((n, *shape), generator=g)
    return (u.square() * L).long().clamp(max=L - 1)


def test_categorical_matches_an_independent_count():
    L, alpha = 5, 0.5
    train, test = random_levels(40, (2, 3), L, 0), random_levels(7, (2, 3), L, 1)
    tr, te = train.reshape(40, -1).tolist(), test.reshape(7, -1).tolist()
    expected = []
    for row in te:
        bits = 0.0
        for j, k in enumerate(row):
            counts = Counter(r[j] for r in tr)
            bits -= math.log2((counts[k] + alpha) / (len(tr) + alpha * L))
        expected.append(bits / len(row))
    got = pixel_categorical_bpd(train, test, levels=L, alpha=alpha)
    assert got.dtype == torch.float64 and got.shape == (7,)
    torch.testing.assert_close(got, torch.tensor(expected, dtype=torch.float64), rtol=1e-12, atol=1e-12)


def test_categorical_is_the_dequantisation_bound_of_its_piecewise_constant_density():
    L = 17
    train, test = random_levels(200, (1, 4, 4), L, 2), random_levels(5, (1, 4, 4), L, 3)
    bpd = pixel_categorical_bpd(train, test, levels=L)
    # the density p(x) = prod_j P_j(k_j) * (L/2) at a dequantised point x = 2(k+u)/L - 1
    counts = torch.stack([torch.bincount(train.reshape(200, -1)[:, j], minlength=L) for j in range(16)]).double()
    P = (counts + 0.5) / (200 + 0.5 * L)
    log_p = (P.log().gather(1, test.reshape(5, -1).T).sum(0) + 16 * math.log(L / 2))
    bound = (-log_p / 16 + math.log(L / 2)) / math.log(2)
    torch.testing.assert_close(bpd, bound, rtol=1e-12, atol=1e-12)
    # the uniform model (alpha -> infinity) gives log2 L, the offset check of exercise 7.2
    torch.testing.assert_close(pixel_categorical_bpd(train, test, levels=L, alpha=1e12),
                               torch.full((5,), math.log2(L), dtype=torch.float64), rtol=1e-9, atol=1e-9)


def test_gaussian_closed_form_matches_monte_carlo_over_dequantisation():
    L, D = 17, 9
    train, test = random_levels(300, (1, 3, 3), L, 4), random_levels(4, (1, 3, 3), L, 5)
    got = gaussian_bpd(train, test, levels=L)
    # the fitted Gaussian: exact moments of the dequantised training images
    k = train.reshape(300, -1).double()
    mu = 2 * (k.mean(0) + 0.5) / L - 1
    cov = (2 / L) ** 2 * (torch.cov(k.T, correction=0) + torch.eye(D, dtype=torch.float64) / 12)
    mvn = torch.distributions.MultivariateNormal(mu, covariance_matrix=cov)
    g = torch.Generator().manual_seed(6)
    R = 20000
    u = torch.rand((R, 4, D), generator=g, dtype=torch.float64)
    x = 2 * (test.reshape(4, -1).double() + u) / L - 1
    per = (-mvn.log_prob(x) / D + math.log(L / 2)) / math.log(2)        # (R, 4)
    se = per.std(0) / math.sqrt(R)
    assert bool(((per.mean(0) - got).abs() < 5 * se).all()), (per.mean(0), got, se)
    # the moments are those of dequantised training images (Monte Carlo over many dequantisations)
    xd = 2 * (k[None] + torch.rand((200, 300, D), generator=g, dtype=torch.float64)) / L - 1
    torch.testing.assert_close(xd.reshape(-1, D).mean(0), mu, atol=2e-3, rtol=0)
    torch.testing.assert_close(torch.cov(xd.reshape(-1, D).T, correction=0), cov, atol=2e-3, rtol=0)


def test_gaussian_detects_a_wrong_noise_term():
    """An independent computation: the Gaussian's bound is its density at the bin centres plus the noise term
    (2/L)^2/12 tr(Sigma^-1)/(2 D log 2); the term is far above the 1e-10 tolerance, so leaving it out fails."""
    L = 17
    train, test = random_levels(100, (4,), L, 7), random_levels(3, (4,), L, 8)
    got = gaussian_bpd(train, test, levels=L)
    k = train.double()
    cov = (2 / L) ** 2 * (torch.cov(k.T, correction=0) + torch.eye(4, dtype=torch.float64) / 12)
    term = (2 / L) ** 2 / 12 * torch.linalg.inv(cov).trace() / 2 / 4 / math.log(2)
    assert float(term) > 1e-3
    mu = 2 * (k.mean(0) + 0.5) / L - 1
    xbar = 2 * (test.double() + 0.5) / L - 1
    mvn = torch.distributions.MultivariateNormal(mu, covariance_matrix=cov)
    at_centre = (-mvn.log_prob(xbar) / 4 + math.log(L / 2)) / math.log(2)
    torch.testing.assert_close(got, at_centre + term, rtol=1e-10, atol=1e-10)


def test_baselines_on_the_digits_order_as_the_chapter_says():
    from scoresde.data import DIGIT_LEVELS, digits_split

    train, _ = digits_split("train")
    test, _ = digits_split("test")
    cat = float(pixel_categorical_bpd(train, test, DIGIT_LEVELS).mean())
    gauss = float(gaussian_bpd(train, test, DIGIT_LEVELS).mean())
    assert 2.3 < cat < 2.6 and 2.8 < gauss < 3.1 and gauss < math.log2(DIGIT_LEVELS)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"train_levels": torch.zeros(3, 4)}, TypeError, "train_levels must be an integer"),
        ({"test_levels": [[0, 1]]}, TypeError, "test_levels must be an integer"),
        ({"train_levels": torch.full((3, 4), 17)}, ValueError, "train_levels must lie in"),
        ({"test_levels": torch.full((2, 4), -1)}, ValueError, "test_levels must lie in"),
        ({"test_levels": torch.zeros(2, 5, dtype=torch.long)}, ValueError, "same size"),
        ({"train_levels": torch.zeros(0, 4, dtype=torch.long)}, ValueError, "train_levels must have shape"),
        ({"levels": 1}, ValueError, "levels"),
        ({"alpha": 0.0}, ValueError, "alpha"),
    ],
)
def test_bad_input_is_refused_by_name(kwargs, error, match):
    args = {"train_levels": torch.zeros(3, 4, dtype=torch.long), "test_levels": torch.ones(2, 4, dtype=torch.long),
            "levels": 17, "alpha": 0.5} | kwargs
    with pytest.raises(error, match=match):
        pixel_categorical_bpd(**args)
    if "alpha" not in kwargs:
        args.pop("alpha")
        with pytest.raises(error, match=match):
            gaussian_bpd(**args)
