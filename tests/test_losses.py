"""Tests of scoresde.losses: every objective against closed forms on a Gaussian model, and bad input.

The Gaussian model: data x ~ N(mu, Sigma) in R^d and a linear score model S(x) = -P (x - m) with an arbitrary
(non-symmetric) matrix P. Then, with C = Sigma + (mu - m)(mu - m)^T and the book's 1/2 convention,

    ESM = 1/2 tr(D C D^T) with D = P - Sigma^{-1} acting on x - m  (written out in `esm_exact` below)
    ISM = 1/2 tr(P C P^T) - tr P                       (eq-ism; grad S = -P everywhere)
    ESM - ISM = 1/2 tr Sigma^{-1} = 1/2 E||grad log p||^2
    SSM = ISM in expectation for every probe law with E[v v^T] = I   (eq-ssm, eq-ssm-vr)
    DSM = 1/2 [tr(P C P^T) + ||I/sigma - sigma P||_F^2]                (eq-dsm)

Deterministic tests pin each function to its formula row by row, with the same probes or noise redrawn from
the same seed. Monte Carlo tests accept a sample mean within 5 standard errors, the standard error estimated
from the sample itself (n >= 2000 draws, so the estimate is accurate to a few per cent); a 5-sigma miss has
probability < 1e-6 under the hypothesis tested, and the seeds are fixed.
"""

from __future__ import annotations

import math

import pytest
import torch

from scoresde.hutchinson import jacobian_trace, sample_probes
from scoresde.losses import (
    SSM_AUTO_METHOD,
    denoising_score_matching,
    explicit_score_matching,
    implicit_score_matching,
    sliced_score_matching,
    ssm_method_for,
)

F64 = torch.float64
DISTS = ["gaussian", "rademacher", "sphere"]
METHODS = ["jvp", "vjp"]


class LinearScore(torch.nn.Module):
    """S(x) = -P (x - m): the score of N(m, P^{-1}) when P is symmetric positive definite."""

    def __init__(self, P: torch.Tensor, m: torch.Tensor):
        super().__init__()
        self.P = torch.nn.Parameter(P.clone())
        self.m = torch.nn.Parameter(m.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -(x - self.m) @ self.P.T


def gaussian_problem(d: int = 3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    L = torch.randn(d, d, generator=g, dtype=F64) / math.sqrt(d) + torch.eye(d, dtype=F64)
    Sigma = L @ L.T + 0.2 * torch.eye(d, dtype=F64)
    mu = torch.randn(d, generator=g, dtype=F64)
    P = torch.randn(d, d, generator=g, dtype=F64) / math.sqrt(d) + torch.eye(d, dtype=F64)  # not symmetric
    m = torch.randn(d, generator=g, dtype=F64)
    return Sigma, mu, LinearScore(P, m), g


def sample_gaussian(Sigma, mu, n, g):
    z = torch.randn(n, Sigma.shape[0], generator=g, dtype=F64)
    return mu + z @ torch.linalg.cholesky(Sigma).T


def true_score(Sigma, mu):
    Sinv = torch.linalg.inv(Sigma)
    return lambda x: -(x - mu) @ Sinv.T


def second_moment(Sigma, mu, m):
    return Sigma + torch.outer(mu - m, mu - m)


def ism_exact(Sigma, mu, model) -> float:
    P, m = model.P.detach(), model.m.detach()
    C = second_moment(Sigma, mu, m)
    return float(0.5 * torch.trace(P @ C @ P.T) - torch.trace(P))


def esm_exact(Sigma, mu, model) -> float:
    # S - s* = -P(x - m) + Sigma^{-1}(x - mu) = -(P - Sigma^{-1})(x - mu) - P(mu - m)
    P, m = model.P.detach(), model.m.detach()
    D = P - torch.linalg.inv(Sigma)
    return float(0.5 * (torch.trace(D @ Sigma @ D.T) + (P @ (mu - m)).square().sum()))


def dsm_exact(Sigma, mu, model, sigma) -> float:
    P, m = model.P.detach(), model.m.detach()
    C = second_moment(Sigma, mu, m)
    eye = torch.eye(P.shape[0], dtype=F64)
    return float(0.5 * (torch.trace(P @ C @ P.T) + (eye / sigma - sigma * P).square().sum()))


def within_5_se(samples: torch.Tensor, expected: float) -> tuple[bool, float]:
    se = float(samples.std()) / math.sqrt(samples.numel())
    return abs(float(samples.mean()) - expected) < 5 * se, se


def mlp(seed: int = 0, d: int = 3, width: int = 16) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(d, width), torch.nn.Tanh(), torch.nn.Linear(width, d)
    ).to(F64)


# ---- closed forms on the Gaussian model ------------------------------------------------------------

def test_closed_forms_are_consistent():
    """The closed forms used below agree with each other: ESM - ISM = 1/2 tr Sigma^{-1}."""
    Sigma, mu, model, _ = gaussian_problem()
    gap = esm_exact(Sigma, mu, model) - ism_exact(Sigma, mu, model)
    assert gap == pytest.approx(0.5 * float(torch.trace(torch.linalg.inv(Sigma))), rel=1e-12)


def test_ism_row_by_row_is_half_norm_minus_trace():
    Sigma, mu, model, g = gaussian_problem()
    x = sample_gaussian(Sigma, mu, 64, g)
    per = implicit_score_matching(model, x, reduction="none")
    P, m = model.P.detach(), model.m.detach()
    expected = 0.5 * ((x - m) @ P.T).square().sum(1) - torch.trace(P)
    assert per.shape == (64,)
    torch.testing.assert_close(per.detach(), expected)
    torch.testing.assert_close(implicit_score_matching(model, x), per.mean())


def test_ism_gradient_closed_form():
    """d/dP of 1/2 mean||P(x-m)||^2 - tr P is P C_hat - I, C_hat the sample second moment about m."""
    Sigma, mu, model, g = gaussian_problem()
    x = sample_gaussian(Sigma, mu, 128, g)
    (gP,) = torch.autograd.grad(implicit_score_matching(model, x), [model.P])
    m = model.m.detach()
    C_hat = (x - m).T @ (x - m) / x.shape[0]
    torch.testing.assert_close(gP, model.P.detach() @ C_hat - torch.eye(3, dtype=F64))


def test_ism_monte_carlo_matches_closed_form():
    Sigma, mu, model, g = gaussian_problem()
    x = sample_gaussian(Sigma, mu, 20000, g)
    ok, se = within_5_se(implicit_score_matching(model, x, reduction="none").detach(), ism_exact(Sigma, mu, model))
    assert ok, se


@pytest.mark.parametrize("as_tensor", [False, True])
def test_esm_row_by_row_and_monte_carlo(as_tensor):
    Sigma, mu, model, g = gaussian_problem()
    x = sample_gaussian(Sigma, mu, 20000, g)
    score = true_score(Sigma, mu)
    target = score(x) if as_tensor else score
    per = explicit_score_matching(model, x, target, reduction="none").detach()
    expected = 0.5 * (model(x).detach() - score(x)).square().sum(1)
    torch.testing.assert_close(per, expected)
    ok, se = within_5_se(per, esm_exact(Sigma, mu, model))
    assert ok, se


def test_esm_minus_ism_is_the_constant_half_fisher_information():
    """ESM and ISM differ by 1/2 E||grad log p||^2 = 1/2 tr Sigma^{-1}, whatever the model (eq-ism)."""
    Sigma, mu, model, g = gaussian_problem()
    x = sample_gaussian(Sigma, mu, 20000, g)
    diff = (explicit_score_matching(model, x, true_score(Sigma, mu), reduction="none")
            - implicit_score_matching(model, x, reduction="none")).detach()
    ok, se = within_5_se(diff, 0.5 * float(torch.trace(torch.linalg.inv(Sigma))))
    assert ok, se
    # and their parameter gradients agree (the constant does not depend on theta), up to sampling error
    e = explicit_score_matching(model, x, true_score(Sigma, mu))
    i = implicit_score_matching(model, x)
    ge = torch.autograd.grad(e, list(model.parameters()))
    gi = torch.autograd.grad(i, list(model.parameters()))
    for a, b in zip(ge, gi):
        torch.testing.assert_close(a, b, atol=0.1, rtol=0)  # entries have sampling sd ~ 0.01 at n = 20000


# ---- sliced score matching: exactly the formula, both paths ----------------------------------------

@pytest.mark.parametrize("dist", DISTS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("vr", [False, True])
def test_ssm_is_exactly_the_formula_with_the_same_probes(dist, method, vr):
    """Row by row: 1/M sum_m [1/2 (v^T S)^2 (or 1/2||S||^2) + v^T (grad S) v], grad S = -P (eq-ssm)."""
    Sigma, mu, model, g = gaussian_problem()
    x = sample_gaussian(Sigma, mu, 10, g)
    M = 3
    per = sliced_score_matching(model, x, M, dist, vr, torch.Generator().manual_seed(7),
                                method=method, reduction="none").detach()
    v = sample_probes((M, 10, 3), dist, generator=torch.Generator().manual_seed(7), dtype=F64)
    S = model(x).detach()
    first = 0.5 * S.square().sum(1).expand(M, 10) if vr else 0.5 * (v * S).sum(2).square()
    quad = -torch.einsum("mbi,ij,mbj->mb", v, model.P.detach(), v)
    torch.testing.assert_close(per, (first + quad).mean(0))


@pytest.mark.parametrize("dist", DISTS)
@pytest.mark.parametrize("vr", [False, True])
def test_ssm_unbiased_for_ism_on_gaussian_model(dist, vr):
    """Mean of SSM over x and v matches the closed-form ISM value within 5 standard errors."""
    Sigma, mu, model, g = gaussian_problem()
    x = sample_gaussian(Sigma, mu, 20000, g)
    per = sliced_score_matching(model, x, 1, dist, vr, g, reduction="none").detach()
    ok, se = within_5_se(per, ism_exact(Sigma, mu, model))
    assert ok, se


@pytest.mark.parametrize("dist", DISTS)
def test_ssm_unbiased_for_ism_on_a_network_at_fixed_x(dist):
    """For a nonlinear S_theta and fixed points, the probe average tends to the exact ISM of each row."""
    net = mlp()
    g = torch.Generator().manual_seed(3)
    x = torch.randn(8, 3, generator=g, dtype=F64)
    exact = implicit_score_matching(net, x, reduction="none").detach()
    K = 2000
    draws = sliced_score_matching(net, x.repeat(K, 1), 1, dist, False, g, reduction="none").detach()
    draws = draws.reshape(K, 8)
    z = (draws.mean(0) - exact) / (draws.std(0) / math.sqrt(K))
    assert float(z.abs().max()) < 5.0


@pytest.mark.parametrize("dist", DISTS)
def test_ssm_parameter_gradient_unbiased_for_ism_gradient(dist):
    """theta-gradients of SSM and ISM agree: K independent chunks, their mean difference within 5 SE."""
    net = mlp(seed=1, width=8)
    params = list(net.parameters())
    g = torch.Generator().manual_seed(4)
    K, n = 30, 200
    diffs = []
    for _ in range(K):
        x = torch.randn(n, 3, generator=g, dtype=F64)
        gs = torch.autograd.grad(sliced_score_matching(net, x, 4, dist, False, g), params)
        gi = torch.autograd.grad(implicit_score_matching(net, x), params)
        diffs.append(torch.cat([(a - b).reshape(-1) for a, b in zip(gs, gi)]))
    D = torch.stack(diffs)  # (K, n_params)
    se = D.std(0) / math.sqrt(K)
    z = D.mean(0) / se
    # K = 30 chunks: the t-statistic has 29 degrees of freedom; |t| < 5 fails with probability ~2e-5 per entry
    assert float(z.abs().max()) < 5.0
    assert float(D.abs().max()) > 0  # the probes do make a difference chunk by chunk


@pytest.mark.parametrize("dist", DISTS)
@pytest.mark.parametrize("vr", [False, True])
def test_jvp_and_vjp_paths_agree_in_value_and_gradient(dist, vr):
    net = mlp(seed=2)
    x = torch.randn(20, 3, generator=torch.Generator().manual_seed(5), dtype=F64)
    params = list(net.parameters())
    out = {}
    for method in METHODS:
        loss = sliced_score_matching(net, x, 3, dist, vr, torch.Generator().manual_seed(9), method=method)
        out[method] = (loss.detach(), torch.autograd.grad(loss, params))
    torch.testing.assert_close(out["jvp"][0], out["vjp"][0])
    for a, b in zip(out["jvp"][1], out["vjp"][1]):
        torch.testing.assert_close(a, b)


def test_ssm_parameter_gradient_matches_explicit_jacobian():
    """Same probes, the formula written with an explicit Jacobian: identical gradients (both paths)."""
    net = mlp(seed=3)
    params = list(net.parameters())
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(6), dtype=F64)
    v = sample_probes((2, 6, 3), generator=torch.Generator().manual_seed(1), dtype=F64)
    J = torch.func.vmap(torch.func.jacrev(lambda z: net(z[None])[0]))(x)  # (6, 3, 3)
    S = net(x)
    ref = (0.5 * (v * S).sum(2).square() + torch.einsum("mbi,bij,mbj->mb", v, J, v)).mean()
    g_ref = torch.autograd.grad(ref, params)
    for method in METHODS:
        loss = sliced_score_matching(net, x, 2, generator=torch.Generator().manual_seed(1), method=method)
        torch.testing.assert_close(loss, ref)
        for a, b in zip(torch.autograd.grad(loss, params), g_ref):
            torch.testing.assert_close(a, b)


def test_variance_reduction_lowers_the_variance():
    """SSM-VR replaces (v^T S)^2/2 by its mean ||S||^2/2: same mean, smaller spread (measured)."""
    net = mlp(seed=4)
    g = torch.Generator().manual_seed(8)
    x = torch.randn(4000, 3, generator=g, dtype=F64)
    plain = sliced_score_matching(net, x, 1, "gaussian", False, torch.Generator().manual_seed(2), reduction="none").detach()
    vr = sliced_score_matching(net, x, 1, "gaussian", True, torch.Generator().manual_seed(2), reduction="none").detach()
    assert float(vr.var()) < float(plain.var())


def test_more_projections_average_the_probe_values():
    """n_projections=M is the mean of the M single-probe values drawn from the same stream."""
    net = mlp(seed=5)
    x = torch.randn(7, 3, generator=torch.Generator().manual_seed(0), dtype=F64)
    M = 5
    many = sliced_score_matching(net, x, M, generator=torch.Generator().manual_seed(3), reduction="none")
    singles = sliced_score_matching(net, x.repeat(M, 1), 1, generator=torch.Generator().manual_seed(3),
                                    reduction="none").reshape(M, 7)
    torch.testing.assert_close(many, singles.mean(0))


def test_seed_reproduces_and_auto_uses_the_table():
    net = mlp(seed=6)
    x = torch.randn(9, 3, generator=torch.Generator().manual_seed(0), dtype=F64)
    a = sliced_score_matching(net, x, 2, generator=torch.Generator().manual_seed(11))
    b = sliced_score_matching(net, x, 2, generator=torch.Generator().manual_seed(11))
    c = sliced_score_matching(net, x, 2, generator=torch.Generator().manual_seed(12))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert ssm_method_for("cpu") == SSM_AUTO_METHOD["cpu"] and ssm_method_for("cpu") in METHODS
    explicit = sliced_score_matching(net, x, 2, generator=torch.Generator().manual_seed(11),
                                     method=ssm_method_for("cpu"))
    assert torch.equal(a, explicit)


def test_images_event_shape_and_reductions():
    """States (batch, C, H, W): SSM is traced over all C*H*W entries; reductions give mean and rows."""
    g = torch.Generator().manual_seed(13)
    scale = torch.rand(2, 3, 3, generator=g, dtype=F64) + 0.5
    score = lambda x: -scale * x  # noqa: E731  diagonal Jacobian -diag(scale)
    x = torch.randn(5, 2, 3, 3, generator=g, dtype=F64)
    ism = implicit_score_matching(score, x, reduction="none")
    torch.testing.assert_close(ism, 0.5 * (scale * x).square().sum((1, 2, 3)) - scale.sum())
    for method in METHODS:
        # Rademacher probes are exact on a diagonal Jacobian, and VR removes the other randomness
        ssm = sliced_score_matching(score, x, 1, "rademacher", True, g, method=method, reduction="none")
        torch.testing.assert_close(ssm, ism)
        assert sliced_score_matching(score, x, 2, generator=g, method=method).shape == ()
    assert explicit_score_matching(score, x, score, reduction="none").abs().max() == 0
    assert denoising_score_matching(score, x, 0.3, generator=g, reduction="none").shape == (5,)


def test_constant_score_has_zero_divergence_in_both_paths():
    c = torch.tensor([[1.0, -2.0]], dtype=F64)
    score = lambda x: c.expand_as(x)  # noqa: E731
    x = torch.randn(4, 2, generator=torch.Generator().manual_seed(0), dtype=F64)
    for method in METHODS:
        val = sliced_score_matching(score, x, 3, variance_reduction=True, method=method, reduction="none")
        torch.testing.assert_close(val, torch.full((4,), 2.5, dtype=F64))


# ---- denoising score matching ----------------------------------------------------------------------

def test_dsm_is_exactly_the_formula_with_the_same_noise():
    Sigma, mu, model, g = gaussian_problem()
    x = sample_gaussian(Sigma, mu, 12, g)
    sigma = torch.linspace(0.1, 2.0, 12, dtype=F64)
    per = denoising_score_matching(model, x, sigma, generator=torch.Generator().manual_seed(5),
                                   reduction="none").detach()
    eps = torch.randn(x.shape, generator=torch.Generator().manual_seed(5), dtype=F64)
    expected = 0.5 * (model(x + sigma[:, None] * eps).detach() + eps / sigma[:, None]).square().sum(1)
    torch.testing.assert_close(per, expected)
    scalar = denoising_score_matching(model, x, 0.5, generator=torch.Generator().manual_seed(5))
    as_tensor = denoising_score_matching(model, x, torch.tensor(0.5, dtype=F64),
                                         generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(scalar, as_tensor)


@pytest.mark.parametrize("sigma", [0.3, 1.0])
def test_dsm_monte_carlo_matches_closed_form(sigma):
    Sigma, mu, model, g = gaussian_problem()
    x = sample_gaussian(Sigma, mu, 20000, g)
    per = denoising_score_matching(model, x, sigma, generator=g, reduction="none").detach()
    ok, se = within_5_se(per, dsm_exact(Sigma, mu, model, sigma))
    assert ok, se


def test_dsm_minimiser_is_the_noised_score():
    """At S = score of N(mu, Sigma + sigma^2 I) the DSM gradient vanishes (within 5 SE of chunk means)."""
    Sigma, mu, _, g = gaussian_problem()
    sigma = 0.7
    Pstar = torch.linalg.inv(Sigma + sigma**2 * torch.eye(3, dtype=F64))
    model = LinearScore(Pstar, mu)
    grads = []
    for _ in range(30):
        x = sample_gaussian(Sigma, mu, 500, g)
        gs = torch.autograd.grad(denoising_score_matching(model, x, sigma, generator=g), [model.P, model.m])
        grads.append(torch.cat([t.reshape(-1) for t in gs]))
    G = torch.stack(grads)
    z = G.mean(0) / (G.std(0) / math.sqrt(G.shape[0]))
    assert float(z.abs().max()) < 5.0
    # ... while at the clean score Sigma^{-1} it does not (the minimiser moved)
    model_clean = LinearScore(torch.linalg.inv(Sigma), mu)
    x = sample_gaussian(Sigma, mu, 20000, g)
    (gP,) = torch.autograd.grad(denoising_score_matching(model_clean, x, sigma, generator=g), [model_clean.P])
    assert float(gP.abs().max()) > 0.1


# ---- every loss is differentiable and follows the convention -------------------------------------

def test_every_loss_backpropagates_to_parameters():
    net = mlp(seed=7)
    x = torch.randn(16, 3, generator=torch.Generator().manual_seed(0), dtype=F64)
    g = torch.Generator().manual_seed(0)
    losses = [
        explicit_score_matching(net, x, lambda z: -z),
        implicit_score_matching(net, x),
        sliced_score_matching(net, x, 2, generator=g, method="jvp"),
        sliced_score_matching(net, x, 2, generator=g, method="vjp"),
        denoising_score_matching(net, x, 0.5, generator=g),
    ]
    for loss in losses:
        assert loss.shape == () and loss.requires_grad
        grads = torch.autograd.grad(loss, list(net.parameters()))
        assert all(torch.isfinite(t).all() for t in grads) and any(float(t.abs().sum()) > 0 for t in grads)


def test_ism_exact_trace_equals_hutchinson_module_trace():
    """ISM reuses hutchinson.jacobian_trace: ISM - 1/2||S||^2 is that trace."""
    net = mlp(seed=8)
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(1), dtype=F64)
    ism = implicit_score_matching(net, x, reduction="none").detach()
    torch.testing.assert_close(ism - 0.5 * net(x).detach().square().sum(1), jacobian_trace(net, x))


# ---- bad input: every error is explicit -------------------------------------------------------------

def s_id(x):
    return x


X = torch.ones(3, 2)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: implicit_score_matching(s_id, [[1.0, 2.0]]), TypeError, "torch.Tensor"),
        (lambda: implicit_score_matching(s_id, torch.ones(3, 2, dtype=torch.int64)), TypeError, "floating"),
        (lambda: sliced_score_matching(s_id, torch.ones(3)), ValueError, "at least 2 dimensions"),
        (lambda: sliced_score_matching(s_id, torch.tensor([[1.0, float("nan")]])), ValueError, "non-finite"),
        (lambda: denoising_score_matching(s_id, torch.tensor([[float("inf"), 1.0]]), 1.0), ValueError, "non-finite"),
        (lambda: sliced_score_matching(lambda x: x[:, :1], X, method="vjp"), ValueError, "shape"),
        (lambda: sliced_score_matching(lambda x: x[:, :1], X, method="jvp"), ValueError, "shape"),
        (lambda: implicit_score_matching(lambda x: x.sum(1), X), ValueError, "shape"),
        (lambda: explicit_score_matching(lambda x: x * float("nan"), X, s_id), ValueError, "non-finite"),
        (lambda: sliced_score_matching(lambda x: x * float("nan"), X, method="vjp"), ValueError, "non-finite"),
        (lambda: sliced_score_matching("S", X), TypeError, "callable"),
        (lambda: sliced_score_matching(s_id, X, n_projections=0), ValueError, ">= 1"),
        (lambda: sliced_score_matching(s_id, X, n_projections=1.5), TypeError, "int"),
        (lambda: sliced_score_matching(s_id, X, dist="uniform"), ValueError, "unknown dist"),
        (lambda: sliced_score_matching(s_id, X, method="fd"), ValueError, "unknown method"),
        (lambda: sliced_score_matching(s_id, X, variance_reduction="yes"), TypeError, "bool"),
        (lambda: sliced_score_matching(s_id, X, generator=1), TypeError, "Generator"),
        (lambda: implicit_score_matching(s_id, X, reduction="sum"), ValueError, "unknown reduction"),
        (lambda: explicit_score_matching(s_id, X, torch.ones(3, 3)), ValueError, "shape"),
        (lambda: explicit_score_matching(s_id, X, "score"), TypeError, "callable"),
        (lambda: explicit_score_matching(s_id, X, lambda x: x[:1]), ValueError, "shape"),
        (lambda: denoising_score_matching(s_id, X, 0.0), ValueError, "> 0"),
        (lambda: denoising_score_matching(s_id, X, -1.0), ValueError, "> 0"),
        (lambda: denoising_score_matching(s_id, X, float("nan")), ValueError, "finite"),
        (lambda: denoising_score_matching(s_id, X, "0.1"), TypeError, "real number"),
        (lambda: denoising_score_matching(s_id, X, torch.ones(2)), ValueError, r"shape \(3,\)"),
        (lambda: denoising_score_matching(s_id, X, torch.tensor([1.0, 0.0, 1.0])), ValueError, "> 0"),
        (lambda: denoising_score_matching(s_id, X, torch.ones(3, 1)), ValueError, "1 dimensions"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---- CUDA ------------------------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.parametrize("method", ["auto", "jvp", "vjp"])
def test_cuda_matches_cpu_and_rejects_mixed_devices(method):
    net = mlp(seed=9)
    x = torch.randn(32, 3, generator=torch.Generator().manual_seed(0), dtype=F64)
    ism_cpu = implicit_score_matching(net, x)
    net_cuda = mlp(seed=9).cuda()
    xc = x.cuda()
    torch.testing.assert_close(implicit_score_matching(net_cuda, xc).cpu(), ism_cpu)
    # probes from a CUDA generator: the value differs from the CPU draw but is unbiased; check the formula
    ssm = sliced_score_matching(net_cuda, xc, 4, generator=torch.Generator("cuda").manual_seed(0), method=method)
    assert ssm.device.type == "cuda" and ssm.requires_grad
    a = sliced_score_matching(net_cuda, xc, 4, generator=torch.Generator("cuda").manual_seed(1), method="jvp")
    b = sliced_score_matching(net_cuda, xc, 4, generator=torch.Generator("cuda").manual_seed(1), method="vjp")
    torch.testing.assert_close(a, b)
    dsm = denoising_score_matching(net_cuda, xc, 0.5, generator=torch.Generator("cuda").manual_seed(0))
    assert dsm.device.type == "cuda"
    with pytest.raises(ValueError, match="device"):
        sliced_score_matching(net_cuda, xc, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="device"):
        explicit_score_matching(net_cuda, xc, x)
    with pytest.raises(ValueError, match="device"):
        denoising_score_matching(net_cuda, xc, torch.ones(32, dtype=F64))
    with pytest.raises(ValueError, match="returned a tensor on"):
        sliced_score_matching(lambda z: z.cuda(), x, method="vjp")


# ---- several probes share one forward pass: the same value and gradient as the repeated batch ----------------

def ssm_repeated_reference(score_fn, x, v, vr):
    """The reference implementation's multi-probe SSM: the batch repeated M times, one double backward.

    ``v`` has shape (M, batch, *event); row m*batch + b of the repeated batch holds sample b with probe m."""
    M, batch = v.shape[:2]
    xr = x.detach().repeat(M, *([1] * (x.ndim - 1))).requires_grad_(True)
    vr_ = v.reshape(M * batch, *x.shape[1:])
    s = score_fn(xr)
    vs = (vr_ * s).reshape(M * batch, -1).sum(1)
    (grad_vs,) = torch.autograd.grad(vs.sum(), xr, create_graph=True)
    quad = (vr_ * grad_vs).reshape(M * batch, -1).sum(1)
    first = 0.5 * s.reshape(M * batch, -1).square().sum(1) if vr else 0.5 * vs.square()
    return (first + quad).reshape(M, batch).mean(0)


class TinyConvScore(torch.nn.Module):
    """A smooth convolutional score on (batch, 1, 8, 8) images (rows independent), float64."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.a = torch.nn.Conv2d(1, 4, 3, padding=1).double()
        self.b = torch.nn.Conv2d(4, 1, 3, padding=1).double()

    def forward(self, x):
        return self.b(torch.tanh(self.a(x)))


@pytest.mark.parametrize("dist", DISTS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("vr", [False, True])
@pytest.mark.parametrize("M", [1, 4])
@pytest.mark.parametrize("event", [(3,), (1, 8, 8)], ids=["vector", "image"])
def test_shared_forward_equals_repeated_batch_in_value_and_gradient(dist, method, vr, M, event):
    """The companion (S(x) once, M batched directional products) against the repeated-batch reference with the
    same probes: per-row values and every parameter gradient agree to rounding."""
    net = mlp(seed=7) if event == (3,) else TinyConvScore()
    params = list(net.parameters())
    x = torch.randn(6, *event, generator=torch.Generator().manual_seed(2), dtype=F64)
    per = sliced_score_matching(net, x, M, dist, vr, torch.Generator().manual_seed(5), method=method,
                                reduction="none")
    v = sample_probes((M, 6, *event), dist, generator=torch.Generator().manual_seed(5), dtype=F64,
                      event_dims=len(event))
    ref = ssm_repeated_reference(net, x, v, vr)
    torch.testing.assert_close(per, ref)
    for a, b in zip(torch.autograd.grad(per.mean(), params), torch.autograd.grad(ref.mean(), params)):
        torch.testing.assert_close(a, b)


def test_sphere_probes_are_normalised_per_image_over_all_event_dims():
    """Every probe of an image (1, 8, 8) has squared norm 64 exactly; a probe normalised row by row of the
    image (the last dimension only) would give a different value, which the equality test above catches."""
    x = torch.randn(5, 1, 8, 8, generator=torch.Generator().manual_seed(0), dtype=F64)
    v = sample_probes((3, 5, 1, 8, 8), "sphere", generator=torch.Generator().manual_seed(1), dtype=F64,
                      event_dims=3)
    torch.testing.assert_close(v.square().sum((2, 3, 4)), torch.full((3, 5), 64.0, dtype=F64))
    wrong = sample_probes((3, 5, 1, 8, 8), "sphere", generator=torch.Generator().manual_seed(1), dtype=F64)
    net = TinyConvScore()
    good = ssm_repeated_reference(net, x, v, False)
    bad = ssm_repeated_reference(net, x, wrong, False)
    per = sliced_score_matching(net, x, 3, "sphere", generator=torch.Generator().manual_seed(1), reduction="none")
    torch.testing.assert_close(per, good)
    assert not torch.allclose(per, bad)


def test_score_fn_is_called_once_on_the_unrepeated_batch():
    """The M probes share one forward pass: one call, on batch rows (not M * batch)."""
    net = mlp(seed=8)
    calls = []

    def counted(y):
        calls.append(y.shape[0])
        return net(y)

    x = torch.randn(7, 3, generator=torch.Generator().manual_seed(0), dtype=F64)
    for method in METHODS:
        calls.clear()
        sliced_score_matching(counted, x, 16, generator=torch.Generator().manual_seed(0), method=method)
        assert calls == [7], (method, calls)


def test_repeated_reference_check_catches_a_broken_shared_path(monkeypatch):
    """Mutation: a shared path that pairs every probe with the first probe's cotangent is caught by the
    equality test against the repeated batch."""
    import scoresde.losses as losses_mod

    real = losses_mod._shared_vjp

    def broken(score_fn, x, v):
        s, av = real(score_fn, x, v[:1].expand_as(v))
        return s, av

    monkeypatch.setattr(losses_mod, "_shared_vjp", broken)
    net = mlp(seed=9)
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(2), dtype=F64)
    per = sliced_score_matching(net, x, 4, generator=torch.Generator().manual_seed(5), method="vjp",
                                reduction="none")
    v = sample_probes((4, 6, 3), generator=torch.Generator().manual_seed(5), dtype=F64)
    assert not torch.allclose(per, ssm_repeated_reference(net, x, v, False))


def test_sde_ssm_variance_reduction_option():
    """sde_score_matching(objective="ssm", variance_reduction=True) is SSM-VR at the drawn times: with a score
    whose Jacobian is diagonal and Rademacher probes, VR removes every probe's randomness."""
    from scoresde.losses import sde_score_matching
    from scoresde.sde import VPSDE

    sde = VPSDE()
    x = torch.randn(5, 1, 8, 8, generator=torch.Generator().manual_seed(0), dtype=F64)
    score = lambda y, t: -y * (1 + t[:, None, None, None])  # noqa: E731
    a = sde_score_matching(score, x, sde, objective="ssm", variance_reduction=True,
                           generator=torch.Generator().manual_seed(1), reduction="none")
    b = sde_score_matching(score, x, sde, objective="ssm", variance_reduction=True, n_projections=3,
                           generator=torch.Generator().manual_seed(1), reduction="none")
    torch.testing.assert_close(a, b)  # same t and z (drawn first), probes do not matter
    c = sde_score_matching(score, x, sde, objective="ssm", generator=torch.Generator().manual_seed(1),
                           reduction="none")
    assert not torch.allclose(a, c)
    with pytest.raises(TypeError, match="variance_reduction"):
        sde_score_matching(score, x, sde, objective="ssm", variance_reduction=1)
    with pytest.raises(ValueError, match="objective='ssm' only"):
        sde_score_matching(score, x, sde, objective="dsm", variance_reduction=True)
