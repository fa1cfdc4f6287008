r"""The one stepping loop: :func:`solve` runs a :class:`~scoresde.solvers.Solver` (optionally with a
:class:`~scoresde.solvers.Corrector` before each step) over a time grid.

At each step :math:`t_n\to t_{n+1}=t_n+\Delta t` it (1) runs the corrector at :math:`t_n`, if any, (2) takes
the Brownian increment :math:`\Delta W_n\sim\mathcal N(0,|\Delta t|)` from a generator or a
:class:`~scoresde.brownian.BrownianPath`, (3) takes the solver's step. The samplers of
:mod:`scoresde.sampling` have no loop of their own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import torch

from .._checks import (
    DivergenceError,
    check_bool,
    check_fits_memory,
    check_generator,
    check_output_like,
    check_positive_float,
    check_same_device,
    check_same_shape_dtype,
    check_steps,
    check_tensor,
)
from .._progress import progress_bar
from ..brownian import BrownianPath, Increment, as_time_grid
from ..sde import SDE
from .base import Corrector, Solver, check_compatible
from .registry import SOLVERS, get_solver

__all__ = ["solve"]


class _CheckedDrift:
    """``sde`` seen by :func:`solve`'s steps, with ``f(x, t)`` refused on every call if its shape or dtype
    differs from ``x`` (a drift returning one row would otherwise be broadcast to every row in silence); the
    first call also checks that it is a floating tensor on ``x``'s device."""

    def __init__(self, sde: SDE) -> None:
        self._sde = sde
        self._first = True

    def f(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = self._sde.f(x, t)
        if self._first:
            check_output_like(out, x, f"{type(self._sde).__name__}.f", finite=False)
            self._first = False
        return check_same_shape_dtype(out, x, f"{type(self._sde).__name__}.f(x, t)")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sde, name)


class _Increments:
    r"""The noise of each step as an :class:`~scoresde.brownian.Increment`: looked up on ``bm``, or drawn step by
    step from ``generator``, :math:`\Delta W = \sqrt{|\Delta t|}\,z` and, for a solver that asks, the Lévy area
    :math:`H = \sqrt{|\Delta t|/12}\,z'` (drawn after :math:`\Delta W`); ``None`` without noise."""

    def __init__(self, sde: SDE, x0: torch.Tensor, bm: BrownianPath | None, generator: torch.Generator | None,
                 levy_area: bool):
        self.shape = sde.noise_shape(x0.shape) if sde.noise.diffusive else None
        self.bm, self.generator, self.like, self.levy_area = bm, generator, x0, levy_area

    def __call__(self, k: int, h: float) -> Increment | None:
        if self.shape is None:
            return None
        if self.bm is not None:
            return self.bm.increment(k, self.like.dtype)
        dw = torch.randn(self.shape, generator=self.generator, dtype=self.like.dtype, device=self.like.device)
        if not self.levy_area:
            return Increment(dw * math.sqrt(abs(h)))
        area = torch.randn(self.shape, generator=self.generator, dtype=self.like.dtype, device=self.like.device)
        return Increment(dw * math.sqrt(abs(h)), area * math.sqrt(abs(h) / 12))


def solve(
    sde: SDE,
    x0: torch.Tensor,
    ts: torch.Tensor | Sequence[float],
    *,
    method: str | Solver = "euler",
    dt: float | None = None,
    bm: BrownianPath | Any = None,
    generator: torch.Generator | None = None,
    progress: bool = False,
    max_steps: int | None = None,
    corrector: Corrector | None = None,
    denoise: bool = False,
    max_abs: float | None = None,
) -> torch.Tensor:
    r"""Solve :math:`\mathrm dx = f\,\mathrm dt + G\,\mathrm dW` from ``x0`` at ``ts[0]`` and return the states at ``ts``.

    The steps are the intervals of ``ts`` itself, or (with ``dt``) each interval split into
    :math:`\lceil|t_{k+1}-t_k|/\mathrm{dt}\rceil` equal steps, or (with ``bm``) the grid of the given Brownian
    path, which must contain every time of ``ts``. Without ``bm`` the increments are drawn step by step from
    ``generator`` (nothing of size ``n_steps x batch`` is ever stored). The solver's declared calculus and
    noise types are checked against the SDE once, before the first step.

    Args:
        sde: the SDE (forward, ``time_direction = +1``: ``ts`` increasing; reverse-time, ``-1``: ``ts``
            decreasing; an SDE without noise may go either way).
        x0: the initial state, shape ``(batch, *event_shape)``, floating, finite.
        ts: the output times (1-D, strictly monotone, at least two), ``ts[0]`` being the initial time.
        method: ``"euler"`` (Euler–Maruyama, book: eq-em), ``"milstein"`` (diagonal or additive noise,
            book: eq-milstein), ``"heun"`` (stochastic Heun: Stratonovich SDEs, or additive noise), or any
            :class:`~scoresde.solvers.Solver` object (e.g. a predictor of :mod:`scoresde.sampling`).
        dt: the largest step size (> 0); ``None`` steps from output time to output time.
        bm: a :class:`~scoresde.brownian.BrownianPath` of shape ``sde.noise_shape(x0.shape)`` whose grid
            contains ``ts`` (to drive two solvers with the same noise; with Lévy areas for a solver that declares
            ``levy_area``); cast to ``x0``'s dtype. Or a torchsde Brownian object (``BrownianInterval``...),
            read on the grid of ``ts`` and ``dt`` with :meth:`~scoresde.brownian.BrownianPath.from_torchsde`
            (increasing ``ts``; for ``levy_area`` solvers made with ``levy_area_approximation="space-time"``).
        generator: a ``torch.Generator`` on ``x0``'s device for the increments and the corrector's noise
            (``None``: global RNG).
        progress: show a tqdm progress bar over the steps.
        max_steps: refuse a grid of more steps than this (default :data:`scoresde._checks.MAX_STEPS`, 10^7);
            checked before the grid is built.
        corrector: a :class:`~scoresde.solvers.Corrector` run at :math:`t_k` before each step (its noise is
            drawn before the step's increment).
        denoise: take the last step without its noise (:math:`\Delta W = 0`; the increment is still drawn),
            score_sde's ``denoise``: the last step's mean.
        max_abs: a state with an entry beyond this magnitude counts as diverged, like NaN (the samplers pass a
            bound far above any plausible scale of their samples); ``None``: only non-finite values.

    Returns:
        The states at ``ts``, shape ``(len(ts), *x0.shape)``, on ``x0``'s device (not differentiable).

    Raises:
        TypeError: a wrong kind of argument.
        ValueError: bad shapes (``x0`` vs ``g``'s output or ``bm``), times that are not strictly monotone or
            that run against the SDE's direction, ``dt <= 0``, mixed devices, a method that does not apply
            to the SDE's noise or calculus, a drift whose shape or dtype changes, more steps than ``max_steps``.
        DivergenceError: non-finite values (or, with ``max_abs``, values beyond it) produced mid-solve (naming
            the step).
    """
    if not isinstance(sde, SDE):
        raise TypeError(f"sde must be a scoresde.sde.SDE, got {type(sde).__name__}")
    check_tensor(x0, "x0", min_dim=2)
    solver = get_solver(method)
    check_bool(progress, "progress")
    check_bool(denoise, "denoise")
    if corrector is not None:
        if not isinstance(corrector, Corrector):
            raise TypeError(f"corrector must be a scoresde.solvers.Corrector, got {type(corrector).__name__}")
        corrector.check_sde(sde)
    if isinstance(ts, torch.Tensor):
        check_same_device(("x0", x0), ("ts", ts))
    grid_out = as_time_grid(ts, "ts", dtype=torch.float64, device="cpu")
    _check_direction(sde, grid_out)
    t0 = torch.full((x0.shape[0],), float(grid_out[0]), dtype=x0.dtype, device=x0.device)
    check_compatible(solver, sde, x0, t0, SOLVERS)
    if bm is not None and not isinstance(bm, BrownianPath):
        bm = _from_torchsde(bm, grid_out, dt, solver, max_steps)
        dt = None
    grid, record = _grid(sde, x0, grid_out, dt, bm, max_steps)
    if bm is not None and solver.levy_area and sde.noise.diffusive and bm.H is None:
        raise ValueError(f"method {solver.name!r} needs the Lévy areas of the steps: give "
                         "bm=BrownianPath.sample(..., levy_area=True) (or omit bm)")
    check_generator(generator, x0.device)
    check_steps(grid.numel() - 1, "the number of steps", max_steps)
    check_fits_memory(len(record) * x0.numel() * x0.element_size(),
                      f"the {len(record)} output states of shape {tuple(x0.shape)}", x0.device)
    bound = math.inf if max_abs is None else check_positive_float(max_abs, "max_abs")
    return _run(sde, solver, corrector, x0, grid, record, _Increments(sde, x0, bm, generator, solver.levy_area),
                generator, progress, denoise, bound)


def _from_torchsde(bm: Any, grid_out: torch.Tensor, dt: float | None, solver: Solver,
                   max_steps: int | None) -> BrownianPath:
    """A torchsde Brownian object read on the step grid of ``ts`` (and ``dt``) as a :class:`BrownianPath`."""
    if not type(bm).__module__.startswith("torchsde") or not callable(bm):
        raise TypeError(f"bm must be a scoresde.brownian.BrownianPath (or a torchsde Brownian object, read with "
                        f"BrownianPath.from_torchsde), got {type(bm).__name__}")
    if bool(grid_out[1] < grid_out[0]):
        raise ValueError("a torchsde Brownian object runs forward in time: ts must be increasing "
                         "(for reverse time build a BrownianPath)")
    grid = grid_out
    if dt is not None:
        dt = check_positive_float(dt, "dt")
        check_steps(math.ceil(float(grid_out[-1] - grid_out[0]) / dt) + grid_out.numel(), f"the grid for dt={dt:g}",
                    max_steps)
        grid = _refine_grid(grid_out, dt)[0]
    return BrownianPath.from_torchsde(bm, grid.tolist(), levy_area=solver.levy_area)


def _check_direction(sde: SDE, grid_out: torch.Tensor) -> None:
    """Refuse output times that run against a noisy SDE's time direction."""
    direction = 1 if bool(grid_out[1] > grid_out[0]) else -1
    if sde.noise.diffusive and direction != sde.time_direction:
        want = "increasing" if sde.time_direction == 1 else "decreasing"
        hint = "" if sde.time_direction == -1 else "; for reverse time solve sde.reverse(score_fn)"
        raise ValueError(f"{sde!r} runs with time_direction={sde.time_direction}: ts must be {want}{hint}")


def _grid(
    sde: SDE, x0: torch.Tensor, grid_out: torch.Tensor, dt: float | None, bm: BrownianPath | None,
    max_steps: int | None,
) -> tuple[torch.Tensor, list[int]]:
    """The step grid (float64, CPU) and the indices of the output times in it."""
    if bm is not None and dt is not None:
        raise ValueError("give either dt or bm, not both (bm fixes the steps)")
    if bm is not None:
        if not isinstance(bm, BrownianPath):
            raise TypeError(f"bm must be a BrownianPath, got {type(bm).__name__}")
        check_same_device(("x0", x0), ("bm.dW", bm.dW))
        expected = sde.noise_shape(x0.shape) if sde.noise.diffusive else None
        if expected is not None and tuple(bm.shape) != tuple(expected):
            raise ValueError(
                f"bm has shape {tuple(bm.shape)} but {type(sde).__name__} with noise_type "
                f"{sde.noise_type!r} needs noise of shape {tuple(expected)} for x0 of shape {tuple(x0.shape)}"
            )
        grid = bm.ts.detach().to(device="cpu", dtype=torch.float64)  # (a torchsde grid: float64 on the CPU)
        return grid, _indices_in(grid_out, grid)
    if dt is not None:
        dt = check_positive_float(dt, "dt")
        span = float(torch.diff(grid_out).abs().sum())
        n = span / dt  # inf for a denormal dt: refused as too many steps, not an OverflowError
        check_steps(math.ceil(min(n, 1e30)) + grid_out.numel(), f"the grid for dt={dt:g}", max_steps)
        return _refine_grid(grid_out, dt)
    return grid_out, list(range(grid_out.numel()))


def _run(
    sde: SDE, solver: Solver, corrector: Corrector | None, x0: torch.Tensor, grid: torch.Tensor,
    record: list[int], increment: _Increments, generator: torch.Generator | None, progress: bool, denoise: bool,
    bound: float = math.inf,
) -> torch.Tensor:
    """The stepping loop: corrector at t_k, increment, solver step; states kept at the ``record`` indices."""
    hs = torch.diff(grid).tolist()
    n_steps = len(hs)
    t_dev = grid.to(device=x0.device, dtype=x0.dtype)
    batch = x0.shape[0]
    out = x0.new_empty((len(record), *x0.shape))
    out[0] = x0
    finite = torch.ones(n_steps, dtype=torch.bool, device=x0.device)
    x = x0
    stepped = cast(SDE, _CheckedDrift(sde))  # duck-types SDE for the steps (its f checked on every call)
    next_out, checked = 1, 0
    with torch.no_grad(), progress_bar(progress, total=n_steps, desc=f"solve ({solver.name})") as bar:
        for k in range(n_steps):
            h = hs[k]
            t = t_dev[k].expand(batch)
            if corrector is not None:
                x = check_same_shape_dtype(corrector.step(sde, x, t, abs(h), generator), x0,
                                           f"the state after the corrector at step {k}")
            inc = increment(k, h)
            if denoise and inc is not None and k == n_steps - 1:
                inc = inc.zero()
            x = solver.step(stepped, x, t, h, inc, t_dev[k + 1].expand(batch))
            check_same_shape_dtype(x, x0, f"the state after step {k} ({solver.name!r})")
            finite[k] = torch.isfinite(x).all() if bound == math.inf else x.abs().amax() <= bound
            bar.update(1)
            if k + 1 == record[next_out]:
                if not bool(finite[checked : k + 1].all()):
                    bad = checked + int((~finite[checked : k + 1]).nonzero()[0])
                    what = "non-finite values (NaN or inf)" + ("" if bound == math.inf else
                                                                  f" or values beyond |x| = {bound:.3g}")
                    raise DivergenceError(
                        f"{what} appeared at step {bad} of {n_steps} "
                        f"(t = {grid[bad].item():.6g} -> {grid[bad + 1].item():.6g}, method {solver.name!r}); "
                        "the step may be too large for this SDE, or f, g or the score produced them"
                    )
                checked = k + 1
                out[next_out] = x
                next_out += 1
    return out


def _indices_in(times: torch.Tensor, grid: torch.Tensor) -> list[int]:
    """Indices of ``times`` in ``grid`` (both monotone in the same direction); raise if one is missing."""
    if grid.numel() < 2 or bool((grid[1] > grid[0]) != (times[1] > times[0])):
        raise ValueError("bm's grid runs in the other direction from ts")
    sign = 1.0 if bool(grid[1] > grid[0]) else -1.0
    pos = torch.searchsorted(sign * grid, sign * times).clamp(max=grid.numel() - 1)
    scale = float(grid.abs().max()) + 1.0
    tol = 1e-9 * scale
    for candidate in (pos, (pos - 1).clamp(min=0)):
        close = (grid[candidate] - times).abs() <= tol
        pos = torch.where(close, candidate, pos)
    ok = (grid[pos] - times).abs() <= tol
    if not bool(ok.all()):
        missing = times[~ok][:3].tolist()
        raise ValueError(f"every time of ts must lie on bm's grid; missing e.g. {missing}")
    if int(pos[0]) != 0:
        raise ValueError("bm's grid must start at ts[0] (W(ts[0]) = 0 is the initial time)")
    return pos.tolist()


def _refine_grid(times: torch.Tensor, dt: float) -> tuple[torch.Tensor, list[int]]:
    """Split each interval of ``times`` into ceil(|length| / dt) equal steps; return grid and output indices."""
    pieces, record = [times[:1]], [0]
    for a, b in zip(times[:-1].tolist(), times[1:].tolist()):
        n = max(1, math.ceil(abs(b - a) / dt - 1e-9))
        pieces.append(torch.linspace(a, b, n + 1, dtype=torch.float64)[1:])
        record.append(record[-1] + n)
    return torch.cat(pieces), record
