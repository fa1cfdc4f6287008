r"""SRA1 (Rößler 2010), a stochastic Runge–Kutta method for additive noise of strong order 1.5 and weak order 2.

With the step :math:`h = \Delta t`, the increment :math:`\Delta W` and the space–time Lévy area :math:`H` of the
step (:class:`~scoresde.brownian.Increment`), and :math:`G(t)` the state-independent diffusion:

.. math:: \tilde X = X_n + \tfrac34 f(X_n,t_n)\,h + \tfrac32\,G(t_{n+1})\big(\tfrac12\Delta W + H\big),

          X_{n+1} = X_n + \Big[\tfrac13 f(X_n,t_n) + \tfrac23 f\big(\tilde X, t_n+\tfrac34h\big)\Big]h
          + G(t_n)\big(\tfrac12\Delta W + H\big) + G(t_{n+1})\big(\tfrac12\Delta W - H\big)
          \qquad\text{(book: eq-sra1)}

(torchsde's ``srk`` for additive noise, diffrax's ``SRA1``: the same tableau; with torchsde's
:math:`U = h(\Delta W/2 + H)`). Without the Lévy area the method is only of strong order 1: :math:`H` carries the
part of :math:`\int G\,\mathrm dW` that the increment alone misses. Two drift and two diffusion evaluations per step.
Without noise it is a two-stage Runge–Kutta method of order 2. The formulas hold with a signed step (reverse time).
"""

from __future__ import annotations

from torch import Tensor

from ..brownian import Increment
from ..sde import SDE
from .base import Solver
from .registry import register_solver

__all__ = ["sra1_step", "SRA1"]


def sra1_step(sde: SDE, x: Tensor, t: Tensor, dt: float, inc: Increment | None, t_next: Tensor) -> Tensor:
    r"""One SRA1 step (book: eq-sra1) for additive noise; ``inc.H`` is the step's space–time Lévy area."""
    f0 = sde.f(x, t)
    mid_t = t + 0.75 * dt
    if inc is None:
        return x + (f0 / 3 + 2 * sde.f(x + 0.75 * dt * f0, mid_t) / 3) * dt
    if inc.H is None:
        raise ValueError("sra1 needs the space-time Levy area H of each step (BrownianPath.sample(..., levy_area=True))")
    front = 0.5 * inc.dW + inc.H  # U / h
    g_next_front = sde.g_prod(x, t_next, front)
    stage = x + 0.75 * dt * f0 + 1.5 * g_next_front
    drift = (f0 / 3 + 2 * sde.f(stage, mid_t) / 3) * dt
    return x + drift + sde.g_prod(x, t, front) + sde.g_prod(x, t_next, inc.dW) - g_next_front


@register_solver
class SRA1(Solver, name="sra1", calculus=("ito", "stratonovich"), levy_area=True,
           orders={"none": (2.0, 2.0), "additive": (1.5, 2.0)}):
    """SRA1 as a solver object: :func:`sra1_step` (book: eq-sra1); additive noise, with the Lévy area."""

    def step(self, sde: SDE, x: Tensor, t: Tensor, dt: float, inc: Increment | None, t_next: Tensor) -> Tensor:
        return sra1_step(sde, x, t, dt, inc, t_next)
