r"""Euler and Heun on the velocity ODE :math:`\mathrm dx/\mathrm dt=u(x,t)` of a Gaussian path (book: eq-fm-ode).

For flow matching's model the velocity is the network itself; for a score model it is the probability-flow
drift :math:`u=\dot\alpha_t\hat x_0+\dot\sigma_t\hat\varepsilon` (book: eq-param-conversions), so the same
sampler integrates both, from ``t_max`` down to ``t_min``:

.. math:: \text{Euler: } x_{i+1}=x_i+(t_{i+1}-t_i)\,u(x_i,t_i);\qquad
          \text{Heun: } x_{i+1}=x_i+\tfrac{t_{i+1}-t_i}2\big(u(x_i,t_i)+u(\bar x_{i+1},t_{i+1})\big),

:math:`\bar x_{i+1}` the Euler step. Orders 1 and 2; one and two evaluations per step.
"""

from __future__ import annotations

from typing import Literal

import torch

from .._checks import check_choice
from ._common import Shape, setup
from .parametrisations import Prediction
from .schedules import TimeSchedule, UniformTime

__all__ = ["ORDERS", "flow_sample"]

#: method -> global order
ORDERS: dict[str, int] = {"euler": 1, "heun": 2}


def flow_sample(pred: Prediction, shape: Shape | None = None, *, n_steps: int = 20,
                method: Literal["euler", "heun"] = "euler", schedule: TimeSchedule | None = None,
                t_max: float | None = None, t_min: float = 1e-3, x_T: torch.Tensor | None = None,
                generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32,
                device: torch.device | str | None = None) -> torch.Tensor:
    r"""Integrate :math:`\mathrm dx/\mathrm dt=u(x,t)` (book: eq-fm-ode) with ``n_steps`` Euler or Heun steps on
    the schedule's grid (default :class:`~scoresde.sampling.schedules.UniformTime`) from ``t_max`` (default
    :math:`T`) to ``t_min``, from :math:`\mathcal N(0,I)` (or ``x_T``); ``generator``, ``dtype``, ``device``:
    of the prior draw only."""
    check_choice(method, "method", tuple(ORDERS))
    x, ts = setup(pred, shape, n_steps, schedule or UniformTime(), t_max, t_min, x_T, generator, dtype, device)
    with torch.no_grad():
        for s, t in zip(ts[:-1].tolist(), ts[1:].tolist()):
            u = pred.predict("flow", x, s)
            x_next = x + (t - s) * u
            if method == "heun":
                x_next = x + 0.5 * (t - s) * (u + pred.predict("flow", x_next, t))
            x = x_next
    return x
