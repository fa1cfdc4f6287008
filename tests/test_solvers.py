"""Tests of scoresde.solvers.

* Against torchsde (the test oracle) driven by the same Brownian increments: Euler–Maruyama and Milstein
  paths agree to floating-point tolerance (float64, default torch.testing tolerances).
* Convergence orders on geometric Brownian motion, with the exact solution driven by the same path:
  strong order 1/2 (Euler–Maruyama), 1 (Milstein), 1 (stochastic Heun, Stratonovich GBM); weak order 1
  (Euler–Maruyama). Each fitted log-log slope must be within +-0.15 of theory.
* Exact laws: BM with drift and OU (Kolmogorov–Smirnov test at level 1e-4 against the exact Gaussian, plus
  moments within 5 standard errors), GBM (KS test of log x_T against its normal law).
* The reverse-time SDE of a linear SDE with its exact score reproduces the forward marginals; so does the
  probability-flow ODE.
* Grids (dt, a finer Brownian path, reverse time), image-shaped states, seeds, progress bar, and validation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torchsde
from scipy import stats

from scoresde.brownian import BrownianPath
from scoresde.sde import (
    BrownianMotion,
    FunctionSDE,
    GeometricBrownianMotion,
    OrnsteinUhlenbeck,
    SubVPSDE,
    VESDE,
    VPSDE,
)
from scoresde.solvers import (
    SOLVERS,
    Corrector,
    EulerMaruyama,
    Milstein,
    Order,
    Solver,
    StochasticHeun,
    check_compatible,
    euler_maruyama_step,
    get_solver,
    noise_structure,
    solve,
)

KS_LEVEL = 1e-4


def gen(seed: int, device="cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


# ---------------------------------------------------------------- torchsde as the oracle
class FixedBrownian(torchsde.BaseBrownian):
    """torchsde view of a scoresde BrownianPath: W(tb) - W(ta) looked up on the path's grid."""

    def __init__(self, path: BrownianPath):
        self.path = path
        self.values = path.W
        self.grid = path.ts

    def _index(self, t) -> int:
        k = int(torch.argmin((self.grid - float(t)).abs()))
        assert abs(float(self.grid[k]) - float(t)) < 1e-9
        return k

    def __call__(self, ta, tb=None, return_U=False, return_A=False):
        return self.values[self._index(tb)] - self.values[self._index(ta)]

    def __repr__(self):
        return "FixedBrownian"

    dtype = property(lambda self: self.path.dtype)
    device = property(lambda self: self.path.device)
    shape = property(lambda self: self.path.shape)
    levy_area_approximation = property(lambda self: "none")


class TorchsdeWrapper(torch.nn.Module):
    def __init__(self, sde, noise_type: str):
        super().__init__()
        self.sde, self.noise_type, self.sde_type = sde, noise_type, "ito"

    def f(self, t, y):
        return self.sde.f(y, t.expand(y.shape[0]))

    def g(self, t, y):
        g = self.sde.g(y, t.expand(y.shape[0]))
        if self.sde.noise_type == "scalar":  # ours: g I; torchsde: diagonal
            return g[:, None].expand_as(y)
        return g


def general_sde():
    def g(x, t):
        x1, x2 = x[:, 0], x[:, 1]
        r1 = torch.stack([1 + 0.5 * torch.sin(x2), 0.3 * x1, 0.1 * t], dim=1)
        r2 = torch.stack([0.2 * torch.tanh(x1 * x2), 1 + 0.1 * torch.cos(x1), 0.5 + 0 * t], dim=1)
        return torch.stack([r1, r2], dim=1)

    return FunctionSDE(lambda x, t: -x + torch.sin(x) * t[:, None], g, "general", noise_dim=3)


@pytest.mark.parametrize(
    "sde, noise_type, method",
    [
        (GeometricBrownianMotion(mu=0.8, sigma=0.6), "diagonal", "euler"),
        (GeometricBrownianMotion(mu=0.8, sigma=0.6), "diagonal", "milstein"),
        (VPSDE(), "diagonal", "euler"),
        (OrnsteinUhlenbeck(beta=2.0, sigma=0.5), "diagonal", "milstein"),
        (general_sde(), "general", "euler"),
    ],
)
def test_matches_torchsde_with_same_increments(sde, noise_type, method):
    batch, d = 16, 2
    x0 = torch.rand(batch, d, generator=gen(0), dtype=torch.float64) + 0.5
    ts = torch.linspace(0, 1, 9, dtype=torch.float64)
    bm = BrownianPath.sample(torch.linspace(0, 1, 65, dtype=torch.float64), sde.noise_shape(x0.shape), generator=gen(1), dtype=torch.float64)
    ours = solve(sde, x0, ts, method=method, bm=bm)
    ref = torchsde.sdeint(TorchsdeWrapper(sde, noise_type), x0, ts, bm=FixedBrownian(bm), method=method, dt=1 / 64)
    torch.testing.assert_close(ours, ref)


# ---------------------------------------------------------------- convergence orders
def fitted_slope(hs, errs) -> float:
    return float(np.polyfit(np.log(hs), np.log(errs), 1)[0])


def gbm_errors(sde_type: str, method: str, n_paths: int, seed: int, sigma: float = 1.0):
    """Strong error E|X_h(T) - X(T)| and weak error |E[X_h(T) - X(T)]| for h = 2^-4 ... 2^-8, same paths.

    The weak error is estimated from the differences X_h(T) - X(T) on shared paths (common random numbers),
    whose spread is the strong error; its estimate is sharp enough only for a moderate sigma (the bias of the
    mean, x0 ((1 + mu h)^N - e^{mu T}), does not depend on sigma)."""
    mu, T = 1.0, 1.0
    if sde_type == "ito":
        sde = GeometricBrownianMotion(mu=mu, sigma=sigma)
    else:  # Stratonovich GBM: dx = mu x dt + sigma x o dW, exact x0 exp(mu t + sigma W)
        sde = FunctionSDE(lambda x, t: mu * x, lambda x, t: sigma * x, "diagonal", sde_type="stratonovich")
    x0 = torch.ones(n_paths, 1, dtype=torch.float64)
    fine = BrownianPath.sample(torch.linspace(0, T, 2**10 + 1, dtype=torch.float64), (n_paths, 1), generator=gen(seed), dtype=torch.float64)
    w_T = fine.W[-1]
    drift = (mu - 0.5 * sigma**2) if sde_type == "ito" else mu
    exact = x0 * torch.exp(drift * T + sigma * w_T)
    hs, strong, weak = [], [], []
    for p in range(4, 9):
        path = fine.coarsen(2 ** (10 - p))
        xT = solve(sde, x0, [0.0, T], bm=path, method=method)[-1]
        diff = xT - exact
        hs.append(T / 2**p)
        strong.append(float(diff.abs().mean()))
        weak.append(abs(float(diff.mean())))
    return hs, strong, weak


@pytest.mark.slow
@pytest.mark.parametrize("seed", [10, 11])
def test_strong_and_weak_orders(seed):
    hs, strong_em, _ = gbm_errors("ito", "euler", 4000, seed=seed)
    _, _, weak_em = gbm_errors("ito", "euler", 4000, seed=seed, sigma=0.5)
    _, strong_mil, _ = gbm_errors("ito", "milstein", 4000, seed=seed)
    _, strong_heun, _ = gbm_errors("stratonovich", "heun", 4000, seed=seed)
    # the declared orders of the solver objects are the measured ones
    assert abs(fitted_slope(hs, strong_em) - SOLVERS["euler"].orders["diagonal"].strong) <= 0.15, strong_em
    assert abs(fitted_slope(hs, strong_mil) - SOLVERS["milstein"].orders["diagonal"].strong) <= 0.15, strong_mil
    assert abs(fitted_slope(hs, strong_heun) - SOLVERS["heun"].orders["diagonal"].strong) <= 0.15, strong_heun
    assert abs(fitted_slope(hs, weak_em) - SOLVERS["euler"].orders["diagonal"].weak) <= 0.15, weak_em


def test_weak_error_of_the_mean_is_the_exact_bias():
    """For GBM, E[X_N] = x0 (1 + mu h)^N exactly under Euler-Maruyama: the measured weak error (5 standard
    errors of the mean difference) matches the exact bias x0 ((1 + mu h)^N - e^{mu T})."""
    mu, T, n = 1.0, 1.0, 8000
    sde = GeometricBrownianMotion(mu=mu, sigma=0.5)
    x0 = torch.ones(n, 1, dtype=torch.float64)
    path = BrownianPath.sample(torch.linspace(0, T, 17, dtype=torch.float64), (n, 1), generator=gen(12), dtype=torch.float64)
    diff = solve(sde, x0, [0.0, T], bm=path)[-1] - sde.exact_solution(x0, T, path.W[-1])
    bias = (1 + mu / 16) ** 16 - math.exp(mu * T)
    assert abs(float(diff.mean()) - bias) < 5 * float(diff.std()) / math.sqrt(n)


def test_stratonovich_milstein_converges_to_stratonovich_solution():
    hs, strong, _ = gbm_errors("stratonovich", "milstein", 2000, seed=11)
    assert strong[-1] < 0.05 and abs(fitted_slope(hs, strong) - 1.0) <= 0.15


# ---------------------------------------------------------------- exact laws
def ks_normal(sample: torch.Tensor, mean: float, std: float) -> float:
    return float(stats.kstest(sample.flatten().numpy(), "norm", args=(mean, std)).pvalue)


def test_brownian_motion_with_drift_law():
    """x_T ~ N(x0 + mu T, sigma^2 T) exactly (EM is exact for constant coefficients)."""
    sde = BrownianMotion(mu=0.7, sigma=1.3)
    x0 = torch.full((20_000, 1), -0.5, dtype=torch.float64)
    out = solve(sde, x0, [0.0, 0.5, 2.0], dt=0.05, generator=gen(12))
    for k, t in ((1, 0.5), (2, 2.0)):
        mean, std = sde.marginal_prob(x0[:1], t)
        assert ks_normal(out[k], float(mean), float(std)) > KS_LEVEL


def test_ou_law():
    """OU at t = 0.5 and 2: KS against N(x0 e^{-beta t}, sigma^2 (1 - e^{-2 beta t}) / (2 beta)) with dt = 1e-3
    (the EM bias in the variance is O(beta dt) relative, ~0.3%, far below what the KS test with N = 20000 sees)."""
    sde = OrnsteinUhlenbeck(beta=1.5, sigma=0.8)
    x0 = torch.full((20_000, 1), 2.0, dtype=torch.float64)
    out = solve(sde, x0, [0.0, 0.5, 2.0], dt=1e-3, generator=gen(13))
    for k, t in ((1, 0.5), (2, 2.0)):
        mean, std = sde.marginal_prob(x0[:1], t)
        assert ks_normal(out[k], float(mean), float(std)) > KS_LEVEL
        n = out[k].numel()
        assert abs(float(out[k].mean()) - float(mean)) < 5 * float(std) / math.sqrt(n)


def test_gbm_law():
    """log x_T ~ N(log x0 + (mu - sigma^2/2) T, sigma^2 T): KS, with Milstein at dt = 1e-3."""
    sde = GeometricBrownianMotion(mu=0.3, sigma=0.4)
    x0 = torch.full((20_000, 1), 1.5, dtype=torch.float64)
    xT = solve(sde, x0, [0.0, 1.0], dt=1e-3, generator=gen(14), method="milstein")[-1]
    assert ks_normal(xT.log(), math.log(1.5) + 0.3 - 0.08, 0.4) > KS_LEVEL


# ---------------------------------------------------------------- reverse time
@pytest.mark.parametrize("sde", [VPSDE(), SubVPSDE(), VESDE(sigma_max=5.0)])
def test_reverse_sde_reproduces_forward_marginals(sde):
    """Data N(m0, s0^2 I); start the reverse SDE at the exact p_T and run it to t = 1e-3 with its exact score.
    Mean and variance at t = 0.5 and at the end match the forward marginal within 5 standard errors plus a
    discretisation allowance of 2% of the standard deviation and of the variance (400 steps)."""
    m0, s0 = 1.0, 0.5
    n = 8_000

    def exact_law(t: float):
        a_m0, std = sde.marginal_prob(torch.full((1, 1), m0, dtype=torch.float64), t)
        a = float(a_m0) / m0
        return float(a_m0), a**2 * s0**2 + float(std) ** 2

    def score(x, t):
        a_m0, std = sde.marginal_prob(torch.full_like(x, m0), t)
        a = a_m0 / m0
        return -(x - a_m0) / (a**2 * s0**2 + std[:, None] ** 2)

    mT, vT = exact_law(1.0)
    xT = mT + math.sqrt(vT) * torch.randn(n, 2, generator=gen(15), dtype=torch.float64)
    ts = [1.0, 0.5, 1e-3]
    for rev, method in ((sde.reverse(score), "euler"), (sde.reverse(score, probability_flow=True), "heun")):
        out = solve(rev, xT, ts, dt=2.5e-3, generator=gen(16), method=method)
        for k in (1, 2):
            m, v = exact_law(ts[k])
            se_m, se_v = math.sqrt(v / out[k].numel()), v * math.sqrt(2 / out[k].numel())
            assert abs(float(out[k].mean()) - m) < 5 * se_m + 0.02 * math.sqrt(v)
            assert abs(float(out[k].var()) - v) < 5 * se_v + 0.02 * v


def test_reverse_requires_decreasing_times_and_forward_increasing():
    sde = OrnsteinUhlenbeck()
    x0 = torch.zeros(4, 1, dtype=torch.float64)
    with pytest.raises(ValueError, match="ts must be increasing"):
        solve(sde, x0, [1.0, 0.0])
    rev = sde.reverse(lambda x, t: -x / sde.stationary_std**2)
    with pytest.raises(ValueError, match="ts must be decreasing"):
        solve(rev, x0, [0.0, 1.0])
    assert solve(rev, x0, [1.0, 0.0], dt=0.1, generator=gen(0)).shape == (2, 4, 1)


def test_ode_runs_both_ways_and_back():
    """An SDE without noise is an ODE: solve it forward then backward with Heun and return to the start."""
    ode = FunctionSDE(lambda x, t: -x * (1 + t[:, None]), None, "none")
    x0 = torch.tensor([[1.0], [2.0]], dtype=torch.float64)
    fwd = solve(ode, x0, [0.0, 1.0], dt=1e-3, method="heun")
    # exact: x0 exp(-(t + t^2/2)); Heun is second order: error ~ 1e-7
    torch.testing.assert_close(fwd[-1], x0 * math.exp(-1.5), atol=1e-6, rtol=0)
    back = solve(ode, fwd[-1], [1.0, 0.0], dt=1e-3, method="heun")
    torch.testing.assert_close(back[-1], x0, atol=1e-6, rtol=0)
    em = solve(ode, x0, [0.0, 1.0], dt=1e-3, method="euler")
    assert float((em[-1] - x0 * math.exp(-1.5)).abs().max()) < 1e-3


# ---------------------------------------------------------------- grids, shapes, seeds, options
def test_output_times_and_dt_grid():
    sde = BrownianMotion(sigma=0.0 + 1.0)
    x0 = torch.zeros(3, 2, dtype=torch.float64)
    out = solve(sde, x0, torch.tensor([0.0, 0.3, 1.0], dtype=torch.float64), dt=0.1, generator=gen(1))
    assert out.shape == (3, 3, 2) and torch.equal(out[0], x0)
    # the same Brownian path on the dt grid gives the same answer through bm
    grid = torch.cat([torch.linspace(0, 0.3, 4, dtype=torch.float64), torch.linspace(0.3, 1.0, 8, dtype=torch.float64)[1:]])
    bm = BrownianPath.sample(grid, (3, 2), generator=gen(2), dtype=torch.float64)
    via_bm = solve(sde, x0, [0.0, 0.3, 1.0], bm=bm)
    torch.testing.assert_close(via_bm[1], bm.W[3])
    torch.testing.assert_close(via_bm[2], bm.W[-1])


def test_same_path_at_two_resolutions_and_refinement():
    sde = GeometricBrownianMotion(mu=0.5, sigma=0.5)
    x0 = torch.ones(2000, 1, dtype=torch.float64)
    coarse = BrownianPath.sample(torch.linspace(0, 1, 17, dtype=torch.float64), (2000, 1), generator=gen(3), dtype=torch.float64)
    fine = coarse.refine(16, generator=gen(4))
    exact = sde.exact_solution(x0, 1.0, coarse.W[-1])
    err_c = float((solve(sde, x0, [0.0, 1.0], bm=coarse)[-1] - exact).abs().mean())
    err_f = float((solve(sde, x0, [0.0, 1.0], bm=fine)[-1] - exact).abs().mean())
    assert err_f < err_c / 2.5  # strong order 1/2: a 16x finer grid cuts the error ~4x


def test_image_shaped_states_and_seeds():
    x0 = torch.randn(4, 3, 5, 5, generator=gen(5), dtype=torch.float64)
    for sde in (VPSDE(), GeometricBrownianMotion(mu=0.1, sigma=0.2)):
        a = solve(sde, x0, [0.0, 0.5, 1.0], dt=0.05, generator=gen(6))
        b = solve(sde, x0, [0.0, 0.5, 1.0], dt=0.05, generator=gen(6))
        assert a.shape == (3, 4, 3, 5, 5) and torch.equal(a, b)
    c = solve(VPSDE(), x0, [0.0, 1.0], dt=0.05, generator=gen(7))
    assert not torch.equal(a[-1], c[-1])


def test_image_shaped_state_euler_step_is_formula():
    sde = VPSDE()
    x = torch.randn(2, 3, 4, 4, generator=gen(8), dtype=torch.float64)
    dw = torch.randn(2, 3, 4, 4, generator=gen(9), dtype=torch.float64)
    t = torch.full((2,), 0.4, dtype=torch.float64)
    beta = 0.1 + 0.4 * 19.9
    expected = x - 0.5 * beta * x * 0.01 + math.sqrt(beta) * dw
    torch.testing.assert_close(euler_maruyama_step(sde, x, t, 0.01, dw), expected)


def test_float32_states():
    x0 = torch.zeros(5, 2, dtype=torch.float32)
    out = solve(OrnsteinUhlenbeck(), x0, [0.0, 1.0], dt=0.1, generator=gen(10))
    assert out.dtype == torch.float32
    bm = BrownianPath.sample([0.0, 0.5, 1.0], (5, 2), generator=gen(11), dtype=torch.float64)
    assert solve(OrnsteinUhlenbeck(), x0, [0.0, 1.0], bm=bm).dtype == torch.float32


def test_progress_bar(capsys):
    out = solve(OrnsteinUhlenbeck(), torch.zeros(2, 1, dtype=torch.float64), [0.0, 1.0], dt=0.25, generator=gen(0), progress=True)
    assert out.shape == (2, 2, 1)
    assert "solve (euler)" in capsys.readouterr().err


# ---------------------------------------------------------------- validation
def test_validation_errors():
    sde = OrnsteinUhlenbeck()
    x0 = torch.zeros(3, 1, dtype=torch.float64)
    with pytest.raises(TypeError, match="SDE"):
        solve("ou", x0, [0.0, 1.0])
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        solve(sde, torch.zeros(3, dtype=torch.float64), [0.0, 1.0])
    with pytest.raises(ValueError, match="strictly"):
        solve(sde, x0, [0.0, 0.5, 0.5, 1.0])
    with pytest.raises(ValueError, match="strictly"):
        solve(sde, x0, [0.0, 0.5, 0.2])
    for bad_dt in (0.0, -0.1):
        with pytest.raises(ValueError, match="dt must be > 0"):
            solve(sde, x0, [0.0, 1.0], dt=bad_dt)
    with pytest.raises(ValueError, match="method"):
        solve(sde, x0, [0.0, 1.0], method="rk4")
    with pytest.raises(TypeError, match="progress"):
        solve(sde, x0, [0.0, 1.0], progress="yes")
    with pytest.raises(ValueError, match="non-finite"):
        solve(sde, torch.full((3, 1), float("nan"), dtype=torch.float64), [0.0, 1.0])
    bm = BrownianPath.sample([0.0, 0.5, 1.0], (3, 2), generator=gen(0))
    with pytest.raises(ValueError, match="needs noise of shape"):
        solve(sde, x0, [0.0, 1.0], bm=bm)
    bm = BrownianPath.sample([0.0, 0.5, 1.0], (3, 1), generator=gen(0), dtype=torch.float64)
    with pytest.raises(ValueError, match="either dt or bm"):
        solve(sde, x0, [0.0, 1.0], bm=bm, dt=0.1)
    with pytest.raises(ValueError, match="lie on bm's grid"):
        solve(sde, x0, [0.0, 0.7], bm=bm)
    with pytest.raises(ValueError, match="start at ts"):
        solve(sde, x0, [0.5, 1.0], bm=bm)
    with pytest.raises(TypeError, match="BrownianPath"):
        solve(sde, x0, [0.0, 1.0], bm=torch.zeros(2, 3, 1, dtype=torch.float64))
    with pytest.raises(TypeError, match="Generator"):
        solve(sde, x0, [0.0, 1.0], generator=1)


def test_g_shape_mismatch_is_reported():
    sde = FunctionSDE(lambda x, t: -x, lambda x, t: torch.ones(x.shape[0], 1, dtype=torch.float64), "diagonal")
    with pytest.raises(ValueError, match="noise_type 'diagonal' needs"):
        solve(sde, torch.zeros(4, 3, dtype=torch.float64), [0.0, 1.0], generator=gen(0))
    drift = FunctionSDE(lambda x, t: x[:, :1], lambda x, t: x, "diagonal")
    with pytest.raises(ValueError, match="input's shape"):
        solve(drift, torch.zeros(4, 3, dtype=torch.float64), [0.0, 1.0], generator=gen(0))


def test_nan_mid_solve_names_the_step():
    """dx = x^2 dt blows up at t = 1/x0 = 0.5; with dt = 0.01 the overflow comes after a few dozen steps."""
    blow = FunctionSDE(lambda x, t: x**2, None, "none")
    with pytest.raises(ValueError, match=r"appeared at step \d+ of 100 \(t = "):
        solve(blow, torch.full((2, 1), 2.0, dtype=torch.float64), [0.0, 0.5, 1.0], dt=0.01)
    score = lambda x, t: torch.where(t[:, None] < 0.455, float("nan"), 0.0) * x  # noqa: E731
    rev = VPSDE().reverse(score)
    with pytest.raises(ValueError, match=r"appeared at step 55 of 100"):
        solve(rev, torch.ones(2, 1, dtype=torch.float64), [1.0, 0.0], dt=0.01, generator=gen(0))


def test_method_applicability():
    x0 = torch.ones(4, 2, dtype=torch.float64)
    strat = FunctionSDE(lambda x, t: x, lambda x, t: x, "diagonal", sde_type="stratonovich")
    with pytest.raises(ValueError, match="Itô solution"):
        solve(strat, x0, [0.0, 1.0], method="euler")
    with pytest.raises(ValueError, match="Stratonovich solution"):
        solve(GeometricBrownianMotion(), x0, [0.0, 1.0], method="heun")
    with pytest.raises(ValueError, match="milstein needs diagonal or shared noise.*Lévy areas"):
        solve(general_sde(), x0, [0.0, 1.0], method="milstein")
    scal = FunctionSDE(lambda x, t: x, lambda x, t: 1 + x.square().sum(1), "scalar")
    with pytest.raises(ValueError, match="diagonal only when"):
        solve(scal, x0, [0.0, 1.0], method="milstein")
    # a 1-D state with state-dependent scalar noise is diagonal noise: allowed
    assert solve(scal, x0[:, :1], [0.0, 0.1], method="milstein", generator=gen(0)).shape == (2, 4, 1)
    # additive noise: heun on an Itô SDE is fine, milstein reduces to EM
    bm = BrownianPath.sample([0.0, 0.5, 1.0], (4, 2), generator=gen(1), dtype=torch.float64)
    ou = OrnsteinUhlenbeck()
    torch.testing.assert_close(solve(ou, x0, [0.0, 1.0], bm=bm, method="milstein"), solve(ou, x0, [0.0, 1.0], bm=bm))
    assert solve(ou, x0, [0.0, 1.0], bm=bm, method="heun").shape == (2, 4, 2)


def test_mixed_devices_are_refused():
    x0 = torch.zeros(3, 1, dtype=torch.float64)
    with pytest.raises(ValueError, match="same device"):
        solve(OrnsteinUhlenbeck(), x0, torch.tensor([0.0, 1.0], device="meta", dtype=torch.float64))


# ---------------------------------------------------------------- CUDA
@pytest.mark.gpu
def test_cuda_matches_cpu_with_same_path():
    sde = GeometricBrownianMotion(mu=0.5, sigma=0.5)
    x0 = torch.rand(64, 3, generator=gen(0), dtype=torch.float64) + 0.5
    bm = BrownianPath.sample(torch.linspace(0, 1, 33, dtype=torch.float64), (64, 3), generator=gen(1), dtype=torch.float64)
    for method in ("euler", "milstein"):
        cpu = solve(sde, x0, [0.0, 0.5, 1.0], bm=bm, method=method)
        gpu = solve(sde, x0.cuda(), [0.0, 0.5, 1.0], bm=bm.to("cuda"), method=method)
        assert gpu.device.type == "cuda"
        torch.testing.assert_close(gpu.cpu(), cpu)


@pytest.mark.gpu
def test_cuda_generator_and_mixed_devices():
    x0 = torch.zeros(8, 2, device="cuda", dtype=torch.float64)
    out = solve(VPSDE(), x0, [0.0, 1.0], dt=0.1, generator=gen(0, "cuda"))
    assert out.device.type == "cuda"
    with pytest.raises(ValueError, match="torch.Generator"):
        solve(VPSDE(), x0, [0.0, 1.0], dt=0.1, generator=gen(0, "cpu"))
    bm = BrownianPath.sample([0.0, 1.0], (8, 2), generator=gen(1))
    with pytest.raises(ValueError, match="same device"):
        solve(VPSDE(), x0, [0.0, 1.0], bm=bm)


# ---------------------------------------------------------------- solver objects and their declarations
def test_method_strings_map_to_solver_objects_with_the_same_results():
    sde = GeometricBrownianMotion(mu=0.5, sigma=0.5)
    x0 = torch.rand(8, 2, generator=gen(0), dtype=torch.float64) + 0.5
    bm = BrownianPath.sample(torch.linspace(0, 1, 17, dtype=torch.float64), (8, 2), generator=gen(1), dtype=torch.float64)
    assert {"euler", "milstein", "heun"} <= set(SOLVERS.names)
    for name, cls in (("euler", EulerMaruyama), ("milstein", Milstein)):
        assert isinstance(SOLVERS[name], cls) and get_solver(name) is SOLVERS[name]
        assert torch.equal(solve(sde, x0, [0.0, 1.0], bm=bm, method=name),
                           solve(sde, x0, [0.0, 1.0], bm=bm, method=cls()))
    assert isinstance(SOLVERS["heun"], StochasticHeun)
    with pytest.raises(TypeError, match="method must be one of"):
        solve(sde, x0, [0.0, 1.0], method=3)


def test_declared_attributes():
    """The declarations that diffrax and torchsde make: orders, calculus, accepted noise."""
    table = {name: (s.calculus, s.orders) for name, s in SOLVERS.items()}
    assert table["euler"] == (("ito",), {"none": (1, 1), "additive": (1, 1), "diagonal": (0.5, 1), "shared": (0.5, 1),
                                         "scalar": (0.5, 1), "general": (0.5, 1)})
    assert table["milstein"] == (("ito", "stratonovich"), {"none": (1, 1), "additive": (1, 1), "diagonal": (1, 1),
                                                           "shared": (1, 1)})
    assert table["heun"] == (("stratonovich",), {"none": (2, 2), "additive": (1, 2), "diagonal": (1, 1),
                                                 "shared": (1, 1), "scalar": (0.5, 1), "general": (0.5, 1)})
    assert SOLVERS["milstein"].noise_types == ("none", "additive", "diagonal", "shared")
    assert "diagonal: 0.5/1" in repr(SOLVERS["euler"]) and SOLVERS["heun"].orders["additive"].weak == 2


def test_noise_structure():
    x2, x1 = torch.ones(3, 2, dtype=torch.float64), torch.ones(3, 1, dtype=torch.float64)
    scal = FunctionSDE(lambda x, t: x, lambda x, t: 1 + x.square().sum(1), "scalar")
    assert noise_structure(FunctionSDE(lambda x, t: x, None, "none"), x2) == "none"
    assert noise_structure(OrnsteinUhlenbeck(), x2) == "additive"
    assert noise_structure(GeometricBrownianMotion(), x2) == "diagonal"
    assert noise_structure(scal, x2) == "scalar" and noise_structure(scal, x1) == "diagonal"
    assert noise_structure(general_sde(), x2) == "general"


class _Recorder(EulerMaruyama, name="recorder", calculus=("ito",), orders=EulerMaruyama.orders):
    """Euler–Maruyama under another name, with declarations that a test may mutate on the instance."""


@pytest.mark.parametrize(
    "declared, exc, match",
    [
        ({"calculus": ("ito", "rough")}, ValueError, "unknown entry of calculus 'rough'"),
        ({"calculus": "ito"}, TypeError, "non-empty tuple"),
        ({"orders": {"diagonal": (0.5, 1.0), "commutative": (1.0, 1.0)}}, ValueError, "noise structure of orders"),
        ({"orders": {"diagonal": (0.0, 1.0)}}, ValueError, "strong order must be > 0"),
        ({"orders": {"diagonal": (0.5, "1")}}, TypeError, "weak order"),
        ({"orders": {"diagonal": 0.5}}, TypeError, "must be a pair"),
        ({"orders": {}}, TypeError, "non-empty mapping"),
        ({"name": ""}, TypeError, "non-empty string"),
    ],
)
def test_declarations_are_checked_when_the_class_is_made(declared, exc, match):
    good = {"name": "mine", "orders": {"diagonal": (0.5, 1.0)}, "calculus": ("ito",)}
    type("Mine", (EulerMaruyama,), {}, **good)  # the partner: the good declaration makes a class
    with pytest.raises(exc, match=match):
        type("Mine", (EulerMaruyama,), {}, **{**good, **declared})


def test_compatibility_is_read_from_the_declarations():
    """Mutation: the same step with other declared calculus or noise types is accepted or refused accordingly."""
    x0, t0 = torch.ones(4, 2, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    strat = FunctionSDE(lambda x, t: x, lambda x, t: x, "diagonal", sde_type="stratonovich")
    ito = GeometricBrownianMotion()
    solver = _Recorder()
    check_compatible(solver, ito, x0, t0, SOLVERS)  # declared Itô: accepted
    with pytest.raises(ValueError, match="converges to the Itô solution.*'heun' or 'milstein'"):
        check_compatible(solver, strat, x0, t0, SOLVERS)
    solver.calculus = ("stratonovich",)
    check_compatible(solver, strat, x0, t0, SOLVERS)
    with pytest.raises(ValueError, match="converges to the Stratonovich solution.*'euler' or 'milstein'"):
        check_compatible(solver, ito, x0, t0, SOLVERS)
    solver.orders = {"none": Order(1.0, 1.0), "additive": Order(1.0, 1.0)}
    with pytest.raises(ValueError, match="recorder needs additive noise.*has diagonal"):
        check_compatible(solver, strat, x0, t0, SOLVERS)
    check_compatible(solver, OrnsteinUhlenbeck(), x0, t0, SOLVERS)  # additive: any calculus
    # solve reads the same declarations
    with pytest.raises(ValueError, match="recorder needs additive noise"):
        solve(strat, x0, [0.0, 1.0], method=solver)


class _Shift(Corrector):
    """A corrector that adds a constant and counts its calls (enough to see where solve runs it)."""

    name = "shift"

    def __init__(self):
        self.calls = []

    def step(self, sde, x, t, dt, generator):
        self.calls.append((float(t[0]), dt))
        return x + 1.0


def test_corrector_runs_before_each_step_at_its_start_time():
    ode = FunctionSDE(lambda x, t: torch.zeros_like(x), None, "none")
    corr = _Shift()
    out = solve(ode, torch.zeros(2, 1, dtype=torch.float64), [0.0, 0.5, 1.0], dt=0.25, corrector=corr)
    assert [round(t, 9) for t, _ in corr.calls] == [0.0, 0.25, 0.5, 0.75]
    assert all(abs(dt - 0.25) < 1e-12 for _, dt in corr.calls)
    assert out[:, 0, 0].tolist() == [0.0, 2.0, 4.0]
    with pytest.raises(TypeError, match="corrector must be"):
        solve(ode, torch.zeros(2, 1, dtype=torch.float64), [0.0, 1.0], corrector=lambda x: x)
    with pytest.raises(TypeError, match="denoise"):
        solve(ode, torch.zeros(2, 1, dtype=torch.float64), [0.0, 1.0], denoise=1)


def test_denoise_drops_exactly_the_last_noise():
    """With the same Brownian path, the last state with and without denoise differs by G dW of the last step
    only; every earlier output time is unchanged."""
    sde = OrnsteinUhlenbeck(beta=1.0, sigma=0.7)
    x0 = torch.ones(5, 2, dtype=torch.float64)
    bm = BrownianPath.sample(torch.linspace(0, 1, 9, dtype=torch.float64), (5, 2), generator=gen(2), dtype=torch.float64)
    noisy = solve(sde, x0, [0.0, 0.5, 1.0], bm=bm)
    mean = solve(sde, x0, [0.0, 0.5, 1.0], bm=bm, denoise=True)
    torch.testing.assert_close(mean[:2], noisy[:2], rtol=0, atol=0)
    torch.testing.assert_close(noisy[-1] - mean[-1], 0.7 * bm.dW[-1])
    assert not torch.allclose(noisy[-1], mean[-1])


def test_solver_is_abstract_and_needs_a_step():
    with pytest.raises(TypeError):
        Solver()  # type: ignore[abstract]
