r"""The few-step samplers side by side: name, order, evaluations per step, and one call by a budget of evaluations.

:data:`FEW_STEP_SAMPLERS` lists each sampler of chapter 9 with its declared order (in the step size, for the
deterministic ones) and its number of function evaluations (NFE) per step; :func:`sample_with_nfe` runs one with
as many steps as a budget of NFE allows (``nfe // nfe_per_step``, at least one step).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from .._checks import check_choice, check_positive_int
from ._common import Shape
from .ddim import ddim_sample
from .dpm_solver import dpm_solver_2_sample, dpm_solver_pp_2m_sample
from .edm import edm_heun_sample
from .flow import flow_sample
from .gaussian_path import VPPath
from .parametrisations import Prediction
from .reverse import reverse_sde_sample

__all__ = ["SamplerSpec", "FEW_STEP_SAMPLERS", "steps_for_nfe", "sample_with_nfe"]


@dataclass(frozen=True)
class SamplerSpec:
    """A sampler of chapter 9: its function ``fn(pred, shape, *, n_steps, generator, ...)``, its order, its
    evaluations per step and whether it draws noise after the prior."""

    fn: Callable[..., torch.Tensor]
    order: int
    nfe_per_step: int
    stochastic: bool
    label: str


def _euler_maruyama(pred: Prediction, shape: Shape | None = None, *, n_steps: int, t_max: float | None = None,
                    t_min: float = 1e-3, x_T: torch.Tensor | None = None, generator: torch.Generator | None = None,
                    dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> torch.Tensor:
    """Euler–Maruyama on the reverse VP SDE (chapter 5's :func:`~scoresde.sampling.reverse.reverse_sde_sample`)."""
    if not isinstance(pred, Prediction) or not isinstance(pred.path, VPPath):
        raise ValueError("euler_maruyama needs a Prediction on a VPPath (the reverse SDE of a VP SDE)")
    if t_max is not None and t_max != pred.path.T:
        raise ValueError("euler_maruyama starts at T")

    def score(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return pred.predict("score", x, float(t[0]))

    return reverse_sde_sample(pred.path.sde, score, shape, n_steps=n_steps, eps=t_min, x_T=x_T,
                              generator=generator, dtype=dtype, device=device)


def _ddpm(pred: Prediction, shape: Shape | None = None, **kwargs: Any) -> torch.Tensor:
    return ddim_sample(pred, shape, eta=1.0, **kwargs)


def _heun(pred: Prediction, shape: Shape | None = None, **kwargs: Any) -> torch.Tensor:
    return flow_sample(pred, shape, method="heun", **kwargs)


#: name -> :class:`SamplerSpec` (orders: in the step size; Euler–Maruyama and DDPM: weak order 1)
FEW_STEP_SAMPLERS: dict[str, SamplerSpec] = {
    "euler_maruyama": SamplerSpec(_euler_maruyama, 1, 1, True, "Euler–Maruyama (reverse SDE)"),
    "ddpm": SamplerSpec(_ddpm, 1, 1, True, "DDPM ancestral (DDIM η = 1)"),
    "ddim": SamplerSpec(ddim_sample, 1, 1, False, "DDIM (η = 0)"),
    "dpm_solver_2": SamplerSpec(dpm_solver_2_sample, 2, 2, False, "DPM-Solver-2"),
    "dpm_solver_pp_2m": SamplerSpec(dpm_solver_pp_2m_sample, 2, 1, False, "DPM-Solver++(2M)"),
    "edm_heun": SamplerSpec(edm_heun_sample, 2, 2, False, "EDM Heun (Karras ρ = 7)"),
    "euler": SamplerSpec(flow_sample, 1, 1, False, "Euler (velocity ODE)"),
    "heun": SamplerSpec(_heun, 2, 2, False, "Heun (velocity ODE)"),
}


def steps_for_nfe(name: str, nfe: int) -> int:
    """The number of steps of sampler ``name`` that a budget of ``nfe`` evaluations pays for (at least 1)."""
    spec = FEW_STEP_SAMPLERS[check_choice(name, "sampler", tuple(FEW_STEP_SAMPLERS))]
    return max(1, check_positive_int(nfe, "nfe") // spec.nfe_per_step)


def sample_with_nfe(name: str, pred: Prediction, shape: Shape | None = None, *, nfe: int,
                    **kwargs: Any) -> torch.Tensor:
    """Run sampler ``name`` with :func:`steps_for_nfe` steps; ``kwargs`` go to the sampler (``generator``,
    ``x_T``, ``schedule``, ``t_min``, ...). ``pred.nfe`` counts what it used."""
    return FEW_STEP_SAMPLERS[name].fn(pred, shape, n_steps=steps_for_nfe(name, nfe), **kwargs)
