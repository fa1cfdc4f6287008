r"""Samplers of score-based generative models: reverse-time SDE, predictor–corrector, probability-flow ODE.

A forward SDE :math:`\mathrm dx = f(x,t)\,\mathrm dt + g(t)\,\mathrm dW` carries the data law :math:`p_0` to
a prior :math:`p_T` (:mod:`scoresde.sde`). Given a score :math:`s(x,t)\approx\nabla_x\log p_t(x)`, every sampler
here starts from the prior at :math:`t=T` and runs down to a small :math:`t=\varepsilon`:

* :func:`reverse_sde_sample` solves Anderson's reverse-time SDE (book: eq-reverse-sde)

  .. math:: \mathrm dx = \big[f(x,t) - g(t)^2\,s(x,t)\big]\,\mathrm dt + g(t)\,\mathrm d\bar W

  with a fixed-step solver of :func:`scoresde.solvers.solve` (Euler–Maruyama by default);
* :func:`predictor_corrector_sample` alternates a Langevin *corrector* at the current time
  (:mod:`.correctors`) with one *predictor* step (a solver of :mod:`scoresde.solvers` or one of
  :mod:`.predictors`; Song et al. 2021, Algorithm "PC sampling"); the corrector's step is set by a
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
(all of them step through :func:`scoresde.solvers.solve`).
Everything runs on the device of the generator (or ``device``); ``score_fn`` must return a tensor shaped
like ``x`` on that device.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import torch

from .._checks import (
    check_bool,
    check_callable,
    check_choice,
    check_eps,
    check_generator,
    check_output_like,
    check_positive_float,
    check_positive_int,
    check_snr,
    check_steps,
    check_tensor,
    draw_device,
)
from ..sde import (
    SDE,
    check_forward_sde,
)
from ..solvers import SOLVERS, dopri5, solve
from . import correctors as _correctors  # noqa: F401  (registers the Langevin corrector)
from . import predictors as _predictors  # noqa: F401  (registers the discrete-chain predictors)
from .registry import CORRECTORS, PREDICTORS, register_sampler

__all__ = [
    "ode_methods",
    "reverse_sde_sample",
    "predictor_corrector_sample",
    "probability_flow_sample",
]

ScoreFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def ode_methods() -> tuple[str, ...]:
    """The ``method`` s of :func:`probability_flow_sample`: ``"dopri5"`` (adaptive, torchdiffeq), then every
    registered solver of :func:`scoresde.solvers.solve` that accepts an ODE (fixed steps)."""
    return ("dopri5", *(n for n, s in SOLVERS.items() if "none" in s.noise_types))


def _check_sde(sde: object) -> SDE:
    return check_forward_sde(sde, "the samplers build its reverse with sde.reverse")


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
    device = draw_device(generator, device, dtype)
    return sde.prior_sample(shape, generator=generator, dtype=dtype, device=device)


#: a sampler's state beyond this many times the larger of 1 and its start's largest entry has left every
#: plausible scale of the samples (a corrector's step or a score that blew up): a DivergenceError naming the step
PLAUSIBLE_SCALE = 1e6


def _bound(x: torch.Tensor) -> float:
    return PLAUSIBLE_SCALE * max(1.0, float(x.detach().abs().max()))


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
    method: str = "euler",
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
        method: a name of :data:`~scoresde.sampling.registry.PREDICTORS`: ``"euler"`` (Euler–Maruyama,
            book: eq-em), ``"heun"`` (stochastic Heun; the reverse SDE has additive noise, so it converges to
            the same solution), or any other registered solver or predictor.
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
    eps = check_eps(eps, sde.T)
    solver = PREDICTORS.lookup(method, "method")
    check_bool(progress, "progress")
    x = _start(sde, shape, x_T, generator, dtype, device)
    _check_score(score_fn, x, sde)
    ts = torch.tensor([sde.T, eps], dtype=torch.float64)
    dt = (sde.T - eps) / n_steps
    return solve(sde.reverse(score_fn), x, ts, method=solver, dt=dt, generator=generator, progress=progress,
                 max_abs=_bound(x))[-1]


def predictor_corrector_sample(
    sde: SDE,
    score_fn: ScoreFn,
    shape: tuple[int, ...] | torch.Size | None = None,
    *,
    n_steps: int = 500,
    snr: float = 0.16,
    n_corrector: int = 1,
    eps: float = 1e-3,
    predictor: str = "euler",
    corrector: str = "langevin",
    alpha_factor: bool = False,
    denoise: bool = False,
    x_T: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    progress: bool = False,
    return_nfe: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, int]:
    r"""Predictor–corrector sampling: Langevin corrector steps, then one reverse-SDE predictor step.

    At each time :math:`t_i` of the grid :math:`T=t_0>t_1>\dots>t_N=\varepsilon` (``N = n_steps``):
    ``n_corrector`` Langevin steps at :math:`t_i` with the step size of book: eq-pc-snr
    (:class:`~scoresde.sampling.correctors.LangevinCorrector`), then one predictor step from :math:`t_i` to
    :math:`t_{i+1}`: Euler–Maruyama or stochastic Heun on the reverse SDE (book: eq-reverse-sde), or the
    reverse-diffusion or ancestral-sampling step of :mod:`scoresde.sampling.predictors`. The loop is
    :func:`scoresde.solvers.solve`'s, with the predictor as its solver and the corrector plugged in.

    Three differences from score_sde's ``pc_sampler`` (``benchmarks/pc_vs_score_sde.py`` measures each):

    1. **No** :math:`\alpha_i` **factor.** score_sde's VP corrector multiplies the step by
       :math:`\alpha_i = 1-\beta_i` (a DDPM-discretisation detail that vanishes as the steps shrink); here only
       with ``alpha_factor=True``.
    2. **No final denoising step by default.** score_sde (``denoise=True``) returns the last predictor step's
       mean, without its noise; here every step, the last included, is the plain step, unless ``denoise=True``.
    3. **The time grid.** score_sde evaluates at ``linspace(T, eps, N)`` but steps by :math:`T/N` each time and
       takes :math:`N` steps, so its run ends one step below ``eps`` (at about :math:`\varepsilon - T/N`); here
       the grid ``linspace(T, eps, N + 1)`` has :math:`N` steps of :math:`(T-\varepsilon)/N` and lands on ``eps``.

    On the eight-Gaussian ring (VP, exact score, one Langevin step) the :math:`\alpha_i` factor changes nothing
    measurable; the denoising step narrows the modes on coarse grids (within-mode std 0.142 at 25 steps, 0.194 at
    100, 0.202 at 500; exact 0.200), and score_sde's grid, which runs on below ``eps``, narrows them less (0.221
    at 25 steps against 0.236 here; 0.200 against 0.202 at 100).

    Args:
        sde: the forward SDE (with a prior).
        score_fn: :math:`s(x,t)`.
        shape: ``(n_samples, *event_shape)`` of the prior draw (or give ``x_T``).
        n_steps: predictor steps (>= 1).
        snr: the corrector's signal-to-noise ratio :math:`r>0` (score_sde: 0.16 for VE, 0.01–0.17 for VP).
        n_corrector: Langevin steps per time (>= 0; 0 gives the plain reverse-SDE sampler).
        eps: final time in :math:`(0,T)`.
        predictor: a name of :data:`~scoresde.sampling.registry.PREDICTORS`: ``"euler"``, ``"heun"``, another
            registered solver that accepts additive noise, ``"reverse_diffusion"`` or ``"ancestral"`` (VP or VE SDE).
        corrector: a name of :data:`~scoresde.sampling.registry.CORRECTORS` (``"langevin"``), built with
            ``snr``, ``n_corrector`` and ``alpha_factor``.
        alpha_factor: score_sde's :math:`\alpha_i` factor in the corrector's step (VP and sub-VP SDEs).
        denoise: return the last predictor step's mean (score_sde's ``denoise=True``).
        x_T: an initial state at :math:`T` instead of a prior draw.
        generator: ``torch.Generator`` for the prior, the Langevin noise and the Brownian increments (drawn in
            that order at each time: corrector noise first).
        dtype: dtype of the prior draw.
        device: where to sample (default: the generator's device, else CPU).
        progress: tqdm progress bar over the predictor steps.
        return_nfe: also return the number of evaluations of the score (score_sde returns
            :math:`N(\text{n\_corrector}+1)` for its one-evaluation predictors; Heun takes two per step).

    Returns:
        Samples at time ``eps``, shape ``(n_samples, *event_shape)``, and the number of score evaluations if
        ``return_nfe``.
    """
    _check_sde(sde)
    n_steps = check_steps(check_positive_int(n_steps, "n_steps"), "n_steps")
    n_corrector = check_positive_int(n_corrector, "n_corrector", minimum=0)
    check_steps(n_steps * (n_corrector + 1), "n_steps * (n_corrector + 1)")
    snr = check_snr(snr, "snr")
    check_bool(alpha_factor, "alpha_factor")
    corrector_cls = CORRECTORS.lookup(corrector, "corrector")
    fix = corrector_cls(snr=snr, n_steps=n_corrector, alpha_factor=alpha_factor) if n_corrector else None
    check_bool(denoise, "denoise")
    eps = check_eps(eps, sde.T)
    solver = PREDICTORS.lookup(predictor, "predictor")
    check_bool(progress, "progress")
    check_bool(return_nfe, "return_nfe")
    x = _start(sde, shape, x_T, generator, dtype, device)
    _check_score(score_fn, x, sde)
    counted = _CountedScore(score_fn)
    ts = torch.tensor([sde.T, eps], dtype=torch.float64)
    out = solve(sde.reverse(counted), x, ts, method=solver, dt=(sde.T - eps) / n_steps,
                generator=generator, progress=progress, corrector=fix, denoise=denoise, max_abs=_bound(x))[-1]
    return (out, counted.calls) if return_nfe else out


class _CountedScore:
    """``score_fn`` that counts its calls (the number of function evaluations, NFE)."""

    def __init__(self, score_fn: ScoreFn) -> None:
        self.score_fn, self.calls = score_fn, 0

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.score_fn(x, t)


def probability_flow_sample(
    sde: SDE,
    score_fn: ScoreFn,
    shape: tuple[int, ...] | torch.Size | None = None,
    *,
    method: str = "dopri5",
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
            :math:`t=0`); ``"euler"``, ``"heun"`` or another name of :func:`ode_methods`: ``n_steps`` fixed
            steps of :func:`scoresde.solvers.solve`.
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
    check_choice(method, "method", ode_methods())
    n_steps = check_positive_int(n_steps, "n_steps")
    rtol = check_positive_float(rtol, "rtol")
    atol = check_positive_float(atol, "atol")
    eps = check_eps(eps, sde.T)
    check_bool(progress, "progress")
    check_bool(return_nfe, "return_nfe")
    x = _start(sde, shape, x_T, generator, dtype, device)
    _check_score(score_fn, x, sde)
    counted = _CountedScore(score_fn)
    flow = sde.reverse(counted, probability_flow=True)
    if method == "dopri5":
        batch = x.shape[0]

        def field(t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return flow.f(y, t.expand(batch))

        with torch.no_grad():
            out = dopri5(field, x, sde.T, eps, rtol=rtol, atol=atol, advice="check score_fn, or raise eps")
    else:
        ts = torch.tensor([sde.T, eps], dtype=torch.float64)
        out = solve(flow, x, ts, method=method, dt=(sde.T - eps) / n_steps, progress=progress,
                    max_abs=_bound(x))[-1]
    return (out, counted.calls) if return_nfe else out


# ---------------------------------------------------------------- the CLI's --sampler choices
@register_sampler("sde")
def _cli_sde(sde: SDE, score_fn: ScoreFn, shape: tuple[int, ...], *, n_steps: int, predictor: str,
             generator: torch.Generator, progress: bool, **_: object) -> torch.Tensor:
    """Reverse SDE solved with the --predictor's steps (book: eq-reverse-sde)."""
    return reverse_sde_sample(sde, score_fn, shape, n_steps=n_steps, method=predictor, generator=generator,
                              progress=progress)


@register_sampler("pc")
def _cli_pc(sde: SDE, score_fn: ScoreFn, shape: tuple[int, ...], *, n_steps: int, snr: float, predictor: str,
            corrector: str, generator: torch.Generator, progress: bool, **_: object) -> torch.Tensor:
    """Predictor-corrector: --predictor steps with one --corrector step each (book: eq-pc-snr)."""
    return cast(torch.Tensor, predictor_corrector_sample(
        sde, score_fn, shape, n_steps=n_steps, snr=snr, predictor=predictor, corrector=corrector,
        generator=generator, progress=progress))


@register_sampler("ode")
def _cli_ode(sde: SDE, score_fn: ScoreFn, shape: tuple[int, ...], *, generator: torch.Generator,
             **_: object) -> torch.Tensor:
    """Probability-flow ODE with dopri5 (book: eq-probability-flow)."""
    return cast(torch.Tensor, probability_flow_sample(sde, score_fn, shape, generator=generator))
