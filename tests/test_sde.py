"""Tests of scoresde.sde: closed-form marginals (checked against their moment ODEs with sympy), the noise
types and the products G dW and Sigma v, the divergence of Sigma (autograd vs closed forms and a brute-force
Jacobian), the reverse-time drift, priors, user-defined SDEs, and bad input.

The statistical test of the reverse SDE (it reproduces the forward marginals) lives in test_solvers.py,
because it needs a solver.
"""

from __future__ import annotations

import math

import pytest
import sympy as sp
import torch

from scoresde.sde import (
    SDE,
    BrownianMotion,
    FunctionSDE,
    GeometricBrownianMotion,
    OrnsteinUhlenbeck,
    ReverseSDE,
    SubVPSDE,
    VESDE,
    VPSDE,
)


t_, s_, x0_ = sp.symbols("t s x0", real=True)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- marginals vs the moment ODEs (sympy)
def linear_sde_cases():
    """(sde, a(t), g(t)^2, mean(t), variance(t)) for dx = a(t) x dt + g(t) dW, as sympy expressions.

    The mean solves m' = a m, m(0) = x0; the variance solves v' = 2 a v + g^2, v(0) = 0 (book: eq-ou-moments).
    """
    b0, b1 = sp.Rational(1, 10), sp.Integer(20)
    beta = b0 + t_ * (b1 - b0)
    B = sp.integrate(beta.subs(t_, s_), (s_, 0, t_))  # int_0^t beta
    smin, smax = sp.Rational(1, 100), sp.Integer(50)
    sig = smin * (smax / smin) ** t_
    beta_ou, sigma_ou, mu = sp.Rational(3, 2), sp.Rational(7, 10), sp.Rational(-1, 3)
    return [
        (BrownianMotion(mu=-1 / 3, sigma=0.7), sp.Integer(0), sigma_ou**2, x0_ + mu * t_, sigma_ou**2 * t_, mu),
        (
            OrnsteinUhlenbeck(beta=1.5, sigma=0.7),
            -beta_ou,
            sigma_ou**2,
            x0_ * sp.exp(-beta_ou * t_),
            sigma_ou**2 * (1 - sp.exp(-2 * beta_ou * t_)) / (2 * beta_ou),
            0,
        ),
        (VPSDE(), -beta / 2, beta, x0_ * sp.exp(-B / 2), 1 - sp.exp(-B), 0),
        (SubVPSDE(), -beta / 2, beta * (1 - sp.exp(-2 * B)), x0_ * sp.exp(-B / 2), (1 - sp.exp(-B)) ** 2, 0),
        (VESDE(), sp.Integer(0), 2 * sig**2 * sp.log(smax / smin), x0_, sig**2 - smin**2, 0),
    ]


@pytest.mark.parametrize("case", range(5))
def test_marginal_prob_solves_moment_odes(case):
    sde, a, g2, mean, var, const_drift = linear_sde_cases()[case]
    # symbolic: the closed forms solve the moment ODEs with the right initial values
    assert sp.simplify(sp.diff(mean, t_) - (a * mean + const_drift)) == 0
    assert sp.simplify(sp.diff(var, t_) - (2 * a * var + g2)) == 0
    assert sp.simplify(mean.subs(t_, 0) - x0_) == 0 and sp.simplify(var.subs(t_, 0)) == 0
    # the SDE's own f and g are the ones in the ODEs
    x = torch.tensor([[0.3], [-1.2]], dtype=torch.float64)
    for tv in (0.05, 0.4, 1.0):
        t = torch.full((2,), tv, dtype=torch.float64)
        a_num = float(a.subs(t_, tv))
        torch.testing.assert_close(sde.f(x, t), a_num * x + float(const_drift))
        gx = sde.g(x, t)
        torch.testing.assert_close(gx.square(), torch.full((2,), float(g2.subs(t_, tv)), dtype=torch.float64))
        # the torch closed form equals the sympy one
        m, std = sde.marginal_prob(x, t)
        m_ref = torch.tensor([[float(mean.subs({t_: tv, x0_: xi}))] for xi in (0.3, -1.2)], dtype=torch.float64)
        torch.testing.assert_close(m, m_ref)
        torch.testing.assert_close(std, torch.full((2,), math.sqrt(float(var.subs(t_, tv))), dtype=torch.float64))


def test_gbm_moments_and_solution_sympy():
    """E[x_t] = x0 e^{mu t} solves m' = mu m; E[x_t^2] solves q' = (2 mu + sigma^2) q (book: eq-gbm-solution)."""
    mu, sig = sp.Rational(1, 2), sp.Rational(4, 5)
    m = x0_ * sp.exp(mu * t_)
    v = m**2 * (sp.exp(sig**2 * t_) - 1)
    q = v + m**2
    assert sp.simplify(sp.diff(m, t_) - mu * m) == 0
    assert sp.simplify(sp.diff(q, t_) - (2 * mu + sig**2) * q) == 0
    # Ito's formula on x = x0 exp((mu - sig^2/2) t + sig w): dx = x_t dt-part + x_w dW + x_ww/2 dt
    w = sp.symbols("w", real=True)
    xs = x0_ * sp.exp((mu - sig**2 / 2) * t_ + sig * w)
    assert sp.simplify(sp.diff(xs, t_) + sp.diff(xs, w, 2) / 2 - mu * xs) == 0
    assert sp.simplify(sp.diff(xs, w) - sig * xs) == 0
    sde = GeometricBrownianMotion(mu=0.5, sigma=0.8)
    x0 = torch.tensor([[1.5], [0.2]], dtype=torch.float64)
    mean, var = sde.moments(x0, 0.7)
    torch.testing.assert_close(mean, torch.tensor([[float(m.subs({x0_: 1.5, t_: 0.7}))], [float(m.subs({x0_: 0.2, t_: 0.7}))]], dtype=torch.float64))
    torch.testing.assert_close(var[0, 0], torch.tensor(float(v.subs({x0_: 1.5, t_: 0.7})), dtype=torch.float64))
    wv = torch.tensor([[0.3], [-0.4]], dtype=torch.float64)
    torch.testing.assert_close(
        sde.exact_solution(x0, 0.7, wv)[1, 0], torch.tensor(float(xs.subs({x0_: 0.2, t_: 0.7, w: -0.4})), dtype=torch.float64)
    )
    with pytest.raises(NotImplementedError, match="Gaussian"):
        sde.marginal_prob(x0, 0.5)


def test_bm_exact_solution():
    sde = BrownianMotion(mu=2.0, sigma=0.5)
    x0 = torch.zeros(3, 2, dtype=torch.float64)
    w = torch.ones(3, 2, dtype=torch.float64)
    torch.testing.assert_close(sde.exact_solution(x0, 0.5, w), torch.full((3, 2), 1.5, dtype=torch.float64))


# ---------------------------------------------------------------- noise types, products
def general_sde(m: int = 3) -> FunctionSDE:
    """A state-dependent matrix diffusion G(x) of shape (batch, D, m), D = 2."""

    def g(x, t):
        x1, x2 = x[:, 0], x[:, 1]
        rows = [
            torch.stack([1 + 0.5 * torch.sin(x2), 0.3 * x1, 0.1 * t], dim=1)[:, :m],
            torch.stack([0.2 * x1 * x2, 1 + 0.25 * x1**2, torch.cos(x1)], dim=1)[:, :m],
        ]
        return torch.stack(rows, dim=1)

    return FunctionSDE(lambda x, t: -x, g, "general", noise_dim=m)


def test_products_agree_with_matrices():
    g = gen(0)
    x = torch.randn(4, 2, generator=g, dtype=torch.float64)
    v = torch.randn(4, 2, generator=g, dtype=torch.float64)
    t = torch.full((4,), 0.3, dtype=torch.float64)
    cases = [
        (general_sde(3), torch.randn(4, 3, generator=g, dtype=torch.float64)),
        (GeometricBrownianMotion(), torch.randn(4, 2, generator=g, dtype=torch.float64)),
        (OrnsteinUhlenbeck(), torch.randn(4, 2, generator=g, dtype=torch.float64)),
    ]
    for sde, dw in cases:
        assert sde.noise_shape(x.shape) == tuple(dw.shape)
        S = sde.sigma_matrix(x, t)
        assert S.shape == (4, 2, 2)
        torch.testing.assert_close(sde.sigma_prod(x, t, v), (S @ v[..., None])[..., 0])
        if sde.noise_type == "general":
            G = sde.g(x, t)
        elif sde.noise_type == "diagonal":
            G = torch.diag_embed(sde.g(x, t))
        else:
            G = sde.g(x, t)[:, None, None] * torch.eye(2, dtype=torch.float64)
        torch.testing.assert_close(sde.g_prod(x, t, dw), (G @ dw[..., None])[..., 0])


def test_image_shaped_states():
    x = torch.randn(3, 2, 4, 4, generator=gen(1), dtype=torch.float64)
    sde = VPSDE()
    assert sde.f(x, 0.5).shape == x.shape and sde.g(x, 0.5).shape == (3,)
    assert sde.g_prod(x, 0.5, torch.ones_like(x)).shape == x.shape
    mean, std = sde.marginal_prob(x, torch.tensor([0.1, 0.5, 1.0], dtype=torch.float64))
    assert mean.shape == x.shape and std.shape == (3,)
    assert bool(std[0] < std[1] < std[2])


def test_time_as_number_tensor_and_bad_shape():
    sde = OrnsteinUhlenbeck()
    x = torch.ones(3, 1, dtype=torch.float64)
    torch.testing.assert_close(sde.marginal_prob(x, 0.5)[1], sde.marginal_prob(x, torch.tensor(0.5, dtype=torch.float64))[1])
    with pytest.raises(ValueError, match=r"shape \(batch,\)"):
        sde.marginal_prob(x, torch.ones(2, dtype=torch.float64))


def test_noise_none_products_are_zero():
    sde = FunctionSDE(lambda x, t: -x, None, "none")
    x = torch.ones(2, 3, dtype=torch.float64)
    assert sde.additive and torch.equal(sde.g_prod(x, 0.0, x), torch.zeros_like(x))
    assert torch.equal(sde.sigma_prod(x, 0.0, x), torch.zeros_like(x))
    assert torch.equal(sde.div_sigma(x, 0.0), torch.zeros_like(x))
    assert sde.sigma_matrix(x, 0.0).shape == (2, 3, 3)
    with pytest.raises(ValueError, match="no diffusion"):
        sde.g(x, 0.0)


# ---------------------------------------------------------------- divergence of Sigma
def brute_div_sigma(sde: SDE, x: torch.Tensor, t: float) -> torch.Tensor:
    """(div Sigma)_i = sum_j d Sigma_ij / d x_j from the full Jacobian of Sigma, one sample at a time."""
    out = []
    for xi in x:
        J = torch.autograd.functional.jacobian(lambda y: sde.sigma_matrix(y[None], t)[0], xi)  # (D, D, D)
        out.append(torch.einsum("ijj->i", J))
    return torch.stack(out)


def test_div_sigma_general_autograd_matches_brute_force():
    sde = general_sde(3)
    x = torch.randn(5, 2, generator=gen(2), dtype=torch.float64)
    torch.testing.assert_close(sde.div_sigma(x, 0.4), brute_div_sigma(sde, x, 0.4))


def test_div_sigma_diagonal_and_scalar_autograd():
    x = torch.randn(5, 3, generator=gen(3), dtype=torch.float64)
    # diagonal noise whose g_i depends on all coordinates (autograd must take only dSigma_ii/dx_i)
    diag = FunctionSDE(lambda x, t: x, lambda x, t: 1 + 0.3 * x**2 + 0.1 * x.sum(1, keepdim=True), "diagonal")
    torch.testing.assert_close(diag.div_sigma(x, 0.0), brute_div_sigma(diag, x, 0.0))
    # scalar state-dependent g(x) = 1 + |x|^2: div(g^2 I) = grad g^2 = 4 (1 + |x|^2) x
    scal = FunctionSDE(lambda x, t: x, lambda x, t: 1 + x.square().sum(1), "scalar")
    expected = 4 * (1 + x.square().sum(1, keepdim=True)) * x
    torch.testing.assert_close(scal.div_sigma(x, 0.0), expected)
    torch.testing.assert_close(scal.div_sigma(x, 0.0), brute_div_sigma(scal, x, 0.0))
    # scalar noise declared not additive but independent of x: zero
    flat = FunctionSDE(lambda x, t: x, lambda x, t: torch.ones(x.shape[0], dtype=torch.float64), "scalar")
    assert torch.equal(flat.div_sigma(x, 0.0), torch.zeros_like(x))


def test_div_sigma_closed_form_gbm_and_user_hook():
    x = torch.rand(6, 2, generator=gen(4), dtype=torch.float64) + 0.5
    gbm = GeometricBrownianMotion(mu=0.1, sigma=0.7)
    as_function = FunctionSDE(gbm.f, gbm.g, "diagonal")  # same SDE, autograd divergence
    torch.testing.assert_close(gbm.div_sigma(x, 0.2), as_function.div_sigma(x, 0.2))
    torch.testing.assert_close(gbm.div_sigma(x, 0.2), 2 * 0.49 * x)
    hooked = FunctionSDE(gbm.f, gbm.g, "diagonal", div_sigma=lambda x, t: 2 * 0.49 * x)
    torch.testing.assert_close(hooked.div_sigma(x, 0.2), gbm.div_sigma(x, 0.2))
    bad = FunctionSDE(gbm.f, gbm.g, "diagonal", div_sigma=lambda x, t: x[:, :1])
    with pytest.raises(ValueError, match="div_sigma"):
        bad.div_sigma(x, 0.2)
    assert torch.equal(VPSDE().div_sigma(x, 0.3), torch.zeros_like(x))


# ---------------------------------------------------------------- reverse time
def gaussian_score(sde: SDE, m0: float, s0: float):
    """Exact score of p_t for data N(m0, s0^2 I) under a linear SDE with marginal_prob (mean a m0, var a^2 s0^2 + std^2)."""

    def score(x, t):
        one = torch.ones_like(x)
        a_m0, std = sde.marginal_prob(m0 * one, t)
        a = a_m0 / m0
        var = a**2 * s0**2 + std.reshape(-1, *([1] * (x.ndim - 1))) ** 2
        return -(x - a_m0) / var

    return score


def test_reverse_drift_scalar_is_score_sde_formula():
    sde = VPSDE()
    score = gaussian_score(sde, 1.0, 0.5)
    x = torch.randn(4, 2, generator=gen(5), dtype=torch.float64)
    t = torch.full((4,), 0.6, dtype=torch.float64)
    g2 = sde.g(x, t)[:, None] ** 2
    rev = sde.reverse(score)
    pf = sde.reverse(score, probability_flow=True)
    assert isinstance(rev, ReverseSDE) and rev.time_direction == -1 and rev.noise_type == "scalar"
    assert pf.noise_type == "none" and "probability-flow" in repr(pf)
    torch.testing.assert_close(rev.f(x, t), sde.f(x, t) - g2 * score(x, t))
    torch.testing.assert_close(pf.f(x, t), sde.f(x, t) - 0.5 * g2 * score(x, t))
    torch.testing.assert_close(rev.g(x, t), sde.g(x, t))
    with pytest.raises(ValueError, match="no diffusion"):
        pf.g(x, t)
    z = rev.prior_sample((3, 2), generator=gen(0))
    torch.testing.assert_close(rev.prior_logp(z), sde.prior_logp(z))


def test_reverse_drift_general_state_dependent():
    """f_bar = f - div(Sigma) - Sigma s for a state-dependent matrix G (book: eq-reverse-sde-general)."""
    sde = general_sde(3)
    score = lambda x, t: -x * (1 + t[:, None])  # noqa: E731  any field will do for the formula
    x = torch.randn(5, 2, generator=gen(6), dtype=torch.float64)
    t = torch.full((5,), 0.25, dtype=torch.float64)
    S = sde.sigma_matrix(x, t)
    s = score(x, t)
    div = brute_div_sigma(sde, x, 0.25)
    expected = sde.f(x, t) - div - (S @ s[..., None])[..., 0]
    torch.testing.assert_close(sde.reverse(score).f(x, t), expected)
    pf = sde.reverse(score, probability_flow=True)
    torch.testing.assert_close(pf.f(x, t), sde.f(x, t) - 0.5 * div - 0.5 * (S @ s[..., None])[..., 0])
    torch.testing.assert_close(sde.reverse(score).div_sigma(x, t), div)


def test_reverse_refuses_bad_input():
    sde = VPSDE()
    x = torch.randn(3, 2, dtype=torch.float64)
    with pytest.raises(TypeError, match="callable"):
        sde.reverse(3)
    with pytest.raises(TypeError, match="bool"):
        sde.reverse(lambda x, t: x, probability_flow=1)
    with pytest.raises(ValueError, match="input's shape"):
        sde.reverse(lambda x, t: x[:, :1]).f(x, 0.5)
    with pytest.raises(ValueError, match="forward-time"):
        sde.reverse(lambda x, t: x).reverse(lambda x, t: x)
    strat = FunctionSDE(lambda x, t: x, lambda x, t: x, "diagonal", sde_type="stratonovich")
    with pytest.raises(ValueError, match="Itô"):
        strat.reverse(lambda x, t: x)
    with pytest.raises(TypeError, match="SDE"):
        ReverseSDE("vp", lambda x, t: x)


# ---------------------------------------------------------------- priors
@pytest.mark.parametrize("sde, std", [(VPSDE(), 1.0), (SubVPSDE(), 1.0), (VESDE(), 50.0), (OrnsteinUhlenbeck(2.0, 1.0), 0.5)])
def test_priors(sde, std):
    z = sde.prior_sample((40_000, 2), generator=gen(7), dtype=torch.float64)
    assert z.shape == (40_000, 2) and z.dtype == torch.float64
    # sample std within 5 standard errors (std * sqrt(1/(2N)))
    assert abs(float(z.std()) - std) < 5 * std / math.sqrt(2 * z.numel())
    ref = torch.distributions.Normal(0.0, std).log_prob(z[:5]).sum(1)
    torch.testing.assert_close(sde.prior_logp(z[:5]), ref)


def test_prior_errors_and_absence():
    with pytest.raises(NotImplementedError, match="prior"):
        BrownianMotion().prior_sample((2, 1))
    with pytest.raises(NotImplementedError, match="prior"):
        GeometricBrownianMotion().prior_logp(torch.ones(2, 1, dtype=torch.float64))
    with pytest.raises(TypeError, match="dtype"):
        VPSDE().prior_sample((2, 1), dtype=torch.int32)
    with pytest.raises(ValueError, match="batch"):
        VPSDE().prior_sample(())
    with pytest.raises(ValueError, match=">= 1"):
        VPSDE().prior_sample((0, 2))


# ---------------------------------------------------------------- construction and validation
def test_parameter_validation():
    with pytest.raises(ValueError, match="sigma"):
        BrownianMotion(sigma=-1.0)
    with pytest.raises(TypeError, match="mu"):
        BrownianMotion(mu="1")
    with pytest.raises(TypeError, match="mu"):
        GeometricBrownianMotion(mu=True)
    with pytest.raises(ValueError, match="mu"):
        GeometricBrownianMotion(mu=float("inf"))
    with pytest.raises(ValueError, match="beta"):
        OrnsteinUhlenbeck(beta=0.0)
    with pytest.raises(ValueError, match="beta_max"):
        VPSDE(beta_min=5.0, beta_max=1.0)
    with pytest.raises(ValueError, match="sigma_max"):
        VESDE(sigma_min=1.0, sigma_max=0.5)
    with pytest.raises(ValueError, match="T"):
        VPSDE(T=0.0)
    with pytest.raises(TypeError, match="abstract"):
        SDE()  # type: ignore[abstract]


def test_function_sde_validation():
    f = lambda x, t: x  # noqa: E731
    with pytest.raises(ValueError, match="noise_dim"):
        FunctionSDE(f, f, "general")
    with pytest.raises(ValueError, match="only used"):
        FunctionSDE(f, f, "diagonal", noise_dim=2)
    with pytest.raises(ValueError, match="noise_type"):
        FunctionSDE(f, f, "additive")
    with pytest.raises(ValueError, match="sde_type"):
        FunctionSDE(f, f, sde_type="ito-ish")
    with pytest.raises(TypeError, match="callable"):
        FunctionSDE(f, None, "diagonal")
    with pytest.raises(TypeError, match="additive"):
        FunctionSDE(f, f, additive="yes")
    sde = FunctionSDE(f, lambda x, t: x[:, :1], "diagonal")
    with pytest.raises(ValueError, match="noise_type 'diagonal' needs"):
        sde.g_prod(torch.ones(2, 3, dtype=torch.float64), 0.0, torch.ones(2, 3, dtype=torch.float64))
    sde = FunctionSDE(f, lambda x, t: "g", "scalar")
    with pytest.raises(TypeError, match="g must return"):
        sde.g_prod(torch.ones(2, 3, dtype=torch.float64), 0.0, torch.ones(2, 3, dtype=torch.float64))
    assert "FunctionSDE" in repr(sde)
