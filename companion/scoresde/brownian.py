r"""Brownian paths on a time grid, kept apart from the solvers that use them.

A :class:`BrownianPath` holds one sample of a Wiener process :math:`W` (one independent path per entry of
``shape``, e.g. ``(batch, *event_shape)``, or ``(batch, m)`` for an ``m``-dimensional noise) on a strictly
monotone grid :math:`t_0, t_1, \dots, t_n` (increasing *or* decreasing). It stores the increments

.. math::  \Delta W_k = W(t_{k+1}) - W(t_k) \sim \mathcal N\!\big(0,\ |t_{k+1}-t_k|\big),
           \quad \text{independent over } k                                      \qquad\text{(book: eq-bm-increments)}

and the values :math:`W(t_k) = \sum_{j<k}\Delta W_j` with :math:`W(t_0)=0`. On a decreasing grid the path
is the Brownian motion of reversed time, :math:`\bar W(s)` with :math:`\operatorname{Var}\bar W = |s - t_0|`,
which is what a reverse-time SDE is driven by.

Because the path is an object of its own, two solvers can be driven by *the same* noise, which is what a
strong (pathwise) error needs: :meth:`BrownianPath.coarsen` sums groups of increments (the same path seen at
a coarser resolution) and :meth:`BrownianPath.refine` fills in new points by the Brownian bridge, so the
finer path passes exactly through the coarse one. Given the coarse increment :math:`\Delta W` over an interval
of length :math:`H` split into pieces of lengths :math:`h_1,\dots,h_r` (:math:`\sum h_j = H`), the bridge
increments are drawn by conditioning independent :math:`Z_j\sim\mathcal N(0,h_j)` on their sum
(book: eq-brownian-bridge):

.. math::  \delta_j = Z_j - \frac{h_j}{H}\Big(\sum_{i=1}^{r} Z_i - \Delta W\Big),
           \qquad \sum_j \delta_j = \Delta W,
           \qquad \operatorname{Cov}(\delta_i,\delta_j) = h_i\,\mathbb 1_{i=j} - \frac{h_i h_j}{H}.

With ``levy_area=True`` a path also carries, per step, the space–time Lévy area

.. math::  H_k = \frac1{h_k}\int_{t_k}^{t_{k+1}}\Big(W(s)-W(t_k)-\frac{s-t_k}{h_k}\Delta W_k\Big)\mathrm ds
           \sim\mathcal N\big(0,\ h_k/12\big),\quad\text{independent of }\Delta W_k,
           \qquad h_k = |t_{k+1}-t_k|

(Foster, Lyons & Oberhauser 2020; torchsde's ``U`` is :math:`h(\Delta W/2 + H)`), which solvers of strong order 1.5
for additive noise need (:class:`~scoresde.solvers.SRA1`). :meth:`BrownianPath.coarsen` combines the areas exactly
(:math:`\int_s^t(W-W_s) = \int_s^u(W-W_s) + \int_u^t(W-W_u) + (t-u)(W_u-W_s)`) and :meth:`BrownianPath.refine`
draws the new increments and areas from their exact law given the coarse ones (a Gaussian conditioned on the
two linear constraints). A step of a solver receives an :class:`Increment`: :math:`\Delta W_k` and, when the
solver asks for it, :math:`H_k`.

Randomness comes from a passed ``torch.Generator`` so every path can be reproduced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch

from ._checks import (
    as_column,
    check_bool,
    check_generator,
    check_positive_int,
    check_shape,
    check_steps,
    check_tensor,
    draw_device,
)

__all__ = ["BrownianPath", "Increment", "as_time_grid"]


class Increment(NamedTuple):
    r"""The noise of one step, as a solver receives it: the Brownian increment :math:`\Delta W` and, for a solver
    that declares ``levy_area=True``, the space–time Lévy area :math:`H` (same shape; ``None`` otherwise)."""

    dW: torch.Tensor
    H: torch.Tensor | None = None

    def zero(self) -> Increment:
        """The same step without noise (score_sde's ``denoise``: the last step's mean)."""
        return Increment(torch.zeros_like(self.dW), None if self.H is None else torch.zeros_like(self.H))


def as_time_grid(
    ts: torch.Tensor | Sequence[float],
    name: str = "ts",
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
    min_len: int = 2,
) -> torch.Tensor:
    """Return ``ts`` as a 1-D floating tensor that is strictly increasing or strictly decreasing.

    Args:
        ts: the times, a 1-D tensor or a sequence of numbers.
        name: the argument's name, used in error messages.
        dtype: floating dtype of the result (default: ``ts``'s own dtype, or float64 for a sequence).
        device: device of the result (default: ``ts``'s own device, or CPU for a sequence).
        min_len: the fewest entries allowed.

    Raises:
        TypeError: not a tensor or sequence of real numbers, or an integer dtype.
        ValueError: not 1-D, too short, non-finite, or not strictly monotone (repeated times included).
    """
    if not isinstance(ts, torch.Tensor):
        if isinstance(ts, (str, bytes)) or not isinstance(ts, Sequence):
            raise TypeError(f"{name} must be a 1-D tensor or a sequence of times, got {type(ts).__name__}")
        try:
            ts = torch.tensor([float(t) for t in ts], dtype=dtype or torch.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must contain real numbers: {err}") from None
    check_tensor(ts, name, ndim=1)
    if ts.numel() < min_len:
        raise ValueError(f"{name} must hold at least {min_len} times, got {ts.numel()}")
    ts = ts.to(dtype=dtype or ts.dtype, device=device if device is not None else ts.device)
    if ts.numel() >= 2:
        d = torch.diff(ts)
        if not (bool((d > 0).all()) or bool((d < 0).all())):
            raise ValueError(
                f"{name} must be strictly increasing or strictly decreasing (no repeated times), "
                f"got {ts.tolist() if ts.numel() <= 8 else 'a grid that is not'}"
            )
    return ts


class BrownianPath:
    r"""One sampled Brownian path per entry of ``shape`` on a monotone time grid (book: eq-bm-increments).

    Build one with :meth:`sample`, or from given increments with the constructor.

    Attributes:
        ts: the grid, shape ``(n_times,)``, strictly increasing or strictly decreasing.
        dW: the increments :math:`\Delta W_k = W(t_{k+1})-W(t_k)`, shape ``(n_steps, *shape)``,
            ``n_steps = n_times - 1``.
        H: the space–time Lévy areas :math:`H_k`, shaped like ``dW``, or ``None``.

    Args:
        ts: the time grid (1-D, strictly monotone, at least two times), on ``dW``'s device.
        dW: the increments, shape ``(len(ts) - 1, *shape)``, floating and finite.
        H: optional space–time Lévy areas, shaped like ``dW`` with its dtype.
    """

    def __init__(self, ts: torch.Tensor | Sequence[float], dW: torch.Tensor, H: torch.Tensor | None = None) -> None:
        check_tensor(dW, "dW", min_dim=1)
        ts = as_time_grid(ts, "ts", device=dW.device)
        if dW.shape[0] != ts.numel() - 1:
            raise ValueError(
                f"dW must have len(ts) - 1 = {ts.numel() - 1} increments along its first dimension, "
                f"got shape {tuple(dW.shape)}"
            )
        if H is not None:
            check_tensor(H, "H", min_dim=1)
            if H.shape != dW.shape or H.dtype != dW.dtype or H.device != dW.device:
                raise ValueError(f"H must be shaped like dW {tuple(dW.shape)} with its dtype and device, got "
                                 f"{tuple(H.shape)} {H.dtype} on {H.device}")
        self.ts = ts
        self.dW = dW
        self.H = H

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_torchsde(cls, bm: Callable[..., torch.Tensor], ts: torch.Tensor | Sequence[float], *,
                      levy_area: bool = False) -> BrownianPath:
        r"""The path of a torchsde Brownian object (``BrownianInterval``, ``BrownianTree``…) on the grid ``ts``.

        torchsde's ``bm(ta, tb)`` returns :math:`W_{t_b}-W_{t_a}` for :math:`t_a<t_b`; this asks for each step of
        ``ts`` (increasing or decreasing: a backward step is minus the forward increment), so
        ``solve(sde, x0, ts, bm=BrownianPath.from_torchsde(bm, ts))`` drives the solver with torchsde's noise,
        e.g. to compare with ``torchsde.sdeint`` path by path. With ``levy_area`` the areas come along too,
        :math:`H = U/h - \Delta W/2` from torchsde's ``bm(ta, tb, return_U=True)`` (a ``BrownianInterval`` made
        with ``levy_area_approximation="space-time"``; increasing grids only)."""
        if not callable(bm):
            raise TypeError(f"bm must be a torchsde Brownian object (callable as bm(ta, tb)), got {type(bm).__name__}")
        grid = as_time_grid(ts, "ts")
        steps, areas = [], []
        for a, b in zip(grid[:-1].tolist(), grid[1:].tolist()):
            if levy_area:
                if a > b:
                    raise ValueError("levy_area=True needs an increasing grid ts")
                w, u = bm(a, b, return_U=True)
                steps.append(w)
                areas.append(u / (b - a) - w / 2)
            else:
                steps.append(bm(a, b) if a < b else -bm(b, a))
        dW = torch.stack(steps)
        return cls(grid.to(dW.device), dW, torch.stack(areas) if levy_area else None)

    @classmethod
    def sample(
        cls,
        ts: torch.Tensor | Sequence[float],
        shape: tuple[int, ...] | torch.Size,
        *,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
        max_steps: int | None = None,
        levy_area: bool = False,
    ) -> BrownianPath:
        r"""Draw independent increments :math:`\Delta W_k\sim\mathcal N(0,|t_{k+1}-t_k|)` (book: eq-bm-increments).

        Args:
            ts: the time grid (1-D, strictly increasing or decreasing, at least two times).
            shape: the shape of :math:`W(t)` at one time, e.g. ``(batch, *event_shape)`` or ``(batch, m)``.
            generator: a ``torch.Generator`` on ``device``; the same seed gives the same path.
            dtype: floating dtype of the increments (the grid keeps its own precision).
            device: where to create the path (default: the generator's device, else ``ts``'s, else CPU).
            max_steps: refuse more steps ``len(ts) - 1`` than this (default :data:`scoresde._checks.MAX_STEPS`).
            levy_area: also draw the space–time Lévy areas :math:`H_k\sim\mathcal N(0,h_k/12)`, independent
                of the increments (drawn after them, so the increments do not change).

        Returns:
            A :class:`BrownianPath` with ``dW`` of shape ``(len(ts) - 1, *shape)``.
        """
        device = draw_device(generator, device, dtype, default=ts.device if isinstance(ts, torch.Tensor) else None)
        shape = check_shape(shape)
        grid = as_time_grid(ts, "ts", device=device)
        check_steps(grid.numel() - 1, "len(ts) - 1", max_steps)
        h = torch.diff(grid).abs().to(dtype)
        z = torch.randn((grid.numel() - 1, *shape), generator=generator, dtype=dtype, device=device)
        dW = z * as_column(h.sqrt(), z)
        if not check_bool(levy_area, "levy_area"):
            return cls(grid, dW)
        H = torch.randn(z.shape, generator=generator, dtype=dtype, device=device) * as_column((h / 12).sqrt(), z)
        return cls(grid, dW, H)

    # ------------------------------------------------------------------ views
    @property
    def shape(self) -> torch.Size:
        """The shape of :math:`W(t)` at one time (``dW.shape[1:]``)."""
        return self.dW.shape[1:]

    @property
    def n_steps(self) -> int:
        """The number of increments, ``len(ts) - 1``."""
        return self.dW.shape[0]

    @property
    def dt(self) -> torch.Tensor:
        r"""The signed steps :math:`t_{k+1}-t_k`, shape ``(n_steps,)`` (negative on a decreasing grid)."""
        return torch.diff(self.ts)

    @property
    def direction(self) -> int:
        """``+1`` if the grid increases, ``-1`` if it decreases."""
        return 1 if bool(self.ts[1] > self.ts[0]) else -1

    @property
    def W(self) -> torch.Tensor:
        r"""The values :math:`W(t_k)=\sum_{j<k}\Delta W_j`, shape ``(n_times, *shape)``, with :math:`W(t_0)=0`."""
        zero = torch.zeros_like(self.dW[:1])
        return torch.cat([zero, torch.cumsum(self.dW, dim=0)], dim=0)

    @property
    def device(self) -> torch.device:
        """The device of the increments and the grid."""
        return self.dW.device

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the increments."""
        return self.dW.dtype

    def to(self, device: torch.device | str) -> BrownianPath:
        """The same path on another device."""
        return BrownianPath(self.ts.to(device), self.dW.to(device), None if self.H is None else self.H.to(device))

    def increment(self, k: int, dtype: torch.dtype) -> Increment:
        """Step ``k``'s :class:`Increment` in ``dtype`` (with its Lévy area if the path has them)."""
        return Increment(self.dW[k].to(dtype), None if self.H is None else self.H[k].to(dtype))

    def __repr__(self) -> str:
        t0, t1 = float(self.ts[0]), float(self.ts[-1])
        return (
            f"BrownianPath(t: {t0:g} -> {t1:g}, n_steps={self.n_steps}, shape={tuple(self.shape)}, "
            f"dtype={self.dtype}, device={self.device}{', levy_area' if self.H is not None else ''})"
        )

    # ------------------------------------------------------------------ resolution
    def coarsen(self, factor: int) -> BrownianPath:
        r"""The same path on every ``factor``-th time: increments summed in groups of ``factor``.

        :math:`\Delta W^{\text{coarse}}_k = \sum_{j=0}^{\text{factor}-1}\Delta W_{k\cdot\text{factor}+j}`,
        so :math:`W` agrees with this path at every kept time; the Lévy areas, if any, are combined exactly:
        with :math:`U = \int(W-W_{\text{start}}) = h(\Delta W/2 + H)` per step,
        :math:`U^{\text{coarse}} = \sum_j \big(U_j + h_j\sum_{i<j}\Delta W_i\big)`.

        Raises:
            ValueError: ``n_steps`` is not divisible by ``factor``.
        """
        factor = check_positive_int(factor, "factor")
        if self.n_steps % factor != 0:
            raise ValueError(f"n_steps={self.n_steps} is not divisible by factor={factor}")
        groups = (self.n_steps // factor, factor, *self.shape)
        dW = self.dW.reshape(groups)
        total = dW.sum(dim=1)
        if self.H is None:
            return BrownianPath(self.ts[::factor].clone(), total)
        expand = (groups[0], factor, *([1] * len(self.shape)))
        h = torch.diff(self.ts).abs().to(self.dtype).reshape(groups[0], factor)
        before = torch.cumsum(dW, dim=1) - dW  # sum of the earlier increments in the group
        u = h.reshape(expand) * (dW / 2 + self.H.reshape(groups) + before)
        big_h = h.sum(dim=1).reshape(groups[0], *([1] * len(self.shape)))
        return BrownianPath(self.ts[::factor].clone(), total, u.sum(dim=1) / big_h - total / 2)

    def refine(self, factor: int, generator: torch.Generator | None = None) -> BrownianPath:
        r"""Split every step into ``factor`` equal steps, filling in by the Brownian bridge (book: eq-brownian-bridge).

        The result passes exactly (up to rounding) through this path at the old times, and its new
        increments have the law of Brownian increments conditioned on the old ones, so
        ``path.refine(r).coarsen(r)`` equals ``path`` and a refined path is again a Brownian path. A path with Lévy
        areas is refined with its areas: the new increments and areas are independent Gaussians conditioned on
        the coarse increment and the coarse area (two linear constraints), so the result has their exact law.

        Args:
            factor: the number of sub-steps per step, ``>= 1``.
            generator: a ``torch.Generator`` on the path's device for the new randomness.
        """
        factor = check_positive_int(factor, "factor")
        check_steps(self.n_steps * factor, "n_steps * factor")
        check_generator(generator, self.device)
        if factor == 1:
            return BrownianPath(self.ts.clone(), self.dW.clone())
        n, shape, dtype = self.n_steps, self.shape, self.dtype
        frac = torch.arange(factor + 1, dtype=self.ts.dtype, device=self.device) / factor
        fine_ts = self.ts[:-1, None] + frac[None, :] * torch.diff(self.ts)[:, None]  # (n, factor + 1)
        fine_ts = torch.cat([fine_ts[:, :-1].reshape(-1), self.ts[-1:]])
        h = torch.diff(fine_ts).abs().to(dtype).reshape(n, factor)  # piece lengths h_j
        H = h.sum(dim=1, keepdim=True)
        expand = (n, factor, *([1] * len(shape)))
        z = torch.randn((n, factor, *shape), generator=generator, dtype=dtype, device=self.device)
        z = z * h.sqrt().reshape(expand)
        if self.H is not None:
            return self._refine_with_area(fine_ts, h, z, generator)
        excess = z.sum(dim=1, keepdim=True) - self.dW[:, None]
        dW = z - (h / H).reshape(expand) * excess
        return BrownianPath(fine_ts, dW.reshape(n * factor, *shape))

    def _refine_with_area(self, fine_ts: torch.Tensor, h: torch.Tensor, z: torch.Tensor,
                          generator: torch.Generator | None) -> BrownianPath:
        r"""Fine increments and areas drawn from their law given the coarse ones: with the independent fine
        variables :math:`v = (\Delta W_1..\Delta W_r, H_1..H_r)`, variances :math:`\Sigma = (h_j, h_j/12)`, and the
        constraints :math:`Av = c` (:math:`\sum_j\Delta W_j = \Delta W`, :math:`\sum_j h_j(\Delta W_j/2 + H_j +
        \sum_{i<j}\Delta W_i) = h(\Delta W/2 + H)`), :math:`v - \Sigma A^\top(A\Sigma A^\top)^{-1}(Av - c)`."""
        assert self.H is not None
        n, r = h.shape
        shape, dtype = self.shape, self.dtype
        areas = torch.randn(z.shape, generator=generator, dtype=dtype, device=self.device)
        areas = areas * (h / 12).sqrt().reshape(n, r, *([1] * len(shape)))
        v = torch.cat([z, areas], dim=1).reshape(n, 2 * r, -1)  # (n, 2r, m)
        after = h.flip(1).cumsum(1).flip(1) - h  # sum of the later pieces' lengths
        A = torch.stack([torch.cat([torch.ones_like(h), torch.zeros_like(h)], 1),
                         torch.cat([h / 2 + after, h], 1)], dim=1)  # (n, 2, 2r)
        var = torch.cat([h, h / 12], 1)  # (n, 2r)
        big_h = h.sum(1)
        c = torch.stack([self.dW.reshape(n, -1),
                         big_h[:, None] * (self.dW.reshape(n, -1) / 2 + self.H.reshape(n, -1))], dim=1)  # (n, 2, m)
        sa = var[:, :, None] * A.transpose(1, 2)  # Sigma A^T, (n, 2r, 2)
        v = v - sa @ torch.linalg.solve(A @ sa, A @ v - c)
        dW, H = v[:, :r], v[:, r:]
        return BrownianPath(fine_ts, dW.reshape(n * r, *shape), H.reshape(n * r, *shape))
