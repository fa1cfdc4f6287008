r"""Gaussian paths :math:`x_t=\alpha_t x_0+\sigma_t\varepsilon`: the one object every few-step sampler needs.

A diffusion model with a Gaussian perturbation kernel and a flow-matching model with a Gaussian interpolant are
both described by two functions of time, :math:`\alpha_t` and :math:`\sigma_t` (book: eq-gaussian-path). Their
half log signal-to-noise ratio

.. math:: \lambda_t = \log\frac{\alpha_t}{\sigma_t}\qquad\text{(book: eq-log-snr)}

decreases from :math:`+\infty` (data) to :math:`-\infty` (noise); DDIM and DPM-Solver step in :math:`\lambda`
(Lu et al. 2022), EDM in :math:`\tilde\sigma = \sigma_t/\alpha_t = e^{-\lambda_t}` (Karras et al. 2022).

* :class:`VPPath` views a variance-preserving :class:`scoresde.sde.VPSDE` (any schedule) this way:
  :math:`\alpha_t=e^{\log\alpha_t}` from its ``log_mean_coeff``, :math:`\sigma_t=\sqrt{1-\alpha_t^2}`;
* :class:`LinearPath` is flow matching's interpolant :math:`\alpha_t=1-t`, :math:`\sigma_t=t` (book: eq-fm-path).

Times are float64 tensors (a schedule's grid decides which model times are evaluated: computed in float64 it is
the same on every machine); the coefficients are float64 too.
"""

from __future__ import annotations

import abc

import torch

from .._checks import check_time
from ..sde import VPSDE

__all__ = ["GaussianPath", "VPPath", "LinearPath"]


def _t64(t: torch.Tensor | float) -> torch.Tensor:
    check_time(t)
    return torch.as_tensor(t, dtype=torch.float64)


class GaussianPath(abc.ABC):
    r"""The law :math:`x_t\mid x_0\sim\mathcal N(\alpha_tx_0,\sigma_t^2I)` on :math:`t\in[0,T]` (book: eq-gaussian-path).

    Subclasses give :meth:`alpha`, :meth:`sigma`, their time derivatives and :meth:`time_of_log_snr`."""

    #: the final time (pure noise, or as close to it as the path gets)
    T: float = 1.0

    @abc.abstractmethod
    def alpha(self, t: torch.Tensor | float) -> torch.Tensor:
        r""":math:`\alpha_t` (float64)."""

    @abc.abstractmethod
    def sigma(self, t: torch.Tensor | float) -> torch.Tensor:
        r""":math:`\sigma_t` (float64)."""

    @abc.abstractmethod
    def d_alpha(self, t: torch.Tensor | float) -> torch.Tensor:
        r""":math:`\mathrm d\alpha_t/\mathrm dt` (float64)."""

    @abc.abstractmethod
    def d_sigma(self, t: torch.Tensor | float) -> torch.Tensor:
        r""":math:`\mathrm d\sigma_t/\mathrm dt` (float64)."""

    def log_snr(self, t: torch.Tensor | float) -> torch.Tensor:
        r"""Half the log signal-to-noise ratio, :math:`\lambda_t=\log\alpha_t-\log\sigma_t` (book: eq-log-snr)."""
        return self.alpha(t).log() - self.sigma(t).log()

    @abc.abstractmethod
    def time_of_log_snr(self, lam: torch.Tensor | float) -> torch.Tensor:
        r"""The inverse :math:`t(\lambda)` of :meth:`log_snr` (float64)."""

    def sigma_tilde(self, t: torch.Tensor | float) -> torch.Tensor:
        r"""EDM's noise level :math:`\tilde\sigma_t=\sigma_t/\alpha_t=e^{-\lambda_t}` of the rescaled state
        :math:`\tilde x=x/\alpha_t` (Karras et al. 2022)."""
        return (-self.log_snr(t)).exp()

    def time_of_sigma_tilde(self, sigma_tilde: torch.Tensor | float) -> torch.Tensor:
        r"""The inverse of :meth:`sigma_tilde`: :math:`t(\lambda=-\log\tilde\sigma)`."""
        st = torch.as_tensor(sigma_tilde, dtype=torch.float64)
        if bool((st <= 0).any()):
            raise ValueError("sigma_tilde must be > 0")
        return self.time_of_log_snr(-st.log())


class VPPath(GaussianPath):
    r"""The perturbation kernel of a variance-preserving SDE (:class:`~scoresde.sde.VPSDE` with any
    :class:`~scoresde.noise_schedules.NoiseSchedule`, e.g. :class:`~scoresde.sde.CosineVPSDE`) as a Gaussian path:
    :math:`\log\alpha_t=-\tfrac12\int_0^t\beta`, :math:`\sigma_t=\sqrt{1-\alpha_t^2}`,
    :math:`\dot\alpha_t=-\tfrac12\beta(t)\alpha_t`, :math:`\dot\sigma_t=\tfrac12\beta(t)\alpha_t^2/\sigma_t`, and
    :math:`t(\lambda)` from the schedule's closed-form :meth:`~scoresde.noise_schedules.NoiseSchedule.inverse_integral`.

    Args:
        sde: a :class:`~scoresde.sde.VPSDE` that declares ``variance_preserving`` (not the sub-VP SDE, whose
            kernel's standard deviation is :math:`1-\alpha_t^2`). The attribute is inherited: a subclass that changes
            ``f`` or ``g`` must set it again (``False`` unless its kernel keeps :math:`\alpha_t^2+\sigma_t^2=1`).
    """

    def __init__(self, sde: VPSDE) -> None:
        if not isinstance(sde, VPSDE) or not sde.variance_preserving:
            raise TypeError(f"sde must be a scoresde.sde.VPSDE that declares variance_preserving (its kernel has "
                            f"sigma_t^2 = 1 - alpha_t^2), got {type(sde).__name__}")
        self.sde = sde
        self.T = sde.T

    def alpha(self, t: torch.Tensor | float) -> torch.Tensor:
        return self.sde.log_mean_coeff(_t64(t)).exp()

    def sigma(self, t: torch.Tensor | float) -> torch.Tensor:
        return (-torch.expm1(2 * self.sde.log_mean_coeff(_t64(t)))).sqrt()

    def d_alpha(self, t: torch.Tensor | float) -> torch.Tensor:
        t = _t64(t)
        return -0.5 * self.sde.beta(t) * self.alpha(t)

    def d_sigma(self, t: torch.Tensor | float) -> torch.Tensor:
        t = _t64(t)
        return 0.5 * self.sde.beta(t) * self.alpha(t).square() / self.sigma(t)

    def log_snr(self, t: torch.Tensor | float) -> torch.Tensor:
        lmc = self.sde.log_mean_coeff(_t64(t))
        return lmc - 0.5 * torch.log(-torch.expm1(2 * lmc))

    def time_of_log_snr(self, lam: torch.Tensor | float) -> torch.Tensor:
        r""":math:`t` with :math:`\int_0^t\beta = -2\log\alpha = \log(1+e^{-2\lambda})` (the schedule's
        :meth:`~scoresde.noise_schedules.NoiseSchedule.inverse_integral`)."""
        lam = torch.as_tensor(lam, dtype=torch.float64)
        c = torch.logaddexp(-2 * lam, torch.zeros((), dtype=torch.float64))  # = -2 log alpha
        return self.sde.schedule.inverse_integral(c)

    def __repr__(self) -> str:
        return f"VPPath({self.sde!r})"


class LinearPath(GaussianPath):
    r"""Flow matching's linear interpolant :math:`x_t=(1-t)x_0+t\varepsilon` on :math:`[0,1]` (book: eq-fm-path):
    :math:`\alpha_t=1-t`, :math:`\sigma_t=t`, :math:`\lambda_t=\log\frac{1-t}{t}`, :math:`t(\lambda)=1/(1+e^\lambda)`."""

    T = 1.0

    def alpha(self, t: torch.Tensor | float) -> torch.Tensor:
        return 1 - _t64(t)

    def sigma(self, t: torch.Tensor | float) -> torch.Tensor:
        return _t64(t).clone()

    def d_alpha(self, t: torch.Tensor | float) -> torch.Tensor:
        return torch.full_like(_t64(t), -1.0)

    def d_sigma(self, t: torch.Tensor | float) -> torch.Tensor:
        return torch.ones_like(_t64(t))

    def time_of_log_snr(self, lam: torch.Tensor | float) -> torch.Tensor:
        return torch.sigmoid(-torch.as_tensor(lam, dtype=torch.float64))

    def __repr__(self) -> str:
        return "LinearPath()"


