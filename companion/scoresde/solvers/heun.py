r"""Stochastic Heun (a predictor–corrector Runge–Kutta method; book: eq-heun):

.. math:: \tilde X = X_n + f(X_n,t_n)\Delta t + G(X_n,t_n)\Delta W_n,\quad
          X_{n+1} = X_n + \tfrac12\big[f(X_n,t_n)+f(\tilde X,t_{n+1})\big]\Delta t
          + \tfrac12\big[G(X_n,t_n)+G(\tilde X,t_{n+1})\big]\Delta W_n .

It converges to the Stratonovich solution (for additive noise the Itô one too): strong order 1 for
additive or commutative noise, ½ for non-commutative noise; weak order 1, and 2 for additive noise.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..brownian import Increment
from ..sde import SDE
from .base import Solver
from .registry import register_solver

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


@register_solver
class StochasticHeun(Solver, name="heun", calculus=("stratonovich",), orders={
        "none": (2.0, 2.0), "additive": (1.0, 2.0), "diagonal": (1.0, 1.0), "shared": (1.0, 1.0),
        "scalar": (0.5, 1.0), "general": (0.5, 1.0)}):
    """Stochastic Heun as a solver object: :func:`heun_step` (book: eq-heun). Strong order 1 for commutative noise
    (additive, diagonal, one shared Brownian motion), ½ for non-commutative noise (``"scalar"`` g(x)I coupling
    several coordinates, ``"general"``: it would need Lévy areas); weak order 2 for additive noise (and ODEs)."""

    def step(self, sde: SDE, x: Tensor, t: Tensor, dt: float, inc: Increment | None, t_next: Tensor) -> Tensor:
        return heun_step(sde, x, t, dt, None if inc is None else inc.dW, t_next)
