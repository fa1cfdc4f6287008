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

Two more questions a generative model's samples must answer (chapter 7, reused in chapter 9):

* **Are they copies?** :func:`copying_test`, in the spirit of the three-sample test of Meehan, Chaudhuri &
  Dasgupta (2020): the share of samples whose nearest neighbour among training points :math:`T` and held-out real
  points :math:`H` is a training point is :math:`f_0=|T|/(|T|+|H|)` in expectation for a model that does not
  copy (the references are exchangeable), and near 1 for one that returns training points, noisy or not;
  :math:`z=(\hat f-f_0)/\mathrm{se}` with the exact standard error over the exchangeable labels (book: eq-copying-z).
* **How far is their distribution?** :func:`frechet_distance` is the Fréchet distance (the squared 2-Wasserstein
  distance) between the Gaussians with the two sets' means and covariances,
  :math:`\|\mu_a-\mu_b\|^2+\operatorname{tr}\big(\Sigma_a+\Sigma_b-2(\Sigma_a^{1/2}\Sigma_b\Sigma_a^{1/2})^{1/2}\big)`
  (book: eq-frechet), computed in features such as the hidden layer of a classifier (:func:`classifier_features`), as the
  FID does with an Inception network.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

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
    "CopyingResult",
    "copying_test",
    "frechet_distance",
    "classifier_features",
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


@dataclass(frozen=True)
class CopyingResult:
    r"""The outcome of :func:`copying_test`.

    Attributes:
        fraction_closer_to_train: :math:`\hat f`, the share of samples whose nearest reference point is a training
            point (ties count ½).
        expected: :math:`f_0=m_T/(m_T+m_H)`, its expectation for samples that do not copy.
        se: the standard error of :math:`\hat f` without copying, over the exchangeable labelling of the
            references (it counts how many samples share a nearest reference; see :func:`copying_test`).
        z: :math:`(\hat f-f_0)/\mathrm{se}`; large and positive when the samples sit next to training points.
        median_ratio: median distance of the samples to the training set over that of the held-out points (a
            descriptive number: noise added to copies raises it, so it cannot detect noisy copies).
        n_samples: :math:`n`.
    """

    fraction_closer_to_train: float
    expected: float
    se: float
    z: float
    median_ratio: float
    n_samples: int


def copying_test(samples: torch.Tensor, train: torch.Tensor, heldout: torch.Tensor) -> CopyingResult:
    r"""A data-copying test in the spirit of Meehan, Chaudhuri & Dasgupta (2020) (book: eq-copying-z).

    For each sample :math:`q_i` it asks whether its nearest neighbour among the pooled reference points
    :math:`T\cup H` (training points and held-out real points) is a training point. If the samples do not copy,
    each :math:`q_i` is independent of the references, which are exchangeable, so its nearest one is a training
    point with probability :math:`f_0=m_T/(m_T+m_H)`. Given where all points lie, the :math:`m=m_T+m_H` labels
    "training" / "held out" are then a random permutation, so with :math:`k_j` the number of samples whose nearest
    reference is point :math:`j`, :math:`\hat f=\frac1n\sum_jk_jL_j` has mean :math:`f_0` and variance
    :math:`\mathrm{se}^2=f_0(1-f_0)\frac{m}{m-1}\big(\sum_jk_j^2-\frac{n^2}m\big)/n^2` (sampling the labels
    without replacement), and :math:`z=(\hat f-f_0)/\mathrm{se}` is of order one. Samples that share nearest
    references move :math:`\hat f` together: the naive :math:`\sqrt{f_0(1-f_0)/n}` ignores this and is too small
    once :math:`n` is not small against :math:`m` (for :math:`n=1000`, :math:`m=400`, :math:`z` would spread 1.4
    times too wide). A model that returns
    training points, even with noise added, keeps each sample next to its source: :math:`\hat f\to1`. (Comparing
    only the distances to :math:`T` of samples and of held-out points, as the Mann–Whitney form of Meehan et al.
    does, misses noisy copies: the noise moves them away from every point.) Equal sizes :math:`m_T=m_H` give
    :math:`f_0=\tfrac12`.

    Args:
        samples: generated points, shape ``(n, *event)``, ``n >= 2``.
        train: the training points :math:`T` (all of them, or a random subset), shape ``(m_T, *event)``; on the
            scale of the data the model was trained on (e.g. dequantised), or the distances are biased.
        heldout: real points not used in training, on the same scale, shape ``(m_H, *event)``.

    Returns:
        A :class:`CopyingResult`; distances are Euclidean, computed in float64.
    """
    for name, z in (("samples", samples), ("train", train), ("heldout", heldout)):
        check_tensor(z, name, min_dim=2)
    check_same_device(("samples", samples), ("train", train), ("heldout", heldout))
    if not samples.shape[1:] == train.shape[1:] == heldout.shape[1:]:
        raise ValueError(f"samples, train and heldout must hold points of the same shape, got {tuple(samples.shape[1:])}, "
                         f"{tuple(train.shape[1:])} and {tuple(heldout.shape[1:])}")
    if samples.shape[0] < 2:
        raise ValueError(f"samples needs at least 2 points, got {samples.shape[0]}")
    q, T, H = samples.double(), train.double(), heldout.double()
    d_qT = pairwise_distances(q, T).min(1).values
    d_qH = pairwise_distances(q, H).min(1).values
    d_HT = pairwise_distances(H, T).min(1).values
    n, m = q.shape[0], T.shape[0] + H.shape[0]
    f0 = T.shape[0] / m
    f = float(((d_qT < d_qH).double() + 0.5 * (d_qT == d_qH).double()).mean())
    k = torch.bincount(pairwise_distances(q, torch.cat([T, H])).argmin(1), minlength=m).double()
    se = math.sqrt(max(0.0, f0 * (1 - f0) * m / (m - 1) * (float(k.square().sum()) - n * n / m)) / (n * n))
    z_score = (f - f0) / se if se > 0 else (0.0 if f == f0 else math.copysign(math.inf, f - f0))
    return CopyingResult(fraction_closer_to_train=f, expected=f0, se=se, z=z_score,
                         median_ratio=float(d_qT.median() / d_HT.median()), n_samples=n)


def _sqrt_psd(a: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a symmetric positive semi-definite matrix (eigenvalues below 0 by rounding: 0)."""
    w, v = torch.linalg.eigh((a + a.T) / 2)
    return (v * w.clamp(min=0).sqrt()) @ v.T


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    r"""Fréchet distance between the Gaussians fitted to two feature sets (book: eq-frechet):
    :math:`\|\mu_a-\mu_b\|^2+\operatorname{tr}\Sigma_a+\operatorname{tr}\Sigma_b
    -2\operatorname{tr}(\Sigma_a^{1/2}\Sigma_b\Sigma_a^{1/2})^{1/2}`.

    The means and the unbiased covariances are computed in float64; the matrix square roots come from symmetric
    eigendecompositions (:math:`\Sigma_a^{1/2}\Sigma_b\Sigma_a^{1/2}` is symmetric positive semi-definite and has the
    eigenvalues of :math:`\Sigma_a\Sigma_b`), with rounding-negative eigenvalues set to 0, so no complex parts arise.

    Args:
        features_a: shape ``(n, k)``, ``n >= 2``.
        features_b: shape ``(m, k)``, ``m >= 2``, same ``k`` and device.

    Returns:
        The distance (a float; the square of a 2-Wasserstein distance, 0 for identical sets up to rounding).
    """
    check_tensor(features_a, "features_a", ndim=2)
    check_tensor(features_b, "features_b", ndim=2)
    check_same_device(("features_a", features_a), ("features_b", features_b))
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(f"features_a and features_b must have the same number of features, got "
                         f"{features_a.shape[1]} and {features_b.shape[1]}")
    for name, f in (("features_a", features_a), ("features_b", features_b)):
        if f.shape[0] < 2:
            raise ValueError(f"{name} needs at least 2 rows for a covariance, got {f.shape[0]}")
    a, b = features_a.double(), features_b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T).reshape(a.shape[1], a.shape[1]), torch.cov(b.T).reshape(b.shape[1], b.shape[1])
    root_a = _sqrt_psd(cov_a)
    cross = _sqrt_psd(root_a @ cov_b @ root_a)
    return float((mu_a - mu_b).square().sum() + torch.trace(cov_a) + torch.trace(cov_b) - 2 * torch.trace(cross))


_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "logistic": torch.sigmoid,
    "identity": lambda h: h,
}


def classifier_features(classifier: Any, x: torch.Tensor) -> torch.Tensor:
    r"""The last hidden layer of a fitted scikit-learn ``MLPClassifier`` (chapter 7's digit judge) at the images
    ``x``: :math:`h_{l+1}=\phi(h_lW_l+b_l)`, :math:`h_0` the flattened images, in float64 (features for
    :func:`frechet_distance`).

    Args:
        classifier: a fitted ``sklearn.neural_network.MLPClassifier`` (its ``coefs_``, ``intercepts_`` and
            ``activation`` are read; nothing of scikit-learn is imported).
        x: images, shape ``(n, *event)`` with ``prod(event)`` the classifier's number of inputs. Pass them as the
            classifier sees them (chapter 7 clips samples to :math:`[-1,1]` before judging them).

    Returns:
        Shape ``(n, width)`` of the last hidden layer, float64, on ``x``'s device.
    """
    coefs, intercepts = getattr(classifier, "coefs_", None), getattr(classifier, "intercepts_", None)
    activation = getattr(classifier, "activation", None)
    if not isinstance(coefs, list) or not isinstance(intercepts, list) or len(coefs) < 2 \
            or len(coefs) != len(intercepts) or activation not in _ACTIVATIONS:
        raise TypeError("classifier must be a fitted scikit-learn MLPClassifier with at least one hidden layer "
                        f"(coefs_, intercepts_ and activation in {sorted(_ACTIVATIONS)}), got {type(classifier).__name__}")
    check_tensor(x, "x", min_dim=2)
    h = x.reshape(x.shape[0], -1).double()
    if h.shape[1] != coefs[0].shape[0]:
        raise ValueError(f"x has {h.shape[1]} values per point, the classifier takes {coefs[0].shape[0]}")
    phi = _ACTIVATIONS[activation]
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        h = phi(h @ torch.as_tensor(W, dtype=torch.float64, device=h.device)
                + torch.as_tensor(b, dtype=torch.float64, device=h.device))
    return h
