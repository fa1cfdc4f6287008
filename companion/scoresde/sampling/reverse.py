r"""Samplers of score-based generative models: reverse-time SDE, predictor–corrector, probability-flow ODE.

A forward SDE :math:`\mathrm dx = f(x,t)\,\mathrm dt + g(t)\,\mathrm dW` carries the data law :math:`p_0` to
a prior :math:`p_T` (:mod:`scoresde.sde`). Given a score :math:`s(x,t)\approx\nabla_x\log p_t(x)`, every sampler
here starts from the prior at :math:`t=T` and runs down to a small :math:`t=\varepsilon`:

* :func:`reverse_sde_sample` solves Anderson's reverse-time SDE (book: eq-reverse-sde)

  .. math:: \mathrm dx = \big[f(x,t) - g(t)^2\,s(x,t)\big]\,\mathrm dt + g(t)\,\mathrm d\bar W

  with a fixed-step solver of :func:`scoresde.solvers.solve` (Euler–Maruyama by default);
* :func:`predictor_corrector_sample` alternates a Langevin *corrector* at the current time with one
  reverse-SDE *predictor* step (Song et al. 2021, Algorithm "PC sampling"); the corrector's step is set by a
  signal-to-noise ratio :math:`r`,

  .. math:: \epsilon = 2\Big(r\,\frac{\overline{\|z\|}}{\overline{\|s(x,t)\|}}\Big)^2,\qquad
            x \leftarrow x + \epsilon\,s(x,t) + \sqrt{2\epsilon}\,z,\quad z\sim\mathcal N(0,I)
            \qquad\text{(book: eq-pc-snr)}

  (bars: averages over the batch);
* :func:`probability_flow_sample` integrates the probability-flow ODE (book: eq-probability-flow)

  .. math:: \frac{\mathrm dx}{\mathrm dt} = f(x,t) - \tfrac12 g(t)^2\,s(x,t),

  whose solutions have the same marginals :math:`p_t` as the SDE, with the adaptive Dormand–Prince method
  of ``torchdiffeq`` (``method="dopri5"``) or a fixed-step solver of :func:`scoresde.solvers.solve`.

The reverse-time drift is :meth:`scoresde.sde.SDE.reverse`'s; no sampler has a solver loop of its own
(the predictor–corrector loop calls the solvers' one-step functions between corrector steps).
Everything runs on the device of the generator (or ``device``); ``score_fn`` must return a tensor shaped
like ``x`` on that device.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch

from .._checks import (
    check_steps,
    DivergenceError,
    check_bool,
    check_callable,
    check_choice,
    check_generator,
    check_output_like,
    check_positive_float,
    check_positive_int,
    check_tensor,
)
from ..sde import SDE
from ..solvers import euler_maruyama_step, heun_step, solve

__all__ = [
    "SDE_METHODS",
    "ODE_METHODS",
    "reverse_sde_sample",
    "predictor_corrector_sample",
    "probability_flow_sample",
]

ScoreFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

#: fixed-step solvers of :func:`scoresde.solvers.solve` that suit the reverse SDE (additive noise)
SDE_METHODS: tuple[str, ...] = ("euler", "heun")
#: ``"dopri5"``: adaptive (torchdiffeq); ``"euler"``, ``"heun"``: fixed steps (:func:`scoresde.solvers.solve`)
ODE_METHODS: tuple[str, ...] = ("dopri5", "euler", "heun")


def _check_sde(sde: object) -> SDE:
    if not isinstance(sde, SDE):
        raise TypeError(f"sde must be a scoresde.sde.SDE, got {type(sde).__name__}")
    if sde.time_direction != 1:
        raise ValueError("sde must be the forward SDE (the samplers build its reverse with sde.reverse)")
    return sde


def _check_eps(eps: float, sde: SDE) -> float:
    eps = check_positive_float(eps, "eps")
    if eps >= sde.T:
        raise ValueError(f"eps must be in (0, T) = (0, {sde.T:g}), got {eps}")
    return eps


def _start(
    sde: SDE,
    shape: tuple[int, ...] | torch.Size | None,
    x_T: torch.Tensor | None,
    generator: torch.Generator | None,
    dtype: torch.dtype,
    device: torch.device | str | None,
) -> torch.Tensor:
    """The initial state at ``t = T``: ``x_T`` if given, else a draw from the SDE's prior."""
    if x_T is not None:
        if shape is not None:
            raise ValueError("give either shape (to draw x_T from the prior) or x_T, not both")
        check_tensor(x_T, "x_T", min_dim=2)
        check_generator(generator, x_T.device)
        return x_T
    if shape is None:
        raise ValueError("give shape = (n_samples, *event_shape) or an initial state x_T")
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"shape must be (n_samples, *event_shape), got {shape}")
    for s in shape:
        check_positive_int(s, "each entry of shape")
    if device is None:
        device = generator.device if isinstance(generator, torch.Generator) else torch.device("cpu")
    check_generator(generator, torch.device(device))
    return sde.prior_sample(shape, generator=generator, dtype=dtype, device=device)


def _check_score(score_fn: ScoreFn, x: torch.Tensor, sde: SDE) -> None:
    """One call of the score at ``T`` so a wrong score fails before a long solve, with a clear message."""
    check_callable(score_fn, "score_fn")
    with torch.no_grad():
        x2 = x[:2]
        check_output_like(score_fn(x2, torch.full((x2.shape[0],), sde.T, dtype=x.dtype, device=x.device)), x2,
                          "score_fn")


def reverse_sde_sample(
    sde: SDE,
    score_fn: ScoreFn,
    shape: tuple[int, ...] | torch.Size | None = None,
    *,
    n_steps: int = 500,
    eps: float = 1e-3,
    method: Literal["euler", "heun"] = "euler",
    x_T: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    progress: bool = False,
) -> torch.Tensor:
    r"""Sample by solving the reverse-time SDE from :math:`T` to ``eps`` (book: eq-reverse-sde).

    .. math:: \mathrm dx = \big[f(x,t) - g(t)^2\,s(x,t)\big]\,\mathrm dt + g(t)\,\mathrm d\bar W,
              \qquad x_T\sim p_T,

    on ``n_steps`` equal steps of :func:`scoresde.solvers.solve` applied to ``sde.reverse(score_fn)``.

    Args:
        sde: the forward SDE (with a prior), e.g. :class:`scoresde.sde.VPSDE`.
        score_fn: :math:`s(x,t)`, ``x`` of shape ``(batch, *event)``, ``t`` of shape ``(batch,)``.
        shape: ``(n_samples, *event_shape)`` of the draw from the prior (or give ``x_T``).
        n_steps: number of solver steps (>= 1).
        eps: the final time :math:`\varepsilon\in(0,T)` (the score is singular at :math:`t=0` for data on a
            lower-dimensional set; :math:`10^{-3}` is score_sde's choice for SDE samplers).
        method: ``"euler"`` (Euler–Maruyama, book: eq-em) or ``"heun"`` (stochastic Heun; the reverse
            SDE has additive noise, so it converges to the same solution).
        x_T: an initial state at :math:`T` instead of a prior draw.
        generator: ``torch.Generator`` for the prior draw and the Brownian increments.
        dtype: dtype of the prior draw.
        device: where to sample (default: the generator's device, else CPU).
        progress: tqdm progress bar over the steps.

    Returns:
        Samples at time ``eps``, shape ``(n_samples, *event_shape)``.
    """
    _check_sde(sde)
    n_steps = check_steps(check_positive_int(n_steps, "n_steps"), "n_steps")
    eps = _check_eps(eps, sde)
    check_choice(method, "method", SDE_METHODS)
    check_bool(progress, "progress")
    x = _start(sde, shape, x_T, generator, dtype, device)
    _check_score(score_fn, x, sde)
    ts = torch.tensor([sde.T, eps], dtype=torch.float64)
    dt = (sde.T - eps) / n_steps
    return solve(sde.reverse(score_fn), x, ts, method=method, dt=dt, generator=generator, progress=progress)[-1]


def predictor_corrector_sample(
    sde: SDE,
    score_fn: ScoreFn,
    shape: tuple[int, ...] | torch.Size | None = None,
    *,
    n_steps: int = 500,
    snr: float = 0.16,
    n_corrector: int = 1,
    eps: float = 1e-3,
    predictor: Literal["euler", "heun"] = "euler",
    x_T: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    progress: bool = False,
) -> torch.Tensor:
    r"""Predictor–corrector sampling: Langevin corrector steps, then one reverse-SDE predictor step.

    At each time :math:`t_i` of the grid :math:`T=t_0>t_1>\dots>t_N=\varepsilon` (``N = n_steps``):
    ``n_corrector`` Langevin steps at :math:`t_i` with the step size of book: eq-pc-snr, then one step of the
    reverse SDE (book: eq-reverse-sde) from :math:`t_i` to :math:`t_{i+1}` with the solvers' one-step
    function (:func:`scoresde.solvers.euler_maruyama_step` or :func:`scoresde.solvers.heun_step`).
    Two differences from score_sde's PC sampler, on purpose: its VP corrector multiplies the step by
    :math:`\alpha_i = 1-\beta_i` (a DDPM-discretisation detail that vanishes as the steps shrink), and it
    returns the predictor's mean at the last step (a final "denoising" step without noise); here every step,
    the last included, is the plain reverse-SDE step.

    Args:
        sde: the forward SDE (with a prior).
        score_fn: :math:`s(x,t)`.
        shape: ``(n_samples, *event_shape)`` of the prior draw (or give ``x_T``).
        n_steps: predictor steps (>= 1).
        snr: the corrector's signal-to-noise ratio :math:`r>0` (score_sde: 0.16 for VE, 0.01–0.17 for VP).
        n_corrector: Langevin steps per time (>= 0; 0 gives the plain reverse-SDE sampler).
        eps: final time in :math:`(0,T)`.
        predictor: ``"euler"`` or ``"heun"``.
        x_T: an initial state at :math:`T` instead of a prior draw.
        generator: ``torch.Generator`` for the prior, the Langevin noise and the Brownian increments.
        dtype: dtype of the prior draw.
        device: where to sample (default: the generator's device, else CPU).
        progress: tqdm progress bar over the predictor steps.

    Returns:
        Samples at time ``eps``, shape ``(n_samples, *event_shape)``.
    """
    _check_sde(sde)
    n_steps = check_steps(check_positive_int(n_steps, "n_steps"), "n_steps")
    n_corrector = check_positive_int(n_corrector, "n_corrector", minimum=0)
    check_steps(n_steps * (n_corrector + 1), "n_steps * (n_corrector + 1)")
    snr = check_positive_float(snr, "snr")
    eps = _check_eps(eps, sde)
    check_choice(predictor, "predictor", SDE_METHODS)
    check_bool(progress, "progress")
    x = _start(sde, shape, x_T, generator, dtype, device)
    _check_score(score_fn, x, sde)
    rsde = sde.reverse(score_fn)
    grid = torch.linspace(sde.T, eps, n_steps + 1, dtype=torch.float64)
    ts = grid.to(device=x.device, dtype=x.dtype)
    hs = torch.diff(grid).tolist()
    batch = x.shape[0]
    steps = range(n_steps)
    if progress:
        from tqdm.auto import tqdm  # lazily: no tqdm at import time

        steps = tqdm(steps, desc="predictor-corrector", total=n_steps)
    with torch.no_grad():
        for i in steps:
            t = ts[i].expand(batch)
            for _ in range(n_corrector):
                s = rsde.score(x, t)
                z = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
                ratio = z.reshape(batch, -1).norm(dim=1).mean() / s.reshape(batch, -1).norm(dim=1).mean()
                step = 2 * (snr * ratio) ** 2
                x = x + step * s + (2 * step).sqrt() * z
            h = hs[i]
            dw = torch.randn(sde.noise_shape(x.shape), generator=generator, dtype=x.dtype, device=x.device)
            dw = dw * abs(h) ** 0.5
            if predictor == "euler":
                x = euler_maruyama_step(rsde, x, t, h, dw)
            else:
                x = heun_step(rsde, x, t, h, dw, ts[i + 1].expand(batch))
            if not bool(torch.isfinite(x).all()):
                raise DivergenceError(
                    f"non-finite values appeared at predictor step {i} of {n_steps} "
                    f"(t = {grid[i].item():.6g}); lower snr or raise n_steps"
                )
    return x


def probability_flow_sample(
    sde: SDE,
    score_fn: ScoreFn,
    shape: tuple[int, ...] | torch.Size | None = None,
    *,
    method: Literal["dopri5", "euler", "heun"] = "dopri5",
    n_steps: int = 100,
    rtol: float = 1e-5,
    atol: float = 1e-5,
    eps: float = 1e-3,
    x_T: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    progress: bool = False,
    return_nfe: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, int]:
    r"""Sample by integrating the probability-flow ODE from :math:`T` down to ``eps`` (book: eq-probability-flow).

    .. math:: \frac{\mathrm dx}{\mathrm dt} = f(x,t) - \tfrac12 g(t)^2\,s(x,t),\qquad x_T\sim p_T .

    The only randomness is the prior draw: the map :math:`x_T\mapsto x_\varepsilon` is deterministic.

    Args:
        sde: the forward SDE (with a prior).
        score_fn: :math:`s(x,t)`.
        shape: ``(n_samples, *event_shape)`` of the prior draw (or give ``x_T``).
        method: ``"dopri5"``: adaptive Dormand–Prince 5(4) of ``torchdiffeq`` with tolerances ``rtol``,
            ``atol`` (score_sde's choice of an adaptive RK45; the step follows the stiffness of the score near
            :math:`t=0`); ``"euler"`` or ``"heun"``: ``n_steps`` fixed steps of :func:`scoresde.solvers.solve`.
        n_steps: number of fixed steps (``"euler"``, ``"heun"`` only).
        rtol: relative tolerance of ``"dopri5"``.
        atol: absolute tolerance of ``"dopri5"``.
        eps: final time in :math:`(0,T)`.
        x_T: an initial state at :math:`T` instead of a prior draw.
        generator: ``torch.Generator`` for the prior draw.
        dtype: dtype of the prior draw.
        device: where to sample (default: the generator's device, else CPU).
        progress: tqdm progress bar (fixed-step methods; ``"dopri5"`` chooses its steps itself).
        return_nfe: also return the number of evaluations of the score.

    Returns:
        Samples at ``eps`` of shape ``(n_samples, *event_shape)``, and the number of score evaluations if
        ``return_nfe``.
    """
    _check_sde(sde)
    check_choice(method, "method", ODE_METHODS)
    n_steps = check_positive_int(n_steps, "n_steps")
    rtol = check_positive_float(rtol, "rtol")
    atol = check_positive_float(atol, "atol")
    eps = _check_eps(eps, sde)
    check_bool(progress, "progress")
    if not isinstance(return_nfe, bool):
        raise TypeError(f"return_nfe must be a bool, got {type(return_nfe).__name__}")
    x = _start(sde, shape, x_T, generator, dtype, device)
    _check_score(score_fn, x, sde)
    nfe = [0]

    def counted(y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        nfe[0] += 1
        return score_fn(y, t)

    flow = sde.reverse(counted, probability_flow=True)
    if method == "dopri5":
        from torchdiffeq import odeint

        batch = x.shape[0]

        def field(t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return flow.f(y, t.expand(batch))

        ts = torch.tensor([sde.T, eps], dtype=x.dtype, device=x.device)
        # step_t: land exactly on eps (dopri5 would otherwise step past it and interpolate back, evaluating
        # the score at t < eps, even t < 0); first_step: skip the initial-step heuristic, which probes the
        # field at a time far outside [eps, T].
        options = {"step_t": ts, "first_step": 0.01 * (sde.T - eps)}
        try:
            with torch.no_grad():
                out = odeint(field, x, ts, rtol=rtol, atol=atol, method="dopri5", options=options)[-1]
        except AssertionError as err:  # torchdiffeq signals a collapsed step size by an assertion
            raise DivergenceError(f"dopri5 failed ({err}): the probability-flow field became non-finite or too "
                             "stiff; check score_fn, or raise eps") from err
        if not bool(torch.isfinite(out).all()):
            raise DivergenceError("the probability-flow ODE produced non-finite values; check score_fn")
    else:
        ts = torch.tensor([sde.T, eps], dtype=torch.float64)
        out = solve(flow, x, ts, method=method, dt=(sde.T - eps) / n_steps, progress=progress)[-1]
    return (out, nfe[0]) if return_nfe else out
