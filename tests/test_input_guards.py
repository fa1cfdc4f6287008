"""Issue 13: every reproduction of a silent wrong answer, an obscure error or unbounded work now raises a clear
error naming the argument, or gives the right answer. Each guard is also shown to matter (mutation)."""

from __future__ import annotations

import math

import pytest
import torch

import scoresde
from scoresde import _checks, losses, metrics, solvers
from scoresde import sde as S
from scoresde.sampling import langevin


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---- 2. silent wrong answers -------------------------------------------------------------------------

def shape_changing_drift() -> S.FunctionSDE:
    return S.FunctionSDE(lambda y, t: -y if float(t[0]) < 0.3 else -y[:1], lambda y, t: torch.ones_like(y))


def test_drift_changing_shape_mid_solve_is_refused():
    with pytest.raises(ValueError, match=r"drift f\(x, t\) has shape \(1, 2\)"):
        solvers.solve(shape_changing_drift(), torch.randn(8, 2), [0.0, 1.0], dt=0.1, generator=gen(0))


def test_drift_check_in_the_step_catches_a_subclass_that_broadcasts():
    class Broadcasting(S.SDE):
        noise_type, sde_type = "diagonal", "ito"

        def f(self, x, t):
            return -x if float(t[0]) < 0.3 else -x[:1]

        def g(self, x, t):
            return torch.ones_like(x)

    with pytest.raises(ValueError, match="has shape"):
        solvers.solve(Broadcasting(), torch.randn(8, 2), [0.0, 1.0], dt=0.1, generator=gen(0))


def test_drift_changing_dtype_is_refused():
    sde = S.FunctionSDE(lambda y, t: -y.double(), lambda y, t: torch.ones_like(y))
    with pytest.raises(TypeError, match="dtype torch.float64"):
        solvers.solve(sde, torch.randn(4, 2), [0.0, 1.0], generator=gen(0))


def test_without_the_shape_check_the_drift_is_broadcast_silently(monkeypatch):
    """Mutation: remove the check and row 0's drift is silently used for every row."""
    monkeypatch.setattr(S, "check_same_shape_dtype", lambda out, x, what: out)
    monkeypatch.setattr(solvers, "check_same_shape_dtype", lambda out, x, what: out)
    out = solvers.solve(shape_changing_drift(), torch.randn(8, 2), [0.0, 1.0], dt=0.1, generator=gen(0))
    assert out.shape == (2, 8, 2)  # it "worked": that is the silent wrong answer the check prevents


@pytest.mark.parametrize("dtype", [torch.long, torch.int32, torch.bool])
def test_marginal_prob_refuses_integer_x0(dtype):
    with pytest.raises(TypeError, match="x0 must have a floating-point dtype"):
        S.VPSDE().marginal_prob(torch.ones(2, 2, dtype=dtype), 0.5)


def test_marginal_prob_of_a_float_x0_is_right():
    std = S.VPSDE().marginal_prob(torch.ones(2, 2, dtype=torch.float64), 0.5)[1]
    lmc = -0.25 * 0.25 * 19.9 - 0.5 * 0.5 * 0.1
    assert std[0].item() == pytest.approx(math.sqrt(1 - math.exp(2 * lmc)), rel=1e-12)
    assert std[0].item() == pytest.approx(0.9597, abs=1e-4)


@pytest.mark.parametrize("sde", [S.BrownianMotion(), S.VESDE(), S.VPSDE(), S.SubVPSDE(), S.OrnsteinUhlenbeck()],
                         ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("t, error, match", [(-0.5, ValueError, ">= 0"), (float("nan"), ValueError, "finite"),
                                             (float("inf"), ValueError, "finite"),
                                             (torch.tensor([0.1, -0.1]), ValueError, ">= 0"),
                                             (torch.tensor([0.1, float("nan")]), ValueError, "non-finite"),
                                             ("0.5", TypeError, "real number")])
def test_marginal_prob_refuses_bad_times(sde, t, error, match):
    with pytest.raises(error, match=match):
        sde.marginal_prob(torch.zeros(2, 2), t)


def test_energy_distance_is_scale_equivariant_without_overflow():
    x, y = torch.randn(50, 2, generator=gen(0)), torch.randn(50, 2, generator=gen(1)) + 1
    base = metrics.energy_distance(x, y)
    for c in (1e20, 1e-20, 3.0):
        assert metrics.energy_distance(x * c, y * c) == pytest.approx(c * base, rel=1e-6)
    assert metrics.energy_distance(x, y) == base  # power-of-2 scaling: ordinary data unchanged
    assert metrics.energy_distance(torch.zeros(3, 2), torch.zeros(3, 2)) == 0.0


def test_energy_distance_without_scaling_overflows(monkeypatch):
    """Mutation: without the rescaling the float32 squares overflow and the estimate is NaN."""
    x, y = torch.randn(5, 2, generator=gen(0)) * 1e20, torch.randn(5, 2, generator=gen(1)) * 1e20
    monkeypatch.setattr(metrics.math, "ldexp", lambda m, e: 1.0)
    assert math.isnan(metrics.energy_distance(x, y))


@pytest.mark.parametrize("sigma", [1e-30, torch.tensor([0.1, 1e-30])])
def test_dsm_refuses_a_vanishing_noise_level(sigma):
    with pytest.raises(ValueError, match="smallest noise level"):
        losses.denoising_score_matching(lambda z: -z, torch.randn(2, 2, generator=gen(0)), sigma)


def test_dsm_smallest_allowed_level_is_finite():
    smallest = float(torch.finfo(torch.float32).max) ** -0.25
    loss = losses.denoising_score_matching(lambda z: -z, torch.randn(64, 2, generator=gen(0)), smallest * 1.01,
                                           generator=gen(1))
    assert torch.isfinite(loss)


def test_langevin_refuses_a_score_that_changes_the_dtype():
    with pytest.raises(TypeError, match="returned dtype torch.float64"):
        langevin(lambda z: (-z).double(), torch.randn(4, 2), 0.1, 3, generator=gen(0))


def cross_coupled() -> S.FunctionSDE:
    return S.FunctionSDE(lambda y, t: -y, lambda y, t: 1 + 0.3 * y.flip(-1), "diagonal")


def test_milstein_refuses_diagonal_noise_coupled_across_coordinates():
    with pytest.raises(ValueError, match="depends on other coordinates"):
        solvers.solve(cross_coupled(), torch.randn(8, 2, generator=gen(0)), [0.0, 1.0], method="milstein",
                      generator=gen(1))


def test_milstein_accepts_true_diagonal_noise():
    sde = S.FunctionSDE(lambda y, t: -y, lambda y, t: 1 + 0.3 * torch.sin(y), "diagonal")
    out = solvers.solve(sde, torch.randn(8, 3, generator=gen(0)), [0.0, 1.0], method="milstein", dt=0.1,
                        generator=gen(1))
    assert torch.isfinite(out).all()


def test_without_the_probe_milstein_runs_silently(monkeypatch):
    monkeypatch.setattr(solvers, "_check_diagonal", lambda sde, x, t: None)
    out = solvers.solve(cross_coupled(), torch.randn(8, 2, generator=gen(0)), [0.0, 1.0], method="milstein",
                        generator=gen(1))
    assert out.shape == (2, 8, 2)


# ---- 5. one divergence exception --------------------------------------------------------------------

def test_divergence_is_one_exception_type_everywhere():
    assert scoresde.DivergenceError is _checks.DivergenceError
    assert issubclass(scoresde.DivergenceError, FloatingPointError)
    assert issubclass(scoresde.DivergenceError, ValueError)
    blow_up = S.FunctionSDE(lambda y, t: y**3 * 1e3, lambda y, t: torch.ones_like(y))
    with pytest.raises(scoresde.DivergenceError, match="step"):
        solvers.solve(blow_up, torch.full((2, 1), 10.0), [0.0, 1.0], dt=0.1, generator=gen(0))
    with pytest.raises(scoresde.DivergenceError, match="diverged"):
        langevin(lambda z: z * 1e30, torch.ones(2, 1), 1.0, 20, generator=gen(0))
