"""What the few-step samplers share: the argument checks, the grid and the prior draw (one place)."""

from __future__ import annotations

import torch

from .._checks import check_real, check_shape, check_tensor, draw_device
from .parametrisations import Prediction
from .schedules import TimeSchedule

Shape = tuple[int, ...] | torch.Size


def setup(pred: Prediction, shape: Shape | None, n_steps: int, schedule: TimeSchedule, t_max: float | None,
          t_min: float, x_T: torch.Tensor | None, generator: torch.Generator | None, dtype: torch.dtype,
          device: torch.device | str | None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x at t_max, the float64 grid)``: the prior draw :math:`\\mathcal N(0,I)` (or ``x_T``) and the schedule's grid."""
    if not isinstance(pred, Prediction):
        raise TypeError(f"pred must be a scoresde.sampling.Prediction, got {type(pred).__name__}")
    if not isinstance(schedule, TimeSchedule):
        raise TypeError(f"schedule must be a scoresde.sampling.TimeSchedule, got {type(schedule).__name__}")
    t_hi = pred.path.T if t_max is None else check_real(t_max, "t_max")
    ts = schedule.grid(pred.path, n_steps, t_hi, t_min)
    if x_T is not None:
        if shape is not None:
            raise ValueError("give shape or x_T, not both")
        x = check_tensor(x_T, "x_T", min_dim=2)
    else:
        if shape is None:
            raise ValueError("give shape (n_samples, *event_shape) or x_T")
        dev = draw_device(generator, device, dtype)
        x = torch.randn(check_shape(shape), generator=generator, dtype=dtype, device=dev)
    return x, ts


def normal_like(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """:math:`z\\sim\\mathcal N(0,I)` shaped like ``x``, from ``generator``."""
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
