r"""Euler–Maruyama (book: eq-em): :math:`X_{n+1} = X_n + f(X_n,t_n)\,\Delta t + G(X_n,t_n)\,\Delta W_n`.

Strong order ½, weak order 1 (book: eq-em-orders); strong order 1 for additive noise. It converges to the
Itô solution and accepts every kind of noise.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..sde import SDE
from .base import Solver

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


class EulerMaruyama(Solver, name="euler", strong_order=0.5, weak_order=1.0, calculus=("ito",)):
    """Euler–Maruyama as a solver object: :func:`euler_maruyama_step` (book: eq-em); any noise."""

    def step(self, sde: SDE, x: Tensor, t: Tensor, dt: float, dw: Tensor | None, t_next: Tensor) -> Tensor:
        return euler_maruyama_step(sde, x, t, dt, dw)
