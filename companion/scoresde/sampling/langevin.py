r"""Langevin dynamics: the sampler that a score alone gives.

Unadjusted Langevin algorithm (ULA) with step :math:`\varepsilon>0`, for a score :math:`S\approx\nabla\log p`:

.. math::  x_{k+1} = x_k + \varepsilon\,S(x_k) + \sqrt{2\varepsilon}\,z_k,\qquad z_k\sim\mathcal N(0,I)
           \qquad\text{(book: eq-langevin)}

It is the Euler–Maruyama discretisation of :math:`dX_t=\nabla\log p(X_t)\,dt+\sqrt2\,dW_t`, whose
stationary law is :math:`p`; the discretisation biases the stationary law by :math:`O(\varepsilon)` (for a
Gaussian target :math:`\mathcal N(m,s^2)` the chain's stationary variance is :math:`s^2/(1-\varepsilon/(2s^2))`).
Without a Metropolis correction, ULA mixes badly between well-separated modes and weights them by the
starting points.

Annealed Langevin dynamics :cite:`song2019generative` runs ULA through decreasing noise levels
:math:`\sigma_1>\dots>\sigma_L` with the score of the noised density :math:`p_{\sigma_i}=p*\mathcal N(0,\sigma_i^2I)`
and steps :math:`\alpha_i=\varepsilon\,\sigma_i^2/\sigma_L^2`:

.. math::  x \leftarrow x + \alpha_i\,S(x,\sigma_i) + \sqrt{2\alpha_i}\,z
           \qquad\text{(book: eq-annealed-langevin)}

Large noise levels connect the modes, small ones sharpen the samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import cast

import torch

from .._checks import (
    DivergenceError,
    check_callable,
    check_generator,
    check_output_like,
    check_positive_float,
    check_positive_int,
    check_steps,
    check_tensor,
)
from .._progress import progress_bar

__all__ = ["langevin_step", "langevin", "annealed_langevin"]


def langevin_step(
    x: torch.Tensor, score: torch.Tensor, step_size: float | torch.Tensor, z: torch.Tensor
) -> torch.Tensor:
    r"""One unadjusted Langevin step :math:`x + \varepsilon\,S(x) + \sqrt{2\varepsilon}\,z` (book: eq-langevin).

    Args:
        x: the state, shape ``(batch, *event)``.
        score: :math:`S(x)`, shaped like ``x``.
        step_size: :math:`\varepsilon > 0`: a float, or a tensor that broadcasts against ``x`` (e.g. the
            predictor–corrector sampler's step of book: eq-pc-snr).
        z: standard normal noise shaped like ``x``.
    """
    root = math.sqrt(2 * step_size) if isinstance(step_size, float) else (2 * step_size).sqrt()
    return x + step_size * score + root * z


def _finish(x: torch.Tensor, what: str) -> None:
    if not bool(torch.isfinite(x).all()):
        raise DivergenceError(f"{what} diverged (non-finite samples): lower step_size")


def _ula(
    score: Callable[[torch.Tensor, float | None], torch.Tensor],
    x0: torch.Tensor,
    schedule: Sequence[tuple[float, float | None]],
    generator: torch.Generator | None,
    return_trajectory: bool,
    progress: bool,
    what: str,
) -> torch.Tensor:
    r"""The one ULA loop: for each ``(alpha, level)`` in ``schedule``,
    :math:`x \leftarrow x + \alpha\,S(x, \text{level}) + \sqrt{2\alpha}\,z`."""
    x = x0.detach().clone()
    traj = [x.clone()] if return_trajectory else None
    with torch.no_grad(), progress_bar(progress, total=len(schedule), desc=what) as bar:
        for alpha, level in schedule:
            s = check_output_like(score(x, level), x, "score_fn", finite=False, same_dtype=True)
            z = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
            x = langevin_step(x, s, alpha, z)
            if traj is not None:
                traj.append(x)
            bar.update(1)
    _finish(x, what)
    return torch.stack(traj) if traj is not None else x


def langevin(
    score_fn: Callable[[torch.Tensor], torch.Tensor],
    x0: torch.Tensor,
    step_size: float,
    n_steps: int,
    *,
    generator: torch.Generator | None = None,
    return_trajectory: bool = False,
    progress: bool = False,
    max_steps: int | None = None,
) -> torch.Tensor:
    r"""Unadjusted Langevin dynamics :math:`x_{k+1}=x_k+\varepsilon S(x_k)+\sqrt{2\varepsilon}z_k`
    (book: eq-langevin).

    Args:
        score_fn: :math:`S`, maps ``x`` (shape ``(batch, *event_shape)``) to a tensor of the same shape; it is
            evaluated without gradient tracking.
        x0: starting points, shape ``(batch, *event_shape)``, floating, finite.
        step_size: :math:`\varepsilon>0`.
        n_steps: number of steps (>= 1).
        generator: a ``torch.Generator`` on ``x0``'s device for the noise :math:`z_k`.
        return_trajectory: also keep every iterate.
        progress: show a tqdm progress bar.
        max_steps: refuse ``n_steps`` beyond this (default :data:`scoresde._checks.MAX_STEPS`).

    Returns:
        The final points, shape of ``x0``; with ``return_trajectory`` the iterates
        :math:`x_0,\dots,x_K`, shape ``(n_steps + 1, *x0.shape)``.

    Raises:
        DivergenceError: (a ``FloatingPointError``) the chain produced NaN or infinite values (step too large).
    """
    check_callable(score_fn, "score_fn")
    check_tensor(x0, "x0", min_dim=2)
    eps = check_positive_float(step_size, "step_size")
    n_steps = check_steps(check_positive_int(n_steps, "n_steps"), "n_steps", max_steps)
    check_generator(generator, x0.device)
    return _ula(lambda x, _: score_fn(x), x0, [(eps, None)] * n_steps, generator, return_trajectory,
                progress, "Langevin dynamics")


def annealed_langevin(
    score_fn: Callable[[torch.Tensor, float], torch.Tensor],
    x0: torch.Tensor,
    sigmas: Sequence[float] | torch.Tensor,
    step_size: float,
    n_steps_each: int,
    *,
    generator: torch.Generator | None = None,
    return_trajectory: bool = False,
    progress: bool = False,
    max_steps: int | None = None,
) -> torch.Tensor:
    r"""Annealed Langevin dynamics over noise levels :math:`\sigma_1>\dots>\sigma_L` (book: eq-annealed-langevin).

    At level :math:`i`, ``n_steps_each`` ULA steps with step :math:`\alpha_i=\varepsilon\sigma_i^2/\sigma_L^2`
    and the score :math:`S(x,\sigma_i)\approx\nabla\log p_{\sigma_i}(x)`.

    Args:
        score_fn: ``score_fn(x, sigma)`` with ``sigma`` a Python float; returns a tensor of ``x``'s shape.
            For a network conditioned on the noise level, wrap it, e.g.
            ``lambda x, s: net(x, torch.full((len(x),), s, device=x.device))``.
        x0: starting points, shape ``(batch, *event_shape)`` (e.g. drawn from :math:`\mathcal N(0,\sigma_1^2I)`).
        sigmas: the noise levels, strictly decreasing, positive.
        step_size: :math:`\varepsilon>0`, the step at the last (smallest) level.
        n_steps_each: ULA steps per level (>= 1).
        generator: a ``torch.Generator`` on ``x0``'s device.
        return_trajectory: also keep every iterate.
        progress: show a tqdm progress bar.
        max_steps: refuse more than this many steps in all (default :data:`scoresde._checks.MAX_STEPS`).

    Returns:
        The final points; with ``return_trajectory`` all iterates, shape
        ``(len(sigmas) * n_steps_each + 1, *x0.shape)``.
    """
    check_callable(score_fn, "score_fn")
    check_tensor(x0, "x0", min_dim=2)
    eps = check_positive_float(step_size, "step_size")
    n_steps_each = check_positive_int(n_steps_each, "n_steps_each")
    check_generator(generator, x0.device)
    if isinstance(sigmas, torch.Tensor):
        check_tensor(sigmas, "sigmas", ndim=1)
        levels = [float(s) for s in sigmas.detach().cpu()]
    else:
        levels = [check_positive_float(s, "each noise level in sigmas") for s in sigmas]
    if not levels:
        raise ValueError("sigmas must hold at least one noise level")
    if any(s <= 0 for s in levels) or any(a <= b for a, b in zip(levels[:-1], levels[1:])):
        raise ValueError(f"sigmas must be positive and strictly decreasing, got {levels}")
    check_steps(len(levels) * n_steps_each, "len(sigmas) * n_steps_each", max_steps)
    schedule = [(eps * sigma**2 / levels[-1] ** 2, sigma) for sigma in levels for _ in range(n_steps_each)]
    score = cast(Callable[[torch.Tensor, "float | None"], torch.Tensor], score_fn)  # every level is a float here
    return _ula(score, x0, schedule, generator, return_trajectory, progress, "annealed Langevin dynamics")
