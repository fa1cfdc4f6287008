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

Randomness comes from a passed ``torch.Generator`` so every path can be reproduced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ._checks import (
    as_column,
    check_generator,
    check_positive_int,
    check_shape,
    check_steps,
    check_tensor,
    draw_device,
)

__all__ = ["BrownianPath", "as_time_grid"]


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

    Args:
        ts: the time grid (1-D, strictly monotone, at least two times), on ``dW``'s device.
        dW: the increments, shape ``(len(ts) - 1, *shape)``, floating and finite.
    """

    def __init__(self, ts: torch.Tensor | Sequence[float], dW: torch.Tensor) -> None:
        check_tensor(dW, "dW", min_dim=1)
        ts = as_time_grid(ts, "ts", device=dW.device)
        if dW.shape[0] != ts.numel() - 1:
            raise ValueError(
                f"dW must have len(ts) - 1 = {ts.numel() - 1} increments along its first dimension, "
                f"got shape {tuple(dW.shape)}"
            )
        self.ts = ts
        self.dW = dW

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_torchsde(cls, bm: Callable[..., torch.Tensor], ts: torch.Tensor | Sequence[float]) -> BrownianPath:
        """The path of a torchsde Brownian object (``BrownianInterval``, ``BrownianTree``…) on the grid ``ts``.

        torchsde's ``bm(ta, tb)`` returns :math:`W_{t_b}-W_{t_a}` for :math:`t_a<t_b`; this asks for each step of
        ``ts`` (increasing or decreasing: a backward step is minus the forward increment), so
        ``solve(sde, x0, ts, bm=BrownianPath.from_torchsde(bm, ts))`` drives the solver with torchsde's noise,
        e.g. to compare with ``torchsde.sdeint`` path by path."""
        if not callable(bm):
            raise TypeError(f"bm must be a torchsde Brownian object (callable as bm(ta, tb)), got {type(bm).__name__}")
        grid = as_time_grid(ts, "ts")
        steps = []
        for a, b in zip(grid[:-1].tolist(), grid[1:].tolist()):
            steps.append(bm(a, b) if a < b else -bm(b, a))
        dW = torch.stack(steps)
        return cls(grid.to(dW.device), dW)

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
    ) -> BrownianPath:
        r"""Draw independent increments :math:`\Delta W_k\sim\mathcal N(0,|t_{k+1}-t_k|)` (book: eq-bm-increments).

        Args:
            ts: the time grid (1-D, strictly increasing or decreasing, at least two times).
            shape: the shape of :math:`W(t)` at one time, e.g. ``(batch, *event_shape)`` or ``(batch, m)``.
            generator: a ``torch.Generator`` on ``device``; the same seed gives the same path.
            dtype: floating dtype of the increments (the grid keeps its own precision).
            device: where to create the path (default: the generator's device, else ``ts``'s, else CPU).
            max_steps: refuse more steps ``len(ts) - 1`` than this (default :data:`scoresde._checks.MAX_STEPS`).

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
        return cls(grid, dW)

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
        return BrownianPath(self.ts.to(device), self.dW.to(device))

    def __repr__(self) -> str:
        t0, t1 = float(self.ts[0]), float(self.ts[-1])
        return (
            f"BrownianPath(t: {t0:g} -> {t1:g}, n_steps={self.n_steps}, shape={tuple(self.shape)}, "
            f"dtype={self.dtype}, device={self.device})"
        )

    # ------------------------------------------------------------------ resolution
    def coarsen(self, factor: int) -> BrownianPath:
        r"""The same path on every ``factor``-th time: increments summed in groups of ``factor``.

        :math:`\Delta W^{\text{coarse}}_k = \sum_{j=0}^{\text{factor}-1}\Delta W_{k\cdot\text{factor}+j}`,
        so :math:`W` agrees with this path at every kept time.

        Raises:
            ValueError: ``n_steps`` is not divisible by ``factor``.
        """
        factor = check_positive_int(factor, "factor")
        if self.n_steps % factor != 0:
            raise ValueError(f"n_steps={self.n_steps} is not divisible by factor={factor}")
        dW = self.dW.reshape(self.n_steps // factor, factor, *self.shape).sum(dim=1)
        return BrownianPath(self.ts[::factor].clone(), dW)

    def refine(self, factor: int, generator: torch.Generator | None = None) -> BrownianPath:
        r"""Split every step into ``factor`` equal steps, filling in by the Brownian bridge (book: eq-brownian-bridge).

        The result passes exactly (up to rounding) through this path at the old times, and its new
        increments have the law of Brownian increments conditioned on the old ones, so
        ``path.refine(r).coarsen(r)`` equals ``path`` and a refined path is again a Brownian path.

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
        excess = z.sum(dim=1, keepdim=True) - self.dW[:, None]
        dW = z - (h / H).reshape(expand) * excess
        return BrownianPath(fine_ts, dW.reshape(n * factor, *shape))
