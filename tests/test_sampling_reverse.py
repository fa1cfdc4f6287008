"""Tests of scoresde.sampling.reverse (reverse-SDE, predictor-corrector, probability-flow samplers) and of the
time-weighted objective scoresde.losses.sde_score_matching that trains their score, with the exact score.

The exact score: for data p_0 = sum_k w_k N(mu_k, s_k^2 I) and a perturbation kernel N(alpha_t x_0, sigma_t^2 I)
(VE, VP, sub-VP), every time marginal is again a mixture (book: eq-mixture-marginal)

    p_t = sum_k w_k N(alpha_t mu_k, (alpha_t^2 s_k^2 + sigma_t^2) I),

so its score is known in closed form for every t and the samplers can be tested without any learning.

Tolerances (stated where used): sample means within 5 standard errors, sample variances within 5 standard errors
of the variance estimate (both from the samples), the share of each mixture component within 5 binomial
standard errors, and a permutation energy-distance test against fresh data that must not reject at level 0.001.
"""

from __future__ import annotations

import math
import re

import pytest
import torch

from scoresde import DivergenceError
from scoresde.data import GaussianMixture, eight_gaussians
from scoresde.losses import sde_score_matching
from scoresde.metrics import permutation_test
from scoresde.sampling.reverse import (
    predictor_corrector_sample,
    probability_flow_sample,
    reverse_sde_sample,
)
from scoresde.brownian import Increment
from scoresde.sampling import PREDICTORS, LangevinCorrector
from scoresde.sde import VESDE, GeometricBrownianMotion, SubVPSDE, VPSDE
from scoresde.solvers import solve


SDES = {"vp": VPSDE(), "subvp": SubVPSDE(), "ve": VESDE(sigma_max=10.0)}


def marginal_score(mix: GaussianMixture, sde):
    """The exact score of p_t, s(x, t) with t of shape (batch,) (book: eq-mixture-marginal)."""
    return mix.time_marginal_score(sde)


def marginal_log_prob(mix: GaussianMixture, sde, x: torch.Tensor, t: float) -> torch.Tensor:
    return mix.time_marginal_log_prob(sde, x, t)


# ---- the exact score itself ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SDES))
def test_marginal_score_is_the_gradient_of_the_marginal_log_density(name):
    sde, mix = SDES[name], eight_gaussians()
    g = torch.Generator().manual_seed(0)
    x = 3 * torch.randn(50, 2, generator=g, dtype=torch.float64)
    t = torch.rand(50, generator=g, dtype=torch.float64)
    xg = x.clone().requires_grad_(True)
    logp = marginal_log_prob(mix, sde, xg, t)
    (grad,) = torch.autograd.grad(logp.sum(), xg)
    torch.testing.assert_close(marginal_score(mix, sde)(x, t), grad)
    if name == "ve":  # VE adds noise only: p_t is the data's own noised() mixture
        tt = torch.full((50,), 0.4, dtype=torch.float64)
        sigma = float(sde.marginal_prob(x, tt)[1][0])
        torch.testing.assert_close(marginal_score(mix, sde)(x, tt), mix.noised(sigma).score(x))


# ---- samplers against the data, with the exact score -----------------------------------------------------


def check_samples(samples: torch.Tensor, mix: GaussianMixture, seed: int) -> None:
    n = samples.shape[0]
    assert samples.shape == (n, 2) and bool(torch.isfinite(samples).all())
    mean, cov = mix.mean(), mix.covariance()
    se_mean = samples.std(0) / math.sqrt(n)
    assert bool(((samples.mean(0) - mean).abs() < 5 * se_mean).all()), (samples.mean(0), mean)
    centred_sq = (samples - samples.mean(0)).square()
    se_var = centred_sq.std(0) / math.sqrt(n)
    assert bool(((samples.var(0) - torch.diagonal(cov)).abs() < 5 * se_var).all()), (samples.var(0), cov)
    nearest = torch.cdist(samples, mix.means).argmin(1)
    share = torch.bincount(nearest, minlength=mix.n_components) / n
    w = mix.weights
    assert bool(((share - w).abs() < 5 * (w * (1 - w) / n).sqrt()).all()), share
    ref = mix.sample(n, generator=torch.Generator().manual_seed(seed), dtype=samples.dtype)
    test = permutation_test(samples, ref, n_permutations=200, alpha=0.01, generator=torch.Generator().manual_seed(seed))
    assert not test.reject, test


N = 1000


@pytest.mark.parametrize("name", list(SDES))
def test_reverse_sde_sampler_reproduces_the_data(name):
    sde, mix = SDES[name], eight_gaussians()
    g = torch.Generator().manual_seed(1)
    x = reverse_sde_sample(sde, marginal_score(mix, sde), (N, 2), n_steps=250, generator=g, dtype=torch.float64)
    check_samples(x, mix, 11)


@pytest.mark.parametrize("name", list(SDES))
def test_predictor_corrector_sampler_reproduces_the_data(name):
    sde, mix = SDES[name], eight_gaussians()
    g = torch.Generator().manual_seed(2)
    x = predictor_corrector_sample(sde, marginal_score(mix, sde), (N, 2), n_steps=100, snr=0.16, generator=g,
                                   dtype=torch.float64)
    check_samples(x, mix, 12)


@pytest.mark.parametrize("name", list(SDES))
def test_probability_flow_sampler_reproduces_the_data(name):
    sde, mix = SDES[name], eight_gaussians()
    g = torch.Generator().manual_seed(3)
    x, nfe = probability_flow_sample(sde, marginal_score(mix, sde), (N, 2), generator=g, dtype=torch.float64,
                                     return_nfe=True)
    assert 20 < nfe < 1000
    check_samples(x, mix, 13)


@pytest.mark.parametrize(
    "sampler",
    [
        lambda s, sc, g: reverse_sde_sample(s, sc, (N, 2), n_steps=200, method="heun", generator=g, dtype=torch.float64),
        lambda s, sc, g: predictor_corrector_sample(s, sc, (N, 2), n_steps=100, predictor="heun", n_corrector=2,
                                                    generator=g, dtype=torch.float64),
        lambda s, sc, g: probability_flow_sample(s, sc, (N, 2), method="euler", n_steps=200, generator=g,
                                                 dtype=torch.float64),
        lambda s, sc, g: probability_flow_sample(s, sc, (N, 2), method="heun", n_steps=50, generator=g,
                                                 dtype=torch.float64),
    ],
    ids=["sde-heun", "pc-heun-2corrector", "ode-euler", "ode-heun"],
)
def test_other_solver_options_reproduce_the_data(sampler):
    sde, mix = SDES["vp"], eight_gaussians()
    check_samples(sampler(sde, marginal_score(mix, sde), torch.Generator().manual_seed(4)), mix, 14)


def test_a_wrong_score_is_caught():
    """The checks have power: half the exact score (the probability-flow drift, lambda = 1/2, used with the
    SDE's noise) or the score of p_T at every time (a network that ignores t) give samples they reject."""
    sde, mix = SDES["vp"], eight_gaussians()
    exact = marginal_score(mix, sde)
    for wrong in (lambda x, t: 0.5 * exact(x, t), lambda x, t: exact(x, torch.full_like(t, sde.T))):
        x = reverse_sde_sample(sde, wrong, (N, 2), n_steps=200, generator=torch.Generator().manual_seed(5))
        with pytest.raises(AssertionError):
            check_samples(x.double(), mix, 15)


def test_pc_without_corrector_is_the_reverse_sde_sampler_step_for_step():
    sde, mix = SDES["vp"], eight_gaussians()
    score = marginal_score(mix, sde)
    a = predictor_corrector_sample(sde, score, (200, 2), n_steps=50, n_corrector=0,
                                   generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    b = reverse_sde_sample(sde, score, (200, 2), n_steps=50, generator=torch.Generator().manual_seed(6),
                           dtype=torch.float64)
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize("name", list(SDES))
def test_probability_flow_of_a_gaussian_is_the_exact_linear_map(name):
    """For p_0 = N(0, s^2 I), p_t = N(0, v_t I) with v_t = alpha_t^2 s^2 + sigma_t^2, the probability-flow ODE
    is linear and maps x_T to x_T * sqrt(v_eps / v_T) exactly; dopri5 at rtol = atol = 1e-7 must agree to 1e-5,
    and Euler's error must shrink about linearly in the step (first order: ratio in (1.6, 2.4) per halving)."""
    sde, s = SDES[name], 0.5
    mix = GaussianMixture([[0.0, 0.0]], s)
    score = marginal_score(mix, sde)
    xT = torch.randn(100, 2, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    eps = 1e-3

    def v(t: float) -> float:
        alpha, sigma = sde.marginal_prob(torch.ones(1, 1, dtype=torch.float64), t)
        return float(alpha[0, 0]) ** 2 * s * s + float(sigma[0]) ** 2

    exact = xT * math.sqrt(v(eps) / v(sde.T))
    out = probability_flow_sample(sde, score, x_T=xT, rtol=1e-7, atol=1e-7, eps=eps)
    torch.testing.assert_close(out, exact, atol=1e-5, rtol=0)
    errs = [float((probability_flow_sample(sde, score, x_T=xT, method="euler", n_steps=n, eps=eps) - exact).abs().max())
            for n in (200, 400)]
    assert 1.6 < errs[0] / errs[1] < 2.4, errs


def test_x_T_device_dtype_and_seed():
    sde, mix = SDES["vp"], eight_gaussians()
    score = marginal_score(mix, sde)
    for sample in (reverse_sde_sample, predictor_corrector_sample):
        a = sample(sde, score, (10, 2), n_steps=5, generator=torch.Generator().manual_seed(8), dtype=torch.float32)
        b = sample(sde, score, (10, 2), n_steps=5, generator=torch.Generator().manual_seed(8), dtype=torch.float32)
        c = sample(sde, score, (10, 2), n_steps=5, generator=torch.Generator().manual_seed(9), dtype=torch.float32)
        assert a.dtype == torch.float32 and torch.equal(a, b) and not torch.equal(a, c)
    xT = torch.zeros(4, 2, dtype=torch.float64)
    out = probability_flow_sample(sde, score, x_T=xT, method="euler", n_steps=10)
    assert float(out.abs().max()) < 1e-10  # the mixture is symmetric about 0: the flow fixes the origin


def test_progress_bar_gives_the_same_samples(capsys):
    sde, mix = SDES["vp"], eight_gaussians()
    score = marginal_score(mix, sde)
    for sample in (reverse_sde_sample, predictor_corrector_sample):
        a = sample(sde, score, (10, 2), n_steps=5, generator=torch.Generator().manual_seed(10), progress=True)
        b = sample(sde, score, (10, 2), n_steps=5, generator=torch.Generator().manual_seed(10))
        torch.testing.assert_close(a, b)
    a = probability_flow_sample(sde, score, (10, 2), method="heun", n_steps=5,
                                generator=torch.Generator().manual_seed(10), progress=True)
    assert "5/5" in capsys.readouterr().err


def _late_blow_up(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A score that is finite and harmless for t > 1/2 and explodes below: a divergence mid-run, after the
    samplers' pre-flight check of the score at t = T has passed."""
    return -x if float(t.reshape(-1)[0]) > 0.5 else 1e300 * x.sign()


@pytest.mark.parametrize(
    "sample",
    [
        lambda: reverse_sde_sample(SDES["vp"], _late_blow_up, (10, 2), n_steps=20),
        lambda: predictor_corrector_sample(SDES["vp"], _late_blow_up, (10, 2), n_steps=20),
        lambda: predictor_corrector_sample(SDES["vp"], _late_blow_up, (10, 2), n_steps=20, n_corrector=0),
        lambda: probability_flow_sample(SDES["vp"], _late_blow_up, (10, 2), method="euler", n_steps=20),
        lambda: probability_flow_sample(SDES["vp"], _late_blow_up, (10, 2), method="heun", n_steps=20),
    ],
    ids=["reverse_sde", "pc", "pc_no_corrector", "flow_euler", "flow_heun"],
)
def test_a_sampler_that_blows_up_mid_run_names_the_step(sample):
    with pytest.raises(DivergenceError, match="non-finite") as info:
        sample()
    steps = [int(k) for k in re.findall(r"step (\d+)", str(info.value))]
    assert steps, f"the error does not name the step: {info.value}"
    # the grid T = t_0 > ... > t_20 = eps crosses t = 1/2 between t_10 = 0.5005 and t_11 = 0.45055: the score
    # explodes in step 10 (Heun evaluates at its end point t_11) or step 11 (every other sampler)
    assert steps[0] in (10, 11), f"diverged in step 10 or 11 of 20; the error says {steps[0]}"
    assert "0.45055" in str(info.value) or "0.5005" in str(info.value), "the error names the time"


def test_a_flow_that_blows_up_mid_run_with_dopri5_says_so():
    with pytest.raises(DivergenceError, match="non-finite"):
        probability_flow_sample(SDES["vp"], _late_blow_up, (10, 2))


def vp_score(x, t):
    return -x


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: reverse_sde_sample("vp", vp_score, (4, 2)), TypeError, "scoresde.sde.SDE"),
        (lambda: reverse_sde_sample(VPSDE().reverse(vp_score), vp_score, (4, 2)), ValueError, "forward SDE"),
        (lambda: reverse_sde_sample(VPSDE(), "score", (4, 2)), TypeError, "callable"),
        (lambda: reverse_sde_sample(VPSDE(), lambda x, t: x[:, :1], (4, 2)), ValueError, "shape"),
        (lambda: reverse_sde_sample(VPSDE(), vp_score), ValueError, "give shape"),
        (lambda: reverse_sde_sample(VPSDE(), vp_score, (4,)), ValueError, "n_samples"),
        (lambda: reverse_sde_sample(VPSDE(), vp_score, (4, 2), x_T=torch.zeros(4, 2, dtype=torch.float64)), ValueError, "not both"),
        (lambda: reverse_sde_sample(VPSDE(), vp_score, x_T=torch.zeros(4, dtype=torch.float64)), ValueError, "at least 2"),
        (lambda: reverse_sde_sample(VPSDE(), vp_score, x_T=torch.full((4, 2), float("nan"), dtype=torch.float64)), ValueError, "non-finite"),
        (lambda: reverse_sde_sample(VPSDE(), vp_score, (4, 2), n_steps=0), ValueError, ">= 1"),
        (lambda: reverse_sde_sample(VPSDE(), vp_score, (4, 2), eps=1.0), ValueError, "eps"),
        (lambda: reverse_sde_sample(VPSDE(), vp_score, (4, 2), method="rk4"), ValueError, "unknown method"),
        (lambda: reverse_sde_sample(VPSDE(), vp_score, (4, 2), generator=3), TypeError, "Generator"),
        (lambda: reverse_sde_sample(VPSDE(), vp_score, (4, 2), progress=1), TypeError, "bool"),
        (lambda: reverse_sde_sample(GeometricBrownianMotion(), vp_score, (4, 2)), NotImplementedError, "prior"),
        (lambda: predictor_corrector_sample(VPSDE(), vp_score, (4, 2), snr=0.0), ValueError, "> 0"),
        (lambda: predictor_corrector_sample(VPSDE(), vp_score, (4, 2), n_corrector=-1), ValueError, ">= 0"),
        (lambda: predictor_corrector_sample(VPSDE(), vp_score, (4, 2), predictor="rk4"), ValueError, "unknown predictor"),
        (lambda: predictor_corrector_sample(VPSDE(), vp_score, (4, 2), alpha_factor=1), TypeError, "alpha_factor"),
        (lambda: predictor_corrector_sample(VPSDE(), vp_score, (4, 2), denoise="yes"), TypeError, "denoise"),
        (lambda: predictor_corrector_sample(VPSDE(), vp_score, (4, 2), return_nfe=1), TypeError, "return_nfe"),
        (lambda: probability_flow_sample(VPSDE(), vp_score, (4, 2), method="rk45"), ValueError, "unknown method"),
        (lambda: probability_flow_sample(VPSDE(), vp_score, (4, 2), rtol=0.0), ValueError, "> 0"),
        (lambda: probability_flow_sample(VPSDE(), vp_score, (4, 2), return_nfe=1), TypeError, "bool"),
        (lambda: probability_flow_sample(VPSDE(), lambda x, t: x * float("nan"), (4, 2)), ValueError, "non-finite"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---- SDE.discretize, the predictors and the corrector against score_sde's definitions ---------------------
# Each expected value is score_sde's formula written out here (sde_lib.py, sampling.py of score_sde_pytorch),
# not a call of the code under test.


def _peer_vp_betas(sde: VPSDE, n: int) -> torch.Tensor:
    """score_sde VPSDE: discrete_betas = linspace(beta_min / N, beta_max / N, N); index i is t = i T / (N - 1)."""
    return torch.linspace(sde.beta_min / n, sde.beta_max / n, n, dtype=torch.float64)


def _peer_ve_sigmas(sde: VESDE, n: int) -> torch.Tensor:
    """score_sde VESDE: discrete_sigmas = exp(linspace(log sigma_min, log sigma_max, N))."""
    return torch.exp(torch.linspace(math.log(sde.sigma_min), math.log(sde.sigma_max), n, dtype=torch.float64))


PEER_N = 50
PEER_IDX = torch.tensor([0, 1, 17, 49])


def test_vp_discretize_is_the_ddpm_chain():
    """f_i = sqrt(alpha_i) x - x, G_i = sqrt(beta_i) at t = i / (N - 1) with the step T / N."""
    sde, n = VPSDE(), PEER_N
    beta = _peer_vp_betas(sde, n)[PEER_IDX]
    t = PEER_IDX.double() / (n - 1)
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    f, G = sde.discretize(x, t, 1 / n)
    torch.testing.assert_close(f, torch.sqrt(1 - beta)[:, None] * x - x)
    torch.testing.assert_close(G, beta.sqrt())
    torch.testing.assert_close(sde.discrete_beta(t, 1 / n, x), beta)


def test_ve_discretize_is_the_smld_chain():
    """f_i = 0, G_i = sqrt(sigma_i^2 - sigma_{i-1}^2) with sigma_{-1} = 0; score_sde's previous level is the
    previous point of its grid of N levels, i.e. the step 1 / (N - 1) here."""
    sde, n = VESDE(sigma_max=10.0), PEER_N
    sig = _peer_ve_sigmas(sde, n)
    adjacent = torch.where(PEER_IDX == 0, torch.zeros(4, dtype=torch.float64), sig[(PEER_IDX - 1).clamp(min=0)])
    t = PEER_IDX.double() / (n - 1)
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    f, G = sde.discretize(x, t, 1 / (n - 1))
    assert torch.equal(f, torch.zeros_like(x))
    torch.testing.assert_close(G, torch.sqrt(sig[PEER_IDX] ** 2 - adjacent**2))


def test_other_sdes_discretize_by_euler_maruyama_and_the_reverse_chain():
    """sub-VP (no chain of its own in score_sde) is f dt, g sqrt(dt); the reverse chain is
    rev_f = f - G^2 s (x 1/2 and G = 0 for the probability flow)."""
    x, t, dt = torch.randn(4, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64), torch.full((4,), 0.3, dtype=torch.float64), 0.01
    sub = SubVPSDE()
    f, G = sub.discretize(x, t, dt)
    torch.testing.assert_close(f, sub.f(x, t) * dt)
    torch.testing.assert_close(G, sub.g(x, t) * math.sqrt(dt))
    score = lambda y, s: -2 * y  # noqa: E731
    for sde in (VPSDE(), VESDE()):
        f, G = sde.discretize(x, t, dt)
        rev_f, rev_G = sde.reverse(score).discretize(x, t, dt)
        torch.testing.assert_close(rev_f, f - G[:, None] ** 2 * score(x, t))
        torch.testing.assert_close(rev_G, G)
        flow_f, flow_G = sde.reverse(score, probability_flow=True).discretize(x, t, dt)
        torch.testing.assert_close(flow_f, f - 0.5 * G[:, None] ** 2 * score(x, t))
        assert torch.equal(flow_G, torch.zeros_like(G))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: VPSDE().discretize(torch.ones(2, 2, dtype=torch.float64), 0.5, 0.0), ValueError, "dt must be > 0"),
        (lambda: VPSDE().discretize(torch.ones(2, 2, dtype=torch.float64), 0.5, 0.2), ValueError, "too large"),
        (lambda: GeometricBrownianMotion().reverse(vp_score).discretize(torch.ones(2, 2, dtype=torch.float64), 0.5, 0.1), ValueError,
         "additive"),
    ],
)
def test_discretize_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_vp_discretize_accepts_the_largest_step_below_one():
    """The mutation partner of the 'too large' check: beta(t) dt just below 1 is a valid chain."""
    f, G = VPSDE().discretize(torch.ones(2, 2, dtype=torch.float64), 1.0, 0.0499)
    assert bool(torch.isfinite(f).all()) and float(G[0]) < 1


def _step(predictor, sde, x, t, dt, z):
    """A predictor step from t to t - dt (dt > 0) with the standard normal z (dw = sqrt(dt) z)."""
    return PREDICTORS[predictor].step(sde, x, t, -dt, Increment(math.sqrt(dt) * z), t - dt)


def _peer_setup(seed: int):
    g = torch.Generator().manual_seed(seed)
    x, z = torch.randn(6, 2, generator=g, dtype=torch.float64), torch.randn(6, 2, generator=g, dtype=torch.float64)
    return x, z, torch.full((6,), 0.4, dtype=torch.float64), 0.02


def test_reverse_diffusion_predictor_is_score_sde_s():
    """x_mean = x - rev_f, x = x_mean + G z, with score_sde's chains written out: VP rev_f = (sqrt(1 - beta) - 1) x
    - beta s, G = sqrt(beta); VE rev_f = -(sigma^2 - sigma_prev^2) s, G = sqrt(sigma^2 - sigma_prev^2)."""
    x, z, t, dt = _peer_setup(3)
    score = lambda y, s: -y / (1 + s[:, None])  # noqa: E731
    s = score(x, t)
    vp = VPSDE()
    beta = (vp.beta_min + 0.4 * (vp.beta_max - vp.beta_min)) * dt
    expected = x - ((math.sqrt(1 - beta) - 1) * x - beta * s) + math.sqrt(beta) * z
    torch.testing.assert_close(_step("reverse_diffusion", vp.reverse(score), x, t, dt, z), expected)
    ve = VESDE(sigma_max=10.0)
    var = (ve.sigma_min * (ve.sigma_max / ve.sigma_min) ** 0.4) ** 2 - (
        ve.sigma_min * (ve.sigma_max / ve.sigma_min) ** (0.4 - dt)) ** 2
    expected = x + var * s + math.sqrt(var) * z
    torch.testing.assert_close(_step("reverse_diffusion", ve.reverse(score), x, t, dt, z), expected)


def test_ancestral_predictor_is_score_sde_s():
    """VP: x_mean = (x + beta s) / sqrt(1 - beta), noise sqrt(beta) z; VE: x_mean = x + (sigma^2 - sigma_prev^2) s,
    noise sqrt(sigma_prev^2 (sigma^2 - sigma_prev^2) / sigma^2) z."""
    x, z, t, dt = _peer_setup(4)
    score = lambda y, s: torch.sin(y) - y  # noqa: E731
    s = score(x, t)
    vp = VPSDE()
    beta = (vp.beta_min + 0.4 * (vp.beta_max - vp.beta_min)) * dt
    expected = (x + beta * s) / math.sqrt(1 - beta) + math.sqrt(beta) * z
    torch.testing.assert_close(_step("ancestral", vp.reverse(score), x, t, dt, z), expected)
    ve = VESDE(sigma_max=10.0)
    sig = ve.sigma_min * (ve.sigma_max / ve.sigma_min) ** 0.4
    prev = ve.sigma_min * (ve.sigma_max / ve.sigma_min) ** (0.4 - dt)
    expected = x + (sig**2 - prev**2) * s + math.sqrt(prev**2 * (sig**2 - prev**2) / sig**2) * z
    torch.testing.assert_close(_step("ancestral", ve.reverse(score), x, t, dt, z), expected)
    # without noise the step is its mean
    mean = PREDICTORS["ancestral"].step(vp.reverse(score), x, t, -dt, None, t - dt)
    torch.testing.assert_close(mean, (x + beta * s) / math.sqrt(1 - beta))


@pytest.mark.parametrize("alpha_factor", [False, True])
def test_langevin_corrector_is_score_sde_s(alpha_factor):
    """step = 2 (snr |z| / |s|)^2 (times alpha = 1 - beta_i with alpha_factor), x + step s + sqrt(2 step) z,
    the noise drawn from the generator."""
    x, _, t, dt = _peer_setup(5)
    score = lambda y, s: -3 * y  # noqa: E731
    vp = VPSDE()
    out = LangevinCorrector(0.2, 2, alpha_factor).step(vp.reverse(score), x, t, dt, torch.Generator().manual_seed(9))
    g = torch.Generator().manual_seed(9)
    alpha = 1 - (vp.beta_min + 0.4 * (vp.beta_max - vp.beta_min)) * dt if alpha_factor else 1.0
    expected = x
    for _ in range(2):
        grad, noise = score(expected, t), torch.randn(expected.shape, generator=g, dtype=torch.float64)
        step = (0.2 * noise.norm(dim=-1).mean() / grad.norm(dim=-1).mean()) ** 2 * 2 * alpha
        expected = expected + step * grad + torch.sqrt(step * 2) * noise
    torch.testing.assert_close(out, expected)


def test_predictors_and_corrector_refuse_what_they_cannot_use():
    x = torch.ones(4, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="needs an SDE with a DDPM or SMLD chain"):
        predictor_corrector_sample(SubVPSDE(), vp_score, (4, 2), n_steps=2, predictor="ancestral")
    with pytest.raises(ValueError, match="ancestral needs additive noise.*no noise"):
        solve(VPSDE().reverse(vp_score, probability_flow=True), x, [1.0, 0.5], method=PREDICTORS["ancestral"])
    with pytest.raises(TypeError, match="needs a reverse-time SDE"):
        solve(VPSDE(), x, [0.0, 0.5], method=PREDICTORS["reverse_diffusion"])
    with pytest.raises(TypeError, match="needs the score of a ReverseSDE"):
        solve(VPSDE(), x, [0.0, 0.5], corrector=LangevinCorrector())
    # the partners: the same calls on what they accept run
    assert solve(VPSDE().reverse(vp_score, probability_flow=True), x, [1.0, 0.5], dt=0.01,
                 method=PREDICTORS["reverse_diffusion"]).shape == (2, 4, 2)
    assert predictor_corrector_sample(VPSDE(), vp_score, (4, 2), n_steps=30, predictor="ancestral").shape == (4, 2)


@pytest.mark.parametrize("name, predictor", [("vp", "ancestral"), ("ve", "reverse_diffusion"),
                                             ("ve", "ancestral"), ("subvp", "reverse_diffusion")])
def test_discrete_chain_predictors_reproduce_the_data(name, predictor):
    sde, mix = SDES[name], eight_gaussians()
    x = predictor_corrector_sample(sde, marginal_score(mix, sde), (N, 2), n_steps=100, predictor=predictor,
                                   generator=torch.Generator().manual_seed(21), dtype=torch.float64)
    check_samples(x, mix, 22)


@pytest.mark.parametrize("predictor, n_corrector, nfe", [("euler", 1, 40), ("euler", 0, 20), ("heun", 1, 60),
                                                         ("reverse_diffusion", 2, 60), ("ancestral", 1, 40)])
def test_pc_counts_its_score_evaluations(predictor, n_corrector, nfe):
    """score_sde's count N (n_corrector + 1) for one-evaluation predictors; Heun evaluates twice per step."""
    out, count = predictor_corrector_sample(VPSDE(), vp_score, (4, 2), n_steps=20, n_corrector=n_corrector,
                                            predictor=predictor, return_nfe=True,
                                            generator=torch.Generator().manual_seed(0))
    assert out.shape == (4, 2) and count == nfe


def test_pc_denoise_returns_the_last_mean():
    """One Euler-Maruyama step without corrector: with denoise the sample is x_T + rev_f(x_T, T) (eps - T)."""
    sde, score = VPSDE(), lambda y, s: -y  # noqa: E731
    x_T = torch.randn(5, 2, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    mean = predictor_corrector_sample(sde, score, x_T=x_T, n_steps=1, n_corrector=0, denoise=True)
    t = torch.full((5,), sde.T, dtype=torch.float64)
    torch.testing.assert_close(mean, x_T + sde.reverse(score).f(x_T, t) * (1e-3 - sde.T))
    noisy = predictor_corrector_sample(sde, score, x_T=x_T, n_steps=1, n_corrector=0)
    assert not torch.allclose(noisy, mean)


def test_pc_keeps_its_random_stream():
    """The PC sampler draws, at each time, the corrector's noise and then the predictor's increment from one
    generator: replayed here by hand for two steps of Euler-Maruyama with one Langevin step each."""
    sde, score = VPSDE(), lambda y, s: -y  # noqa: E731
    x_T = torch.randn(3, 2, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    out = predictor_corrector_sample(sde, score, x_T=x_T, n_steps=2, snr=0.1, eps=0.5,
                                     generator=torch.Generator().manual_seed(8))
    g, x, rsde = torch.Generator().manual_seed(8), x_T, sde.reverse(score)
    for t0 in (1.0, 0.75):
        t = torch.full((3,), t0, dtype=torch.float64)
        s, z = score(x, t), torch.randn(3, 2, generator=g, dtype=torch.float64)
        step = 2 * (0.1 * z.norm(dim=1).mean() / s.norm(dim=1).mean()) ** 2
        x = x + step * s + torch.sqrt(2 * step) * z
        dw = torch.randn(3, 2, generator=g, dtype=torch.float64) * math.sqrt(0.25)
        x = x + rsde.f(x, t) * -0.25 + sde.g(x, t)[:, None] * dw
    torch.testing.assert_close(out, x)


# ---- the training objective of these samplers: sde_score_matching ------------------------------------------


def replay(sde, x, seed, eps=1e-5):
    """The t, z and x_t that sde_score_matching draws from a generator seeded with `seed`."""
    g = torch.Generator().manual_seed(seed)
    t = eps + (sde.T - eps) * torch.rand(x.shape[0], generator=g, dtype=x.dtype)
    z = torch.randn(x.shape, generator=g, dtype=x.dtype)
    mean, std = sde.marginal_prob(x, t)
    return t, z, mean + std[:, None] * z, std


@pytest.mark.parametrize("name", list(SDES))
@pytest.mark.parametrize("weighting", ["sigma2", "likelihood"])
def test_weighted_dsm_is_the_formula_row_by_row(name, weighting):
    sde, mix = SDES[name], eight_gaussians()
    x = mix.sample(64, generator=torch.Generator().manual_seed(20), dtype=torch.float64)
    score = marginal_score(mix, sde)
    got = sde_score_matching(score, x, sde, weighting=weighting, generator=torch.Generator().manual_seed(21),
                             reduction="none")
    t, z, xt, std = replay(sde, x, 21)
    lam = std**2 if weighting == "sigma2" else sde.g(xt, t) ** 2
    torch.testing.assert_close(got, lam * 0.5 * (score(xt, t) + z / std[:, None]).square().sum(1))
    mean = sde_score_matching(score, x, sde, weighting=weighting, generator=torch.Generator().manual_seed(21))
    torch.testing.assert_close(mean, got.mean())


def test_weighted_ssm_pairs_each_row_with_its_own_time():
    """With s(x, t) = -x / (1 + t), Rademacher probes (v^T v = d exactly) and lambda = sigma^2, each row's value
    is sigma^2 [ (v^T s)^2 / 2 - d / (1 + t) ]; averaged over 4000 probes it is within 5 standard errors of
    sigma^2 [ |s|^2 / 2 - d / (1 + t) ]. A time paired with the wrong row would miss by far more."""
    sde = SDES["vp"]
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(22), dtype=torch.float64)
    score = lambda y, t: -y / (1 + t[:, None])  # noqa: E731
    got = sde_score_matching(score, x, sde, objective="ssm", n_projections=4000,
                             generator=torch.Generator().manual_seed(23), reduction="none")
    t, _, xt, std = replay(sde, x, 23)
    s = score(xt, t)
    expected = std**2 * (0.5 * s.square().sum(1) - 2 / (1 + t))
    # per-probe variance of (v^T s)^2/2 with Rademacher v: (sum_{i!=j} s_i^2 s_j^2) = 2 s_1^2 s_2^2 in 2-D
    se = std**2 * (2 * s[:, 0] ** 2 * s[:, 1] ** 2).sqrt() / math.sqrt(4000)
    assert bool(((got - expected).abs() < 5 * se + 1e-12).all())
    assert float((t.max() - t.min())) > 0.2  # the times differ enough for a mix-up to show


@pytest.mark.parametrize("objective", ["dsm", "ssm"])
@pytest.mark.parametrize("weighting", ["sigma2", "likelihood"])
def test_the_exact_score_minimises_the_objective(objective, weighting):
    """J(s* + c) - J(s*) = E[lambda(t)] |c|^2 / 2 for a constant shift c (DSM: E[target | x_t] = s*(x_t); SSM:
    E_{p_t}[s*] = 0 and the shift has no divergence). With the same draws for both, the per-row differences
    are averaged over 20000 rows and must lie within 5 standard errors of E[lambda] |c|^2 / 2, where
    E[lambda] is the trapezoid average of lambda over t in (eps, T) on 10^5 points."""
    sde, mix = SDES["vp"], eight_gaussians()
    x = mix.sample(20000, generator=torch.Generator().manual_seed(24), dtype=torch.float64)
    exact = marginal_score(mix, sde)
    c = torch.tensor([0.3, -0.2], dtype=torch.float64)
    kw = dict(objective=objective, weighting=weighting, reduction="none")
    j0 = sde_score_matching(exact, x, sde, generator=torch.Generator().manual_seed(25), **kw)
    j1 = sde_score_matching(lambda y, t: exact(y, t) + c, x, sde, generator=torch.Generator().manual_seed(25), **kw)
    diff = j1 - j0
    ts = torch.linspace(1e-5, sde.T, 100001, dtype=torch.float64)
    ones = torch.ones(ts.shape[0], 1, dtype=torch.float64)
    lam = sde.marginal_prob(ones, ts)[1] ** 2 if weighting == "sigma2" else sde.g(ones, ts) ** 2
    target = float(torch.trapezoid(lam, ts) / (sde.T - 1e-5)) * 0.5 * float(c.square().sum())
    diff = diff.detach()
    se = float(diff.std()) / math.sqrt(diff.numel())
    assert abs(float(diff.mean()) - target) < 5 * se, (float(diff.mean()), target, se)
    assert target > 10 * se  # the shift is clearly visible


def test_objective_trains_a_network_and_is_reproducible():
    from scoresde.nets import TimeScoreMLP

    sde = SDES["vp"]
    net = TimeScoreMLP(2, 16, 1, generator=torch.Generator().manual_seed(0)).double()
    x = eight_gaussians().sample(32, generator=torch.Generator().manual_seed(26), dtype=torch.float64)
    for objective in ("dsm", "ssm"):
        a = sde_score_matching(net, x, sde, objective=objective, generator=torch.Generator().manual_seed(27))
        b = sde_score_matching(net, x, sde, objective=objective, generator=torch.Generator().manual_seed(27))
        assert a.ndim == 0 and float(a.detach()) == float(b.detach())
        grads = torch.autograd.grad(a, list(net.parameters()), allow_unused=True)
        assert any(gr is not None and float(gr.abs().sum()) > 0 for gr in grads)
    g1 = sde_score_matching(net, x, sde, objective="ssm", dist="gaussian", n_projections=3,
                            generator=torch.Generator().manual_seed(28), eps=1e-3)
    assert bool(torch.isfinite(g1))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: sde_score_matching(vp_score, torch.ones(4, 2, dtype=torch.float64), "vp"), TypeError, "scoresde.sde.SDE"),
        (lambda: sde_score_matching(vp_score, torch.ones(4, 2, dtype=torch.float64), VPSDE(), objective="esm"), ValueError, "unknown objective"),
        (lambda: sde_score_matching(vp_score, torch.ones(4, 2, dtype=torch.float64), VPSDE(), weighting="snr"), ValueError, "unknown weighting"),
        (lambda: sde_score_matching(vp_score, torch.ones(4, 2, dtype=torch.float64), VPSDE(), eps=2.0), ValueError, "eps"),
        (lambda: sde_score_matching(vp_score, torch.ones(4, 2, dtype=torch.float64), VPSDE(), n_projections=0), ValueError, ">= 1"),
        (lambda: sde_score_matching(vp_score, torch.ones(4, 2, dtype=torch.float64), VPSDE(), dist="cauchy"), ValueError, "unknown dist"),
        (lambda: sde_score_matching(vp_score, torch.ones(4, 2, dtype=torch.float64), VPSDE(), reduction="sum"), ValueError, "unknown reduction"),
        (lambda: sde_score_matching(vp_score, torch.ones(4, dtype=torch.float64), VPSDE()), ValueError, "at least 2"),
        (lambda: sde_score_matching(lambda x, t: x[:, :1], torch.ones(4, 2, dtype=torch.float64), VPSDE()), ValueError, "shape"),
        (lambda: sde_score_matching(vp_score, torch.ones(4, 2, dtype=torch.float64), GeometricBrownianMotion()), NotImplementedError, "marginal"),
        (lambda: sde_score_matching(vp_score, torch.ones(4, 2, dtype=torch.float64), VPSDE(), generator=0), TypeError, "Generator"),
    ],
)
def test_objective_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---- CUDA ----------------------------------------------------------------------------------------------------


@pytest.mark.gpu
def test_samplers_and_objective_on_cuda():
    sde, mix = SDES["vp"], eight_gaussians()
    score = marginal_score(mix, sde)
    g = torch.Generator("cuda").manual_seed(0)
    for x in (
        reverse_sde_sample(sde, score, (N, 2), n_steps=400, generator=g, dtype=torch.float64),
        predictor_corrector_sample(sde, score, (N, 2), n_steps=150, generator=g, dtype=torch.float64),
        predictor_corrector_sample(sde, score, (N, 2), n_steps=150, predictor="ancestral", alpha_factor=True,
                                   denoise=True, generator=g, dtype=torch.float64),
        predictor_corrector_sample(SDES["ve"], marginal_score(mix, SDES["ve"]), (N, 2), n_steps=150,
                                   predictor="reverse_diffusion", generator=g, dtype=torch.float64),
        probability_flow_sample(sde, score, (N, 2), generator=g, dtype=torch.float64),
    ):
        assert x.device.type == "cuda"
        check_samples(x.cpu(), mix, 30)
    with pytest.raises(ValueError, match="device"):
        reverse_sde_sample(sde, score, x_T=torch.zeros(4, 2, device="cuda", dtype=torch.float64), generator=torch.Generator())
    xc = mix.sample(64, generator=torch.Generator().manual_seed(0)).cuda()
    val = sde_score_matching(score, xc, sde, generator=torch.Generator("cuda").manual_seed(1))
    assert val.device.type == "cuda" and bool(torch.isfinite(val))


def test_without_its_check_ancestral_sampling_runs_silently_on_sub_vp(monkeypatch):
    """Mutation: sub-VP is a subclass of VPSDE here, so without AncestralSamplingPredictor.check_sde the VP
    chain's formulas would be applied to it in silence."""
    monkeypatch.setattr(type(PREDICTORS["ancestral"]), "check_sde", lambda self, sde, x0, t0: None)
    out = predictor_corrector_sample(SubVPSDE(), vp_score, (4, 2), n_steps=30, predictor="ancestral")
    assert out.shape == (4, 2)
