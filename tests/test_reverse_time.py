"""Acceptance tests of ``SDE.reverse`` for state-dependent and matrix-valued diffusions (chapter 6).

The reverse-time SDE of ``dx = f dt + G dW`` is (book: eq-reverse-sde-general)

    dx = [f - div(Sigma) - Sigma grad log p_t] dt + G dW_bar,   Sigma = G G^T,  (div Sigma)_i = sum_j d_j Sigma_ij,

run from t = T down to 0. The tests pin ``ReverseSDE.f`` to closed forms (a log-normal GBM, a 2-D "banana"
process with non-diagonal Sigma(x), a non-square G(x) whose divergence sympy computes, score_sde's scalar
case) and then run the reverse SDE from the exact p_T and compare with the exact marginals p_t.

Monte Carlo tolerances (stated once, used by every simulation test): a sample mean of N draws is accepted
within 5 standard errors plus 0.01 for the Euler-Maruyama weak error at 100 steps (measured below 0.006
with 5*10^4 to 10^5 paths for both examples, Monte Carlo noise included); a sample variance v_hat within
5 * v * sqrt(2/N) plus 0.01. The formula that omits div(Sigma) must miss by more than 10 such tolerances
(5 for the probability-flow ODE, which carries half the term): it is not a near miss.
"""

from __future__ import annotations

import math

import pytest
import sympy as sp
import torch

from scoresde.sde import VPSDE, FunctionSDE, GeometricBrownianMotion, ReverseSDE
from scoresde.solvers import solve


# ---- example 1: GBM with a log-normal initial law -----------------------------------------------------
# log x_0 ~ N(M0, S0^2)  =>  log x_t ~ N(m_t, v_t), m_t = M0 + (mu - sigma^2/2) t, v_t = S0^2 + sigma^2 t.
MU, SIG, M0, S0, T = 0.2, 0.5, 0.0, 0.3, 1.0


def gbm_mean_var(t: float) -> tuple[float, float]:
    return M0 + (MU - SIG**2 / 2) * t, S0**2 + SIG**2 * t


def gbm_score(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """d/dx log p_t(x) of the log-normal law: -(1 + (log x - m_t)/v_t) / x."""
    m = M0 + (MU - SIG**2 / 2) * t[:, None]
    v = S0**2 + SIG**2 * t[:, None]
    return -(1 + (torch.log(x) - m) / v) / x


def gbm_reverse_drift(x: torch.Tensor, t: float, *, divergence: bool = True) -> torch.Tensor:
    """Closed form of the reverse drift: mu x - 2 sigma^2 x [if divergence] + sigma^2 x (1 + (log x - m)/v)."""
    m, v = gbm_mean_var(t)
    return MU * x - (2 * SIG**2 * x if divergence else 0) + SIG**2 * x * (1 + (torch.log(x) - m) / v)


def gbm_autograd() -> FunctionSDE:
    """The same GBM as a FunctionSDE without a closed-form hook: div(Sigma) comes from autograd."""
    return FunctionSDE(lambda x, t: MU * x, lambda x, t: SIG * x, "diagonal", T=T)


def gbm_without_divergence() -> FunctionSDE:
    """The wrong formula: a hook that claims div(Sigma) = 0 although G depends on x."""
    return FunctionSDE(lambda x, t: MU * x, lambda x, t: SIG * x, "diagonal", T=T,
                       div_sigma=lambda x, t: torch.zeros_like(x))


# ---- example 2: the banana, a 2-D process with non-diagonal, state-dependent Sigma(x) -----------------
# y = OU in R^2 (dy = -beta y dt + sigma dW, independent coordinates, y_0 ~ N(0, diag(S_Y^2))) and
# x = (y1, y2 + a y1^2). Ito's formula gives dx = f(x) dt + G(x) dW with
# f = (-beta x1, -beta x2 - a beta x1^2 + a sigma^2), G = sigma [[1, 0], [2 a x1, 1]],
# Sigma = sigma^2 [[1, 2 a x1], [2 a x1, 1 + 4 a^2 x1^2]], div(Sigma) = (0, 2 a sigma^2).
BETA, SIGB, A = 0.5, 1.0, 0.6
S_Y = (1.0, 0.4)


def banana_y_var(t: float) -> torch.Tensor:
    s0 = torch.tensor(S_Y, dtype=torch.float64) ** 2
    return s0 * math.exp(-2 * BETA * t) + SIGB**2 * (1 - math.exp(-2 * BETA * t)) / (2 * BETA)


def banana_f(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    x1, x2 = x[:, 0], x[:, 1]
    return torch.stack([-BETA * x1, -BETA * x2 - A * BETA * x1**2 + A * SIGB**2], dim=1)


def banana_g(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    G = x.new_zeros(x.shape[0], 2, 2)
    G[:, 0, 0] = SIGB
    G[:, 1, 0] = 2 * A * SIGB * x[:, 0]
    G[:, 1, 1] = SIGB
    return G


def banana_div(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return torch.stack([torch.zeros_like(x[:, 0]), torch.full_like(x[:, 0], 2 * A * SIGB**2)], dim=1)


def banana_score(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """p_t(x) = N(x1; 0, V1) N(x2 - a x1^2; 0, V2): the change of variables has Jacobian 1."""
    V = S_Y[0] ** 2 * torch.exp(-2 * BETA * t) + SIGB**2 * (1 - torch.exp(-2 * BETA * t)) / (2 * BETA)
    W = S_Y[1] ** 2 * torch.exp(-2 * BETA * t) + SIGB**2 * (1 - torch.exp(-2 * BETA * t)) / (2 * BETA)
    y1, y2 = x[:, 0], x[:, 1] - A * x[:, 0] ** 2
    s2 = -y2 / W
    return torch.stack([-y1 / V - 2 * A * x[:, 0] * s2, s2], dim=1)


def banana(div: str = "hook") -> FunctionSDE:
    hook = {"hook": banana_div, "autograd": None, "zero": lambda x, t: torch.zeros_like(x)}[div]
    return FunctionSDE(banana_f, banana_g, "general", noise_dim=2, div_sigma=hook, T=T)


def banana_sample(n: int, t: float, generator: torch.Generator, device="cpu") -> torch.Tensor:
    y = banana_y_var(t).sqrt().to(device) * torch.randn(n, 2, generator=generator, device=device, dtype=torch.float64)
    return torch.stack([y[:, 0], y[:, 1] + A * y[:, 0] ** 2], dim=1)


# ---- closed forms ------------------------------------------------------------------------------------

def test_gbm_reverse_drift_closed_form_hook_and_autograd(device):
    g = torch.Generator().manual_seed(0)
    x = torch.exp(0.4 * torch.randn(64, 1, generator=g, dtype=torch.float64)).to(device)
    for t in (0.05, 0.5, 1.0):
        expected = gbm_reverse_drift(x, t)
        for fwd in (GeometricBrownianMotion(mu=MU, sigma=SIG, T=T), gbm_autograd()):
            rev = fwd.reverse(gbm_score)
            assert isinstance(rev, ReverseSDE) and rev.time_direction == -1
            torch.testing.assert_close(fwd.div_sigma(x, t), 2 * SIG**2 * x)
            torch.testing.assert_close(rev.f(x, t), expected)
            assert rev.f(x, t).device == x.device
        # omitting div(Sigma) changes the drift by exactly 2 sigma^2 x
        wrong = gbm_without_divergence().reverse(gbm_score).f(x, t)
        torch.testing.assert_close(wrong, gbm_reverse_drift(x, t, divergence=False))
        torch.testing.assert_close(wrong - expected, 2 * SIG**2 * x)


def test_banana_reverse_drift_matrix_sigma(device):
    """Non-diagonal Sigma(x): the drift is f - div(Sigma) - Sigma s, hook and autograd agree."""
    g = torch.Generator().manual_seed(1)
    x = (1.5 * torch.randn(50, 2, generator=g, dtype=torch.float64)).to(device)
    t = torch.rand(50, generator=g, dtype=torch.float64).to(device)
    s = banana_score(x, t)
    Sig = torch.stack([torch.stack([torch.ones_like(x[:, 0]), 2 * A * x[:, 0]], -1),
                       torch.stack([2 * A * x[:, 0], 1 + 4 * A**2 * x[:, 0] ** 2], -1)], 1) * SIGB**2
    expected = banana_f(x, t) - banana_div(x, t) - (Sig @ s[:, :, None])[:, :, 0]
    v = torch.randn(50, 2, generator=g, dtype=torch.float64).to(device)
    torch.testing.assert_close(banana("autograd").sigma_prod(x, t, v), (Sig @ v[:, :, None])[:, :, 0])
    torch.testing.assert_close(banana("autograd").div_sigma(x, t), banana_div(x, t))
    for div in ("hook", "autograd"):
        torch.testing.assert_close(banana(div).reverse(banana_score).f(x, t), expected)
    flow = banana("autograd").reverse(banana_score, probability_flow=True)
    assert flow.noise_type == "none"
    torch.testing.assert_close(flow.f(x, t), banana_f(x, t) - 0.5 * (banana_div(x, t) + (Sig @ s[:, :, None])[:, :, 0]))


def _sympy_divergence(G: sp.Matrix, xs: tuple[sp.Symbol, ...]) -> sp.Matrix:
    S = G * G.T
    return sp.Matrix([sum(sp.diff(S[i, j], xs[j]) for j in range(len(xs))) for i in range(len(xs))])


def test_general_nonsquare_G_divergence_against_sympy(device):
    """D = 2 states, m = 3 Brownian motions, every entry of G depends on x: autograd vs sympy."""
    x1, x2 = sp.symbols("x1 x2", real=True)
    Gs = sp.Matrix([[sp.sin(x1) + 2, x1 * x2, 0], [sp.Rational(1, 2), sp.exp(-x2**2), x1 + x2**2]])
    div = _sympy_divergence(Gs, (x1, x2))

    def at(expr: sp.Matrix, row: list[float]) -> list[list[float]]:
        return [[float(v) for v in r] for r in expr.subs({x1: row[0], x2: row[1]}).tolist()]

    def g_fn(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        a, b = x[:, 0], x[:, 1]
        z = torch.zeros_like(a)
        return torch.stack([torch.stack([torch.sin(a) + 2, a * b, z], -1),
                            torch.stack([z + 0.5, torch.exp(-b**2), a + b**2], -1)], 1)

    sde = FunctionSDE(lambda x, t: -x, g_fn, "general", noise_dim=3)
    x = torch.tensor([[0.3, -1.2], [1.0, 0.5], [-2.0, 0.1]], device=device, dtype=torch.float64)
    ref = torch.tensor([[v[0] for v in at(div, row)] for row in x.tolist()], device=device, dtype=torch.float64)
    torch.testing.assert_close(sde.div_sigma(x, 0.3), ref)
    refG = torch.tensor([at(Gs, row) for row in x.tolist()], device=device, dtype=torch.float64)
    torch.testing.assert_close(sde.g(x, 0.3), refG)
    # the reverse drift with a made-up score s(x) = -x: f - div(Sigma) - G G^T s
    score = lambda x, t: -x  # noqa: E731
    expected = -x - ref + (refG @ refG.transpose(1, 2) @ x[:, :, None])[:, :, 0]
    torch.testing.assert_close(sde.reverse(score).f(x, 0.3), expected)


def test_diagonal_and_scalar_state_dependent_divergence_event_shape(device):
    """Diagonal g(x) on image-shaped states (batch, 2, 2), and a state-dependent scalar g(x)."""
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(5, 2, 2, generator=gen, dtype=torch.float64).to(device)
    diag = FunctionSDE(lambda x, t: torch.zeros_like(x), lambda x, t: torch.cos(x) + 2, "diagonal")
    torch.testing.assert_close(diag.div_sigma(x, 0.0), -2 * (torch.cos(x) + 2) * torch.sin(x))
    scal = FunctionSDE(lambda x, t: torch.zeros_like(x),
                       lambda x, t: 1 + x.reshape(x.shape[0], -1).square().sum(1), "scalar")
    n2 = x.reshape(5, -1).square().sum(1)[:, None, None]
    torch.testing.assert_close(scal.div_sigma(x, 0.0), 4 * (1 + n2) * x)  # grad (1+|x|^2)^2
    s = torch.randn(5, 2, 2, generator=gen, dtype=torch.float64).to(device)
    rev = scal.reverse(lambda y, t: s)
    torch.testing.assert_close(rev.f(x, 0.0), -4 * (1 + n2) * x - (1 + n2) ** 2 * s)


def test_scalar_time_only_case_is_score_sde_formula(device):
    """g = g(t): div(Sigma) = 0 and the drift is score_sde's f - g(t)^2 s (book: eq-reverse-sde)."""
    sde = VPSDE()
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(8, 3, generator=gen, dtype=torch.float64).to(device)
    t = torch.rand(8, generator=gen, dtype=torch.float64).to(device)
    score = lambda y, tt: -y / (1 + tt[:, None])  # noqa: E731
    beta = sde.beta(t)[:, None]
    torch.testing.assert_close(sde.reverse(score).f(x, t), -0.5 * beta * x + beta * x / (1 + t[:, None]))
    as_function = FunctionSDE(sde.f, sde.g, "scalar")  # no additive flag: autograd finds div = 0
    torch.testing.assert_close(as_function.div_sigma(x, t), torch.zeros_like(x))
    torch.testing.assert_close(as_function.reverse(score).f(x, t), sde.reverse(score).f(x, t))


# ---- Monte Carlo: the reverse SDE started at p_T reproduces p_t (tolerances: see the module docstring) ----

N_PATHS, DT = 20000, T / 100


def mean_tol(sd: float, n: int) -> float:
    return 5 * sd / math.sqrt(n) + 0.01


def var_tol(v: float, n: int) -> float:
    return 5 * v * math.sqrt(2 / n) + 0.01


def gbm_log_errors(fwd, probability_flow: bool, n: int, device="cpu", seed: int = 4):
    """Largest |error| / tolerance of (mean, variance) of log x at t = T/2 and t = 0."""
    gen = torch.Generator(device).manual_seed(seed)
    m, v = gbm_mean_var(T)
    xT = torch.exp(m + math.sqrt(v) * torch.randn(n, 1, generator=gen, device=device, dtype=torch.float64))
    rev = fwd.reverse(gbm_score, probability_flow=probability_flow)
    xs = solve(rev, xT, [T, T / 2, 0.0], dt=DT, generator=gen)
    assert xs.shape == (3, n, 1) and xs.device == xT.device
    worst = 0.0
    for k, t in ((1, T / 2), (2, 0.0)):
        logx = torch.log(xs[k, :, 0])
        m, v = gbm_mean_var(t)
        worst = max(worst, abs(float(logx.mean()) - m) / mean_tol(math.sqrt(v), n),
                    abs(float(logx.var()) - v) / var_tol(v, n))
    return worst


@pytest.fixture
def one_thread():
    """Small tensors (20000 x 2): one intra-op thread is faster, and much faster on a shared CPU."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.slow
@pytest.mark.parametrize("fwd", [GeometricBrownianMotion(mu=MU, sigma=SIG, T=T), gbm_autograd()],
                         ids=["closed-form-div", "autograd-div"])
def test_gbm_reverse_sde_reproduces_lognormal_marginals(fwd, one_thread):
    assert gbm_log_errors(fwd, False, N_PATHS) < 1.0


@pytest.mark.slow
def test_gbm_without_divergence_fails_by_a_wide_margin(one_thread):
    """The same test with the formula that omits div(Sigma)."""
    assert gbm_log_errors(gbm_without_divergence(), False, N_PATHS) > 10.0


@pytest.mark.slow
def test_gbm_probability_flow_reproduces_lognormal_marginals(one_thread):
    """The deterministic member of the family (lambda = 0) has the same marginals; without div(Sigma)
    it misses too (by half as much: the ODE carries half of the term)."""
    assert gbm_log_errors(GeometricBrownianMotion(mu=MU, sigma=SIG, T=T), True, N_PATHS) < 1.0
    assert gbm_log_errors(gbm_without_divergence(), True, N_PATHS) > 5.0


def banana_errors(div: str, n: int, device="cpu", seed: int = 5) -> float:
    """Largest |error| / tolerance of the mean and variance of y = (x1, x2 - a x1^2) at t = T/2 and t = 0.

    Under p_t, y is Gaussian with mean 0 and independent coordinates of variance banana_y_var(t).
    """
    gen = torch.Generator(device).manual_seed(seed)
    xT = banana_sample(n, T, gen, device)
    xs = solve(banana(div).reverse(banana_score), xT, [T, T / 2, 0.0], dt=DT, generator=gen)
    worst = 0.0
    for k, t in ((1, T / 2), (2, 0.0)):
        x = xs[k]
        y = torch.stack([x[:, 0], x[:, 1] - A * x[:, 0] ** 2], dim=1)
        var = banana_y_var(t)
        for i in range(2):
            v = float(var[i])
            worst = max(worst, abs(float(y[:, i].mean())) / mean_tol(math.sqrt(v), n),
                        abs(float(y[:, i].var()) - v) / var_tol(v, n))
    return worst


@pytest.mark.slow
@pytest.mark.parametrize("div", ["hook", "autograd"])
def test_banana_reverse_sde_reproduces_marginals(div, one_thread):
    assert banana_errors(div, N_PATHS) < 1.0


@pytest.mark.slow
def test_banana_without_divergence_fails_by_a_wide_margin(one_thread):
    assert banana_errors("zero", N_PATHS) > 10.0


@pytest.mark.gpu
def test_cuda_reverse_matches_cpu_formula_and_simulates():
    """On CUDA: the drift equals the CPU value, and the simulation passes with the CUDA generator."""
    x = torch.exp(0.3 * torch.randn(16, 1, generator=torch.Generator().manual_seed(6), dtype=torch.float64))
    rev = gbm_autograd().reverse(gbm_score)
    torch.testing.assert_close(rev.f(x.cuda(), 0.5).cpu(), rev.f(x, 0.5))
    assert gbm_log_errors(gbm_autograd(), False, N_PATHS, device="cuda") < 1.0
    assert banana_errors("autograd", N_PATHS, device="cuda") < 1.0
    with pytest.raises(ValueError, match="device"):
        solve(rev, x.cuda(), [T, 0.0], dt=DT, generator=torch.Generator().manual_seed(0))


# ---- bad input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: GeometricBrownianMotion().reverse("score"), TypeError, "callable"),
        (lambda: GeometricBrownianMotion().reverse(gbm_score, probability_flow=1), TypeError, "bool"),
        (lambda: GeometricBrownianMotion().reverse(gbm_score).reverse(gbm_score), ValueError, "forward-time"),
        (lambda: FunctionSDE(lambda x, t: x, lambda x, t: x, sde_type="stratonovich").reverse(gbm_score),
         ValueError, "Itô"),
        (lambda: ReverseSDE(object(), gbm_score), TypeError, "SDE"),
        (lambda: GeometricBrownianMotion().reverse(lambda x, t: x[:, :1]).f(torch.ones(4, 2, dtype=torch.float64), 0.5),
         ValueError, "shape"),
        (lambda: GeometricBrownianMotion().reverse(lambda x, t: x.cpu().long()).f(torch.ones(4, 2, dtype=torch.float64), 0.5),
         TypeError, "floating"),
        (lambda: GeometricBrownianMotion().reverse(lambda x, t: 1.0).f(torch.ones(4, 2, dtype=torch.float64), 0.5),
         TypeError, "torch.Tensor"),
        (lambda: GeometricBrownianMotion().reverse(gbm_score).f(torch.ones(4, 1, dtype=torch.float64), torch.ones(3, dtype=torch.float64)),
         ValueError, "shape"),
        (lambda: FunctionSDE(banana_f, lambda x, t: x.new_zeros(x.shape[0], 2, 3), "general", noise_dim=2)
         .reverse(banana_score).f(torch.ones(4, 2, dtype=torch.float64), 0.5), ValueError, "needs"),
        (lambda: FunctionSDE(banana_f, banana_g, "general", noise_dim=2, div_sigma=lambda x, t: x[:, :1])
         .reverse(banana_score).f(torch.ones(4, 2, dtype=torch.float64), 0.5), ValueError, "shape"),
        (lambda: FunctionSDE(banana_f, banana_g, "general"), ValueError, "noise_dim"),
        (lambda: FunctionSDE(banana_f, banana_g, "general", noise_dim=2, div_sigma=3), TypeError, "callable"),
        (lambda: GeometricBrownianMotion().reverse(gbm_score, probability_flow=True).g(torch.ones(4, 1, dtype=torch.float64), 0.5),
         ValueError, "no diffusion"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
