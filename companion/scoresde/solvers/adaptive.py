r"""The adaptive ODE solver of the probability-flow ODE: Dormand–Prince 5(4) from ``torchdiffeq``, set up once.

Used by :func:`scoresde.sampling.reverse.probability_flow_sample` and :func:`scoresde.likelihood.log_likelihood`
(book: eq-probability-flow). Two options keep every evaluation inside :math:`[\min(t_0,t_1), \max(t_0,t_1)]`:
``step_t`` lands exactly on :math:`t_1` (otherwise dopri5 steps past it and interpolates back, evaluating the field
beyond the interval, e.g. at :math:`t<\varepsilon` or :math:`t<0`), and ``first_step`` skips the initial-step
heuristic, which probes the field far outside the interval. Order 5 with an embedded order-4 error estimate; the
step sizes follow ``rtol`` and ``atol``, so the number of evaluations depends on the field (and is never a
number to print as exact).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

import torch

from .._checks import DivergenceError

__all__ = ["dopri5"]

State = TypeVar("State")  # a tensor, or a tuple of tensors


def dopri5(
    field: Callable[[torch.Tensor, State], State],
    y0: State,
    t0: float,
    t1: float,
    *,
    rtol: float,
    atol: float,
    advice: str = "check the vector field",
) -> State:
    r"""Solve :math:`\dot y = \mathrm{field}(t, y)` from ``t0`` to ``t1`` (either order) and return :math:`y(t_1)`.

    Args:
        field: ``field(t, y)`` with ``t`` a 0-dim tensor; ``y`` a tensor or a tuple of tensors, like ``y0``.
        y0: the state at ``t0``; its first tensor fixes the dtype and device of the time grid.
        t0, t1: the interval (``t1 < t0`` integrates backwards in time).
        rtol, atol: dopri5's relative and absolute tolerances.
        advice: what to check when it fails, appended to the error message.

    Raises:
        DivergenceError: the step size collapsed (torchdiffeq's assertion) or the solution is not finite.
    """
    from torchdiffeq import odeint  # a maintained library, imported on use

    first = cast(torch.Tensor, y0[0] if isinstance(y0, tuple) else y0)
    ts = torch.tensor([t0, t1], dtype=first.dtype, device=first.device)
    options = {"step_t": ts, "first_step": 0.01 * abs(t1 - t0)}
    try:
        path = odeint(field, y0, ts, rtol=rtol, atol=atol, method="dopri5", options=options)
    except AssertionError as err:  # torchdiffeq signals a collapsed step size by an assertion
        raise DivergenceError(f"dopri5 failed ({err}): the field became non-finite or too stiff; {advice}") from err
    out = tuple(p[-1] for p in path) if isinstance(y0, tuple) else path[-1]
    parts = out if isinstance(out, tuple) else (out,)
    if not all(bool(torch.isfinite(p).all()) for p in parts):
        raise DivergenceError(f"the ODE solution has non-finite values; {advice}")
    return cast(State, out)  # the same structure as y0
