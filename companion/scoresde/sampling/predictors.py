r"""Predictors of predictor–corrector sampling built on the discrete chains of :meth:`scoresde.sde.SDE.discretize`
(score_sde's ``ReverseDiffusionPredictor`` and ``AncestralSamplingPredictor``), as
:class:`~scoresde.solvers.Solver` objects that :func:`scoresde.solvers.solve` runs on a reverse-time SDE.

A step from :math:`t` to :math:`t-\Delta t` (``dt = -Δt < 0``) with :math:`z = \Delta W/\sqrt{\Delta t}\sim\mathcal N(0,I)`:

* reverse diffusion, with :math:`(\bar f_i, \bar G_i)` of :meth:`scoresde.sde.ReverseSDE.discretize`:

  .. math:: x \leftarrow x - \bar f_i + \bar G_i z ;

* ancestral sampling (the posterior of the forward chain), VP with :math:`\beta_i` of
  :meth:`~scoresde.sde.VPSDE.discrete_beta`, VE with :math:`\sigma_i,\sigma_{i-1}` of
  :meth:`~scoresde.sde.VESDE.discrete_sigmas`:

  .. math:: \text{VP: } x \leftarrow \frac{x + \beta_i s}{\sqrt{1-\beta_i}} + \sqrt{\beta_i}\,z,\qquad
            \text{VE: } x \leftarrow x + (\sigma_i^2-\sigma_{i-1}^2)\,s
            + \sqrt{\frac{\sigma_{i-1}^2(\sigma_i^2-\sigma_{i-1}^2)}{\sigma_i^2}}\,z .

Without noise (``inc = None``, or the last step with ``denoise``) the step is its mean. Both chains are first-order
consistent with the reverse SDE, whose noise is additive: declared strong and weak order 1.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .._checks import as_column
from ..brownian import Increment
from ..sde import SDE, ReverseSDE
from ..solvers import Solver
from .registry import PREDICTORS, register_predictor

__all__ = ["ReverseDiffusionPredictor", "AncestralSamplingPredictor", "PREDICTORS"]


def _standard_noise(dw: torch.Tensor, dt: float) -> torch.Tensor:
    r""":math:`z = \Delta W/\sqrt{|\Delta t|}`, the standard normal of the discrete chains."""
    return dw / math.sqrt(abs(dt))


def _reverse_sde(sde: SDE, what: str) -> ReverseSDE:
    if not isinstance(sde, ReverseSDE):
        raise TypeError(f"the {what} predictor needs a reverse-time SDE (sde.reverse(score_fn)), got "
                        f"{type(sde).__name__}")
    return sde


@register_predictor
class ReverseDiffusionPredictor(Solver, name="reverse_diffusion", calculus=("ito", "stratonovich"),
                                orders={"none": (1.0, 1.0), "additive": (1.0, 1.0)}):
    r"""Reverse diffusion: :math:`x \leftarrow x - \bar f_i + \bar G_i z` (score_sde's ``ReverseDiffusionPredictor``)."""

    def check_sde(self, sde: SDE, x0: torch.Tensor, t0: torch.Tensor) -> None:
        """Needs a reverse-time SDE whose forward SDE has scalar or diagonal additive noise."""
        forward = _reverse_sde(sde, "reverse-diffusion").forward
        if not forward.noise.elementwise:  # scalar or diagonal noise
            raise ValueError(f"the reverse-diffusion predictor needs scalar or diagonal noise, got "
                             f"{forward.noise_type!r}; use predictor 'euler'")

    def step(self, sde: SDE, x: Tensor, t: Tensor, dt: float, inc: Increment | None, t_next: Tensor) -> Tensor:
        rev_f, rev_G = sde.discretize(x, t, abs(dt))
        mean = x - rev_f
        if inc is None:
            return mean
        return mean + sde.apply_g(x, rev_G, _standard_noise(inc.dW, dt))


@register_predictor
class AncestralSamplingPredictor(Solver, name="ancestral", calculus=("ito", "stratonovich"),
                                 orders={"additive": (1.0, 1.0)}):
    r"""Ancestral sampling of the VP (DDPM) or VE (SMLD) chain (score_sde's ``AncestralSamplingPredictor``)."""

    def check_sde(self, sde: SDE, x0: torch.Tensor, t0: torch.Tensor) -> None:
        """Needs the reverse SDE (not the probability flow) of a :class:`VPSDE` or :class:`VESDE`."""
        forward = _reverse_sde(sde, "ancestral-sampling").forward
        if forward.discrete_chain not in ("ddpm", "smld"):
            raise ValueError(f"ancestral sampling needs an SDE with a DDPM or SMLD chain (VPSDE, VESDE: their "
                             f"discrete_chain), got {type(forward).__name__}; use predictor 'reverse_diffusion' or 'euler'")

    def step(self, sde: SDE, x: Tensor, t: Tensor, dt: float, inc: Increment | None, t_next: Tensor) -> Tensor:
        forward, s = sde.forward, sde.score(x, t)  # type: ignore[attr-defined]  # a ReverseSDE, see check_sde
        if forward.discrete_chain == "smld":
            sigma, prev = forward.discrete_sigmas(t, abs(dt), x)
            var = sigma.square() - prev.square()
            mean = x + as_column(var, x) * s
            std = torch.sqrt(prev.square() * var / sigma.square())
        else:
            beta = forward.discrete_beta(t, abs(dt), x)
            mean = (x + as_column(beta, x) * s) / as_column(torch.sqrt(1 - beta), x)
            std = beta.sqrt()
        if inc is None:
            return mean
        return mean + as_column(std, x) * _standard_noise(inc.dW, dt)
