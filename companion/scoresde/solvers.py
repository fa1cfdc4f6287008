r"""Fixed-step SDE solvers: Euler–Maruyama, Milstein, and stochastic Heun, and :func:`solve` that runs them.

A solver knows only the :class:`~scoresde.sde.SDE` interface (``f``, ``g``, ``g_prod``, ``noise_type``), never
a concrete SDE. One step from :math:`t_n` to :math:`t_{n+1}=t_n+\Delta t` with the Brownian increment
:math:`\Delta W_n\sim\mathcal N(0,|\Delta t|)` is

* Euler–Maruyama (book: eq-em), strong order ½, weak order 1 (book: eq-em-orders):

  .. math:: X_{n+1} = X_n + f(X_n,t_n)\,\Delta t + G(X_n,t_n)\,\Delta W_n ;

* Milstein for diagonal noise (each :math:`g_i` depends on :math:`x_i` only), strong order 1
  (book: eq-milstein):

  .. math:: X_{n+1} = X_n + f\,\Delta t + g\odot\Delta W_n
            + \tfrac12\, g\odot\partial_x g\odot\big(\Delta W_n^2 - |\Delta t|\big)

  (Itô; for a Stratonovich SDE the :math:`-|\Delta t|` is dropped);

* stochastic Heun (a predictor–corrector Runge–Kutta method) for Stratonovich SDEs, and for Itô SDEs with
  additive noise, where the two readings agree (strong order 1 for additive or commutative, e.g. scalar, noise; ½ for general non-commutative noise):

  .. math:: \tilde X = X_n + f(X_n,t_n)\Delta t + G(X_n,t_n)\Delta W_n,\quad
            X_{n+1} = X_n + \tfrac12\big[f(X_n,t_n)+f(\tilde X,t_{n+1})\big]\Delta t
            + \tfrac12\big[G(X_n,t_n)+G(\tilde X,t_{n+1})\big]\Delta W_n .

Time may run backwards (``ts`` decreasing, ``dt < 0``): that is how a reverse-time SDE
(:meth:`~scoresde.sde.SDE.reverse`, ``time_direction = -1``) is solved, exactly as it is written. States have
any shape ``(batch, *event_shape)``; everything happens on ``x0``'s device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import torch

from ._checks import (
    check_steps,
    DivergenceError,
    check_same_shape_dtype,
    check_bool,
    check_choice,
    check_generator,
    check_output_like,
    check_positive_float,
    check_same_device,
    check_tensor,
)
from .brownian import BrownianPath, as_time_grid
from .sde import SDE

__all__ = ["METHODS", "euler_maruyama_step", "milstein_step", "heun_step", "solve"]

Method = Literal["euler", "milstein", "heun"]
METHODS: tuple[str, ...] = ("euler", "milstein", "heun")


class _CheckedDrift:
    """``sde`` seen by :func:`solve`'s steps, with ``f(x, t)`` refused on every call if its shape or dtype
    differs from ``x`` (a drift returning one row would otherwise be broadcast to every row in silence)."""

    def __init__(self, sde: SDE) -> None:
        self._sde = sde

    def f(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return check_same_shape_dtype(self._sde.f(x, t), x, f"{type(self._sde).__name__}.f(x, t)")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sde, name)


def euler_maruyama_step(
    sde: SDE, x: torch.Tensor, t: torch.Tensor, dt: float, dw: torch.Tensor | None
) -> torch.Tensor:
    r"""One Euler–Maruyama step :math:`X_{n+1} = X_n + f(X_n,t_n)\Delta t + G(X_n,t_n)\Delta W_n` (book: eq-em).

    Args:
        sde: the SDE.
        x: the state :math:`X_n`, shape ``(batch, *event)``.
        t: the time :math:`t_n`, shape ``(batch,)``.
        dt: the signed step :math:`\Delta t` (negative in reverse time).
        dw: the Brownian increment :math:`\Delta W_n` (``None`` for an SDE without noise).
    """
    drift = sde.f(x, t) * dt
    if dw is None:
        return x + drift
    return x + drift + sde.g_prod(x, t, dw)


def milstein_step(
    sde: SDE, x: torch.Tensor, t: torch.Tensor, dt: float, dw: torch.Tensor | None
) -> torch.Tensor:
    r"""One Milstein step for diagonal noise (book: eq-milstein):
    :math:`X_{n+1} = X_n + f\Delta t + g\,\Delta W + \tfrac12 g\,\partial_xg\,(\Delta W^2 - |\Delta t|)`.

    :math:`\partial_x g` (the diagonal :math:`\partial g_i/\partial x_i`) comes from one backward pass of
    :math:`\sum_i g_i`, exact when each :math:`g_i` depends on :math:`x_i` only (diagonal noise). Additive
    noise has :math:`\partial_x g = 0` and the step is Euler–Maruyama's. Stratonovich SDEs drop the
    :math:`-|\Delta t|`.
    """
    if dw is None or sde.additive:
        return euler_maruyama_step(sde, x, t, dt, dw)
    if sde.noise_type == "diagonal":
        _check_diagonal(sde, x[:2], t[:2])
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        g = sde.g(xg, t)
        sde._check_g(xg, g)
        if g.requires_grad:
            (dg,) = torch.autograd.grad(g.sum(), xg)
        else:  # g does not depend on x after all
            dg = torch.zeros_like(x)
    g = g.detach()
    if sde.noise_type == "scalar":
        g = g.reshape(-1, *([1] * (x.ndim - 1)))
    correction = dw.square() if sde.sde_type == "stratonovich" else dw.square() - abs(dt)
    return x + sde.f(x, t) * dt + g * dw + 0.5 * g * dg * correction


def _check_diagonal(sde: SDE, x: torch.Tensor, t: torch.Tensor) -> None:
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


def solve(
    sde: SDE,
    x0: torch.Tensor,
    ts: torch.Tensor | Sequence[float],
    *,
    method: Method = "euler",
    dt: float | None = None,
    bm: BrownianPath | None = None,
    generator: torch.Generator | None = None,
    progress: bool = False,
    max_steps: int | None = None,
) -> torch.Tensor:
    r"""Solve :math:`\mathrm dx = f\,\mathrm dt + G\,\mathrm dW` from ``x0`` at ``ts[0]`` and return the states at ``ts``.

    The steps are the intervals of ``ts`` itself, or (with ``dt``) each interval split into
    :math:`\lceil|t_{k+1}-t_k|/\mathrm{dt}\rceil` equal steps, or (with ``bm``) the grid of the given Brownian
    path, which must contain every time of ``ts``. Without ``bm`` the increments are drawn step by step from
    ``generator`` (nothing of size ``n_steps x batch`` is ever stored).

    Args:
        sde: the SDE (forward, ``time_direction = +1``: ``ts`` increasing; reverse-time, ``-1``: ``ts``
            decreasing; an SDE without noise may go either way).
        x0: the initial state, shape ``(batch, *event_shape)``, floating, finite.
        ts: the output times (1-D, strictly monotone, at least two), ``ts[0]`` being the initial time.
        method: ``"euler"`` (Euler–Maruyama, book: eq-em), ``"milstein"`` (diagonal or additive noise,
            book: eq-milstein) or ``"heun"`` (stochastic Heun: Stratonovich SDEs, or additive noise).
        dt: the largest step size (> 0); ``None`` steps from output time to output time.
        bm: a :class:`~scoresde.brownian.BrownianPath` of shape ``sde.noise_shape(x0.shape)`` whose grid
            contains ``ts`` (to drive two solvers with the same noise); cast to ``x0``'s dtype.
        generator: a ``torch.Generator`` on ``x0``'s device for the increments (``None``: global RNG).
        progress: show a tqdm progress bar over the steps.
        max_steps: refuse a grid of more steps than this (default :data:`scoresde._checks.MAX_STEPS`, 10^7);
            checked before the grid is built.

    Returns:
        The states at ``ts``, shape ``(len(ts), *x0.shape)``, on ``x0``'s device (not differentiable).

    Raises:
        TypeError: a wrong kind of argument.
        ValueError: bad shapes (``x0`` vs ``g``'s output or ``bm``), times that are not strictly monotone or
            that run against the SDE's direction, ``dt <= 0``, mixed devices, a method that does not apply
            to the SDE's noise, a drift whose shape or dtype changes, more steps than ``max_steps``.
        DivergenceError: non-finite values produced mid-solve (naming the step).
    """
    if not isinstance(sde, SDE):
        raise TypeError(f"sde must be a scoresde.sde.SDE, got {type(sde).__name__}")
    check_tensor(x0, "x0", min_dim=2)
    check_choice(method, "method", METHODS)
    check_bool(progress, "progress")
    device = x0.device
    if isinstance(ts, torch.Tensor):
        check_same_device(("x0", x0), ("ts", ts))
    grid_out = as_time_grid(ts, "ts", dtype=torch.float64, device="cpu")
    direction = 1 if bool(grid_out[1] > grid_out[0]) else -1
    noisy = sde.noise_type != "none"
    if noisy and direction != sde.time_direction:
        want = "increasing" if sde.time_direction == 1 else "decreasing"
        hint = "" if sde.time_direction == -1 else "; for reverse time solve sde.reverse(score_fn)"
        raise ValueError(f"{sde!r} runs with time_direction={sde.time_direction}: ts must be {want}{hint}")
    _check_method(sde, method, x0)

    if bm is not None and dt is not None:
        raise ValueError("give either dt or bm, not both (bm fixes the steps)")
    if bm is not None:
        if not isinstance(bm, BrownianPath):
            raise TypeError(f"bm must be a BrownianPath, got {type(bm).__name__}")
        check_same_device(("x0", x0), ("bm.dW", bm.dW))
        expected = sde.noise_shape(x0.shape) if noisy else None
        if expected is not None and tuple(bm.shape) != tuple(expected):
            raise ValueError(
                f"bm has shape {tuple(bm.shape)} but {type(sde).__name__} with noise_type "
                f"{sde.noise_type!r} needs noise of shape {tuple(expected)} for x0 of shape {tuple(x0.shape)}"
            )
        grid = bm.ts.detach().to(device="cpu", dtype=torch.float64)
        record = _indices_in(grid_out, grid)
    elif dt is not None:
        dt = check_positive_float(dt, "dt")
        span = float(torch.diff(grid_out).abs().sum())
        check_steps(math.ceil(span / dt) + grid_out.numel(), f"the grid for dt={dt:g}", max_steps)
        grid, record = _refine_grid(grid_out, dt)
    else:
        grid, record = grid_out, list(range(grid_out.numel()))
    check_generator(generator, device)

    check_steps(grid.numel() - 1, "the number of steps", max_steps)
    hs = torch.diff(grid).tolist()
    n_steps = len(hs)
    t_dev = grid.to(device=device, dtype=x0.dtype)
    batch = x0.shape[0]
    noise_shape = sde.noise_shape(x0.shape) if noisy else None

    out = x0.new_empty((len(record), *x0.shape))
    out[0] = x0
    finite = torch.ones(n_steps, dtype=torch.bool, device=device)
    steps = range(n_steps)
    if progress:
        from tqdm.auto import tqdm  # lazily: no tqdm at import time

        steps = tqdm(steps, desc=f"solve ({method})", total=n_steps)

    x = x0
    stepped = _CheckedDrift(sde)  # type: ignore[arg-type]  (duck-types SDE for the steps)
    next_out, checked = 1, 0
    with torch.no_grad():
        for k in steps:
            h = hs[k]
            t = t_dev[k].expand(batch)
            if not noisy:
                dw = None
            elif bm is not None:
                dw = bm.dW[k].to(x0.dtype)
            else:
                dw = torch.randn(noise_shape, generator=generator, dtype=x0.dtype, device=device)
                dw = dw * math.sqrt(abs(h))
            if k == 0:
                check_output_like(sde.f(x, t), x, f"{type(sde).__name__}.f", finite=False)
            if method == "euler":
                x = euler_maruyama_step(stepped, x, t, h, dw)
            elif method == "milstein":
                x = milstein_step(stepped, x, t, h, dw)
            else:
                x = heun_step(stepped, x, t, h, dw, t_dev[k + 1].expand(batch))
            check_same_shape_dtype(x, x0, f"the state after step {k} ({method!r})")
            finite[k] = torch.isfinite(x).all()
            if k + 1 == record[next_out]:
                if not bool(finite[checked : k + 1].all()):
                    bad = checked + int((~finite[checked : k + 1]).nonzero()[0])
                    raise DivergenceError(
                        f"non-finite values (NaN or inf) appeared at step {bad} of {n_steps} "
                        f"(t = {grid[bad].item():.6g} -> {grid[bad + 1].item():.6g}, method {method!r}); "
                        "the step may be too large for this SDE, or f, g or the score produced them"
                    )
                checked = k + 1
                out[next_out] = x
                next_out += 1
    return out


def _check_method(sde: SDE, method: str, x0: torch.Tensor) -> None:
    """Refuse a method that would converge to the wrong solution for this SDE."""
    if sde.noise_type == "none" or sde.additive:
        return
    if method == "euler" and sde.sde_type == "stratonovich":
        raise ValueError(
            "Euler–Maruyama converges to the Itô solution; for a Stratonovich SDE with "
            "multiplicative noise use method='heun' or 'milstein'"
        )
    if method == "heun" and sde.sde_type == "ito":
        raise ValueError(
            "stochastic Heun converges to the Stratonovich solution; for an Itô SDE with multiplicative "
            "noise use method='euler' or 'milstein' (or declare additive noise)"
        )
    if method == "milstein":
        if sde.noise_type == "general":
            raise ValueError("milstein needs diagonal noise; general (matrix) noise needs Lévy areas")
        if sde.noise_type == "scalar" and x0[0].numel() != 1:
            # g(x, t) I with g depending on all of x couples the coordinates: not diagonal noise
            raise ValueError(
                f"milstein needs diagonal noise; {type(sde).__name__} has state-dependent scalar noise "
                "g(x) I, which is diagonal only when each g_i depends on x_i alone: use noise_type 'diagonal'"
            )


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
