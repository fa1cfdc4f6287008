"""Density models (chapter 8): NICE's log-determinant, inverse and normalisation; the score adapter against
autograd; the objectives through the adapter; checkpoints; the CLI; a CUDA run."""

from __future__ import annotations

import math

import pytest
import torch

from scoresde.density import (
    DENSITY_OBJECTIVES,
    NICE,
    DensityScore,
    EnergyMLP,
    density_from_config,
    load_density,
    maximum_likelihood,
    objective_loss,
)
from scoresde.losses import implicit_score_matching, sliced_score_matching
from scoresde.train import train

F64 = torch.float64


def _flow(dim: int = 4, seed: int = 0, **kwargs) -> NICE:
    flow = NICE(dim, 16, 2, 3, generator=torch.Generator().manual_seed(seed), dtype=F64, **kwargs)
    with torch.no_grad():  # a non-trivial scaling, so the log-determinant is not zero
        flow.log_scale.copy_(0.3 * torch.randn(dim, generator=torch.Generator().manual_seed(seed + 1), dtype=F64))
    return flow


def test_log_det_is_the_jacobian_determinant():
    flow = _flow(5)
    x = torch.randn(3, 5, generator=torch.Generator().manual_seed(2), dtype=F64)
    _, log_det = flow.transform(x)
    for i in range(3):
        jac = torch.autograd.functional.jacobian(lambda r: flow.transform(r[None])[0][0], x[i])
        assert torch.allclose(log_det[i], torch.linalg.slogdet(jac)[1], atol=1e-12)
    assert torch.allclose(log_det, flow.log_scale.sum().expand(3))


def test_coupling_jacobian_is_unit_triangular():
    flow = _flow(4)
    with torch.no_grad():
        flow.log_scale.zero_()  # couplings only: every permuted Jacobian has determinant 1
    x = torch.randn(4, generator=torch.Generator().manual_seed(3), dtype=F64)
    jac = torch.autograd.functional.jacobian(lambda r: flow.transform(r[None])[0][0], x)
    assert abs(float(torch.linalg.det(jac)) - 1) < 1e-12
    one = NICE(4, 8, 1, 1, generator=torch.Generator().manual_seed(1), dtype=F64)  # one coupling: evens kept
    jac1 = torch.autograd.functional.jacobian(lambda r: one.transform(r[None])[0][0], x)
    order = torch.tensor([0, 2, 1, 3])  # kept half first: lower triangular with unit diagonal
    j = jac1[order][:, order]
    assert torch.allclose(torch.diagonal(j), torch.ones(4, dtype=F64)) and torch.all(torch.triu(j, 1) == 0)
    assert float(j[2:, :2].abs().sum()) > 0  # ... and not diagonal


def test_inverse_undoes_transform():
    flow = _flow(6)
    x = torch.randn(50, 6, generator=torch.Generator().manual_seed(4), dtype=F64)
    z, _ = flow.transform(x)
    assert torch.allclose(flow.inverse(z), x, atol=1e-12)
    assert torch.allclose(flow.transform(flow.inverse(x))[0], x, atol=1e-12)
    # digits-shaped input is flattened
    img = x[:, :4].reshape(50, 1, 2, 2)
    flow4 = _flow(4)
    assert torch.allclose(flow4.log_prob(img), flow4.log_prob(x[:, :4]))


def test_log_prob_integrates_to_one_in_2d():
    flow = _flow(2, seed=5)
    z = torch.randn(200_000, 2, generator=torch.Generator().manual_seed(6), dtype=F64)
    with torch.no_grad():
        x = flow.inverse(z)
        lo, hi = x.min(0).values - 3, x.max(0).values + 3
        n = 801
        gx = torch.linspace(float(lo[0]), float(hi[0]), n, dtype=F64)
        gy = torch.linspace(float(lo[1]), float(hi[1]), n, dtype=F64)
        grid = torch.cartesian_prod(gx, gy)
        dens = flow.log_prob(grid).exp()
    mass = float(dens.sum()) * float(gx[1] - gx[0]) * float(gy[1] - gy[0])
    assert abs(mass - 1) < 1e-3, mass
    # Monte Carlo: E_p[1/p] over a box B is vol(B) * P(B)-weighted... use the importance identity E_q[p/q] = 1
    q_samples = lo + (hi - lo) * torch.rand(400_000, 2, generator=torch.Generator().manual_seed(7), dtype=F64)
    with torch.no_grad():
        est = float(flow.log_prob(q_samples).exp().mean()) * float((hi - lo).prod())
    assert abs(est - 1) < 0.02, est


def test_sample_is_inverse_of_prior_draws():
    flow = _flow(3)
    x = flow.sample(5, generator=torch.Generator().manual_seed(8))
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(8), dtype=F64)
    assert torch.allclose(flow.transform(x)[0], z, atol=1e-12)
    assert x.dtype == F64 and x.shape == (5, 3)


@pytest.mark.parametrize("kind", ["nice", "energy"])
def test_score_adapter_matches_autograd(kind):
    g = torch.Generator().manual_seed(9)
    density = _flow(4) if kind == "nice" else EnergyMLP(4, 16, 2, generator=g, dtype=F64)
    score = DensityScore(density)
    x = torch.randn(7, 4, generator=torch.Generator().manual_seed(10), dtype=F64)
    expected = torch.stack([torch.autograd.functional.jacobian(lambda r: density.log_prob(r[None])[0], row)
                            for row in x])
    assert torch.allclose(score(x), expected, atol=1e-12)
    with torch.no_grad():
        assert not score(x).requires_grad  # detached for sampling
    # exact ISM through the adapter: 1/2 |grad log p|^2 + trace of the Hessian of log p
    hess_tr = torch.stack([torch.trace(torch.autograd.functional.hessian(lambda r: density.log_prob(r[None])[0], row))
                           for row in x])
    ism = implicit_score_matching(score, x, reduction="none")
    assert torch.allclose(ism, 0.5 * expected.square().sum(1) + hess_tr, atol=1e-10)
    ssm = sliced_score_matching(score, x, n_projections=20000, generator=torch.Generator().manual_seed(1),
                                variance_reduction=True, dist="rademacher")
    assert abs(float(ssm.detach()) - float(ism.mean().detach())) < 0.05 * (1 + abs(float(ism.mean())))
    loss = ism.mean()
    loss.backward()
    named = dict(density.named_parameters())
    # the energy's output bias is an additive constant of log p: no score, so no gradient (the constant drops out)
    constant = {"net.4.bias"} if kind == "energy" else set()
    assert all((p.grad is None) == (name in constant) for name, p in named.items())
    assert all(torch.isfinite(p.grad).all() for name, p in named.items() if name not in constant)


def test_energy_score_is_minus_energy_gradient():
    e = EnergyMLP(3, 8, 1, generator=torch.Generator().manual_seed(2), dtype=F64)
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(3), dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad(e(x).sum(), x)
    assert torch.allclose(DensityScore(e)(x.detach()), -grad)


@pytest.mark.parametrize("objective", DENSITY_OBJECTIVES)
def test_objectives_give_finite_gradients(objective):
    flow = _flow(4)
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(11), dtype=F64)
    loss = objective_loss(objective, sigma=0.1 if objective == "dsm" else None)
    value = loss(DensityScore(flow), x, torch.Generator().manual_seed(0))
    assert value.ndim == 0 and torch.isfinite(value)
    value.backward()
    assert torch.isfinite(flow.log_scale.grad).all() and float(flow.log_scale.grad.abs().sum()) > 0
    if objective == "mle":
        assert torch.allclose(value, -flow.log_prob(x).mean())


def test_maximum_likelihood_finds_a_gaussian():
    """MLE on Gaussian data N(0, diag(4, 1/4)): the scaling learns s = -log(std)."""
    std = torch.tensor([2.0, 0.5], dtype=F64)
    data = torch.randn(4000, 2, generator=torch.Generator().manual_seed(12), dtype=F64) * std
    flow = NICE(2, 8, 1, 2, generator=torch.Generator().manual_seed(0), dtype=F64)
    res = train(DensityScore(flow), data, objective_loss("mle"), steps=1500, batch_size=256, lr=2e-2, seed=0)
    nll = float(maximum_likelihood(flow, data))
    exact = float((0.5 * math.log(2 * math.pi * math.e) + std.log()).sum())
    assert abs(nll - exact) < 0.05, (nll, exact, res.losses[-1])


def test_bad_inputs_are_named():
    flow = NICE(4, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="x must hold 4 numbers"):
        flow.log_prob(torch.zeros(3, 5))
    with pytest.raises(TypeError, match="dtype"):
        flow.log_prob(torch.zeros(3, 4, dtype=F64))
    with pytest.raises(ValueError, match="dim"):
        NICE(1)
    with pytest.raises(ValueError, match="sigma"):
        objective_loss("ssm", sigma=0.1)
    with pytest.raises(ValueError, match="sigma"):
        objective_loss("dsm")
    with pytest.raises(ValueError, match="objective"):
        objective_loss("ml")
    with pytest.raises(TypeError, match="normalised"):
        maximum_likelihood(DensityScore(EnergyMLP(2)), torch.zeros(3, 2))
    with pytest.raises(TypeError, match="log_prob"):
        DensityScore(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="class"):
        density_from_config({"class": "Nope"})


def test_checkpoint_round_trip(tmp_path):
    flow = NICE(4, 8, 1, 2, generator=torch.Generator().manual_seed(1))
    data = torch.randn(64, 4, generator=torch.Generator().manual_seed(2))
    path = tmp_path / "nice.pt"
    train(DensityScore(flow), data, objective_loss("ssm"), steps=3, batch_size=8, seed=0, checkpoint_path=path)
    loaded = load_density(path)
    assert isinstance(loaded, NICE) and loaded.config == flow.config
    assert torch.equal(loaded.log_prob(data), flow.log_prob(data))
    energy_path = tmp_path / "energy.pt"
    train(DensityScore(EnergyMLP(4, 8, 1)), data, objective_loss("ssm"), steps=2, batch_size=8,
          checkpoint_path=energy_path)
    assert isinstance(load_density(energy_path), EnergyMLP)


def test_cli_train_density(tmp_path):
    from scoresde.cli import CH08_COMMANDS, committed_argv, main

    path = tmp_path / "c.pt"
    main(["train-density", "--model", "nice", "--data", "two_moons", "--objective", "dsm", "--sigma", "0.1",
          "--steps", "3", "--batch-size", "16", "--hidden", "8", "--checkpoint", str(path), "--no-progress"])
    assert isinstance(load_density(path), NICE)
    with pytest.raises(SystemExit):
        main(["train-density", "--objective", "dsm", "--steps", "1", "--checkpoint", str(path)])  # no --sigma
    argv = committed_argv("ch08_nice_dsm01_s2", tmp_path, steps=2)
    assert argv[0] == "train-density" and argv[argv.index("--sigma") + 1] == "0.1"
    assert len(CH08_COMMANDS) == 26


@pytest.mark.gpu
def test_cuda_matches_cpu():
    flow = _flow(4).float()
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(3))
    cuda = NICE(4, 16, 2, 3, dtype=torch.float32).cuda()
    cuda.load_state_dict(flow.state_dict())
    assert torch.allclose(cuda.log_prob(x.cuda()).cpu(), flow.log_prob(x), atol=1e-5)
    for objective in DENSITY_OBJECTIVES:
        loss = objective_loss(objective, sigma=0.1 if objective == "dsm" else None)
        value = loss(DensityScore(cuda), x.cuda(), torch.Generator(device="cuda").manual_seed(0))
        value.backward()
        assert torch.isfinite(value) and value.device.type == "cuda"
    samples = cuda.sample(5, generator=torch.Generator(device="cuda").manual_seed(0))
    assert samples.device.type == "cuda"
