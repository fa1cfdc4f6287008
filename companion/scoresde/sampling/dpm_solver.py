r"""DPM-Solver (Lu et al. 2022): exponential integrators of the probability-flow ODE in log-SNR time.

Written in :math:`\lambda_t=\log(\alpha_t/\sigma_t)` the probability-flow ODE of a Gaussian path has an exactly
integrable linear part (book: eq-pf-lambda):

.. math:: x_t=\frac{\alpha_t}{\alpha_s}x_s-\alpha_t\int_{\lambda_s}^{\lambda_t}e^{-\lambda}\,
          \hat\varepsilon(x_\lambda,\lambda)\,\mathrm d\lambda
          =\frac{\sigma_t}{\sigma_s}x_s
          +\sigma_t\int_{\lambda_s}^{\lambda_t}e^{\lambda}\,\hat x_0(x_\lambda,\lambda)\,\mathrm d\lambda.

Only the model term is approximated. With :math:`h=\lambda_t-\lambda_s`:

* **DPM-Solver-2** (singlestep, noise prediction, midpoint :math:`r_1=\tfrac12`; book: eq-dpm-solver-2):
  :math:`s_1=t(\lambda_s+h/2)`, :math:`u=\frac{\alpha_{s_1}}{\alpha_s}x_s-\sigma_{s_1}(e^{h/2}-1)\hat\varepsilon_s`,
  :math:`x_t=\frac{\alpha_t}{\alpha_s}x_s-\sigma_t(e^{h}-1)\hat\varepsilon(u,s_1)`. Order 2, two evaluations per step.
* **DPM-Solver++(2M)** (multistep, data prediction; Lu et al. 2022b; book: eq-dpm-solver-pp):
  :math:`D=(1+\tfrac1{2r})\hat x_0^{(i)}-\tfrac1{2r}\hat x_0^{(i-1)}` with :math:`r=h_{i-1}/h_i`,
  :math:`x_{i+1}=\frac{\sigma_{i+1}}{\sigma_i}x_i-\alpha_{i+1}(e^{-h_i}-1)D` (first step: :math:`D=\hat x_0^{(0)}`).
  Order 2, one evaluation per step (it reuses the previous one).

Peer tests (``tests/test_few_step_samplers.py``): DPM-Solver's ``singlestep_dpm_solver_second_update`` and
``multistep_dpm_solver_second_update``, and k-diffusion's ``sample_dpmpp_2m``.
"""

from __future__ import annotations

import math

import torch

from ._common import Shape, setup
from .parametrisations import Prediction
from .schedules import LogSNRUniform, TimeSchedule, check_finite_log_snr

__all__ = ["ORDER", "dpm_solver_2_step", "dpm_solver_pp_2m_step", "dpm_solver_2_sample", "dpm_solver_pp_2m_sample"]

#: the global order of both solvers in the step size
ORDER = 2


def dpm_solver_2_step(pred: Prediction, x: torch.Tensor, s: float, t: float) -> torch.Tensor:
    r"""One DPM-Solver-2 step from ``s`` to ``t < s`` (book: eq-dpm-solver-2); two model evaluations."""
    p = pred.path
    lam_s, lam_t = float(p.log_snr(s)), float(p.log_snr(t))
    h = lam_t - lam_s
    s1 = float(p.time_of_log_snr(lam_s + 0.5 * h))
    a_s, a_s1, a_t = float(p.alpha(s)), float(p.alpha(s1)), float(p.alpha(t))
    sig_s1, sig_t = float(p.sigma(s1)), float(p.sigma(t))
    _, eps_s = pred.x0_eps(x, s)
    u = (a_s1 / a_s) * x - sig_s1 * math.expm1(0.5 * h) * eps_s
    _, eps_s1 = pred.x0_eps(u, s1)
    return (a_t / a_s) * x - sig_t * math.expm1(h) * eps_s1


def dpm_solver_pp_2m_step(pred: Prediction, x: torch.Tensor, x0_s: torch.Tensor, s: float, t: float,
                          x0_prev: torch.Tensor | None = None, s_prev: float | None = None) -> torch.Tensor:
    r"""One DPM-Solver++(2M) step from ``s`` to ``t < s`` (book: eq-dpm-solver-pp), given the data prediction
    ``x0_s`` at ``(x, s)`` and, after the first step, the one at the previous time ``s_prev``; no evaluation."""
    p = pred.path
    lam_s, lam_t = float(p.log_snr(s)), float(p.log_snr(t))
    h = lam_t - lam_s
    d = x0_s
    if x0_prev is not None:
        if s_prev is None:
            raise ValueError("x0_prev needs s_prev")
        r = (lam_s - float(p.log_snr(s_prev))) / h
        d = (1 + 1 / (2 * r)) * x0_s - (1 / (2 * r)) * x0_prev
    return (float(p.sigma(t)) / float(p.sigma(s))) * x - float(p.alpha(t)) * math.expm1(-h) * d


def dpm_solver_2_sample(pred: Prediction, shape: Shape | None = None, *, n_steps: int = 10,
                        schedule: TimeSchedule | None = None, t_max: float | None = None, t_min: float = 1e-3,
                        x_T: torch.Tensor | None = None, generator: torch.Generator | None = None,
                        dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> torch.Tensor:
    r"""``n_steps`` DPM-Solver-2 steps (``2 n_steps`` evaluations) on the schedule's grid (default
    :class:`~scoresde.sampling.schedules.LogSNRUniform`) from ``t_max`` (default :math:`T`) to ``t_min``, from
    :math:`\mathcal N(0,I)` (or ``x_T``); ``generator``, ``dtype``, ``device``: of the prior draw only."""
    x, ts = setup(pred, shape, n_steps, schedule or LogSNRUniform(), t_max, t_min, x_T, generator, dtype, device)
    check_finite_log_snr(pred.path, float(ts[0]), "t_max", "DPM-Solver")
    with torch.no_grad():
        for s, t in zip(ts[:-1].tolist(), ts[1:].tolist()):
            x = dpm_solver_2_step(pred, x, s, t)
    return x


def dpm_solver_pp_2m_sample(pred: Prediction, shape: Shape | None = None, *, n_steps: int = 20,
                            schedule: TimeSchedule | None = None, t_max: float | None = None, t_min: float = 1e-3,
                            x_T: torch.Tensor | None = None, generator: torch.Generator | None = None,
                            dtype: torch.dtype = torch.float32,
                            device: torch.device | str | None = None) -> torch.Tensor:
    r"""``n_steps`` DPM-Solver++(2M) steps (``n_steps`` evaluations) on the schedule's grid (default
    :class:`~scoresde.sampling.schedules.LogSNRUniform`) from ``t_max`` (default :math:`T`) to ``t_min``, from
    :math:`\mathcal N(0,I)` (or ``x_T``); ``generator``, ``dtype``, ``device``: of the prior draw only."""
    x, ts = setup(pred, shape, n_steps, schedule or LogSNRUniform(), t_max, t_min, x_T, generator, dtype, device)
    check_finite_log_snr(pred.path, float(ts[0]), "t_max", "DPM-Solver")
    x0_prev: torch.Tensor | None = None
    s_prev: float | None = None
    with torch.no_grad():
        for s, t in zip(ts[:-1].tolist(), ts[1:].tolist()):
            x0_s, _ = pred.x0_eps(x, s)
            x = dpm_solver_pp_2m_step(pred, x, x0_s, s, t, x0_prev, s_prev)
            x0_prev, s_prev = x0_s, s
    return x
