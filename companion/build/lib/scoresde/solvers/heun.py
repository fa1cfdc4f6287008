r"""Stochastic Heun (a predictor–corrector Runge–Kutta method; book: eq-heun):

.. math:: \tilde X = X_n + f(X_n,t_n)\Delta t + G(X_n,t_n)\Delta W_n,\quad
          X_{n+1} = X_n + \tfrac12\big[f(X_n,t_n)+f(\tilde X,t_{n+1})\big]\Delta t
          + \tfrac12\big[G(X_n,t_n)+G(\tilde X,t_{n+1})\big]\Delta W_n .

It converges to the Stratonovich solution (for additive noise the Itô one too): strong order 1 for
additive or commutative (e.g. scalar) noise, ½ for general non-commutative noise; weak order 1.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..sde import SDE
from .base import Solver

__all__ = ["heun_step", "StochasticHeun"]


def heun_step(
    sde: SDE,
    x: torch.Tensor,
    t: torch.Tensor,
    dt: float,
    dw: torch.Tensor | None,
    t_next: torch.Tensor,
) -> torch.Tensor:
    r"""One stochastic Heun step (predictor–corrector; book: eq-heun), for Stratonovich or additive noise.

    :math:`\tilde X = X_n + f_n\Delta t + G_n\Delta W_n`, then
    :math:`X_{n+1} = X_n + \tfrac12(f_n+\tilde f)\Delta t + \tfrac12(G_n+\tilde G)\Delta W_n`
    with :math:`\tilde f = f(\tilde X, t_{n+1})`, :math:`\tilde G = G(\tilde X, t_{n+1})`.
    """
    f0 = sde.f(x, t)
    if dw is None:
        pred = x + f0 * dt
        return x + 0.5 * (f0 + sde.f(pred, t_next)) * dt
    gdw0 = sde.g_prod(x, t, dw)
    pred = x + f0 * dt + gdw0
    return x + 0.5 * (f0 + sde.f(pred, t_next)) * dt + 0.5 * (gdw0 + sde.g_prod(pred, t_next, dw))


class StochasticHeun(Solver, name="heun", strong_order=1.0, weak_order=1.0, calculus=("stratonovich",)):
    """Stochastic Heun as a solver object: :func:`heun_step` (book: eq-heun); any noise, strong order 1
    declared for the additive and commutative noise it is meant for."""

    def step(self, sde: SDE, x: Tensor, t: Tensor, dt: float, dw: Tensor | None, t_next: Tensor) -> Tensor:
        return heun_step(sde, x, t, dt, dw, t_next)
