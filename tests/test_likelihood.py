"""Tests of scoresde.likelihood.log_likelihood against exact log-densities.

Exact cases: data p_0 = a Gaussian or a Gaussian mixture, whose time marginals p_t are mixtures again
(book: eq-mixture-marginal), so both the score driving the probability-flow ODE and the target log p_eps(x)
are known in closed form.

Tolerances: with the exact divergence the only error is the ODE solver's (rtol = atol = 1e-5 by default) and,
with the SDE's Gaussian prior instead of the exact p_T, the prior's mismatch; the bounds below are stated per
test. The Hutchinson estimate is unbiased: its mean error over the points is accepted within 5 standard errors.
"""

from __future__ import annotations

import math

import pytest
import torch

from scoresde.data import GaussianMixture, eight_gaussians
from scoresde.likelihood import LikelihoodResult, log_likelihood
from scoresde.sde import VESDE, GeometricBrownianMotion, SubVPSDE, VPSDE


SDES = {"vp": VPSDE(), "subvp": SubVPSDE(), "ve": VESDE(sigma_max=10.0)}
EPS = 1e-5


def marginal_log_prob(mix, sde, x, t: float) -> torch.Tensor:
    return mix.time_marginal_log_prob(sde, x, t)


def marginal_score(mix, sde):
    """The exact score of p_t (GaussianMixture.time_marginal_score, jvp-transformable)."""
    return mix.time_marginal_score(sde)


def exact_prior(mix, sde):
    return lambda z: marginal_log_prob(mix, sde, z, sde.T)


@pytest.mark.parametrize("name", list(SDES))
def test_gaussian_data_exact_divergence(name):
    """p_0 = N(m, 0.5^2 I): |log-likelihood error| < 1e-3 with the exact p_T as prior (ODE error only)."""
    sde = SDES[name]
    mix = GaussianMixture([[0.5, -0.3]], 0.5)
    x = mix.sample(64, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    res = log_likelihood(sde, marginal_score(mix, sde), x, divergence="exact", eps=EPS,
                         prior_logp=exact_prior(mix, sde))
    err = res.log_prob - marginal_log_prob(mix, sde, x, EPS)
    assert float(err.abs().max()) < 1e-3, float(err.abs().max())


@pytest.mark.parametrize("name", list(SDES))
def test_mixture_exact_divergence(name):
    """Eight-Gaussian ring: |error| < 1e-2 at every point, mean |error| < 2e-3 (exact prior);
    with the SDE's own prior the result moves by exactly the prior's mismatch at the end points."""
    sde, mix = SDES[name], eight_gaussians()
    x = mix.sample(64, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    truth = marginal_log_prob(mix, sde, x, EPS)
    res = log_likelihood(sde, marginal_score(mix, sde), x, divergence="exact", eps=EPS, prior_logp=exact_prior(mix, sde))
    err = res.log_prob - truth
    assert float(err.abs().max()) < 1e-2 and float(err.abs().mean()) < 2e-3, err.abs().max()
    assert isinstance(res, LikelihoodResult) and res.z.shape == x.shape and res.nfe > 10
    torch.testing.assert_close(res.log_prob, res.prior_logp + res.delta_logp)
    plain = log_likelihood(sde, marginal_score(mix, sde), x, divergence="exact", eps=EPS)
    torch.testing.assert_close(plain.delta_logp, res.delta_logp)
    torch.testing.assert_close(plain.log_prob - res.log_prob, sde.prior_logp(plain.z) - exact_prior(mix, sde)(plain.z))


@pytest.mark.parametrize("dist", ["rademacher", "gaussian"])
def test_hutchinson_is_unbiased(dist):
    """Mean error over 200 points within 5 standard errors of 0 (exact prior; the ODE error ~1e-3 is far
    below the standard error ~0.07), and more probes shrink the spread (4 probes: sd ratio in (1.4, 3),
    sqrt(4) = 2 expected)."""
    sde, mix = SDES["vp"], eight_gaussians()
    x = mix.sample(200, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    truth = marginal_log_prob(mix, sde, x, EPS)
    kw = dict(eps=EPS, prior_logp=exact_prior(mix, sde), dist=dist)
    one = log_likelihood(sde, marginal_score(mix, sde), x, generator=torch.Generator().manual_seed(3), **kw)
    err = one.log_prob - truth
    se = float(err.std()) / math.sqrt(err.numel())
    assert abs(float(err.mean())) < 5 * se, (float(err.mean()), se)
    assert float(err.std()) > 0.1  # one probe in 2-D is noisy: the test above has something to check
    four = log_likelihood(sde, marginal_score(mix, sde), x, n_probes=4, generator=torch.Generator().manual_seed(4), **kw)
    ratio = float(err.std()) / float((four.log_prob - truth).std())
    assert 1.4 < ratio < 3.0, ratio


def test_rademacher_beats_gaussian_and_sphere_works():
    sde, mix = SDES["vp"], eight_gaussians()
    x = mix.sample(200, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    truth = marginal_log_prob(mix, sde, x, EPS)
    sd = {}
    for dist in ("rademacher", "gaussian", "sphere"):
        r = log_likelihood(sde, marginal_score(mix, sde), x, dist=dist, eps=EPS, prior_logp=exact_prior(mix, sde),
                           generator=torch.Generator().manual_seed(6))
        sd[dist] = float((r.log_prob - truth).std())
    assert sd["rademacher"] < sd["gaussian"] and sd["sphere"] < sd["gaussian"], sd


def test_probes_are_fixed_along_the_path_and_seeded():
    """The same seed gives the same estimate; another seed another one; the end points z do not depend on
    the probes beyond the solver's tolerance (the ODE of x does not involve them; only the adaptive step
    sizes, which also control the error of the log-density, change)."""
    sde, mix = SDES["vp"], eight_gaussians()
    x = mix.sample(10, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    score = marginal_score(mix, sde)
    a = log_likelihood(sde, score, x, generator=torch.Generator().manual_seed(8))
    b = log_likelihood(sde, score, x, generator=torch.Generator().manual_seed(8))
    c = log_likelihood(sde, score, x, generator=torch.Generator().manual_seed(9))
    torch.testing.assert_close(a.log_prob, b.log_prob)
    assert not torch.allclose(a.log_prob, c.log_prob)
    torch.testing.assert_close(a.z, c.z, atol=1e-4, rtol=0)


def test_tolerance_controls_the_error():
    sde, mix = SDES["ve"], eight_gaussians()
    x = mix.sample(32, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    truth = marginal_log_prob(mix, sde, x, EPS)
    errs = []
    for tol in (1e-3, 1e-6):
        r = log_likelihood(sde, marginal_score(mix, sde), x, divergence="exact", eps=EPS, rtol=tol, atol=tol,
                           prior_logp=exact_prior(mix, sde))
        errs.append(float((r.log_prob - truth).abs().max()))
    assert errs[1] < 1e-4 and errs[1] < errs[0] / 10, errs


def f_score(x, t):
    return -x


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: log_likelihood("vp", f_score, torch.zeros(3, 2, dtype=torch.float64)), TypeError, "scoresde.sde.SDE"),
        (lambda: log_likelihood(VPSDE().reverse(f_score), f_score, torch.zeros(3, 2, dtype=torch.float64)), ValueError, "forward SDE"),
        (lambda: log_likelihood(VPSDE(), 1, torch.zeros(3, 2, dtype=torch.float64)), TypeError, "callable"),
        (lambda: log_likelihood(VPSDE(), f_score, torch.zeros(3, dtype=torch.float64)), ValueError, "at least 2"),
        (lambda: log_likelihood(VPSDE(), f_score, torch.zeros(3, 2, dtype=torch.int64)), TypeError, "floating"),
        (lambda: log_likelihood(VPSDE(), f_score, torch.full((3, 2), float("nan"), dtype=torch.float64)), ValueError, "non-finite"),
        (lambda: log_likelihood(VPSDE(), f_score, torch.zeros(3, 2, dtype=torch.float64), divergence="fd"), ValueError, "unknown divergence"),
        (lambda: log_likelihood(VPSDE(), f_score, torch.zeros(3, 2, dtype=torch.float64), n_probes=0), ValueError, ">= 1"),
        (lambda: log_likelihood(VPSDE(), f_score, torch.zeros(3, 2, dtype=torch.float64), dist="cauchy"), ValueError, "unknown dist"),
        (lambda: log_likelihood(VPSDE(), f_score, torch.zeros(3, 2, dtype=torch.float64), eps=1.0), ValueError, "eps"),
        (lambda: log_likelihood(VPSDE(), f_score, torch.zeros(3, 2, dtype=torch.float64), rtol=-1.0), ValueError, "> 0"),
        (lambda: log_likelihood(VPSDE(), f_score, torch.zeros(3, 2, dtype=torch.float64), prior_logp=3), TypeError, "callable"),
        (lambda: log_likelihood(VPSDE(), f_score, torch.zeros(3, 2, dtype=torch.float64), prior_logp=lambda z: z), ValueError, "dimensions"),
        (lambda: log_likelihood(VPSDE(), f_score, torch.zeros(3, 2, dtype=torch.float64), generator="g"), TypeError, "Generator"),
        (lambda: log_likelihood(VPSDE(), lambda x, t: x[:, :1], torch.zeros(3, 2, dtype=torch.float64)), ValueError, "shape"),
        (lambda: log_likelihood(GeometricBrownianMotion(), f_score, torch.ones(3, 2, dtype=torch.float64)), ValueError, "no closed-form prior; pass prior_logp"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.gpu
def test_cuda_matches_cpu():
    sde, mix = SDES["vp"], eight_gaussians()
    x = mix.sample(32, generator=torch.Generator().manual_seed(11), dtype=torch.float64)
    cpu = log_likelihood(sde, marginal_score(mix, sde), x, divergence="exact")
    cuda = log_likelihood(sde, marginal_score(mix, sde), x.cuda(), divergence="exact")
    torch.testing.assert_close(cuda.log_prob.cpu(), cpu.log_prob, atol=1e-5, rtol=0)
    est = log_likelihood(sde, marginal_score(mix, sde), x.cuda(), generator=torch.Generator("cuda").manual_seed(0))
    assert est.log_prob.device.type == "cuda"
    with pytest.raises(ValueError, match="device"):
        log_likelihood(sde, marginal_score(mix, sde), x.cuda(), generator=torch.Generator())
