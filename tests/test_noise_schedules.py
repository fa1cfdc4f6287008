"""The VP noise schedules (scoresde.noise_schedules): the linear default leaves VPSDE bit-for-bit unchanged; the
cosine schedule of Nichol & Dhariwal (2021) has its closed-form marginals, its Monte Carlo marginals through
``solve``, and samples a Gaussian toy with the predictor–corrector sampler."""

from __future__ import annotations

import math

import pytest
import torch

from scoresde.noise_schedules import CosineSchedule, LinearBeta
from scoresde.sampling.reverse import predictor_corrector_sample
from scoresde.sde import VPSDE
from scoresde.solvers import solve

T64 = torch.linspace(0, 1, 1001, dtype=torch.float64)


def test_the_default_schedule_is_the_old_linear_formula_bit_for_bit():
    sde, old = VPSDE(beta_min=0.1, beta_max=20.0), (0.1, 20.0)
    for t in (T64, T64.float()):
        assert torch.equal(sde.log_mean_coeff(t), -0.25 * t**2 * (old[1] - old[0]) - 0.5 * t * old[0])
        assert torch.equal(sde.beta(t), old[0] + t * (old[1] - old[0]))
    assert (sde.beta_min, sde.beta_max) == old and isinstance(sde.schedule, LinearBeta)
    with pytest.raises(TypeError, match="schedule must be"):
        VPSDE(schedule="cosine")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="schedule's T"):
        VPSDE(T=2.0, schedule=CosineSchedule())


def test_cosine_schedule_is_nichol_dhariwal_alpha_bar_and_beta_its_derivative():
    sch, s = CosineSchedule(), 0.008
    alpha_bar = torch.cos((T64 + s) / (1 + s) * math.pi / 2) ** 2 / math.cos(s / (1 + s) * math.pi / 2) ** 2
    before = T64 <= sch.t_star
    assert 0.85 < sch.t_star < 0.95  # beta_cos reaches beta_max = 20 near t = 0.90
    assert torch.allclose(torch.exp(-sch.integral(T64))[before], alpha_bar[before], rtol=1e-12, atol=0)
    # beta = d/dt of the integral (central differences, error O(h^2) ~ 1e-6 relative), clipped beyond t*
    h = 1e-4
    inner = T64[1:-1]
    fd = (sch.integral(inner + h) - sch.integral(inner - h)) / (2 * h)
    assert torch.allclose(fd, sch.beta(inner), rtol=1e-5)
    beta = sch.beta(T64)
    assert torch.isfinite(beta).all() and float(beta.max()) == 20.0 and float(beta[-1]) == 20.0
    assert torch.all(beta[1:] >= beta[:-1])  # increasing, then flat at beta_max
    vp = VPSDE(schedule=sch)
    mean, std = vp.marginal_prob(torch.ones(1001, 1, dtype=torch.float64), T64)
    a = torch.exp(-sch.integral(T64) / 2)
    assert torch.allclose(mean[:, 0], a, rtol=1e-12) and torch.allclose(std, (1 - a * a).sqrt(), rtol=1e-10)
    assert float(a[-1]) < 0.1  # the prior N(0, I) is reached: alpha_T ~ 0.06


def test_cosine_vp_marginals_by_monte_carlo_through_solve():
    """Forward SDE from x0 = 1 by Euler–Maruyama, dt = 2^-9, 20,000 paths: the sample mean and std at t = 0.5 and
    t = 1 match the closed form within 4 standard errors (0.005 and 0.0035 at t = 0.5) plus 0.003 for the O(dt)
    bias of Euler–Maruyama (about 0.001 here)."""
    vp, n = VPSDE(schedule=CosineSchedule()), 20000
    x0 = torch.ones(n, 1, dtype=torch.float64)
    ts = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    xs = solve(vp, x0, ts, dt=2.0**-9, generator=torch.Generator().manual_seed(0))
    for k in (1, 2):
        mean, std = vp.marginal_prob(x0[:1], ts[k : k + 1])
        m, sd = float(mean), float(std)
        se_mean, se_std = sd / math.sqrt(n), sd / math.sqrt(2 * n)
        assert abs(float(xs[k].mean()) - m) < 4 * se_mean + 0.003, (k, float(xs[k].mean()), m)
        assert abs(float(xs[k].std()) - sd) < 4 * se_std + 0.003, (k, float(xs[k].std()), sd)


@pytest.mark.parametrize("predictor", ["euler", "reverse_diffusion", "ancestral"])
def test_pc_sampler_samples_a_gaussian_toy_under_the_cosine_schedule(predictor):
    """Data N(0, 0.5^2 I) in 2-D with its exact score under the cosine schedule: 4,000 PC samples (100 steps,
    one Langevin corrector step) have std 0.5 within 0.05 (SE 0.004, plus the discretisation bias)."""
    vp, s0 = VPSDE(schedule=CosineSchedule()), 0.5

    def score(x, t):
        _, std = vp.marginal_prob(x, t)
        a2 = 1 - std.square()
        return -x / (a2 * s0 * s0 + std.square())[:, None]

    x = predictor_corrector_sample(vp, score, (4000, 2), n_steps=100, predictor=predictor, dtype=torch.float64,
                                   generator=torch.Generator().manual_seed(1))
    assert abs(float(x.std()) - s0) < 0.05, float(x.std())
    assert abs(float(x.mean())) < 0.03


@pytest.mark.parametrize("sch", [LinearBeta(), LinearBeta(1.0, 1.0), CosineSchedule()], ids=["linear", "const", "cosine"])
def test_inverse_integral_inverts_the_integral(sch):
    """t -> integral(t) -> inverse_integral gives t back to 1e-12 on [0, 1], also past the cosine's clip t*."""
    torch.testing.assert_close(sch.inverse_integral(sch.integral(T64)), T64, rtol=0, atol=1e-12)


def test_cosine_inverse_integral_is_dpm_solvers_inverse_lambda():
    """DPM-Solver's NoiseScheduleVP('cosine').inverse_lambda (LuChengTHU/dpm-solver, dpm_solver_pytorch.py at
    52bc3fb), transcribed: log_alpha = -0.5 logaddexp(0, -2 lam); t = arccos(exp(log_alpha + log cos u(0)))
    2 (1 + s) / pi - s; before the clip t* the two agree to rounding."""
    sch, s = CosineSchedule(), 0.008
    lam = torch.linspace(-1.8, 8.0, 200, dtype=torch.float64)  # lambda(t*) is about -1.86
    log_alpha = -0.5 * torch.logaddexp(torch.zeros_like(lam), -2.0 * lam)
    cos0 = math.log(math.cos(math.pi / 2.0 * s / (1.0 + s)))
    peer = torch.arccos(torch.exp(log_alpha + cos0)) * 2.0 * (1.0 + s) / math.pi - s
    assert float(peer.max()) < sch.t_star
    torch.testing.assert_close(sch.inverse_integral(-2 * log_alpha), peer, rtol=1e-12, atol=1e-13)


def test_vp_path_reads_the_declared_variance_preserving_property():
    """VPPath takes any VP SDE that declares variance_preserving (the cosine one too: alpha_t = sqrt(alpha_bar) in
    Nichol & Dhariwal's closed form), and refuses sub-VP (std 1 - alpha^2) or an SDE that declares False."""
    from scoresde.sampling.gaussian_path import VPPath
    from scoresde.sde import CosineVPSDE, SubVPSDE

    path, s = VPPath(CosineVPSDE()), 0.008
    t = T64[T64 <= path.sde.schedule.t_star]
    alpha_bar = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2 / math.cos(s / (1 + s) * math.pi / 2) ** 2
    torch.testing.assert_close(path.alpha(t), alpha_bar.sqrt(), rtol=1e-12, atol=0)
    torch.testing.assert_close(path.sigma(t[1:]), (1 - alpha_bar[1:]).sqrt(), rtol=1e-10, atol=0)
    torch.testing.assert_close(path.time_of_log_snr(path.log_snr(T64[1:])), T64[1:], rtol=0, atol=1e-11)
    VPPath(VPSDE())

    class NotVP(VPSDE):
        variance_preserving = False

    for sde in (SubVPSDE(), NotVP()):
        with pytest.raises(TypeError, match="declares variance_preserving"):
            VPPath(sde)


def test_the_cosine_vp_sde_is_registered_for_the_cli():
    from scoresde.cli import _parser, make_sde
    from scoresde.sde import SDES, CosineVPSDE

    sde = make_sde({"name": "vp_cosine", "beta_max": 10.0})
    assert isinstance(sde, CosineVPSDE) and isinstance(sde.schedule, CosineSchedule)
    assert sde.schedule.beta_max == 10.0 and "vp_cosine" in SDES.names
    t = torch.tensor([0.3], dtype=torch.float64)
    assert torch.equal(sde.log_mean_coeff(t), VPSDE(schedule=CosineSchedule(beta_max=10.0)).log_mean_coeff(t))
    assert _parser().parse_args(["train", "--sde", "vp_cosine", "--checkpoint", "c.pt"]).sde == "vp_cosine"
    with pytest.raises(ValueError, match="does not take"):
        make_sde({"name": "vp_cosine", "beta_min": 0.1})
