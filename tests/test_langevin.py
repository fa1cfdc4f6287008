"""Tests of scoresde.sampling.langevin: ULA's exact stationary law on a Gaussian, annealing, options, errors.

Monte Carlo tolerances: 5 standard errors. For n draws of a Gaussian with variance v, the sample variance
has standard error v*sqrt(2/n); a sample proportion p has standard error sqrt(p(1-p)/n).
"""

from __future__ import annotations

import math

import pytest
import torch

from scoresde.data import GaussianMixture
from scoresde.sampling import annealed_langevin, langevin


def gaussian_score(mean: torch.Tensor, var: float):
    return lambda x: -(x - mean) / var


def test_ula_stationary_law_on_a_gaussian():
    """eq-langevin on N(m, s^2 I): stationary mean m and variance s^2 / (1 - eps / (2 s^2)), not s^2."""
    m, s2, eps = torch.tensor([1.0, -2.0], dtype=torch.float64), 1.0, 0.4
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(8000, 2, generator=g, dtype=torch.float64)
    x = langevin(gaussian_score(m, s2), x0, eps, 150, generator=g)  # contraction 0.6^150: fully mixed
    n = x.numel()
    v_ula = s2 / (1 - eps / (2 * s2))
    assert float((x.mean(0) - m).abs().max()) < 5 * math.sqrt(v_ula / 8000)
    v_hat = float((x - m).square().mean())
    se = v_ula * math.sqrt(2 / n)
    assert abs(v_hat - v_ula) < 5 * se
    assert abs(v_hat - s2) > 5 * se  # the O(eps) bias is real and resolved by this test


def test_ula_stays_in_the_starting_basin_but_annealing_recovers_the_weights():
    """Well separated modes with weights 0.8 / 0.2: ULA keeps the split of its start (about 0.52 here, the
    share of N(0,1) starts right of the basin boundary x = -0.043); annealed Langevin comes close to 0.8."""
    gmm = GaussianMixture([[-4.0, 0.0], [4.0, 0.0]], 0.5, [0.2, 0.8])
    n = 4000
    g = torch.Generator().manual_seed(1)
    plain = langevin(gmm.score, torch.randn(n, 2, generator=g), 0.01, 300, generator=g)
    frac_plain = float((plain[:, 0] > 0).float().mean())
    se = math.sqrt(0.8 * 0.2 / n)
    assert abs(frac_plain - 0.517) < 5 * math.sqrt(0.25 / n)
    sigmas = torch.logspace(math.log10(8.0), math.log10(0.05), 10)
    x0 = 8.0 * torch.randn(n, 2, generator=g)
    annealed = annealed_langevin(lambda x, s: gmm.noised(s).score(x), x0, sigmas, 0.1 * 0.05**2, 60, generator=g)
    frac = float((annealed[:, 0] > 0).float().mean())
    # finite annealing freezes the weights while the noised modes separate (sigma ~ 4), which leaves a small
    # bias toward equal weights: 0.77 with these 10 levels x 60 steps, 0.79 with 30 x 200 (measured).
    assert 0.72 < frac < 0.8 + 5 * se
    assert abs(frac - 0.8) < 0.25 * abs(frac_plain - 0.8)
    right = annealed[annealed[:, 0] > 0]
    # within a mode the chain at the last level samples N(mu, (0.5^2 + 0.05^2)(1 + O(0.1))): loose check
    assert abs(float(right[:, 1].var()) - 0.25) < 0.05


def test_trajectory_seed_and_progress(capsys):
    score = gaussian_score(torch.zeros(3), 1.0)
    x0 = torch.zeros(5, 3)
    traj = langevin(score, x0, 0.1, 7, generator=torch.Generator().manual_seed(2), return_trajectory=True)
    assert traj.shape == (8, 5, 3)
    torch.testing.assert_close(traj[0], x0)
    last = langevin(score, x0, 0.1, 7, generator=torch.Generator().manual_seed(2), progress=True)
    torch.testing.assert_close(traj[-1], last)
    assert "Langevin" in capsys.readouterr().err
    other = langevin(score, x0, 0.1, 7, generator=torch.Generator().manual_seed(3))
    assert not torch.allclose(other, last)
    # one step by hand: x1 = x0 + eps S(x0) + sqrt(2 eps) z
    x1 = langevin(score, x0 + 1, 0.1, 1, generator=torch.Generator().manual_seed(4))
    z = torch.randn((5, 3), generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(x1, (x0 + 1) + 0.1 * score(x0 + 1) + math.sqrt(0.2) * z)


def test_annealed_step_sizes_and_trajectory(capsys):
    """eq-annealed-langevin: level i uses alpha_i = eps sigma_i^2 / sigma_L^2; check one step per level."""
    sigmas = [1.0, 0.5]
    eps = 0.01
    x0 = torch.ones(4, 2)
    traj = annealed_langevin(lambda x, s: -x / (1 + s), x0, sigmas, eps, 1,
                             generator=torch.Generator().manual_seed(5), return_trajectory=True, progress=True)
    assert "annealed Langevin" in capsys.readouterr().err
    assert traj.shape == (3, 4, 2)
    g = torch.Generator().manual_seed(5)
    x = x0
    for s in sigmas:
        a = eps * s**2 / sigmas[-1] ** 2
        x = x + a * (-x / (1 + s)) + math.sqrt(2 * a) * torch.randn((4, 2), generator=g)
    torch.testing.assert_close(traj[-1], x)
    last = annealed_langevin(lambda x, s: -x / (1 + s), x0, torch.tensor(sigmas), eps, 1,
                             generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(last, x)


def ident(x):
    return -x


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: langevin(ident, torch.ones(3, 2), 0.0, 10), ValueError, "> 0"),
        (lambda: langevin(ident, torch.ones(3, 2), 0.1, 0), ValueError, ">= 1"),
        (lambda: langevin(ident, torch.ones(3), 0.1, 10), ValueError, "at least 2"),
        (lambda: langevin(ident, torch.tensor([[float("nan"), 0.0]]), 0.1, 10), ValueError, "non-finite"),
        (lambda: langevin(lambda x: x[:, :1], torch.ones(3, 2), 0.1, 10), ValueError, "shape"),
        (lambda: langevin("score", torch.ones(3, 2), 0.1, 10), TypeError, "callable"),
        (lambda: langevin(ident, torch.ones(3, 2), 0.1, 10, generator=3), TypeError, "Generator"),
        (lambda: langevin(ident, torch.ones(3, 2), 0.1, 10, progress=1), TypeError, "bool"),
        (lambda: langevin(ident, torch.ones(3, 2), 10.0, 400), FloatingPointError, "lower step_size"),
        (lambda: annealed_langevin(lambda x, s: -x, torch.ones(3, 2), [0.1, 1.0], 0.1, 5), ValueError, "decreasing"),
        (lambda: annealed_langevin(lambda x, s: -x, torch.ones(3, 2), [], 0.1, 5), ValueError, "at least one"),
        (lambda: annealed_langevin(lambda x, s: -x, torch.ones(3, 2), [1.0, -0.5], 0.1, 5), ValueError, "> 0"),
        (lambda: annealed_langevin(lambda x, s: -x, torch.ones(3, 2), torch.tensor([1.0, -0.5]), 0.1, 5),
         ValueError, "decreasing"),
        (lambda: annealed_langevin(lambda x, s: -x, torch.ones(3, 2), [1.0], 0.1, 0), ValueError, ">= 1"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.gpu
def test_cuda():
    m = torch.tensor([1.0, -1.0], device="cuda")
    g = torch.Generator("cuda").manual_seed(0)
    x = langevin(gaussian_score(m, 1.0), torch.zeros(4000, 2, device="cuda"), 0.1, 200, generator=g)
    assert x.device.type == "cuda"
    assert float((x.mean(0) - m).abs().max()) < 5 * math.sqrt(1.05 / 4000)
    with pytest.raises(ValueError, match="device"):
        langevin(gaussian_score(m, 1.0), torch.zeros(4, 2, device="cuda"), 0.1, 2,
                 generator=torch.Generator().manual_seed(0))
