r"""Sample quality: two-sample statistics with a known null, and a permutation test.

Given samples :math:`x_1..x_n\sim P` (e.g. from a sampler) and :math:`y_1..y_m\sim Q` (held-out data), the
squared maximum mean discrepancy (MMD) for a kernel :math:`k` has the unbiased estimate

.. math::  \widehat{\mathrm{MMD}}^2_k = \frac{1}{n(n-1)}\sum_{i\ne i'}k(x_i,x_{i'})
           + \frac{1}{m(m-1)}\sum_{j\ne j'}k(y_j,y_{j'}) - \frac{2}{nm}\sum_{i,j}k(x_i,y_j)
           \qquad\text{(book: eq-mmd)}

with the Gaussian kernel :math:`k(x,y)=\exp(-\|x-y\|^2/(2h^2))`, and the energy distance
:math:`\mathcal E = 2\mathbb E\|X-Y\| - \mathbb E\|X-X'\| - \mathbb E\|Y-Y'\|` (book: eq-energy-distance) is
the same estimate with the distance-induced kernel :math:`k(x,y)=-\|x-y\|`. Both are zero in expectation
when :math:`P=Q` and positive otherwise (the Gaussian kernel is characteristic; the energy distance
vanishes only for :math:`P=Q`).

"Is this value small?" is answered by a permutation test: under :math:`H_0: P=Q` the pooled sample is
exchangeable, so re-splitting it at random gives draws from the statistic's exact null distribution.
:func:`permutation_test` returns the observed statistic, the :math:`(1-\alpha)` quantile of the permutation
null (the threshold) and the p-value :math:`(1+\#\{\text{null}\ge\text{observed}\})/(1+B)`, which is a valid
p-value for any sample size (:math:`\Pr(p\le\alpha)\le\alpha` under :math:`H_0`).

The pooled :math:`(n+m)\times(n+m)` kernel matrix is formed once; every permutation is then a pair of
matrix products with label vectors, so :math:`B` permutations cost :math:`O(B(n+m)^2)` arithmetic and no
extra kernel evaluations. Memory is :math:`(n+m)^2` numbers: a few thousand points per sample is the
intended size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

from ._checks import (
    check_choice,
    check_generator,
    check_positive_float,
    check_positive_int,
    check_same_device,
    check_tensor,
)

__all__ = [
    "STATISTICS",
    "PermutationResult",
    "pairwise_distances",
    "median_bandwidth",
    "energy_distance",
    "mmd2",
    "permutation_test",
]

Statistic = Literal["energy", "mmd"]
STATISTICS: tuple[str, ...] = ("energy", "mmd")


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    check_tensor(x, "x", min_dim=2)
    check_tensor(y, "y", min_dim=2)
    check_same_device(("x", x), ("y", y))
    if x.shape[1:] != y.shape[1:]:
        raise ValueError(f"x and y must hold points of the same shape, got {tuple(x.shape[1:])} and {tuple(y.shape[1:])}")
    if x.dtype != y.dtype:
        raise TypeError(f"x and y must have the same dtype, got {x.dtype} and {y.dtype}")
    for name, z in (("x", x), ("y", y)):
        if z.shape[0] < 2:
            raise ValueError(f"{name} needs at least 2 points for an unbiased estimate, got {z.shape[0]}")
    return x.reshape(x.shape[0], -1), y.reshape(y.shape[0], -1)


def pairwise_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Euclidean distances :math:`\|x_i-y_j\|`, shape ``(n, m)``, for points of shape ``(n, *event)``, ``(m, *event)``.

    Computed from differences (not from :math:`\|x\|^2+\|y\|^2-2x^\top y`, which loses accuracy for close
    points), in blocks to bound memory.
    """
    check_tensor(x, "x", min_dim=2)
    check_tensor(y, "y", min_dim=2)
    check_same_device(("x", x), ("y", y))
    xf, yf = x.reshape(x.shape[0], -1), y.reshape(y.shape[0], -1)
    if xf.shape[1] != yf.shape[1]:
        raise ValueError(f"x and y must hold points of the same size, got {xf.shape[1]} and {yf.shape[1]}")
    block = max(1, 2**22 // max(1, yf.shape[0] * yf.shape[1]))
    rows = [(xf[i : i + block, None, :] - yf[None, :, :]).norm(dim=-1) for i in range(0, xf.shape[0], block)]
    return torch.cat(rows, dim=0)


def median_bandwidth(x: torch.Tensor, y: torch.Tensor) -> float:
    r"""The median heuristic :math:`h=\operatorname{median}\{\|z_i-z_j\|: i<j\}` over the pooled points."""
    xf, yf = _check_pair(x, y)
    z = torch.cat([xf, yf])
    d = pairwise_distances(z, z)
    iu = torch.triu_indices(z.shape[0], z.shape[0], offset=1, device=z.device)
    h = float(d[iu[0], iu[1]].median())
    if h <= 0:
        raise ValueError("all points coincide: the median bandwidth is 0; pass bandwidth= explicitly")
    return h


def _kernel_matrix(z: torch.Tensor, statistic: str, bandwidth: float | None, n: int) -> torch.Tensor:
    d = pairwise_distances(z, z)
    if statistic == "energy":
        return -d
    if bandwidth is None:
        bandwidth = median_bandwidth(z[:n], z[n:])
    return torch.exp(-d.square() / (2 * bandwidth**2))


def _u_statistic(K: torch.Tensor, labels: torch.Tensor, n: int, m: int) -> torch.Tensor:
    """Unbiased MMD^2 for each row of ``labels`` (``(B, n+m)``, 1 marks an x point), diagonal excluded."""
    K = K.clone()
    K.fill_diagonal_(0.0)
    a = labels.to(K.dtype)
    b = 1.0 - a
    Ka, Kb = K @ a.T, K @ b.T  # (n+m, B)
    s_xx = (a.T * Ka).sum(0)
    s_yy = (b.T * Kb).sum(0)
    s_xy = (b.T * Ka).sum(0)
    return s_xx / (n * (n - 1)) + s_yy / (m * (m - 1)) - 2 * s_xy / (n * m)


def _statistic(x: torch.Tensor, y: torch.Tensor, statistic: str, bandwidth: float | None) -> torch.Tensor:
    xf, yf = _check_pair(x, y)
    n, m = xf.shape[0], yf.shape[0]
    K = _kernel_matrix(torch.cat([xf, yf]), statistic, bandwidth, n)
    labels = torch.cat([torch.ones(n, dtype=K.dtype, device=x.device), torch.zeros(m, dtype=K.dtype, device=x.device)])[None]
    return _u_statistic(K, labels, n, m)[0]


def energy_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    r"""Unbiased estimate of the energy distance :math:`2\mathbb E\|X-Y\|-\mathbb E\|X-X'\|-\mathbb E\|Y-Y'\|`
    (book: eq-energy-distance).

    Args:
        x: sample of :math:`P`, shape ``(n, *event)``, ``n >= 2``.
        y: sample of :math:`Q`, shape ``(m, *event)``, same event shape, dtype and device.

    Returns:
        The estimate (a float; it can be slightly negative when :math:`P=Q`).
    """
    xf, yf = _check_pair(x, y)
    # the distance is 1-homogeneous, ED(cx, cy) = c ED(x, y): compute on x/scale so that no square overflows;
    # scale is a power of 2, so the division is exact and ordinary data gives bit-identical results
    scale = math.ldexp(1.0, math.frexp(max(float(xf.abs().max()), float(yf.abs().max())))[1])
    return float(_statistic(x / scale, y / scale, "energy", None)) * scale


def mmd2(x: torch.Tensor, y: torch.Tensor, bandwidth: float | None = None) -> float:
    r"""Unbiased estimate of :math:`\mathrm{MMD}^2` with the Gaussian kernel of bandwidth :math:`h` (book: eq-mmd).

    Args:
        x: sample of :math:`P`, shape ``(n, *event)``, ``n >= 2``.
        y: sample of :math:`Q`, shape ``(m, *event)``.
        bandwidth: :math:`h>0`; ``None`` uses :func:`median_bandwidth` of the pooled sample.

    Returns:
        The estimate (a float; it can be slightly negative when :math:`P=Q`).
    """
    if bandwidth is not None:
        bandwidth = check_positive_float(bandwidth, "bandwidth")
    return float(_statistic(x, y, "mmd", bandwidth))


@dataclass(frozen=True)
class PermutationResult:
    """The outcome of :func:`permutation_test`.

    Attributes:
        statistic: the observed value of the statistic.
        threshold: the ``1 - alpha`` quantile of the permutation null; reject :math:`P=Q` above it.
        p_value: :math:`(1+\\#\\{\\text{null}\\ge\\text{observed}\\})/(1+B)`.
        alpha: the level the threshold belongs to.
        n_permutations: :math:`B`.
        reject: ``p_value <= alpha``.
    """

    statistic: float
    threshold: float
    p_value: float
    alpha: float
    n_permutations: int

    @property
    def reject(self) -> bool:
        return self.p_value <= self.alpha


def permutation_test(
    x: torch.Tensor,
    y: torch.Tensor,
    statistic: Statistic = "energy",
    *,
    n_permutations: int = 200,
    alpha: float = 0.05,
    bandwidth: float | None = None,
    generator: torch.Generator | None = None,
) -> PermutationResult:
    r"""Two-sample permutation test of :math:`H_0: P=Q` with the energy distance or MMD (book: eq-mmd).

    Args:
        x: sample of :math:`P` (e.g. generated points), shape ``(n, *event)``.
        y: sample of :math:`Q` (e.g. held-out data), shape ``(m, *event)``.
        statistic: ``"energy"`` (:func:`energy_distance`) or ``"mmd"`` (:func:`mmd2`).
        n_permutations: :math:`B\ge1` random re-splits of the pooled sample.
        alpha: level in :math:`(0,1)` for the threshold and ``reject``.
        bandwidth: Gaussian-kernel bandwidth for ``"mmd"`` (``None``: median heuristic, computed once on the
            pooled sample, so every permutation uses the same kernel). Not used by ``"energy"``.
        generator: ``torch.Generator`` on ``x``'s device for the permutations.

    Returns:
        A :class:`PermutationResult`.
    """
    check_choice(statistic, "statistic", STATISTICS)
    B = check_positive_int(n_permutations, "n_permutations")
    alpha = check_positive_float(alpha, "alpha")
    if alpha >= 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if alpha < 1 / (B + 1):
        raise ValueError(f"alpha={alpha} is below the smallest attainable p-value 1/(n_permutations+1) = "
                         f"{1 / (B + 1):.3g}: the test could never reject; use more permutations")
    if bandwidth is not None:
        if statistic != "mmd":
            raise ValueError("bandwidth is only used with statistic='mmd'")
        bandwidth = check_positive_float(bandwidth, "bandwidth")
    xf, yf = _check_pair(x, y)
    check_generator(generator, x.device)
    n, m = xf.shape[0], yf.shape[0]
    K = _kernel_matrix(torch.cat([xf, yf]), statistic, bandwidth, n)
    observed = torch.cat([torch.ones(n, dtype=K.dtype, device=x.device), torch.zeros(m, dtype=K.dtype, device=x.device)])
    keys = torch.rand((B, n + m), generator=generator, dtype=torch.float32, device=x.device)
    labels = observed[keys.argsort(dim=1)]  # each row: a uniformly random re-split with n x-labels
    values = _u_statistic(K, torch.cat([observed[None], labels]), n, m)
    obs, null = values[0], values[1:]
    p = (1 + int((null >= obs).sum())) / (1 + B)
    threshold = float(torch.quantile(null.double(), 1 - alpha))
    return PermutationResult(float(obs), threshold, p, alpha, B)
