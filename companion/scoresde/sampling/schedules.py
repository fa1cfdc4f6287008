r"""Time-step schedules as objects: where a sampler evaluates the model between :math:`t_{\max}` and :math:`t_{\min}`.

A schedule maps a Gaussian path (:mod:`scoresde.sampling.gaussian_path`), a number of steps :math:`N` and the
interval to a decreasing float64 grid :math:`t_{\max}=t_0>t_1>\dots>t_N=t_{\min}` (book: eq-schedules):

* :class:`UniformTime`: equal steps in :math:`t`;
* :class:`LogSNRUniform`: equal steps in :math:`\lambda_t=\log(\alpha_t/\sigma_t)` (DPM-Solver's ``"logSNR"``);
* :class:`KarrasSigma`: Karras et al. (2022), eq. (5), in EDM's :math:`\tilde\sigma=\sigma_t/\alpha_t`:

  .. math:: \tilde\sigma_i=\Big(\tilde\sigma_{\max}^{1/\rho}+\tfrac iN\big(\tilde\sigma_{\min}^{1/\rho}
            -\tilde\sigma_{\max}^{1/\rho}\big)\Big)^\rho,\qquad \rho=7,

  which crowds the steps at low noise (k-diffusion's ``get_sigmas_karras`` with :math:`N+1` points, no final
  zero: the samplers here stop at :math:`t_{\min}>0`).
"""

from __future__ import annotations

import abc

import torch

from .._checks import check_positive_float, check_positive_int, check_real
from .gaussian_path import GaussianPath

__all__ = ["TimeSchedule", "UniformTime", "LogSNRUniform", "KarrasSigma", "SCHEDULES", "check_finite_log_snr"]


def check_finite_log_snr(path: GaussianPath, t: float, name: str, who: str) -> None:
    r"""Refuse a time where the path's :math:`\lambda_t` is infinite (pure noise, e.g. :math:`t=1` on
    :class:`~scoresde.sampling.gaussian_path.LinearPath`, where :math:`\alpha_t=0`): steps in :math:`\lambda` or
    :math:`\tilde\sigma=e^{-\lambda}` cannot start there."""
    lam = float(path.log_snr(t))
    if not -float("inf") < lam < float("inf"):
        raise ValueError(f"{name}={t:g} has log-SNR {lam} on {path!r}: {who} steps in lambda = log(alpha/sigma) "
                         f"and needs it finite; choose {name} < {path.T:g} (e.g. {name}=0.999)")


class TimeSchedule(abc.ABC):
    """A rule for the time grid of a fixed-step sampler."""

    name: str = ""

    def grid(self, path: GaussianPath, n_steps: int, t_max: float, t_min: float) -> torch.Tensor:
        """The decreasing float64 grid of ``n_steps + 1`` times from ``t_max`` to ``t_min`` (both exact)."""
        if not isinstance(path, GaussianPath):
            raise TypeError(f"path must be a scoresde.sampling.GaussianPath, got {type(path).__name__}")
        n = check_positive_int(n_steps, "n_steps")
        t_max, t_min = check_real(t_max, "t_max"), check_real(t_min, "t_min")
        if not 0 < t_min < t_max <= path.T:
            raise ValueError(f"need 0 < t_min < t_max <= T = {path.T:g}, got t_min={t_min:g}, t_max={t_max:g}")
        if self.name in ("logsnr", "karras"):
            for t, name in ((t_max, "t_max"), (t_min, "t_min")):
                check_finite_log_snr(path, t, name, f"the {type(self).__name__} schedule")
        ts = self._grid(path, n, t_max, t_min)
        ts[0], ts[-1] = t_max, t_min  # exact ends, whatever the inverse map rounds to
        return ts

    @abc.abstractmethod
    def _grid(self, path: GaussianPath, n: int, t_max: float, t_min: float) -> torch.Tensor: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class UniformTime(TimeSchedule):
    r"""Equal steps in :math:`t`: :math:`t_i=t_{\max}+\tfrac iN(t_{\min}-t_{\max})`."""

    name = "uniform"

    def _grid(self, path: GaussianPath, n: int, t_max: float, t_min: float) -> torch.Tensor:
        return torch.linspace(t_max, t_min, n + 1, dtype=torch.float64)


class LogSNRUniform(TimeSchedule):
    r"""Equal steps in the half log-SNR: :math:`\lambda_i=\lambda_{t_{\max}}+\tfrac iN(\lambda_{t_{\min}}-\lambda_{t_{\max}})`,
    :math:`t_i=t(\lambda_i)`."""

    name = "logsnr"

    def _grid(self, path: GaussianPath, n: int, t_max: float, t_min: float) -> torch.Tensor:
        lam = torch.linspace(float(path.log_snr(t_max)), float(path.log_snr(t_min)), n + 1, dtype=torch.float64)
        return path.time_of_log_snr(lam)


class KarrasSigma(TimeSchedule):
    r"""Karras et al. (2022)'s schedule in :math:`\tilde\sigma=\sigma_t/\alpha_t` with exponent ``rho``
    (7 in the paper; 1 gives equal steps in :math:`\tilde\sigma`, large :math:`\rho` approaches :class:`LogSNRUniform`)."""

    name = "karras"

    def __init__(self, rho: float = 7.0) -> None:
        self.rho = check_positive_float(rho, "rho")

    def _grid(self, path: GaussianPath, n: int, t_max: float, t_min: float) -> torch.Tensor:
        ramp = torch.linspace(0, 1, n + 1, dtype=torch.float64)
        lo, hi = float(path.sigma_tilde(t_min)) ** (1 / self.rho), float(path.sigma_tilde(t_max)) ** (1 / self.rho)
        return path.time_of_sigma_tilde((hi + ramp * (lo - hi)) ** self.rho)

    def __repr__(self) -> str:
        return f"KarrasSigma(rho={self.rho:g})"


#: schedule name -> a default instance
SCHEDULES: dict[str, TimeSchedule] = {s.name: s for s in (UniformTime(), LogSNRUniform(), KarrasSigma())}
