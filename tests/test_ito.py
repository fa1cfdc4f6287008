"""Chapter 3's claims about sums over a `scoresde.brownian.BrownianPath`, each against a closed form.

- Quadratic variation (book: eq-quadratic-variation): on any grid, Q = sum (dW_k)^2 has E[Q] = t and
  E[(Q - t)^2] = 2 sum h_k^2.
- Itô vs Stratonovich (book: eq-ito-sum, eq-ito-w-dw): the sum that evaluates W at t_k + lam*h, with the
  in-step value filled in by `BrownianPath.refine` (the Brownian bridge, book: eq-brownian-bridge), has
  E[sum - left-point sum] = lam*t and mean squared distance (lam^2 + (1 - lam)^2) t h / 2 to the limit
  (W_t^2 - t)/2 + lam*t. lam = 0 is Itô, lam = 1/2 Stratonovich. A bridge with the wrong variance (e.g.
  linear interpolation, which gives (lam - 1/2)^2 * 2 t h) fails this test.
- The Itô isometry on a grid (book: eq-ito-isometry): E[(sum G_k dW_k)^2] = sum E[G_k^2] h_k, exactly.
- Itô's formula along paths (book: eq-ito-formula, eq-ito-integral-form): the exact GBM solution plugged into
  the left-point integral form leaves a residual whose RMS falls like sqrt(h).

Monte Carlo tolerance: 5 estimated standard errors of the mean being tested (a false failure has probability
below 1e-6 under the hypothesis being tested; the seeds are fixed anyway). Each test runs on the CPU and,
marked ``gpu``, on CUDA (the ``device`` fixture), with the generator on that device.
"""

from __future__ import annotations

import math

import pytest
import torch

from scoresde.brownian import BrownianPath

F64 = torch.float64


def gen(device: torch.device, seed: int) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


def uniform_paths(n_steps: int, n_paths: int, device: torch.device, seed: int, T: float = 1.0) -> BrownianPath:
    ts = torch.linspace(0, T, n_steps + 1, dtype=F64, device=device)
    return BrownianPath.sample(ts, (n_paths,), generator=gen(device, seed), dtype=F64)


def assert_mean(samples: torch.Tensor, exact: float, what: str) -> None:
    """|mean(samples) - exact| <= 5 estimated standard errors."""
    mean = float(samples.mean())
    tol = 5 * float(samples.std()) / math.sqrt(samples.numel())
    assert abs(mean - exact) <= tol, f"{what}: Monte Carlo {mean:.6g}, exact {exact:.6g}, tolerance {tol:.3g}"


@pytest.mark.parametrize("grid", ["uniform", "uneven"])
def test_quadratic_variation(device, grid):
    g = gen(device, 1)
    if grid == "uniform":
        ts = torch.linspace(0, 1, 257, dtype=F64, device=device)
    else:  # sorted uniform points: steps of very different lengths
        inner = torch.rand(255, generator=g, dtype=F64, device=device).sort().values
        ts = torch.cat([torch.zeros(1, dtype=F64, device=device), inner, torch.ones(1, dtype=F64, device=device)])
    path = BrownianPath.sample(ts, (4000,), generator=g, dtype=F64)
    h = torch.diff(ts)
    Q = (path.dW**2).sum(0)
    assert Q.device.type == device.type
    assert_mean(Q, 1.0, "E[Q]")
    assert_mean((Q - 1.0) ** 2, float(2 * (h**2).sum()), "E[(Q - t)^2]")


@pytest.mark.parametrize("j", [0, 1, 2, 3, 4])
def test_lambda_point_sums_and_the_bridge(device, j):
    """W at t_k + lam*h with lam = j/4, from refine(4); lam = 0 is Itô, 1/2 Stratonovich, 1 the right point."""
    lam, n, T = j / 4, 64, 1.0
    coarse = uniform_paths(n, 4000, device, seed=10 + j)
    fine = coarse.refine(4, generator=gen(device, 20 + j))
    torch.testing.assert_close(fine.W[::4], coarse.W)  # the bridge passes through the coarse path
    W_lam = fine.W[j::4][:n]  # W(t_k + lam*h), k = 0..n-1
    lam_sum = (W_lam * coarse.dW).sum(0)
    ito_sum = (coarse.W[:-1] * coarse.dW).sum(0)
    W_T = coarse.W[-1]
    limit = (W_T**2 - T) / 2 + lam * T
    h = T / n
    assert_mean(lam_sum - ito_sum, lam * T, f"E[lambda-sum - Ito sum], lambda = {lam}")
    assert_mean((lam_sum - limit) ** 2, (lam**2 + (1 - lam) ** 2) * T * h / 2, f"MSE, lambda = {lam}")


def test_left_point_error_halves_with_four_times_the_steps(device):
    """E[(I_n - (W_t^2 - t)/2)^2] = t h / 2 at every resolution of one set of paths (coarsen)."""
    fine = uniform_paths(1024, 2000, device, seed=3)
    exact = (fine.W[-1] ** 2 - 1.0) / 2
    for factor in (64, 16, 4, 1):
        lvl = fine.coarsen(factor)
        err2 = ((lvl.W[:-1] * lvl.dW).sum(0) - exact) ** 2
        assert_mean(err2, 1.0 / lvl.n_steps / 2, f"MSE of the left-point sum, n = {lvl.n_steps}")


@pytest.mark.parametrize("integrand", ["W^2", "sin W"])
def test_ito_isometry_is_exact_on_a_grid(device, integrand):
    n = 32
    path = uniform_paths(n, 40_000, device, seed=4)
    t_left, W_left = path.ts[:-1], path.W[:-1]
    if integrand == "W^2":
        G, EG2 = W_left**2, 3 * t_left**2  # E[W_t^4] = 3 t^2
    else:
        G, EG2 = torch.sin(W_left), (1 - torch.exp(-2 * t_left)) / 2  # E[sin^2 W_t]
    I = (G * path.dW).sum(0)
    assert_mean(I, 0.0, f"E[int {integrand} dW]")
    assert_mean(I**2, float((EG2 * path.dt).sum()), f"E[(int {integrand} dW)^2]")


def test_gbm_solves_its_integral_form(device):
    """x_t = x0 exp((mu - sigma^2/2) t + sigma W_t) satisfies the Itô integral form; without the -sigma^2/2
    (the naive chain rule) the residual does not vanish."""
    mu, sigma, x0 = 0.5, 0.8, 1.0
    fine = uniform_paths(1024, 1000, device, seed=5)

    def rms_residual(lvl: BrownianPath, correction: float) -> float:
        x = x0 * torch.exp((mu - correction) * lvl.ts[:, None] + sigma * lvl.W)
        r = x[-1] - x0 - (mu * x[:-1] * lvl.dt[:, None]).sum(0) - (sigma * x[:-1] * lvl.dW).sum(0)
        return float(r.square().mean().sqrt())

    steps = [fine.coarsen(f) for f in (64, 16, 4, 1)]
    rms = [rms_residual(lvl, sigma**2 / 2) for lvl in steps]
    assert all(b < a for a, b in zip(rms, rms[1:])), rms
    slope = math.log(rms[0] / rms[-1]) / math.log(steps[-1].n_steps / steps[0].n_steps)
    assert abs(slope - 0.5) < 0.1, (slope, rms)
    naive = rms_residual(steps[-1], 0.0)  # exp(mu t + sigma W) solves a different SDE
    assert naive > 10 * rms[-1], (naive, rms[-1])
