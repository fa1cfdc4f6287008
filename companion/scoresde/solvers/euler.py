r"""Euler–Maruyama (book: eq-em): :math:`X_{n+1} = X_n + f(X_n,t_n)\,\Delta t + G(X_n,t_n)\,\Delta W_n`.

Strong order ½, weak order 1 (book: eq-em-orders); strong order 1 for additive noise (declared per noise
structure and measured in ``tests/test_solver_orders.py``). It converges to the
Itô solution and accepts every kind of noise.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..brownian import Increment
from ..sde import SDE
from .base import Solver
from .registry import register_solver

__all__ = ["euler_maruyama_step", "EulerMaruyama"]


def euler_maruyama_step(
    sde: SDE, x: torch.Tensor, t: torch.Tensor, dt: float, dw: torch.Tensor | None
) -> torch.Tensor:
    r"""One Euler–Maruyama step :math:`X_{n+1} = X_n + f(X_n,t_n)\Delta t + G(X_n,t_n)\Delta W_n` (book: eq-em).

    Args:
        sde: the SDE.
        x: the state :math:`X_n`, shape ``(batch, *event)``.
        t: the time :math:`t_n`, shape ``(batch,)``.
        dt: the signed step :math:`\Delta t` (negative in reverse time).
        dw: the Brownian increment :math:`\Delta W_n` (``None`` for an SDE without noise).
    """
    drift = sde.f(x, t) * dt
    if dw is None:
        return x + drift
    return x + drift + sde.g_prod(x, t, dw)


@register_solver
class EulerMaruyama(Solver, name="euler", calculus=("ito",), orders={
        "none": (1.0, 1.0), "additive": (1.0, 1.0), "diagonal": (0.5, 1.0), "shared": (0.5, 1.0),
        "scalar": (0.5, 1.0), "general": (0.5, 1.0)}):
    r"""Euler–Maruyama as a solver object: :func:`euler_maruyama_step` (book: eq-em); any noise, strong order 1
    where the noise is additive (its one-step error has no :math:`\Delta W^2` term there), ½ elsewhere."""

    def step(self, sde: SDE, x: Tensor, t: Tensor, dt: float, inc: Increment | None, t_next: Tensor) -> Tensor:
        return euler_maruyama_step(sde, x, t, dt, None if inc is None else inc.dW)
