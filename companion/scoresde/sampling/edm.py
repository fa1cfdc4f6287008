r"""EDM's Heun sampler (Karras et al. 2022, Algorithm 2), with optional churn, on any Gaussian path.

EDM integrates the probability-flow ODE of the rescaled state :math:`\tilde x=x/\alpha_t` in its noise level
:math:`\tilde\sigma=\sigma_t/\alpha_t` (book: eq-edm-ode):

.. math:: \frac{\mathrm d\tilde x}{\mathrm d\tilde\sigma}=\frac{\tilde x-D(\tilde x,\tilde\sigma)}{\tilde\sigma}
          =\hat\varepsilon,\qquad D(\tilde x,\tilde\sigma)=\hat x_0(\alpha_t\tilde x,t(\tilde\sigma)),

by Heun's method on the :class:`~scoresde.sampling.schedules.KarrasSigma` grid (:math:`\rho=7`). With churn
:math:`S_{\mathrm{churn}}>0`, each step first raises the noise from :math:`\tilde\sigma_i` to
:math:`\hat\sigma_i=(1+\gamma_i)\tilde\sigma_i`, :math:`\gamma_i=\min(S_{\mathrm{churn}}/N,\sqrt2-1)` for
:math:`\tilde\sigma_i\in[S_{t\min},S_{t\max}]`, by adding :math:`\sqrt{\hat\sigma_i^2-\tilde\sigma_i^2}\,S_{\mathrm{noise}}z`.
Order 2 (deterministic, churn 0), two evaluations per step (the grid stops at :math:`t_{\min}>0`, so no final
Euler step to :math:`\tilde\sigma=0`). Peer test: k-diffusion's ``sample_heun``.
"""

from __future__ import annotations

import math

import torch

from .._checks import check_positive_float
from ._common import Shape, normal_like, setup
from .parametrisations import Prediction
from .schedules import KarrasSigma, TimeSchedule, check_finite_log_snr

__all__ = ["ORDER", "edm_heun_sample"]

#: the global order of the deterministic sampler (churn 0) in the step size
ORDER = 2


def edm_heun_sample(pred: Prediction, shape: Shape | None = None, *, n_steps: int = 10,
                    schedule: TimeSchedule | None = None, churn: float = 0.0, s_tmin: float = 0.0,
                    s_tmax: float = math.inf, s_noise: float = 1.0, t_max: float | None = None,
                    t_min: float = 1e-3, x_T: torch.Tensor | None = None, generator: torch.Generator | None = None,
                    dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> torch.Tensor:
    r"""Sample with ``n_steps`` Heun steps of EDM's ODE (book: eq-edm-ode), ``2 n_steps`` evaluations.

    Args:
        pred: the model.
        shape: ``(n_samples, *event_shape)`` of the prior draw :math:`x\sim\mathcal N(0,I)` at ``t_max``
            (or give ``x_T``).
        n_steps: Heun steps (>= 1).
        schedule: the grid (default :class:`~scoresde.sampling.schedules.KarrasSigma` with :math:`\rho=7`).
        churn: :math:`S_{\mathrm{churn}}\ge0` (0: deterministic).
        s_tmin, s_tmax: the range of :math:`\tilde\sigma` where churn applies.
        s_noise: :math:`S_{\mathrm{noise}}`, the scale of the added noise.
        t_max, t_min: the interval (default ``t_max``: :math:`T`).
        x_T: the initial state instead of a prior draw.
        generator: for the prior draw and the churn noise.
        dtype, device: of the prior draw.
    """
    churn = check_positive_float(churn, "churn", allow_zero=True)
    s_tmin = check_positive_float(s_tmin, "s_tmin", allow_zero=True)
    if not s_tmax > s_tmin:  # inf allowed
        raise ValueError(f"s_tmax must be > s_tmin, got {s_tmax}")
    s_noise = check_positive_float(s_noise, "s_noise", allow_zero=True)
    x, ts = setup(pred, shape, n_steps, schedule or KarrasSigma(), t_max, t_min, x_T, generator, dtype, device)
    p = pred.path
    check_finite_log_snr(p, float(ts[0]), "t_max", "edm_heun_sample")
    sig = p.sigma_tilde(ts).tolist()
    n = len(sig) - 1

    def eps_hat(xt: torch.Tensor, sigma_tilde: float) -> torch.Tensor:  # d x~ / d sigma~ = eps_hat
        t = float(p.time_of_sigma_tilde(sigma_tilde))
        return pred.x0_eps(float(p.alpha(t)) * xt, t)[1]

    with torch.no_grad():
        xt = x / float(p.alpha(ts[0]))
        for i in range(n):
            gamma = min(churn / n, math.sqrt(2) - 1) if s_tmin <= sig[i] <= s_tmax else 0.0
            sig_hat = sig[i] * (1 + gamma)
            if gamma > 0:
                xt = xt + normal_like(xt, generator) * s_noise * math.sqrt(sig_hat**2 - sig[i] ** 2)
            dt = sig[i + 1] - sig_hat
            d = eps_hat(xt, sig_hat)
            x2 = xt + d * dt
            xt = xt + 0.5 * (d + eps_hat(x2, sig[i + 1])) * dt
        return xt * float(p.alpha(ts[-1]))
