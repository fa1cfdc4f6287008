"""What users of the peers rely on (issue 18 items 10-12): explicit probes, bits per dimension, reverse-time
FunctionSDEs and torchsde's Brownian objects."""

from __future__ import annotations

import math

import pytest
import torch

from scoresde.brownian import BrownianPath
from scoresde.hutchinson import hutchinson_trace, sample_probes
from scoresde.likelihood import LikelihoodResult, log_likelihood
from scoresde.losses import sliced_score_matching
from scoresde.sde import FunctionSDE, OrnsteinUhlenbeck, VPSDE
from scoresde.solvers import solve

A = torch.tensor([[2.0, 1.0, 0.0], [0.5, -1.0, 0.3], [0.0, 0.2, 3.0]], dtype=torch.float64)


def field(x):
    return torch.tanh(x @ A.T) + x**2


def test_hutchinson_with_the_probes_the_generator_would_draw_is_identical():
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    drawn = hutchinson_trace(field, x, 4, "rademacher", generator=torch.Generator().manual_seed(7))
    probes = sample_probes((4, 5, 3), "rademacher", generator=torch.Generator().manual_seed(7), dtype=x.dtype)
    assert torch.equal(hutchinson_trace(field, x, probes=probes), drawn)
    assert torch.equal(hutchinson_trace(field, x, 4, probes=probes), drawn)


@pytest.mark.parametrize("bad, match", [
    (lambda x: torch.ones(2, 5, 4, dtype=x.dtype), "shape"),
    (lambda x: torch.ones(2, 5, 3, dtype=torch.float32), "dtype"),
    (lambda x: torch.ones(2, 5, 3, dtype=x.dtype).numpy(), "probes"),
])
def test_bad_probes_are_refused_by_name(bad, match):
    x = torch.randn(5, 3, dtype=torch.float64)
    with pytest.raises((ValueError, TypeError), match=match):
        hutchinson_trace(field, x, probes=bad(x))


def test_probes_exclude_a_generator_and_a_different_count():
    x, probes = torch.randn(5, 3, dtype=torch.float64), torch.ones(2, 5, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="either probes or generator"):
        hutchinson_trace(field, x, probes=probes, generator=torch.Generator())
    with pytest.raises(ValueError, match="n_probes=3"):
        hutchinson_trace(field, x, 3, probes=probes)


def test_sliced_score_matching_with_explicit_probes_matches_the_peer_formula():
    x = torch.randn(6, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    v = sample_probes((2, 6, 3), "gaussian", generator=torch.Generator().manual_seed(2), dtype=x.dtype)
    ours = sliced_score_matching(field, x, probes=v)
    # sliced_score_matching's loss written out: mean over probes and points of v^T grad(v^T S) + (v^T S)^2 / 2
    xg = x.clone().requires_grad_(True)
    s = field(xg)
    terms = []
    for vm in v:
        proj = (vm * s).sum()
        (grad,) = torch.autograd.grad(proj, xg, retain_graph=True)
        terms.append((vm * grad).sum(1) + 0.5 * (vm * s).sum(1) ** 2)
    assert torch.allclose(ours, torch.stack(terms).mean(), atol=1e-12)
    drawn = sliced_score_matching(field, x, 2, "gaussian", generator=torch.Generator().manual_seed(2))
    assert torch.equal(ours, drawn)


def test_log_likelihood_with_explicit_probes_reproduces_the_seeded_run():
    sde = VPSDE()
    x = torch.randn(4, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)

    def score(y, t):
        return -y  # the exact score when the data are N(0, I), the VP SDE's stationary law

    seeded = log_likelihood(sde, score, x, generator=torch.Generator().manual_seed(5))
    probe_seed = int(torch.randint(0, 2**62, (1,), generator=torch.Generator().manual_seed(5)))
    probes = sample_probes((1, 4, 2), "rademacher", generator=torch.Generator().manual_seed(probe_seed),
                           dtype=x.dtype, event_dims=1)
    explicit = log_likelihood(sde, score, x, probes=probes)
    assert torch.equal(explicit.log_prob, seeded.log_prob)
    with pytest.raises(ValueError, match="hutchinson"):
        log_likelihood(sde, score, x, divergence="exact", probes=probes)


@pytest.mark.parametrize("centered, data_range", [(True, 2.0), (False, 1.0)])
def test_bits_per_dim_is_score_sdes_bpd_with_offset(centered, data_range):
    prior, delta = torch.tensor([-10.0, -12.5], dtype=torch.float64), torch.tensor([3.0, 1.25], dtype=torch.float64)
    z = torch.zeros(2, 3, 4, 4, dtype=torch.float64)
    res = LikelihoodResult(log_prob=prior + delta, prior_logp=prior, delta_logp=delta, z=z, nfe=0)
    inverse_scaler = (lambda v: (v + 1.0) / 2.0) if centered else (lambda v: v)
    n = 3 * 4 * 4
    peer = -(prior + delta) / n / math.log(2) + 7.0 - inverse_scaler(-1.0)     # score_sde likelihood.py + run_lib
    assert torch.allclose(res.bits_per_dim(256, data_range), peer, atol=1e-12)
    with pytest.raises(ValueError, match="data_range"):
        res.bits_per_dim(256, 0.0)


def test_function_sde_in_reverse_time_runs_on_a_decreasing_grid():
    ou = OrnsteinUhlenbeck(beta=1.0, sigma=1.0)
    score = lambda x, t: -x  # noqa: E731 - any score: both sides reverse with the same one
    rev = ou.reverse(score)
    by_hand = FunctionSDE(lambda x, t: rev.f(x, t), lambda x, t: rev.g(x, t), rev.noise_type,
                          additive=True, time_direction=-1)
    ts = torch.linspace(1.0, 0.0, 21, dtype=torch.float64)
    bm = BrownianPath.sample(ts, (8, 1), generator=torch.Generator().manual_seed(0))
    x0 = torch.randn(8, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert torch.allclose(solve(by_hand, x0, ts, bm=bm), solve(rev, x0, ts, bm=bm), atol=1e-12)
    with pytest.raises(ValueError, match="decreasing"):
        solve(by_hand, x0, torch.linspace(0.0, 1.0, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="time_direction"):
        FunctionSDE(lambda x, t: x, lambda x, t: x, time_direction=0)


def test_torchsde_brownian_objects_drive_solve_like_sdeint():
    torchsde = pytest.importorskip("torchsde")
    batch, ts = 6, torch.linspace(0.0, 1.0, 11, dtype=torch.float64)
    y0 = torch.full((batch, 1), 0.5, dtype=torch.float64)
    bm = torchsde.BrownianInterval(t0=0.0, t1=1.0, size=(batch, 1), dtype=torch.float64,
                                   entropy=3, levy_area_approximation="none")

    class Peer(torch.nn.Module):
        noise_type, sde_type = "diagonal", "ito"

        def f(self, t, y):
            return -y

        def g(self, t, y):
            return 0.3 * torch.ones_like(y)

    peer = torchsde.sdeint(Peer(), y0, ts, bm=bm, method="euler", dt=0.1)
    ours = solve(FunctionSDE(lambda x, t: -x, lambda x, t: 0.3 * torch.ones_like(x), "diagonal"), y0, ts,
                 bm=BrownianPath.from_torchsde(bm, ts))
    assert torch.allclose(ours, peer, atol=1e-12)
    back = BrownianPath.from_torchsde(bm, ts.flip(0))
    assert torch.allclose(back.dW, -BrownianPath.from_torchsde(bm, ts).dW.flip(0), atol=1e-12)
    with pytest.raises(TypeError, match="bm"):
        BrownianPath.from_torchsde("not a path", ts)
