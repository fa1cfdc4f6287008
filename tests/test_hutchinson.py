"""Tests of scoresde.hutchinson: exact trace, Hutchinson's estimator, probes, and bad input.

Monte Carlo tolerances are stated where they are used: a mean of N i.i.d. draws is accepted within
5 standard errors, sigma/sqrt(N), with sigma^2 from the closed-form variance (book: eq-hutchinson-variance).
Under the hypothesis being tested a 5-sigma miss has probability < 1e-6; the seeds are fixed anyway.
"""

from __future__ import annotations

import math

import pytest
import torch

from scoresde.hutchinson import hutchinson_trace, jacobian_trace, sample_probes



def linear(A: torch.Tensor):
    return lambda x: x @ A.T


def nonlinear(W: torch.Tensor, b: torch.Tensor):
    return lambda x: torch.tanh(x @ W.T + b) + 0.5 * x**2


def gaussian_var(A: torch.Tensor) -> float:
    return float((A * A).sum() + torch.trace(A @ A))


def rademacher_var(A: torch.Tensor) -> float:
    return gaussian_var(A) - 2 * float((torch.diagonal(A) ** 2).sum())


def test_jacobian_trace_linear_is_trace(device):
    g = torch.Generator().manual_seed(0)
    A = torch.randn(5, 5, generator=g, dtype=torch.float64).to(device)
    x = torch.randn(7, 5, generator=g, dtype=torch.float64).to(device)
    tr = jacobian_trace(linear(A), x)
    assert tr.shape == (7,)
    torch.testing.assert_close(tr, torch.full((7,), float(torch.trace(A)), device=device, dtype=torch.float64))


def test_jacobian_trace_nonlinear_matches_autograd_jacobian():
    g = torch.Generator().manual_seed(1)
    W, b = torch.randn(4, 4, generator=g, dtype=torch.float64), torch.randn(4, generator=g, dtype=torch.float64)
    f = nonlinear(W, b)
    x = torch.randn(6, 4, generator=g, dtype=torch.float64)
    expected = torch.stack([torch.trace(torch.autograd.functional.jacobian(f, xi[None])[0, :, 0, :]) for xi in x])
    torch.testing.assert_close(jacobian_trace(f, x), expected)


def test_event_shape_images():
    """States of any shape: (batch, C, H, W) is traced over all C*H*W entries."""
    g = torch.Generator().manual_seed(2)
    scale = torch.randn(2, 3, 3, generator=g, dtype=torch.float64)
    f = lambda x: scale * x  # noqa: E731  diagonal Jacobian with entries `scale`
    x = torch.randn(4, 2, 3, 3, generator=g, dtype=torch.float64)
    torch.testing.assert_close(jacobian_trace(f, x), torch.full((4,), float(scale.sum()), dtype=torch.float64))
    est = hutchinson_trace(f, x, n_probes=1, dist="rademacher", generator=g)
    torch.testing.assert_close(est, torch.full((4,), float(scale.sum()), dtype=torch.float64))  # Rademacher is exact on diagonals


@pytest.mark.parametrize("dist", ["gaussian", "rademacher", "sphere"])
@pytest.mark.parametrize("method", ["jvp", "vjp"])
def test_unbiased_on_linear_map(dist, method):
    g = torch.Generator().manual_seed(3)
    A = torch.randn(6, 6, generator=g, dtype=torch.float64)
    x = torch.randn(400, 6, generator=g, dtype=torch.float64)
    n_probes = 25
    est = hutchinson_trace(linear(A), x, n_probes=n_probes, dist=dist, generator=g, method=method)
    n = 400 * n_probes
    # sphere probes have variance at most the Gaussian one (their squared norm is fixed), so the
    # Gaussian variance is a valid bound for the tolerance there.
    var = rademacher_var(A) if dist == "rademacher" else gaussian_var(A)
    tol = 5 * math.sqrt(var / n)
    assert abs(float(est.mean()) - float(torch.trace(A))) < tol


@pytest.mark.parametrize("dist", ["gaussian", "rademacher", "sphere"])
def test_unbiased_on_nonlinear_map(dist):
    g = torch.Generator().manual_seed(4)
    W, b = torch.randn(5, 5, generator=g, dtype=torch.float64), torch.randn(5, generator=g, dtype=torch.float64)
    f = nonlinear(W, b)
    x = torch.randn(64, 5, generator=g, dtype=torch.float64)
    exact = jacobian_trace(f, x)
    samples = hutchinson_trace(f, x, n_probes=400, dist=dist, generator=g, reduction="none")
    assert samples.shape == (400, 64)
    sem = samples.std(dim=0) / math.sqrt(400)
    z = (samples.mean(dim=0) - exact) / sem
    # each row is tested at 5 standard errors (sample std: 400 draws make it accurate to ~4%)
    assert float(z.abs().max()) < 5.0


def test_variance_formulas_and_rademacher_beats_gaussian():
    """Per-probe variance matches ||A||_F^2 + tr(A^2) (Gaussian) and minus 2 sum A_ii^2 (Rademacher)."""
    g = torch.Generator().manual_seed(5)
    A = torch.randn(4, 4, generator=g, dtype=torch.float64) + 3 * torch.eye(4, dtype=torch.float64)  # heavy diagonal: Rademacher wins clearly
    x = torch.zeros(1, 4, dtype=torch.float64)
    n = 40000
    for dist, var in (("gaussian", gaussian_var(A)), ("rademacher", rademacher_var(A))):
        s = hutchinson_trace(linear(A), x, n_probes=n, dist=dist, generator=g, reduction="none")[:, 0]
        # the sample variance of n draws has relative standard error sqrt(2/n + kurtosis term) < 3%
        assert abs(float(s.var()) / var - 1) < 0.1, dist
    assert rademacher_var(A) < gaussian_var(A)


def test_jvp_and_vjp_agree_and_seed_reproduces():
    g1 = torch.Generator().manual_seed(6)
    W, b = torch.randn(3, 3, generator=g1, dtype=torch.float64), torch.randn(3, generator=g1, dtype=torch.float64)
    f, x = nonlinear(W, b), torch.randn(10, 3, generator=g1, dtype=torch.float64)
    a = hutchinson_trace(f, x, 3, generator=torch.Generator().manual_seed(7), method="jvp")
    b_ = hutchinson_trace(f, x, 3, generator=torch.Generator().manual_seed(7), method="vjp")
    torch.testing.assert_close(a, b_)
    c = hutchinson_trace(f, x, 3, generator=torch.Generator().manual_seed(8))
    assert not torch.allclose(a, c)


@pytest.mark.parametrize("method", ["jvp", "vjp"])
def test_differentiable_wrt_parameters(method):
    """With create_graph=True the estimate backpropagates to parameters captured by f."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    x = torch.randn(5, 3, dtype=torch.float64)
    est = hutchinson_trace(net, x, 2, generator=torch.Generator().manual_seed(1), method=method, create_graph=True)
    params = list(net.parameters())
    grads_est = torch.autograd.grad(est.sum(), params, allow_unused=True, materialize_grads=True)
    # reference: the same probes, v^T J v written out with an explicit Jacobian
    v = sample_probes((2, 5, 3), generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    J = torch.func.vmap(torch.func.jacrev(lambda z: net(z[None])[0]))(x)  # (5, 3, 3)
    ref = torch.einsum("mbi,bij,mbj->b", v, J, v) / 2
    grads_ref = torch.autograd.grad(ref.sum(), params, allow_unused=True, materialize_grads=True)
    assert any(float(g.abs().sum()) > 0 for g in grads_ref)
    for ge, gr in zip(grads_est, grads_ref):
        torch.testing.assert_close(ge, gr)
    assert not hutchinson_trace(net, x, 1).requires_grad


@pytest.mark.parametrize("method", ["jvp", "vjp", "exact"])
def test_return_output_gives_f_of_x_and_the_same_trace(method):
    g = torch.Generator().manual_seed(11)
    W, b = torch.randn(4, 4, generator=g, dtype=torch.float64), torch.randn(4, generator=g, dtype=torch.float64)
    f, x = nonlinear(W, b), torch.randn(9, 4, generator=g, dtype=torch.float64)
    if method == "exact":
        plain = jacobian_trace(f, x)
        tr, y = jacobian_trace(f, x, return_output=True)
    else:
        plain = hutchinson_trace(f, x, 3, generator=torch.Generator().manual_seed(1), method=method)
        tr, y = hutchinson_trace(f, x, 3, generator=torch.Generator().manual_seed(1), method=method, return_output=True)
    torch.testing.assert_close(tr, plain)
    torch.testing.assert_close(y, f(x))
    assert not y.requires_grad and not tr.requires_grad
    with pytest.raises(TypeError, match="return_output"):
        hutchinson_trace(f, x, return_output=1)


def test_sphere_probes_have_norm_sqrt_d_and_identity_second_moment():
    g = torch.Generator().manual_seed(9)
    v = sample_probes((200000, 3), "sphere", generator=g, dtype=torch.float64)
    torch.testing.assert_close(v.norm(dim=1), torch.full((200000,), math.sqrt(3.0), dtype=torch.float64))
    second = v.T @ v / v.shape[0]
    # each entry of E[vv^T] has std <= sqrt(E[v_i^2 v_j^2]/n) <= sqrt(9/n) ~ 0.0067; 5 sigma = 0.034
    torch.testing.assert_close(second, torch.eye(3, dtype=torch.float64), atol=0.034, rtol=0)
    r = sample_probes((8, 5), "rademacher", generator=g)
    assert set(r.unique().tolist()) <= {-1.0, 1.0} and r.dtype == torch.float32


# ---- bad input: every error is explicit -------------------------------------------------------------

def f_id(x):
    return x


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: hutchinson_trace(f_id, [[1.0, 2.0]]), TypeError, "torch.Tensor"),
        (lambda: hutchinson_trace(f_id, torch.ones(3, 2, dtype=torch.int64)), TypeError, "floating"),
        (lambda: hutchinson_trace(f_id, torch.ones(3, dtype=torch.float64)), ValueError, "at least 2 dimensions"),
        (lambda: hutchinson_trace(f_id, torch.tensor([[1.0, float("nan")]], dtype=torch.float64)), ValueError, "non-finite"),
        (lambda: hutchinson_trace(f_id, torch.tensor([[1.0, float("inf")]], dtype=torch.float64)), ValueError, "non-finite"),
        (lambda: hutchinson_trace(lambda x: x[:, :1], torch.ones(3, 2, dtype=torch.float64)), ValueError, "shape"),
        (lambda: jacobian_trace(lambda x: x.sum(1), torch.ones(3, 2, dtype=torch.float64)), ValueError, "shape"),
        (lambda: hutchinson_trace(lambda x: x * float("nan"), torch.ones(3, 2, dtype=torch.float64), method="vjp"), ValueError, "non-finite"),
        (lambda: hutchinson_trace(f_id, torch.ones(3, 2, dtype=torch.float64), n_probes=0), ValueError, ">= 1"),
        (lambda: hutchinson_trace(f_id, torch.ones(3, 2, dtype=torch.float64), n_probes=2.0), TypeError, "int"),
        (lambda: hutchinson_trace(f_id, torch.ones(3, 2, dtype=torch.float64), n_probes=True), TypeError, "int"),
        (lambda: hutchinson_trace(f_id, torch.ones(3, 2, dtype=torch.float64), dist="uniform"), ValueError, "unknown dist"),
        (lambda: hutchinson_trace(f_id, torch.ones(3, 2, dtype=torch.float64), method="fd"), ValueError, "unknown method"),
        (lambda: hutchinson_trace(f_id, torch.ones(3, 2, dtype=torch.float64), reduction="sum"), ValueError, "unknown reduction"),
        (lambda: hutchinson_trace("f", torch.ones(3, 2, dtype=torch.float64)), TypeError, "callable"),
        (lambda: hutchinson_trace(f_id, torch.ones(3, 2, dtype=torch.float64), generator=0), TypeError, "Generator"),
        (lambda: sample_probes((2, 3), dtype=torch.int32), TypeError, "floating"),
        (lambda: sample_probes((2, 0)), ValueError, ">= 1"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.gpu
def test_cuda_matches_cpu_and_rejects_mixed_devices():
    g = torch.Generator().manual_seed(10)
    A = torch.randn(4, 4, generator=g, dtype=torch.float64)
    x = torch.randn(32, 4, generator=g, dtype=torch.float64)
    cpu = jacobian_trace(linear(A), x)
    cuda = jacobian_trace(linear(A.cuda()), x.cuda())
    torch.testing.assert_close(cuda.cpu(), cpu)
    est = hutchinson_trace(linear(A.cuda()), x.cuda(), 4, generator=torch.Generator("cuda").manual_seed(0))
    assert est.device.type == "cuda"
    with pytest.raises(ValueError, match="device"):
        hutchinson_trace(linear(A.cuda()), x.cuda(), generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="returned a tensor on"):
        hutchinson_trace(lambda z: z.cuda(), x, method="vjp")
