"""Chapter 9's few-step samplers: peer tests (step by step against the published updates on the same inputs),
parametrisation round trips, schedules, declared orders, flow matching, and argument checks.

The peers' updates are transcribed below, line by line, from their sources (only the model call and, where
noted, the noise source are adapted):

* DPM-Solver: LuChengTHU/dpm-solver, ``dpm_solver_pytorch.py`` at commit 52bc3fbcd5de56d60917b826b15d2b69460fc2fa
  (``NoiseScheduleVP`` 'linear', ``model_wrapper`` model_type='score', ``get_time_steps``,
  ``dpm_solver_first_update``, ``singlestep_dpm_solver_second_update``, ``multistep_dpm_solver_second_update``);
* DDIM with eta: the same commit, ``examples/stable-diffusion/ldm/models/diffusion/ddim.py`` (``p_sample_ddim``)
  and ``ldm/modules/diffusionmodules/util.py`` (``make_ddim_sampling_parameters``);
* k-diffusion: crowsonkb/k-diffusion, ``k_diffusion/sampling.py`` at commit
  4601bf085320592473f681a62808ed873d17fad5 (``get_sigmas_karras``, ``to_d``, ``sample_heun``, ``sample_dpmpp_2m``).
"""

from __future__ import annotations

import math

import pytest
import torch

from scoresde.losses import flow_matching
from scoresde.nets import TimeScoreMLP
from scoresde.sampling import (
    FEW_STEP_SAMPLERS,
    KINDS,
    KarrasSigma,
    LinearPath,
    LogSNRUniform,
    Prediction,
    UniformTime,
    VPPath,
    ddim_sample,
    ddim_step,
    dpm_solver_2_sample,
    dpm_solver_2_step,
    dpm_solver_pp_2m_sample,
    dpm_solver_pp_2m_step,
    edm_heun_sample,
    flow_sample,
    from_x0_eps,
    sample_with_nfe,
    steps_for_nfe,
    to_x0_eps,
)
from scoresde.sde import VESDE, VPSDE, CosineVPSDE

F64 = torch.float64
TOL = dict(rtol=1e-11, atol=1e-11)


@pytest.fixture
def net():
    """A nonlinear time-conditional network in float64 (random weights): the 'score model' of the peer tests."""
    return TimeScoreMLP(3, 16, 2, generator=torch.Generator().manual_seed(3), dtype=F64).eval()


@pytest.fixture
def vp():
    return VPSDE(0.1, 20.0)


def _x(n=5, seed=0):
    return torch.randn(n, 3, generator=torch.Generator().manual_seed(seed), dtype=F64)


# ---------------------------------------------------------------- the peer: DPM-Solver (LuChengTHU/dpm-solver)
class PeerNoiseScheduleVP:
    """dpm_solver_pytorch.py, NoiseScheduleVP(schedule='linear', continuous_beta_0, continuous_beta_1)."""

    def __init__(self, continuous_beta_0=0.1, continuous_beta_1=20.):
        self.T = 1.
        self.beta_0 = continuous_beta_0
        self.beta_1 = continuous_beta_1

    def marginal_log_mean_coeff(self, t):
        return -0.25 * t ** 2 * (self.beta_1 - self.beta_0) - 0.5 * t * self.beta_0

    def marginal_alpha(self, t):
        return torch.exp(self.marginal_log_mean_coeff(t))

    def marginal_std(self, t):
        return torch.sqrt(1. - torch.exp(2. * self.marginal_log_mean_coeff(t)))

    def marginal_lambda(self, t):
        log_mean_coeff = self.marginal_log_mean_coeff(t)
        log_std = 0.5 * torch.log(1. - torch.exp(2. * log_mean_coeff))
        return log_mean_coeff - log_std

    def inverse_lambda(self, lamb):
        tmp = 2. * (self.beta_1 - self.beta_0) * torch.logaddexp(-2. * lamb, torch.zeros((1,)).to(lamb))
        Delta = self.beta_0**2 + tmp
        return tmp / (torch.sqrt(Delta) + self.beta_0) / (self.beta_1 - self.beta_0)


class PeerDPMSolver:
    """dpm_solver_pytorch.py, DPM_Solver: the model wrapper of model_type='score' (noise = -sigma_t * score), the
    data prediction, get_time_steps and the three updates (solver_type='dpmsolver')."""

    def __init__(self, score, ns, algorithm_type):
        self.score, self.noise_schedule, self.algorithm_type = score, ns, algorithm_type

    def noise_prediction_fn(self, x, t):  # model_wrapper, model_type == "score"
        sigma_t = self.noise_schedule.marginal_std(t)
        return -sigma_t * self.score(x, t.expand(x.shape[0]))

    def data_prediction_fn(self, x, t):
        noise = self.noise_prediction_fn(x, t)
        alpha_t, sigma_t = self.noise_schedule.marginal_alpha(t), self.noise_schedule.marginal_std(t)
        return (x - sigma_t * noise) / alpha_t

    def model_fn(self, x, t):
        return self.data_prediction_fn(x, t) if self.algorithm_type == "dpmsolver++" else self.noise_prediction_fn(x, t)

    def get_time_steps(self, skip_type, t_T, t_0, N):
        if skip_type == 'logSNR':
            lambda_T = self.noise_schedule.marginal_lambda(torch.tensor(t_T, dtype=F64))  # (dtype added: float64)
            lambda_0 = self.noise_schedule.marginal_lambda(torch.tensor(t_0, dtype=F64))
            logSNR_steps = torch.linspace(lambda_T.cpu().item(), lambda_0.cpu().item(), N + 1, dtype=F64)
            return self.noise_schedule.inverse_lambda(logSNR_steps)
        return torch.linspace(t_T, t_0, N + 1, dtype=F64)

    def dpm_solver_first_update(self, x, s, t):
        ns = self.noise_schedule
        lambda_s, lambda_t = ns.marginal_lambda(s), ns.marginal_lambda(t)
        h = lambda_t - lambda_s
        log_alpha_s, log_alpha_t = ns.marginal_log_mean_coeff(s), ns.marginal_log_mean_coeff(t)
        sigma_t = ns.marginal_std(t)
        phi_1 = torch.expm1(h)
        model_s = self.model_fn(x, s)
        return torch.exp(log_alpha_t - log_alpha_s) * x - (sigma_t * phi_1) * model_s

    def singlestep_dpm_solver_second_update(self, x, s, t, r1=0.5):
        ns = self.noise_schedule
        lambda_s, lambda_t = ns.marginal_lambda(s), ns.marginal_lambda(t)
        h = lambda_t - lambda_s
        lambda_s1 = lambda_s + r1 * h
        s1 = ns.inverse_lambda(lambda_s1)
        log_alpha_s, log_alpha_s1, log_alpha_t = ns.marginal_log_mean_coeff(s), ns.marginal_log_mean_coeff(s1), \
            ns.marginal_log_mean_coeff(t)
        sigma_s1, sigma_t = ns.marginal_std(s1), ns.marginal_std(t)
        phi_11 = torch.expm1(r1 * h)
        phi_1 = torch.expm1(h)
        model_s = self.model_fn(x, s)
        x_s1 = torch.exp(log_alpha_s1 - log_alpha_s) * x - (sigma_s1 * phi_11) * model_s
        model_s1 = self.model_fn(x_s1, s1)
        return (torch.exp(log_alpha_t - log_alpha_s) * x - (sigma_t * phi_1) * model_s
                - (0.5 / r1) * (sigma_t * phi_1) * (model_s1 - model_s))

    def multistep_dpm_solver_second_update(self, x, model_prev_list, t_prev_list, t):
        ns = self.noise_schedule
        model_prev_1, model_prev_0 = model_prev_list[-2], model_prev_list[-1]
        t_prev_1, t_prev_0 = t_prev_list[-2], t_prev_list[-1]
        lambda_prev_1, lambda_prev_0, lambda_t = ns.marginal_lambda(t_prev_1), ns.marginal_lambda(t_prev_0), \
            ns.marginal_lambda(t)
        sigma_prev_0, sigma_t = ns.marginal_std(t_prev_0), ns.marginal_std(t)
        alpha_t = torch.exp(ns.marginal_log_mean_coeff(t))
        h_0 = lambda_prev_0 - lambda_prev_1
        h = lambda_t - lambda_prev_0
        r0 = h_0 / h
        D1_0 = (1. / r0) * (model_prev_0 - model_prev_1)
        phi_1 = torch.expm1(-h)  # algorithm_type == "dpmsolver++", solver_type == 'dpmsolver'
        return (sigma_t / sigma_prev_0) * x - (alpha_t * phi_1) * model_prev_0 - 0.5 * (alpha_t * phi_1) * D1_0

    def dpmpp_first_update(self, x, s, t):  # dpm_solver_first_update, algorithm_type == "dpmsolver++"
        ns = self.noise_schedule
        h = ns.marginal_lambda(t) - ns.marginal_lambda(s)
        sigma_s, sigma_t = ns.marginal_std(s), ns.marginal_std(t)
        alpha_t = torch.exp(ns.marginal_log_mean_coeff(t))
        phi_1 = torch.expm1(-h)
        model_s = self.model_fn(x, s)
        return sigma_t / sigma_s * x - alpha_t * phi_1 * model_s


def _t(v):
    return torch.tensor([float(v)], dtype=F64)


def test_vp_path_and_schedules_match_dpm_solver(vp):
    path, ns = VPPath(vp), PeerNoiseScheduleVP()
    t = torch.linspace(1e-3, 1, 50, dtype=F64)
    torch.testing.assert_close(path.alpha(t), ns.marginal_alpha(t), **TOL)
    torch.testing.assert_close(path.sigma(t), ns.marginal_std(t), **TOL)
    torch.testing.assert_close(path.log_snr(t), ns.marginal_lambda(t), **TOL)
    torch.testing.assert_close(path.time_of_log_snr(path.log_snr(t)), t, rtol=1e-9, atol=1e-12)
    peer = PeerDPMSolver(None, ns, "dpmsolver")
    for n in (1, 7, 20):
        torch.testing.assert_close(LogSNRUniform().grid(path, n, 1.0, 1e-3), peer.get_time_steps("logSNR", 1.0, 1e-3, n),
                                   rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(UniformTime().grid(path, n, 1.0, 1e-3), peer.get_time_steps("time_uniform", 1.0, 1e-3, n),
                                   **TOL)


def test_ddim_eta0_is_dpm_solver_1(net, vp):
    """Peer: dpm_solver_first_update (DPM-Solver-1 = DDIM), noise prediction, step by step on one grid."""
    pred, peer = Prediction(net, VPPath(vp), "score"), PeerDPMSolver(net, PeerNoiseScheduleVP(), "dpmsolver")
    ts = LogSNRUniform().grid(pred.path, 6, 1.0, 1e-3)
    x = _x()
    for s, t in zip(ts[:-1].tolist(), ts[1:].tolist()):
        ours, theirs = ddim_step(pred, x, s, t), peer.dpm_solver_first_update(x, _t(s), _t(t))
        torch.testing.assert_close(ours, theirs, **TOL)
        x = theirs


def test_ddim_eta_matches_ldm_p_sample_ddim(net, vp):
    """Peer: p_sample_ddim with make_ddim_sampling_parameters' sigma (alphas_cumprod = alpha_t^2), same noise."""
    path = VPPath(vp)
    pred = Prediction(net, path, "score")
    ts = UniformTime().grid(path, 5, 1.0, 1e-3).tolist()
    x = _x()
    for eta in (0.0, 0.3, 1.0):
        xs = x.clone()
        for i, (s, t) in enumerate(zip(ts[:-1], ts[1:])):
            noise = torch.randn(xs.shape, generator=torch.Generator().manual_seed(i), dtype=F64)
            a_t, a_prev = float(path.alpha(s)) ** 2, float(path.alpha(t)) ** 2       # alphas_cumprod at t and t-1
            sigma_t = eta * math.sqrt((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev))
            e_t = -math.sqrt(1 - a_t) * net(xs, torch.full((5,), s, dtype=F64))     # eps model from the score
            pred_x0 = (xs - math.sqrt(1 - a_t) * e_t) / math.sqrt(a_t)
            dir_xt = math.sqrt(1. - a_prev - sigma_t**2) * e_t
            x_prev = math.sqrt(a_prev) * pred_x0 + dir_xt + sigma_t * noise
            torch.testing.assert_close(ddim_step(pred, xs, s, t, eta, noise), x_prev, **TOL)
            xs = x_prev


def test_dpm_solver_2_matches_singlestep_second_update(net, vp):
    pred, peer = Prediction(net, VPPath(vp), "score"), PeerDPMSolver(net, PeerNoiseScheduleVP(), "dpmsolver")
    ts = LogSNRUniform().grid(pred.path, 5, 1.0, 1e-3)
    x = _x()
    for s, t in zip(ts[:-1].tolist(), ts[1:].tolist()):
        ours, theirs = dpm_solver_2_step(pred, x, s, t), peer.singlestep_dpm_solver_second_update(x, _t(s), _t(t))
        torch.testing.assert_close(ours, theirs, rtol=1e-9, atol=1e-10)  # s1 goes through inverse_lambda
        x = theirs
    x0 = _x()
    ours = dpm_solver_2_sample(pred, x_T=x0, n_steps=5)
    x = x0
    for s, t in zip(ts[:-1].tolist(), ts[1:].tolist()):
        x = peer.singlestep_dpm_solver_second_update(x, _t(s), _t(t))
    torch.testing.assert_close(ours, x, rtol=1e-9, atol=1e-10)


def test_dpm_solver_pp_2m_matches_multistep_second_update(net, vp):
    """Peer: DPM-Solver's first update (dpmsolver++) for step 1, then multistep_dpm_solver_second_update."""
    pred, peer = Prediction(net, VPPath(vp), "score"), PeerDPMSolver(net, PeerNoiseScheduleVP(), "dpmsolver++")
    ts = LogSNRUniform().grid(pred.path, 6, 1.0, 1e-3).tolist()
    x0 = _x()
    x = peer.dpmpp_first_update(x0, _t(ts[0]), _t(ts[1]))
    models, times = [peer.model_fn(x0, _t(ts[0]))], [_t(ts[0])]
    ours = dpm_solver_pp_2m_step(pred, x0, pred.x0_eps(x0, ts[0])[0], ts[0], ts[1])
    torch.testing.assert_close(ours, x, **TOL)
    for i in range(1, len(ts) - 1):
        models.append(peer.model_fn(x, _t(ts[i])))
        times.append(_t(ts[i]))
        x_new = peer.multistep_dpm_solver_second_update(x, models, times, _t(ts[i + 1]))
        ours = dpm_solver_pp_2m_step(pred, x, pred.x0_eps(x, ts[i])[0], ts[i], ts[i + 1], models[-2], ts[i - 1])
        torch.testing.assert_close(ours, x_new, **TOL)
        x = x_new
    torch.testing.assert_close(dpm_solver_pp_2m_sample(pred, x_T=x0, n_steps=6), x, **TOL)


# ---------------------------------------------------------------- the peer: k-diffusion (crowsonkb/k-diffusion)
def append_zero(x):
    return torch.cat([x, x.new_zeros([1])])


def get_sigmas_karras(n, sigma_min, sigma_max, rho=7., device='cpu'):
    ramp = torch.linspace(0, 1, n, dtype=F64)  # (dtype added: the peer uses the default float32)
    min_inv_rho = sigma_min ** (1 / rho)
    max_inv_rho = sigma_max ** (1 / rho)
    sigmas = (max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** rho
    return append_zero(sigmas).to(device)


def to_d(x, sigma, denoised):
    return (x - denoised) / sigma


def sample_heun(model, x, sigmas, s_churn=0., s_tmin=0., s_tmax=float('inf'), s_noise=1., noise=None):
    """k-diffusion's sample_heun; the noise comes from ``noise()`` (the peer's torch.randn_like), drawn only when
    gamma > 0 (the peer draws every step and discards it when gamma = 0)."""
    s_in = x.new_ones([x.shape[0]])
    for i in range(len(sigmas) - 1):
        gamma = min(s_churn / (len(sigmas) - 1), 2 ** 0.5 - 1) if s_tmin <= sigmas[i] <= s_tmax else 0.
        sigma_hat = sigmas[i] * (gamma + 1)
        if gamma > 0:
            eps = noise() * s_noise
            x = x + eps * (sigma_hat ** 2 - sigmas[i] ** 2) ** 0.5
        denoised = model(x, sigma_hat * s_in)
        d = to_d(x, sigma_hat, denoised)
        dt = sigmas[i + 1] - sigma_hat
        if sigmas[i + 1] == 0:
            x = x + d * dt
        else:
            x_2 = x + d * dt
            denoised_2 = model(x_2, sigmas[i + 1] * s_in)
            d_2 = to_d(x_2, sigmas[i + 1], denoised_2)
            d_prime = (d + d_2) / 2
            x = x + d_prime * dt
    return x


def sample_dpmpp_2m(model, x, sigmas):
    s_in = x.new_ones([x.shape[0]])
    sigma_fn = lambda t: t.neg().exp()  # noqa: E731
    t_fn = lambda sigma: sigma.log().neg()  # noqa: E731
    old_denoised = None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        t, t_next = t_fn(sigmas[i]), t_fn(sigmas[i + 1])
        h = t_next - t
        if old_denoised is None or sigmas[i + 1] == 0:
            x = (sigma_fn(t_next) / sigma_fn(t)) * x - (-h).expm1() * denoised
        else:
            h_last = t - t_fn(sigmas[i - 1])
            r = h_last / h
            denoised_d = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old_denoised
            x = (sigma_fn(t_next) / sigma_fn(t)) * x - (-h).expm1() * denoised_d
        old_denoised = denoised
    return x


def _denoiser(pred):
    """k-diffusion's model D(x~, sigma~) for our path: x = alpha_t x~, t = t(sigma~), D = x0-hat."""
    path = pred.path

    def model(xt, sigma):
        t = float(path.time_of_sigma_tilde(sigma[0]))
        return to_x0_eps(pred.kind, pred.model(float(path.alpha(t)) * xt, torch.full((xt.shape[0],), t, dtype=F64)),
                         float(path.alpha(t)) * xt, *pred.coefficients(t))[0]
    return model


@pytest.mark.parametrize("n", [1, 4, 12])
def test_karras_schedule_matches_k_diffusion(vp, n):
    path = VPPath(vp)
    ts = KarrasSigma(7.0).grid(path, n, 1.0, 1e-3)
    peer = get_sigmas_karras(n + 1, float(path.sigma_tilde(1e-3)), float(path.sigma_tilde(1.0)))[:-1]
    torch.testing.assert_close(path.sigma_tilde(ts), peer, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("churn", [0.0, 3.0])
def test_edm_heun_matches_k_diffusion_sample_heun(net, vp, churn):
    pred = Prediction(net, VPPath(vp), "score")
    path = pred.path
    x0 = _x()
    ts = KarrasSigma().grid(path, 5, 1.0, 1e-3)
    g_ours, g_peer = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    ours = edm_heun_sample(pred, x_T=x0, n_steps=5, churn=churn, s_tmin=0.05, s_tmax=50.0, generator=g_ours)
    sigmas = path.sigma_tilde(ts)
    theirs = sample_heun(_denoiser(pred), x0 / float(path.alpha(1.0)), sigmas, s_churn=churn, s_tmin=0.05,
                         s_tmax=50.0, noise=lambda: torch.randn(x0.shape, generator=g_peer, dtype=F64))
    torch.testing.assert_close(ours, theirs * float(path.alpha(1e-3)), rtol=1e-9, atol=1e-10)


def test_dpm_solver_pp_2m_matches_k_diffusion(net, vp):
    pred = Prediction(net, VPPath(vp), "score")
    path = pred.path
    x0 = _x()
    ts = KarrasSigma().grid(path, 7, 1.0, 1e-3)
    ours = dpm_solver_pp_2m_sample(pred, x_T=x0, n_steps=7, schedule=KarrasSigma())
    theirs = sample_dpmpp_2m(_denoiser(pred), x0 / float(path.alpha(1.0)), path.sigma_tilde(ts))
    torch.testing.assert_close(ours, theirs * float(path.alpha(1e-3)), rtol=1e-9, atol=1e-10)


# ---------------------------------------------------------------- the family: conversions, orders, flow matching
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("path", [VPPath(VPSDE()), LinearPath()])
def test_parametrisations_round_trip(kind, path):
    t = 0.37
    a, s, da, ds = (float(f(t)) for f in (path.alpha, path.sigma, path.d_alpha, path.d_sigma))
    x0, eps = _x(seed=1), _x(seed=2)
    x = a * x0 + s * eps
    out = from_x0_eps(kind, x0, eps, a, s, da, ds)
    back = to_x0_eps(kind, out, x, a, s, da, ds)
    torch.testing.assert_close(back[0], x0, **TOL)
    torch.testing.assert_close(back[1], eps, **TOL)


def test_path_derivatives_by_finite_differences():
    for path in (VPPath(VPSDE()), VPPath(CosineVPSDE()), LinearPath()):
        t, h = torch.tensor([0.2, 0.6], dtype=F64), 1e-6
        torch.testing.assert_close(path.d_alpha(t), (path.alpha(t + h) - path.alpha(t - h)) / (2 * h), rtol=1e-7, atol=1e-9)
        torch.testing.assert_close(path.d_sigma(t), (path.sigma(t + h) - path.sigma(t - h)) / (2 * h), rtol=1e-7, atol=1e-9)
        torch.testing.assert_close(path.time_of_log_snr(path.log_snr(t)), t, rtol=1e-10, atol=1e-12)


def _gaussian_data_model(path, m=0.5, sd=0.3):
    """The exact score of x0 ~ N(m, sd^2 I) on ``path`` and the exact probability-flow map from t_max to t."""
    def score(x, t):
        a, s = path.alpha(t[0]).item(), path.sigma(t[0]).item()
        return -(x - a * m) / (a * a * sd * sd + s * s)

    def flow_map(x, t_max, t):
        sd_of = lambda u: math.sqrt(float(path.alpha(u)) ** 2 * sd * sd + float(path.sigma(u)) ** 2)  # noqa: E731
        return float(path.alpha(t)) * m + sd_of(t) / sd_of(t_max) * (x - float(path.alpha(t_max)) * m)
    return score, flow_map


@pytest.mark.parametrize("sde", [VPSDE(), CosineVPSDE()], ids=["linear", "cosine"])
@pytest.mark.parametrize("name", ["ddim", "dpm_solver_2", "dpm_solver_pp_2m", "edm_heun", "euler", "heun"])
def test_declared_orders_on_gaussian_data(name, sde):
    """Error against the exact probability-flow map of Gaussian data, n and 2n steps: slope = the declared order,
    under the linear and the cosine VP schedule (whose path is read from the SDE's schedule object)."""
    path = VPPath(sde)
    score, flow_map = _gaussian_data_model(path)
    x = _x(200)
    exact = flow_map(x, 1.0, 0.05)
    spec = FEW_STEP_SAMPLERS[name]
    errs = [float((spec.fn(Prediction(score, path, "score"), x_T=x, n_steps=n, t_min=0.05) - exact).abs().max())
            for n in (160, 320)]
    slope = math.log2(errs[0] / errs[1])
    assert abs(slope - spec.order) < 0.3, (name, errs, slope)


@pytest.mark.parametrize("name", ["ddpm", "euler_maruyama"])
def test_stochastic_samplers_sample_gaussian_data_under_the_cosine_schedule(name):
    """The two stochastic samplers on the cosine VP path with the exact score of x0 ~ N(0.5, 0.3^2 I) in 3-D:
    4,000 samples after 200 steps from t = 1 to 1e-3 have mean 0.5 and std 0.3 within 0.02 (standard errors
    0.003 and 0.002, plus the O(h) bias of the discretisation)."""
    path = VPPath(CosineVPSDE())
    score, _ = _gaussian_data_model(path)
    x = FEW_STEP_SAMPLERS[name].fn(Prediction(score, path, "score"), (4000, 3), n_steps=200,
                                   generator=torch.Generator().manual_seed(7), dtype=F64)
    assert abs(float(x.mean()) - 0.5) < 0.02 and abs(float(x.std()) - 0.3) < 0.02, (float(x.mean()), float(x.std()))


def test_ddim_on_the_linear_path_is_euler_and_ddpm_noise():
    """On flow matching's path DDIM (eta = 0) is Euler on the velocity ODE, to rounding."""
    path = LinearPath()
    score, _ = _gaussian_data_model(path)
    pred = Prediction(score, path, "score")
    x = _x(50)
    torch.testing.assert_close(ddim_sample(pred, x_T=x, n_steps=7, t_max=1.0 - 1e-3),
                               flow_sample(pred, x_T=x, n_steps=7, t_max=1.0 - 1e-3), rtol=1e-10, atol=1e-10)


def test_flow_matching_is_weighted_dsm():
    """J_FM's integrand = t^2/(1-t)^2 times the DSM integrand of the score read from the same network."""
    net = TimeScoreMLP(3, 16, 2, generator=torch.Generator().manual_seed(1), dtype=F64)
    x0 = _x(64)
    fm = flow_matching(net, x0, generator=torch.Generator().manual_seed(4), reduction="none")
    g = torch.Generator().manual_seed(4)
    t = torch.rand(64, generator=g, dtype=F64)
    eps = torch.randn(x0.shape, generator=g, dtype=F64)
    xt = (1 - t[:, None]) * x0 + t[:, None] * eps
    s = to_x0_eps("flow", net(xt, t), xt, 1 - t[:, None], t[:, None], -1.0, 1.0)[1] / -t[:, None]  # s = -eps_hat / t
    dsm = 0.5 * (s + eps / t[:, None]).square().sum(1)
    torch.testing.assert_close(fm, (t / (1 - t)).square() * dsm, rtol=1e-9, atol=1e-9)
    assert float(flow_matching(net, x0, generator=torch.Generator().manual_seed(4)).detach()) == pytest.approx(float(fm.mean()))


def test_flow_matching_minimiser_is_the_marginal_velocity():
    """For x0 ~ N(m, sd^2) the exact velocity (the probability-flow drift of the path) beats a perturbed one."""
    path = LinearPath()
    score, _ = _gaussian_data_model(path)
    exact = Prediction(score, path, "score")

    def velocity(x, t, c=0.0):
        return torch.stack([exact.predict("flow", x[i:i + 1], float(t[i]))[0] for i in range(len(x))]) * (1 + c)

    x0 = 0.5 + 0.3 * torch.randn(4000, 2, generator=torch.Generator().manual_seed(0), dtype=F64)
    loss = [float(flow_matching(lambda x, t, c=c: velocity(x, t, c), x0, generator=torch.Generator().manual_seed(1)))
            for c in (0.0, 0.1, -0.1)]
    assert loss[0] < min(loss[1:])


def test_steps_for_nfe_and_sample_with_nfe(net, vp):
    assert steps_for_nfe("edm_heun", 5) == 2 and steps_for_nfe("ddim", 5) == 5 and steps_for_nfe("heun", 1) == 1
    pred = Prediction(net, VPPath(vp), "score")
    for name in FEW_STEP_SAMPLERS:
        pred.nfe = 0
        out = sample_with_nfe(name, pred, (4, 3), nfe=10, generator=torch.Generator().manual_seed(0), dtype=F64)
        assert out.shape == (4, 3) and bool(torch.isfinite(out).all())
        if name != "euler_maruyama":  # chapter 5's sampler checks the score once before it starts
            assert pred.nfe == 10, (name, pred.nfe)


def test_bad_inputs(net, vp):
    pred = Prediction(net, VPPath(vp), "score")
    with pytest.raises(ValueError, match="eta"):
        ddim_sample(pred, (2, 3), n_steps=2, eta=1.5)
    with pytest.raises(ValueError, match="t < s"):
        ddim_step(pred, _x(), 0.2, 0.5)
    with pytest.raises(ValueError, match="kind"):
        Prediction(net, pred.path, "noise")
    with pytest.raises(TypeError, match="VPSDE"):
        VPPath(VESDE())
    with pytest.raises(ValueError, match="t_min"):
        UniformTime().grid(pred.path, 3, 0.5, 0.7)
    with pytest.raises(ValueError, match="rho"):
        KarrasSigma(0.0)
    with pytest.raises(ValueError, match="shape or x_T"):
        ddim_sample(pred, (2, 3), n_steps=2, x_T=_x())
    with pytest.raises(ValueError, match="churn"):
        edm_heun_sample(pred, (2, 3), n_steps=2, churn=-1.0)
    with pytest.raises(ValueError, match="euler_maruyama"):
        sample_with_nfe("euler_maruyama", Prediction(net, LinearPath(), "flow"), (2, 3), nfe=3)


@pytest.mark.parametrize("name", ["edm_heun", "dpm_solver_2", "dpm_solver_pp_2m"])
def test_log_snr_samplers_on_the_linear_path_name_t_max(name):
    """On flow matching's LinearPath, t = T = 1 is pure noise (alpha = 0, lambda = -inf). The samplers that step in
    lambda or sigma~ used to fail deep inside with 't contains non-finite values (NaN)'; now one ValueError names
    t_max, and t_max = 0.999 samples (finite)."""
    from scoresde.sampling.few_step import FEW_STEP_SAMPLERS
    from scoresde.sampling.gaussian_path import LinearPath
    from scoresde.sampling.parametrisations import Prediction

    pred = Prediction(lambda x, t: -x, LinearPath(), "flow")
    fn = FEW_STEP_SAMPLERS[name].fn
    with pytest.raises(ValueError, match="t_max=1 has log-SNR -inf"):
        fn(pred, (3, 2), n_steps=4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x = fn(pred, (3, 2), n_steps=4, t_max=0.999, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert bool(torch.isfinite(x).all())
