r"""DDIM (Song, Meng & Ermon 2021) on any Gaussian path, with :math:`\eta\in[0,1]` (book: eq-ddim).

From time :math:`s` to :math:`t<s`, with :math:`(\hat x_0,\hat\varepsilon)` the model's prediction at
:math:`(x_s,s)` and :math:`z\sim\mathcal N(0,I)`:

.. math:: x_t=\alpha_t\hat x_0+\sqrt{\sigma_t^2-\sigma_\eta^2}\,\hat\varepsilon+\sigma_\eta z,\qquad
          \sigma_\eta=\eta\,\sigma_t\sqrt{1-e^{-2(\lambda_t-\lambda_s)}}.

:math:`\eta=1` is DDPM's ancestral step (the posterior :math:`q(x_t\mid x_s,\hat x_0)`); :math:`\eta=0` is
deterministic and equals :math:`x_t=\frac{\alpha_t}{\alpha_s}x_s-\sigma_t(e^{h}-1)\hat\varepsilon`,
:math:`h=\lambda_t-\lambda_s`: the exact solution of the probability-flow ODE in :math:`\lambda` when
:math:`\hat\varepsilon` is held constant over the step (DPM-Solver-1, Lu et al. 2022; book: eq-ddim-exp).
First order, one model evaluation per step. Peer test: ``tests/test_few_step_samplers.py`` against
DPM-Solver's ``dpm_solver_first_update`` and the ``p_sample_ddim`` of the latent-diffusion code it ships.
"""

from __future__ import annotations

import math

import torch

from .._checks import check_real
from ._common import Shape, normal_like, setup
from .parametrisations import Prediction
from .schedules import TimeSchedule, UniformTime

__all__ = ["ORDER", "ddim_step", "ddim_sample"]

#: the global order of the deterministic step (eta = 0) in the step size
ORDER = 1


def _check_eta(eta: float) -> float:
    eta = check_real(eta, "eta")
    if not 0 <= eta <= 1:
        raise ValueError(f"eta must be in [0, 1], got {eta}")
    return eta


def ddim_step(pred: Prediction, x: torch.Tensor, s: float, t: float, eta: float = 0.0,
              noise: torch.Tensor | None = None) -> torch.Tensor:
    r"""One DDIM step from ``s`` to ``t < s`` (book: eq-ddim); ``noise`` is :math:`z` (needed when ``eta > 0``)."""
    eta = _check_eta(eta)
    if not float(t) < float(s):
        raise ValueError(f"a DDIM step goes down in time: need t < s, got s={s}, t={t}")
    p = pred.path
    x0, eps = pred.x0_eps(x, s)
    a_s, sig_s, a_t, sig_t = (float(v) for v in (p.alpha(s), p.sigma(s), p.alpha(t), p.sigma(t)))
    ratio = a_s * sig_t / (sig_s * a_t)              # e^{-(lambda_t - lambda_s)}, finite at alpha_s = 0
    sig_eta = eta * sig_t * math.sqrt(max(0.0, 1 - ratio * ratio))
    out = a_t * x0 + math.sqrt(sig_t * sig_t - sig_eta * sig_eta) * eps
    if sig_eta > 0:
        if noise is None:
            raise ValueError("eta > 0 needs noise")
        out = out + sig_eta * noise
    return out


def ddim_sample(pred: Prediction, shape: Shape | None = None, *, n_steps: int = 50, eta: float = 0.0,
                schedule: TimeSchedule | None = None, t_max: float | None = None, t_min: float = 1e-3,
                x_T: torch.Tensor | None = None, generator: torch.Generator | None = None,
                dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> torch.Tensor:
    r"""Sample with ``n_steps`` DDIM steps (book: eq-ddim) on the schedule's grid from ``t_max`` (default
    :math:`T`) to ``t_min``, starting from :math:`\mathcal N(0,I)` (or ``x_T``); ``n_steps`` evaluations.

    Args:
        pred: the model, read through :class:`~scoresde.sampling.parametrisations.Prediction`.
        shape: ``(n_samples, *event_shape)`` of the prior draw (or give ``x_T``).
        n_steps: steps (>= 1).
        eta: 0 (deterministic DDIM) to 1 (DDPM's ancestral sampling).
        schedule: the time grid (default :class:`~scoresde.sampling.schedules.UniformTime`).
        t_max, t_min: the interval.
        x_T: the initial state instead of a prior draw.
        generator: for the prior draw and the noise of ``eta > 0``.
        dtype, device: of the prior draw.
    """
    eta = _check_eta(eta)
    x, ts = setup(pred, shape, n_steps, schedule or UniformTime(), t_max, t_min, x_T, generator, dtype, device)
    with torch.no_grad():
        for s, t in zip(ts[:-1].tolist(), ts[1:].tolist()):
            x = ddim_step(pred, x, s, t, eta, normal_like(x, generator) if eta > 0 else None)
    return x
