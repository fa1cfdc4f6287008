r"""Noise schedules of the variance-preserving SDE: :math:`\beta(t)` and its integral :math:`\int_0^t\beta`.

A :class:`~scoresde.sde.VPSDE` ``dx = -½β(t)x dt + √β(t) dW`` is fixed by its schedule: the marginal is
:math:`x_t\mid x_0\sim\mathcal N(\alpha_tx_0,(1-\alpha_t^2)I)` with :math:`\log\alpha_t=-\tfrac12\int_0^t\beta(s)\,\mathrm ds`
(book: eq-vp-sde). (The time grids of the few-step samplers are :mod:`scoresde.sampling.schedules`, not these.)

* :class:`LinearBeta`: :math:`\beta(t)=\beta_{\min}+t(\beta_{\max}-\beta_{\min})` (Song et al., 2021), the default;
* :class:`CosineSchedule`: :math:`\bar\alpha(t)=\alpha_t^2=f(t)/f(0)`, :math:`f(t)=\cos^2\big(\tfrac{t/T+s}{1+s}\tfrac\pi2\big)`
  (Nichol & Dhariwal, 2021).
"""

from __future__ import annotations

import abc
import math

import torch

from ._checks import check_positive_float

__all__ = ["NoiseSchedule", "LinearBeta", "CosineSchedule"]


class NoiseSchedule(abc.ABC):
    """:math:`\\beta(t)` and :math:`\\int_0^t\\beta(s)\\,\\mathrm ds` on :math:`[0, T]`, elementwise on a tensor ``t``."""

    @abc.abstractmethod
    def beta(self, t: torch.Tensor) -> torch.Tensor:
        """:math:`\\beta(t)`."""

    @abc.abstractmethod
    def integral(self, t: torch.Tensor) -> torch.Tensor:
        """:math:`\\int_0^t\\beta(s)\\,\\mathrm ds`."""

    def inverse_integral(self, c: torch.Tensor) -> torch.Tensor:
        """The time :math:`t\\ge0` with :math:`\\int_0^t\\beta = c` (``c >= 0``), in closed form: the inverse of the
        half log-SNR :math:`\\lambda_t` that DPM-Solver steps in, since :math:`c = \\log(1+e^{-2\\lambda})`.
        Only the few-step samplers' path (:class:`~scoresde.sampling.gaussian_path.VPPath`) needs it; a schedule that
        does not give it still serves the SDE, the solvers and the predictor-corrector samplers."""
        raise NotImplementedError(f"{type(self).__name__} gives no inverse_integral, which VPPath needs")


class LinearBeta(NoiseSchedule):
    r""":math:`\beta(t)=\beta_{\min}+t(\beta_{\max}-\beta_{\min})`,
    :math:`\int_0^t\beta=\tfrac12t^2(\beta_{\max}-\beta_{\min})+t\beta_{\min}`.

    Raises:
        ValueError: ``beta_min`` or ``beta_max`` not positive, or ``beta_max < beta_min``.
    """

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0) -> None:
        self.beta_min = check_positive_float(beta_min, "beta_min")
        self.beta_max = check_positive_float(beta_max, "beta_max")
        if self.beta_max < self.beta_min:
            raise ValueError(f"beta_max ({beta_max}) must be >= beta_min ({beta_min})")

    def beta(self, t: torch.Tensor) -> torch.Tensor:
        return self.beta_min + t * (self.beta_max - self.beta_min)

    def integral(self, t: torch.Tensor) -> torch.Tensor:
        return 0.5 * t**2 * (self.beta_max - self.beta_min) + t * self.beta_min

    def inverse_integral(self, c: torch.Tensor) -> torch.Tensor:
        r"""Solves :math:`\tfrac12\Delta\beta\,t^2+\beta_{\min}t=c` in the cancellation-free form of DPM-Solver's
        ``NoiseScheduleVP.inverse_lambda``: :math:`t = 2c/(\sqrt{\beta_{\min}^2+2\Delta\beta\,c}+\beta_{\min})`."""
        b0, db = self.beta_min, self.beta_max - self.beta_min
        if db == 0:
            return c / b0
        return 2 * c / (torch.sqrt(b0**2 + 2 * db * c) + b0)

    def __repr__(self) -> str:
        return f"LinearBeta(beta_min={self.beta_min}, beta_max={self.beta_max})"


class CosineSchedule(NoiseSchedule):
    r"""Nichol & Dhariwal's (2021) cosine schedule on :math:`[0, T]`: with :math:`u(t)=\tfrac{t/T+s}{1+s}\tfrac\pi2`,
    :math:`\int_0^t\beta=-\log\bar\alpha(t)=2\log\cos u(0)-2\log\cos u(t)` and :math:`\beta(t)=\tfrac{\pi}{T(1+s)}\tan u(t)`.

    :math:`\beta` is infinite at :math:`t=T` (:math:`u=\pi/2`), so it is clipped: :math:`\beta(t)=\min(\beta_{\rm cos}(t),
    \beta_{\max})`, and the integral is that of the clipped :math:`\beta` (linear in :math:`t` after the time
    :math:`t^*` where :math:`\beta_{\rm cos}(t^*)=\beta_{\max}`), so the marginals stay exact for the clipped SDE.
    (The paper clips the discrete :math:`\beta_i` at 0.999 instead.)

    Raises:
        ValueError: ``s``, ``beta_max`` or ``T`` not positive.
    """

    def __init__(self, s: float = 0.008, beta_max: float = 20.0, T: float = 1.0) -> None:
        self.s = check_positive_float(s, "s")
        self.beta_max = check_positive_float(beta_max, "beta_max")
        self.T = check_positive_float(T, "T")
        self._rate = math.pi / (self.T * (1 + self.s))  # du/dt = rate / 2
        u_star = math.atan(self.beta_max / self._rate)  # beta_cos = beta_max there
        self.t_star = min(self.T * (2 * u_star / math.pi * (1 + self.s) - self.s), self.T)

    def _u(self, t: torch.Tensor) -> torch.Tensor:
        return (t / self.T + self.s) / (1 + self.s) * (math.pi / 2)

    def beta(self, t: torch.Tensor) -> torch.Tensor:
        beta = self._rate * torch.tan(self._u(t.clamp(max=self.t_star)))
        return torch.where(t < self.t_star, beta.clamp(max=self.beta_max), torch.full_like(beta, self.beta_max))

    def integral(self, t: torch.Tensor) -> torch.Tensor:
        before = t.clamp(max=self.t_star)
        log_cos0 = math.log(math.cos(self.s / (1 + self.s) * math.pi / 2))
        return 2 * (log_cos0 - torch.log(torch.cos(self._u(before)))) + self.beta_max * (t - before)

    def inverse_integral(self, c: torch.Tensor) -> torch.Tensor:
        r"""Before :math:`t^*`: :math:`\cos u(t) = \cos u(0)\,e^{-c/2}`, so :math:`u = \arccos(\cos u(0)\,e^{-c/2})`
        and :math:`t = T\big(\tfrac{2u}{\pi}(1+s)-s\big)` (DPM-Solver's cosine ``inverse_lambda``); after it the
        integral grows by :math:`\beta_{\max}` per unit time."""
        c_star = float(self.integral(torch.tensor(self.t_star, dtype=torch.float64)))
        cos0 = math.cos(self.s / (1 + self.s) * math.pi / 2)
        u = torch.arccos(cos0 * torch.exp(-0.5 * c.clamp(max=c_star)))
        before = self.T * (2 * u / math.pi * (1 + self.s) - self.s)
        return torch.where(c <= c_star, before, self.t_star + (c - c_star) / self.beta_max)

    def __repr__(self) -> str:
        return f"CosineSchedule(s={self.s}, beta_max={self.beta_max}, T={self.T})"
