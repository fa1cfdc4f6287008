r"""Milstein for diagonal noise (each :math:`g_i` depends on :math:`x_i` only; book: eq-milstein):

.. math:: X_{n+1} = X_n + f\,\Delta t + g\odot\Delta W_n
          + \tfrac12\, g\odot\partial_x g\odot\big(\Delta W_n^2 - |\Delta t|\big)

(Itô; for a Stratonovich SDE the :math:`-|\Delta t|` is dropped), and for one Brownian motion shared by every
coordinate (general noise with ``noise_dim = 1``, :math:`G = b(x)`, torchsde's "scalar"), where the iterated
integral is :math:`\tfrac12(\Delta W^2-|\Delta t|)` again and no Lévy area is needed:

.. math:: X_{n+1} = X_n + f\,\Delta t + b\,\Delta W_n + \tfrac12\,(J_b\,b)\big(\Delta W_n^2 - |\Delta t|\big),
          \qquad J_b = \partial b/\partial x .

Strong order 1, weak order 1. Additive noise has :math:`\partial_x g = 0` and the step is Euler–Maruyama's.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .._checks import as_column
from ..brownian import Increment
from ..sde import SDE
from .base import Solver, noise_structure
from .euler import euler_maruyama_step
from .registry import register_solver

__all__ = ["milstein_step", "Milstein"]


def milstein_step(
    sde: SDE, x: torch.Tensor, t: torch.Tensor, dt: float, dw: torch.Tensor | None
) -> torch.Tensor:
    r"""One Milstein step for diagonal noise (book: eq-milstein):
    :math:`X_{n+1} = X_n + f\Delta t + g\,\Delta W + \tfrac12 g\,\partial_xg\,(\Delta W^2 - |\Delta t|)`.

    :math:`\partial_x g` (the diagonal :math:`\partial g_i/\partial x_i`) comes from one backward pass of
    :math:`\sum_i g_i`, exact when each :math:`g_i` depends on :math:`x_i` only (diagonal noise; :func:`solve`
    probes this once, :meth:`Milstein.check_sde`). Stratonovich SDEs drop the :math:`-|\Delta t|`.
    """
    if dw is None or sde.additive:
        return euler_maruyama_step(sde, x, t, dt, dw)
    correction = dw.square() if sde.sde_type == "stratonovich" else dw.square() - abs(dt)
    if not sde.noise.elementwise:  # general noise, checked to be one shared Brownian motion: G = b(x), (batch, D, 1)
        def column(y: torch.Tensor) -> torch.Tensor:
            return sde.g(y, t)[..., 0].reshape(y.shape)

        b, jb = torch.func.jvp(column, (x,), (column(x),))  # type: ignore[misc]  # (value, tangent)
        return x + sde.f(x, t) * dt + b * as_column(dw[:, 0], x) + 0.5 * jb * as_column(correction[:, 0], x)
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        g = sde.g(xg, t)
        if g.requires_grad:
            (dg,) = torch.autograd.grad(g.sum(), xg)
        else:  # g does not depend on x after all
            dg = torch.zeros_like(x)
    g = g.detach()
    return x + sde.f(x, t) * dt + sde.apply_g(x, g, dw) + 0.5 * sde.apply_g(x, g, dg) * correction


def check_diagonal(sde: SDE, x: torch.Tensor, t: torch.Tensor) -> None:
    r"""Refuse diagonal noise whose :math:`g_i` depends on :math:`x_j`, :math:`j\ne i` (Milstein's correction
    would be wrong). Probe on a few rows: with weights :math:`v_j = j`, :math:`\partial_{x_i}\sum_j v_j g_j`
    equals :math:`v_i\,\partial_{x_i}\sum_j g_j` for every :math:`i` only when the Jacobian is diagonal."""
    with torch.enable_grad():
        xp = x.detach().requires_grad_(True)
        g = sde.g(xp, t)
        if not g.requires_grad:
            return
        v = torch.arange(1, x[0].numel() + 1, dtype=x.dtype, device=x.device).reshape(x.shape[1:])
        (col,) = torch.autograd.grad(g.sum(), xp, retain_graph=True)
        (weighted,) = torch.autograd.grad((g * v).sum(), xp)
    scale = float(col.abs().max()) * float(v.max()) + 1e-12
    if not torch.allclose(weighted, v * col, rtol=1e-4, atol=1e-5 * scale):
        raise ValueError(
            "milstein needs diagonal noise, but g_i depends on other coordinates x_j (probed on the first rows); "
            "use method='euler', or declare noise_type 'general'"
        )


@register_solver
class Milstein(Solver, name="milstein", calculus=("ito", "stratonovich"), orders={
        "none": (1.0, 1.0), "additive": (1.0, 1.0), "diagonal": (1.0, 1.0), "shared": (1.0, 1.0)}):
    """Milstein as a solver object: :func:`milstein_step` (book: eq-milstein), Itô or Stratonovich; diagonal noise
    or one shared Brownian motion."""

    def step(self, sde: SDE, x: Tensor, t: Tensor, dt: float, inc: Increment | None, t_next: Tensor) -> Tensor:
        return milstein_step(sde, x, t, dt, None if inc is None else inc.dW)

    def check_sde(self, sde: SDE, x0: torch.Tensor, t0: torch.Tensor) -> None:
        """Probe, on the first rows of ``x0`` at the initial time, that diagonal noise is really diagonal."""
        if noise_structure(sde, x0) == "diagonal":  # scalar noise on one coordinate passes the probe trivially
            check_diagonal(sde, x0[:2], t0[:2])
