"""Tests of scoresde.brownian: the law of the increments, refinement by the Brownian bridge, coarsening,
reverse-time grids, reproducibility, and bad input.

Monte Carlo tolerances: a sample mean of N i.i.d. draws is accepted within 5 standard errors
(sigma/sqrt(N)); a sample variance within 5 of its standard errors, sigma^2*sqrt(2/(N-1)) for Gaussian data.
Under the law being tested a 5-sigma miss has probability < 1e-6; the seeds are fixed anyway.
"""

from __future__ import annotations

import math

import pytest
import torch

from scoresde.brownian import BrownianPath, as_time_grid



def gen(seed: int, device="cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def assert_mean_var(x: torch.Tensor, mean: float, var: float, what: str) -> None:
    """x: i.i.d. Gaussian draws N(mean, var) along dim 0; checks mean and variance within 5 SE."""
    n = x.shape[0]
    m, v = float(x.mean()), float(x.var())
    assert abs(m - mean) < 5 * math.sqrt(var / n), f"{what}: mean {m} vs {mean}"
    assert abs(v - var) < 5 * var * math.sqrt(2 / (n - 1)), f"{what}: var {v} vs {var}"


def test_sample_shapes_and_values(device):
    ts = torch.linspace(0, 1, 11, device=device, dtype=torch.float64)
    bm = BrownianPath.sample(ts, (4, 3, 2), generator=gen(0, device), device=device)
    assert bm.dW.shape == (10, 4, 3, 2) and bm.W.shape == (11, 4, 3, 2)
    assert bm.shape == (4, 3, 2) and bm.n_steps == 10 and bm.direction == 1
    assert bm.dW.device.type == torch.device(device).type and bm.dtype == torch.float32
    assert bool((bm.W[0] == 0).all())
    torch.testing.assert_close(bm.W[1:] - bm.W[:-1], bm.dW)


def test_increments_have_variance_dt_and_are_independent():
    """E[dW]=0, Var(dW_k)=|t_{k+1}-t_k| on a non-uniform grid; Cov(dW_0, dW_1)=0; W_t ~ N(0, t)."""
    ts = torch.tensor([0.0, 0.1, 0.4, 1.0, 2.5], dtype=torch.float64)
    n = 200_000
    bm = BrownianPath.sample(ts, (n,), generator=gen(1), dtype=torch.float64)
    for k, h in enumerate(torch.diff(ts).tolist()):
        assert_mean_var(bm.dW[k], 0.0, h, f"dW_{k}")
    assert_mean_var(bm.W[-1], 0.0, 2.5, "W_T")
    # correlation of two increments: the product of independent N(0,h0), N(0,h1) has sd sqrt(h0*h1)
    prod = bm.dW[0] * bm.dW[1]
    assert abs(float(prod.mean())) < 5 * math.sqrt(0.1 * 0.3 / n)


def test_decreasing_grid_reverse_time():
    """On a decreasing grid the increments still have variance |dt|; dt is negative."""
    ts = torch.linspace(1.0, 0.0, 5, dtype=torch.float64)
    bm = BrownianPath.sample(ts, (100_000,), generator=gen(2), dtype=torch.float64)
    assert bm.direction == -1 and bool((bm.dt < 0).all())
    for k in range(4):
        assert_mean_var(bm.dW[k], 0.0, 0.25, f"reverse dW_{k}")


def test_seed_reproducibility():
    ts = torch.linspace(0, 1, 6, dtype=torch.float64)
    a = BrownianPath.sample(ts, (3, 2), generator=gen(7))
    b = BrownianPath.sample(ts, (3, 2), generator=gen(7))
    c = BrownianPath.sample(ts, (3, 2), generator=gen(8))
    assert torch.equal(a.dW, b.dW) and not torch.equal(a.dW, c.dW)


def test_refine_passes_through_coarse_path(device):
    ts = torch.linspace(0, 2, 9, device=device, dtype=torch.float64)
    coarse = BrownianPath.sample(ts, (5, 2), generator=gen(3, device), dtype=torch.float64)
    fine = coarse.refine(4, generator=gen(4, device))
    assert fine.n_steps == 32 and fine.ts.numel() == 33
    torch.testing.assert_close(fine.ts[::4], coarse.ts)
    torch.testing.assert_close(fine.W[::4], coarse.W)
    back = fine.coarsen(4)
    torch.testing.assert_close(back.dW, coarse.dW)
    torch.testing.assert_close(back.ts, coarse.ts)


def test_refine_law_is_brownian_bridge():
    """Refined increments are unconditionally N(0, h) and their covariance with the coarse increment is h
    (bridge: Cov(delta_j, dW) = h_j). A refined path is again Brownian."""
    ts = torch.tensor([0.0, 1.0], dtype=torch.float64)
    n = 200_000
    coarse = BrownianPath.sample(ts, (n,), generator=gen(5), dtype=torch.float64)
    fine = coarse.refine(4, generator=gen(6))
    for j in range(4):
        assert_mean_var(fine.dW[j], 0.0, 0.25, f"refined dW_{j}")
    # Cov(delta_0, dW) = h_0 = 0.25; the product has variance h0*H + h0^2 = 0.3125
    cov = float((fine.dW[0] * coarse.dW[0]).mean())
    assert abs(cov - 0.25) < 5 * math.sqrt(0.3125 / n)
    # Cov(delta_0, delta_1) = 0 unconditionally (independent increments of the refined path)
    assert abs(float((fine.dW[0] * fine.dW[1]).mean())) < 5 * math.sqrt(0.25 * 0.25 / n)


def test_refine_on_decreasing_grid():
    ts = torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64)
    coarse = BrownianPath.sample(ts, (50_000,), generator=gen(9), dtype=torch.float64)
    fine = coarse.refine(5, generator=gen(10))
    assert fine.direction == -1 and fine.n_steps == 10
    torch.testing.assert_close(fine.W[::5], coarse.W)
    assert_mean_var(fine.dW[3], 0.0, 0.1, "reverse refined increment")


def test_coarsen_sums_increments():
    ts = torch.linspace(0, 1, 13, dtype=torch.float64)
    bm = BrownianPath.sample(ts, (2,), generator=gen(11))
    c = bm.coarsen(3)
    assert c.n_steps == 4
    torch.testing.assert_close(c.dW[1], bm.dW[3:6].sum(0))
    assert bm.coarsen(1).n_steps == 12
    with pytest.raises(ValueError, match="divisible"):
        bm.coarsen(5)


def test_constructor_from_increments_and_to():
    dW = torch.randn(3, 2, generator=gen(12), dtype=torch.float64)
    bm = BrownianPath([0.0, 0.5, 0.7, 1.0], dW)
    assert bm.ts.dtype == torch.float64 and bm.n_steps == 3
    assert "n_steps=3" in repr(bm)
    assert torch.equal(bm.to("cpu").dW, bm.dW) and torch.equal(bm.to(torch.float32).dW, bm.dW.float())
    with pytest.raises(ValueError, match="increments"):
        BrownianPath([0.0, 1.0], dW)


@pytest.mark.parametrize(
    "ts, err, match",
    [
        ([0.0, 0.5, 0.5, 1.0], ValueError, "strictly"),
        ([0.0, 0.5, 0.2], ValueError, "strictly"),
        ([0.0], ValueError, "at least"),
        ([0.0, float("nan")], ValueError, "non-finite"),
        (torch.zeros(2, 2, dtype=torch.float64), ValueError, "dimensions"),
        (torch.arange(3), TypeError, "floating"),
        ("0,1", TypeError, "sequence"),
        ([0.0, "a"], TypeError, "real numbers"),
    ],
)
def test_bad_time_grids(ts, err, match):
    with pytest.raises(err, match=match):
        as_time_grid(ts)


def test_bad_sample_arguments():
    ts = [0.0, 1.0]
    with pytest.raises(TypeError, match="shape"):
        BrownianPath.sample(ts, 3)
    with pytest.raises(ValueError, match="at least one"):
        BrownianPath.sample(ts, ())
    with pytest.raises(ValueError, match=">= 1"):
        BrownianPath.sample(ts, (0, 2))
    with pytest.raises(TypeError, match="dtype"):
        BrownianPath.sample(ts, (2,), dtype=torch.int64)
    with pytest.raises(TypeError, match="Generator"):
        BrownianPath.sample(ts, (2,), generator=0)
    with pytest.raises(ValueError, match="non-finite"):
        BrownianPath([0.0, 1.0], torch.tensor([[float("nan")]]))
    with pytest.raises(ValueError, match=">= 1"):
        BrownianPath.sample(ts, (2,)).refine(0)


@pytest.mark.gpu
def test_generator_device_mismatch_cuda():
    with pytest.raises(ValueError, match="torch.Generator"):
        BrownianPath.sample([0.0, 1.0], (2,), generator=gen(0, "cpu"), device="cuda")


# ---------------------------------------------------------------- space-time Lévy areas
def test_levy_area_is_drawn_coarsened_and_refined_with_its_exact_law():
    """H ~ N(0, h/12) independent of dW; coarsening combines the areas exactly (checked against a fine Riemann
    sum of the piecewise-linear path, whose areas are zero); refinement keeps the coarse dW and H and gives fine
    increments and areas of the right variances. Mutation: dropping the earlier-increment term of coarsen, or
    the area constraint of refine, fails the checks below."""
    g = torch.Generator().manual_seed(0)
    ts = torch.linspace(0, 1, 9, dtype=torch.float64)
    path = BrownianPath.sample(ts, (20000, 1), generator=g, dtype=torch.float64, levy_area=True)
    assert path.H is not None and "levy_area" in repr(path)
    assert abs(float(path.H.var()) * 12 / 0.125 - 1) < 0.03
    assert abs(float((path.H * path.dW).mean())) < 3 * 0.125 / math.sqrt(12) / math.sqrt(160000)
    # coarsen: on a path with zero areas (piecewise linear), H of [0, 1] is the Riemann form of (1/h) int (W - line)
    flat = BrownianPath(ts, path.dW, torch.zeros_like(path.dW))
    one = flat.coarsen(8)
    w = flat.W[:, :, 0]
    integral = (0.125 * (w[:-1] + w[1:]) / 2).sum(0)  # exact for piecewise-linear W
    assert torch.allclose(one.H[0, :, 0], integral - w[-1] / 2, atol=1e-12)
    assert torch.allclose(one.dW[0], path.dW.sum(0), atol=1e-12)
    # refine: the coarse dW and H come back, the fine pieces have the law of a finer sample
    fine = path.refine(4, generator=torch.Generator().manual_seed(1))
    back = fine.coarsen(4)
    assert torch.allclose(back.dW, path.dW, atol=1e-12) and torch.allclose(back.H, path.H, atol=1e-12)
    assert abs(float(fine.dW.var()) / (0.125 / 4) - 1) < 0.03
    assert abs(float(fine.H.var()) * 12 / (0.125 / 4) - 1) < 0.03
    with pytest.raises(ValueError, match="H must be shaped like dW"):
        BrownianPath(ts, path.dW, path.H[:, :10])
