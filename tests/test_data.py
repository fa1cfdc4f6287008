"""Tests of scoresde.data: the toy distributions, their samplers, and the mixture's exact score.

Monte Carlo tolerances: a sample mean of N draws is accepted within 5 standard errors (sd/sqrt(N)); a
5-sigma miss has probability < 1e-6 under the hypothesis tested, and the seeds are fixed anyway.
"""

from __future__ import annotations

import math

import pytest
import torch

from scoresde.data import (
    TOY_NAMES,
    Checkerboard,
    GaussianMixture,
    SwissRoll,
    TwoMoons,
    eight_gaussians,
    make_toy,
    three_gaussians,
)


def mixture_3d() -> GaussianMixture:
    return GaussianMixture([[0.0, 1.0, -1.0], [2.0, 0.0, 0.5]], [0.7, 1.3], [0.3, 0.7])


@pytest.mark.parametrize("gmm", [three_gaussians(), eight_gaussians(), mixture_3d()], ids=["three", "ring", "3d"])
def test_score_is_gradient_of_log_prob(gmm):
    """eq-gmm-score: the closed form equals autograd's gradient of the closed-form log-density."""
    g = torch.Generator().manual_seed(0)
    x = 3 * torch.randn(50, gmm.dim, generator=g, dtype=torch.float64)
    xg = x.clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(gmm.log_prob(xg).sum(), xg)
    torch.testing.assert_close(gmm.score(x), auto, rtol=1e-10, atol=1e-10)


def test_single_gaussian_log_prob_and_score_closed_form():
    gmm = GaussianMixture([[1.0, -2.0]], 0.5)
    x = torch.tensor([[0.0, 0.0], [1.0, -2.0], [3.0, 1.0]], dtype=torch.float64)
    ref = -math.log(2 * math.pi * 0.25) - ((x - torch.tensor([1.0, -2.0], dtype=torch.float64)) ** 2).sum(1) / 0.5
    torch.testing.assert_close(gmm.log_prob(x), ref)
    torch.testing.assert_close(gmm.score(x), -(x - torch.tensor([1.0, -2.0], dtype=torch.float64)) / 0.25)


def test_log_prob_integrates_to_one():
    """Riemann sum on a fine grid over [-8, 8]^2 (the tails outside carry < 1e-12)."""
    gmm = three_gaussians()
    t = torch.linspace(-8, 8, 801, dtype=torch.float64)
    xx, yy = torch.meshgrid(t, t, indexing="ij")
    pts = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)
    h = float(t[1] - t[0])
    total = float(gmm.log_prob(pts).exp().sum()) * h * h
    assert abs(total - 1) < 1e-6


def test_responsibilities_are_posterior_probabilities():
    gmm = three_gaussians()
    x = 2 * torch.randn(100, 2, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
    r = gmm.responsibilities(x)
    torch.testing.assert_close(r.sum(1), torch.ones(100, dtype=torch.float64))
    comp = torch.stack([GaussianMixture(gmm.means[k:k + 1], gmm.stds[k:k + 1]).log_prob(x) for k in range(3)], 1)
    ref = gmm.weights * comp.exp() / gmm.log_prob(x).exp()[:, None]
    torch.testing.assert_close(r, ref)


def test_float32_score_agrees_with_float64():
    gmm = eight_gaussians()
    x = 2 * torch.randn(200, 2, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(gmm.score(x), gmm.score(x.double()).float(), rtol=1e-4, atol=1e-4)
    assert gmm.score(x).dtype == torch.float32


@pytest.mark.parametrize("gmm", [three_gaussians(), mixture_3d()], ids=["three", "3d"])
def test_sample_moments(gmm):
    n = 100_000
    x = gmm.sample(n, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert x.shape == (n, gmm.dim)
    cov = gmm.covariance()
    se = (torch.diagonal(cov) / n).sqrt()
    assert bool(((x.mean(0) - gmm.mean()).abs() < 5 * se).all())
    # sample covariance: each entry within 5 standard errors, sd of x_i x_j bounded by sqrt(E[x_i^2 x_j^2])
    xc = x - x.mean(0)
    emp = xc.T @ xc / n
    sd = ((xc[:, :, None] * xc[:, None, :]) ** 2).mean(0).sqrt() / math.sqrt(n)
    assert bool(((emp - cov).abs() < 5 * sd).all())


def test_component_weights_in_samples():
    gmm = GaussianMixture([[-10.0, 0.0], [10.0, 0.0]], 0.5, [0.8, 0.2])
    n = 20_000
    frac = float((gmm.sample(n, generator=torch.Generator().manual_seed(3))[:, 0] > 0).float().mean())
    assert abs(frac - 0.2) < 5 * math.sqrt(0.2 * 0.8 / n)


def test_noised_mixture():
    gmm = three_gaussians()
    noisy = gmm.noised(0.5)
    torch.testing.assert_close(noisy.stds, (gmm.stds**2 + 0.25).sqrt())
    torch.testing.assert_close(noisy.covariance(), gmm.covariance() + 0.25 * torch.eye(2, dtype=torch.float64))
    torch.testing.assert_close(gmm.noised(0.0).stds, gmm.stds)
    # the noised law is the law of x + sigma z: compare a histogram-free statistic, E[log p_sigma]
    g = torch.Generator().manual_seed(4)
    x = gmm.sample(50_000, generator=g, dtype=torch.float64)
    y = x + 0.5 * torch.randn(x.shape, generator=g, dtype=torch.float64)
    z = noisy.sample(50_000, generator=g, dtype=torch.float64)
    a, b = noisy.log_prob(y), noisy.log_prob(z)
    se = math.sqrt(float(a.var()) / len(a) + float(b.var()) / len(b))
    assert abs(float(a.mean() - b.mean())) < 5 * se


def test_eight_gaussians_geometry():
    ring = eight_gaussians(radius=3.0, std=0.1)
    assert ring.n_components == 8
    torch.testing.assert_close(ring.means.norm(dim=1), torch.full((8,), 3.0, dtype=torch.float64))
    torch.testing.assert_close(ring.weights, torch.full((8,), 0.125, dtype=torch.float64))
    x = ring.sample(1000, generator=torch.Generator().manual_seed(5))
    assert float((x.norm(dim=1) - 3).abs().max()) < 0.1 * 6  # within 6 std of the circle


def test_two_moons_lie_on_two_unit_half_circles():
    x = TwoMoons(noise=0.0, scale=1.0).sample(2000, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    p = x + torch.tensor([0.5, 0.25], dtype=torch.float64)
    upper = (p.norm(dim=1) - 1).abs() < 1e-9
    lower = ((p - torch.tensor([1.0, 0.5], dtype=torch.float64)).norm(dim=1) - 1).abs() < 1e-9
    assert bool((upper | lower).all())
    assert 0.4 < float(upper.double().mean()) < 0.6  # 2000 fair coin flips: sd 0.011
    assert bool((p[upper, 1] >= -1e-12).all()) and bool((p[lower, 1] <= 0.5 + 1e-12).all())


def test_swiss_roll_radius_range():
    x = SwissRoll(noise=0.0).sample(2000, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    r = x.norm(dim=1)
    assert float(r.min()) >= 1.5 * math.pi / 5 - 1e-9 and float(r.max()) <= 4.5 * math.pi / 5 + 1e-9


def test_checkerboard_samples_fill_the_dark_squares_evenly():
    board = Checkerboard(scale=1.5)
    n = 40_000
    x = board.sample(n, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    lp = board.log_prob(x)
    assert bool(torch.isfinite(lp).all())
    torch.testing.assert_close(lp, torch.full_like(lp, -math.log(8 * 1.5**2)))
    cells = torch.floor(x / 1.5 + 2).long()
    idx = cells[:, 0] * 4 + cells[:, 1]
    counts = torch.bincount(idx, minlength=16).double() / n
    dark = counts[counts > 0]
    assert len(dark) == 8
    assert float((dark - 0.125).abs().max()) < 5 * math.sqrt(0.125 * 0.875 / n)
    light = torch.tensor([[0.5 * 1.5, -0.5 * 1.5], [9.0, 0.0]], dtype=torch.float64)
    assert bool(torch.isinf(board.log_prob(light)).all())


@pytest.mark.parametrize("name", TOY_NAMES)
def test_every_toy_is_seedable(name):
    toy = make_toy(name)
    a = toy.sample(64, generator=torch.Generator().manual_seed(9))
    b = toy.sample(64, generator=torch.Generator().manual_seed(9))
    c = toy.sample(64, generator=torch.Generator().manual_seed(10))
    assert a.shape == (64, 2) and a.dtype == torch.float32
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    assert toy.sample(3, dtype=torch.float64).dtype == torch.float64
    assert name.split("_")[0] in repr(toy).lower() or "mixture" in repr(toy).lower()


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: make_toy("spiral"), ValueError, "unknown toy distribution"),
        (lambda: GaussianMixture([1.0, 2.0], 1.0), ValueError, "2 dimensions"),
        (lambda: GaussianMixture([[0.0, 0.0]], -1.0), ValueError, "> 0"),
        (lambda: GaussianMixture([[0.0, 0.0], [1.0, 1.0]], [1.0]), ValueError, "2 positive"),
        (lambda: GaussianMixture([[0.0, 0.0], [1.0, 1.0]], 1.0, [0.5, -0.5]), ValueError, "positive"),
        (lambda: GaussianMixture([[0.0, float("nan")]], 1.0), ValueError, "non-finite"),
        (lambda: three_gaussians().sample(0), ValueError, ">= 1"),
        (lambda: three_gaussians().sample(2.0), TypeError, "int"),
        (lambda: three_gaussians().sample(2, dtype=torch.int64), TypeError, "floating"),
        (lambda: three_gaussians().sample(2, generator=1), TypeError, "Generator"),
        (lambda: three_gaussians().score(torch.ones(4, 3)), ValueError, r"\(batch, 2\)"),
        (lambda: three_gaussians().score(torch.ones(4)), ValueError, "2 dimensions"),
        (lambda: three_gaussians().log_prob(torch.tensor([[0.0, float("inf")]])), ValueError, "non-finite"),
        (lambda: three_gaussians().score(torch.ones(2, 2, dtype=torch.int32)), TypeError, "floating"),
        (lambda: three_gaussians().noised(-0.1), ValueError, ">= 0"),
        (lambda: eight_gaussians(radius=0.0), ValueError, "> 0"),
        (lambda: TwoMoons(noise=-1.0), ValueError, ">= 0"),
        (lambda: Checkerboard(scale=float("inf")), ValueError, "finite"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.gpu
def test_cuda_sampling_and_score():
    gmm = three_gaussians()
    x = gmm.sample(128, generator=torch.Generator("cuda").manual_seed(0))
    assert x.device.type == "cuda"
    torch.testing.assert_close(gmm.score(x).cpu(), gmm.score(x.cpu()), rtol=1e-5, atol=1e-5)
    for name in TOY_NAMES:
        assert make_toy(name).sample(16, device="cuda").device.type == "cuda"
    with pytest.raises(ValueError, match="device"):
        gmm.sample(4, generator=torch.Generator().manual_seed(0), device="cuda")


# ---- the 8x8 digits (chapter 7) -----------------------------------------------------------------------------

from scoresde.data import DIGIT_LEVELS, Digits, digits_split, digits_to_unit  # noqa: E402


def test_digits_split_is_seeded_disjoint_and_complete():
    tr, ytr = digits_split("train")
    te, yte = digits_split("test")
    al, yal = digits_split("all")
    assert tr.shape == (1438, 1, 8, 8) and te.shape == (359, 1, 8, 8) and al.shape == (1797, 1, 8, 8)
    assert tr.dtype == torch.int64 and int(al.min()) == 0 and int(al.max()) == DIGIT_LEVELS - 1
    assert set(ytr.tolist()) == set(range(10)) and set(yte.tolist()) == set(range(10))
    # the two splits together are the whole set: compare sorted flattened images with labels
    key = lambda imgs, ys: sorted(map(tuple, torch.cat([imgs.reshape(len(ys), -1), ys[:, None]], 1).tolist()))  # noqa: E731
    assert key(torch.cat([tr, te]), torch.cat([ytr, yte])) == key(al, yal)
    tr2, _ = digits_split("train")
    tr3, _ = digits_split("train", seed=1)
    assert torch.equal(tr, tr2) and not torch.equal(tr, tr3)
    assert digits_split("test", test_fraction=0.5)[0].shape[0] == 898  # round(0.5 * 1797)


def test_digits_to_unit_scaling_and_dequantisation_stay_in_their_bins():
    k = torch.arange(DIGIT_LEVELS).repeat(200)
    x = digits_to_unit(k)
    assert float(x.min()) == -1.0 and float(x.max()) == 1.0
    xd = digits_to_unit(k, dequantize=True, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    lo, hi = 2 * k / DIGIT_LEVELS - 1, 2 * (k + 1) / DIGIT_LEVELS - 1
    assert bool(((xd >= lo) & (xd < hi)).all())
    u = (xd + 1) * DIGIT_LEVELS / 2 - k  # the uniform noise: mean 1/2, variance 1/12 (5 SE)
    assert abs(float(u.mean()) - 0.5) < 5 * math.sqrt(1 / 12 / u.numel())
    mutated = digits_to_unit(k + 1 - (k == DIGIT_LEVELS - 1).long(), dequantize=True,
                             generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert not bool(((mutated >= lo) & (mutated < hi)).all())  # the bin check catches shifted levels


def test_digits_sampler_shapes_seed_and_fresh_noise():
    data = Digits("train")
    a = data.sample(16, generator=torch.Generator().manual_seed(3))
    b = data.sample(16, generator=torch.Generator().manual_seed(3))
    assert a.shape == (16, 1, 8, 8) and a.dtype == torch.float32
    torch.testing.assert_close(a, b)
    assert bool((a >= -1).all() and (a < 1).all())
    plain = Digits("test", dequantize=False).sample(500, generator=torch.Generator().manual_seed(4))
    levels = (plain + 1) * (DIGIT_LEVELS - 1) / 2
    torch.testing.assert_close(levels, levels.round())  # exactly the 17 grey levels
    assert "train" in repr(data) and "1438" in repr(data)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: digits_split("valid"), ValueError, "unknown split"),
        (lambda: digits_split("train", test_fraction=1.0), ValueError, r"\(0, 1\)"),
        (lambda: digits_split("train", test_fraction=0.0), ValueError, "> 0"),
        (lambda: digits_split("train", seed=-1), ValueError, ">= 0"),
        (lambda: digits_split("train", seed=1.5), TypeError, "int"),
        (lambda: digits_to_unit(torch.ones(3)), TypeError, "integer"),
        (lambda: digits_to_unit([1, 2]), TypeError, "integer"),
        (lambda: digits_to_unit(torch.tensor([17])), ValueError, "0 … 16"),
        (lambda: digits_to_unit(torch.tensor([-1])), ValueError, "0 … 16"),
        (lambda: digits_to_unit(torch.tensor([1]), dequantize=1), TypeError, "bool"),
        (lambda: digits_to_unit(torch.tensor([1]), dtype=torch.int32), TypeError, "floating"),
        (lambda: Digits("train", dequantize="yes"), TypeError, "bool"),
        (lambda: Digits("train").sample(0), ValueError, ">= 1"),
    ],
)
def test_digits_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.gpu
def test_digits_sample_on_cuda():
    x = Digits("train").sample(8, generator=torch.Generator("cuda").manual_seed(0))
    assert x.device.type == "cuda" and x.shape == (8, 1, 8, 8)


def test_time_marginal_is_the_mixture_pushed_through_the_kernel():
    """GaussianMixture.time_marginal_score / _log_prob against an independent construction: at a fixed t the
    marginal is GaussianMixture(alpha mu_k, sqrt(alpha^2 s_k^2 + sigma^2), w) (book: eq-mixture-marginal)."""
    from scoresde.sde import VESDE, VPSDE

    mix = GaussianMixture([[2.0, 0.0], [-1.0, 1.5], [0.0, -2.0]], [0.2, 0.5, 0.3], [0.5, 0.3, 0.2])
    x = torch.randn(7, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for sde in (VPSDE(), VESDE(sigma_max=5.0)):
        for t in (0.05, 0.4, 1.0):
            alpha, sigma = sde.marginal_prob(torch.ones(1, 1, dtype=torch.float64), t)
            a, s = float(alpha[0, 0]), float(sigma[0])
            fixed = GaussianMixture(a * mix.means, (a**2 * mix.stds**2 + s**2).sqrt(), mix.weights)
            tt = torch.full((7,), t, dtype=torch.float64)
            assert torch.allclose(mix.time_marginal_score(sde)(x, tt), fixed.score(x), atol=1e-12)
            assert torch.allclose(mix.time_marginal_log_prob(sde, x, t), fixed.log_prob(x), atol=1e-12)
    # one time per row, and the score is the gradient of the log-density
    t_rows = torch.linspace(0.05, 1.0, 7, dtype=torch.float64)
    xg = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(mix.time_marginal_log_prob(VPSDE(), xg, t_rows).sum(), xg)
    assert torch.allclose(mix.time_marginal_score(VPSDE())(x, t_rows), grad, atol=1e-10)
