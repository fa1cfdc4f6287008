r"""Toy distributions in two (or more) dimensions, generated in code, and the 8x8 digits: no downloads.

Every distribution has a seedable sampler ``sample(n, generator=...)`` that draws on the generator's device.
The Gaussian mixture (and the 8-Gaussian ring, which is one) also has an analytic log-density and score,

.. math::  \log p(x) = \operatorname{logsumexp}_k\Big[\log w_k - \tfrac d2\log(2\pi s_k^2)
           - \tfrac{\|x-\mu_k\|^2}{2s_k^2}\Big],
           \qquad
           \nabla_x\log p(x) = \sum_k r_k(x)\,\frac{\mu_k - x}{s_k^2}          \qquad\text{(book: eq-gmm-score)}

with responsibilities :math:`r_k(x) = w_k\,\mathcal N(x;\mu_k,s_k^2I)/p(x)`, so chapters can measure a learned
score against the truth. Adding Gaussian noise of standard deviation :math:`\sigma` keeps a mixture a mixture
(:meth:`GaussianMixture.noised`: :math:`s_k^2 \to s_k^2+\sigma^2`), which gives the exact score of every
noise level for annealed Langevin dynamics and denoising score matching.

The other toys (two moons, checkerboard, swiss roll) are the usual benchmarks of the score-matching
literature; the checkerboard has an exact (piecewise-constant) log-density, the others are sample-only.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import torch

from ._checks import (
    check_bool,
    check_choice,
    check_positive_float,
    check_positive_int,
    check_tensor,
    draw_device,
)

__all__ = [
    "ToyDistribution",
    "GaussianMixture",
    "TwoMoons",
    "Checkerboard",
    "SwissRoll",
    "eight_gaussians",
    "three_gaussians",
    "make_toy",
    "TOY_NAMES",
    "DIGIT_LEVELS",
    "DIGIT_SPLITS",
    "digits_split",
    "digits_to_unit",
    "Digits",
]


class ToyDistribution(ABC):
    """A distribution on :math:`\\mathbb{R}^d` with a seedable sampler."""

    dim: int = 2

    def sample(
        self,
        n: int,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> torch.Tensor:
        """Draw ``n`` i.i.d. points, shape ``(n, dim)``.

        Args:
            n: number of points (>= 1).
            generator: a ``torch.Generator``; the same seed gives the same points. ``None``: global RNG.
            device: where to draw (default: the generator's device, else CPU).
            dtype: floating dtype of the result.
        """
        n = check_positive_int(n, "n")
        device = draw_device(generator, device, dtype)
        return self._sample(n, generator, device, dtype)

    @abstractmethod
    def _sample(
        self, n: int, generator: torch.Generator | None, device: torch.device, dtype: torch.dtype
    ) -> torch.Tensor: ...

    def _check_points(self, x: Any) -> torch.Tensor:
        check_tensor(x, "x", ndim=2)
        if x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (batch, {self.dim}), got {tuple(x.shape)}")
        return x

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"


def _uniform(n: int, g: torch.Generator | None, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.rand(n, generator=g, device=device, dtype=dtype)


def _normal(shape: tuple[int, ...], g, device, dtype) -> torch.Tensor:
    return torch.randn(shape, generator=g, device=device, dtype=dtype)


class GaussianMixture(ToyDistribution):
    r"""Isotropic Gaussian mixture :math:`p(x)=\sum_k w_k\,\mathcal N(x;\mu_k,s_k^2 I)` with exact score.

    Args:
        means: component means, shape ``(K, d)``.
        stds: component standard deviations :math:`s_k>0`, a float (shared) or shape ``(K,)``.
        weights: mixture weights, shape ``(K,)``, positive; normalised to sum to 1 (default: equal).

    Parameters are kept in float64 on the CPU and moved to the input's device and dtype on use.
    """

    def __init__(
        self,
        means: torch.Tensor | Sequence[Sequence[float]],
        stds: float | torch.Tensor | Sequence[float],
        weights: torch.Tensor | Sequence[float] | None = None,
    ) -> None:
        means_t = torch.as_tensor(means, dtype=torch.float64).detach().cpu()
        check_tensor(means_t, "means", ndim=2)
        k, d = means_t.shape
        check_positive_int(k, "the number of components")
        if isinstance(stds, (int, float)) and not isinstance(stds, bool):
            check_positive_float(stds, "stds")
            stds_t = torch.full((k,), float(stds), dtype=torch.float64)
        else:
            stds_t = torch.as_tensor(stds, dtype=torch.float64).detach().cpu()
            check_tensor(stds_t, "stds", ndim=1)
        if stds_t.shape != (k,) or bool((stds_t <= 0).any()):
            raise ValueError(f"stds must be {k} positive numbers, got {stds_t.tolist()}")
        if weights is None:
            weights_t = torch.full((k,), 1.0 / k, dtype=torch.float64)
        else:
            weights_t = torch.as_tensor(weights, dtype=torch.float64).detach().cpu()
            check_tensor(weights_t, "weights", ndim=1)
            if weights_t.shape != (k,) or bool((weights_t <= 0).any()):
                raise ValueError(f"weights must be {k} positive numbers, got {weights_t.tolist()}")
            weights_t = weights_t / weights_t.sum()
        self.means, self.stds, self.weights = means_t, stds_t, weights_t
        self.dim = d

    @property
    def n_components(self) -> int:
        return int(self.means.shape[0])

    def _params(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        dev, dt = like.device, like.dtype
        return self.means.to(device=dev, dtype=dt), self.stds.to(device=dev, dtype=dt), self.weights.to(device=dev, dtype=dt)

    def _sample(self, n, generator, device, dtype):
        comp = torch.multinomial(self.weights.to(device), n, replacement=True, generator=generator)
        z = _normal((n, self.dim), generator, device, dtype)
        means = self.means.to(device=device, dtype=dtype)
        stds = self.stds.to(device=device, dtype=dtype)
        return means[comp] + stds[comp, None] * z

    def _component_logits(self, x: torch.Tensor) -> torch.Tensor:
        """:math:`\\log w_k + \\log\\mathcal N(x;\\mu_k,s_k^2I)`, shape ``(batch, K)``."""
        means, stds, weights = self._params(x)
        sq = (x[:, None, :] - means).square().sum(-1)  # (batch, K); K is small, no cdist rounding
        var = stds.square()
        return weights.log() - 0.5 * self.dim * torch.log(2 * math.pi * var) - sq / (2 * var)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        r"""Exact :math:`\log p(x)` for each row of ``x`` (shape ``(batch, d)``); returns ``(batch,)``."""
        self._check_points(x)
        return torch.logsumexp(self._component_logits(x), dim=1)

    def responsibilities(self, x: torch.Tensor) -> torch.Tensor:
        r"""Posterior component probabilities :math:`r_k(x)=w_k\mathcal N(x;\mu_k,s_k^2I)/p(x)`,
        shape ``(batch, K)`` (book: eq-gmm-score)."""
        self._check_points(x)
        return torch.softmax(self._component_logits(x), dim=1)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        r"""Exact score :math:`\nabla_x\log p(x)=\sum_k r_k(x)(\mu_k-x)/s_k^2` (book: eq-gmm-score).

        Args:
            x: points, shape ``(batch, d)``, floating, finite.

        Returns:
            Tensor of ``x``'s shape, device and dtype.
        """
        r = self.responsibilities(x)  # (batch, K)
        means, stds, _ = self._params(x)
        inv_var = 1.0 / stds.square()
        return (r * inv_var) @ means - (r @ inv_var)[:, None] * x

    def _time_marginal(self, sde: Any, x: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(means ``(batch, K, d)``, variances ``(batch, K)``, log weights ``(K,)``) of :math:`p_t` at each row's t."""
        alpha, sigma = sde.marginal_prob(torch.ones_like(x[:, :1]), t)  # (batch, 1), (batch,)
        means, stds, weights = self._params(x)
        var = alpha**2 * stds[None] ** 2 + sigma[:, None] ** 2
        return alpha[:, :, None] * means[None], var, weights.log()

    def _time_logits(self, sde: Any, x: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, ...]:
        means, var, log_w = self._time_marginal(sde, x, t)
        sq = (x[:, None, :] - means).square().sum(-1)
        return log_w - 0.5 * x.shape[1] * torch.log(2 * math.pi * var) - sq / (2 * var), means, var

    def time_marginal_log_prob(self, sde: Any, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        r"""Exact :math:`\log p_t(x)` of the data pushed through a forward SDE with a Gaussian kernel
        :math:`x_t=\alpha_tx_0+\sigma_tz` (``sde.marginal_prob``):
        :math:`p_t=\sum_k w_k\,\mathcal N(\alpha_t\mu_k,(\alpha_t^2s_k^2+\sigma_t^2)I)` (book: eq-mixture-marginal).

        Args:
            sde: a forward SDE with ``marginal_prob`` (VP, sub-VP, VE, Ornstein–Uhlenbeck…).
            x: points, shape ``(batch, d)``.
            t: one time, or one per row (shape ``(batch,)``).
        """
        self._check_points(x)
        tt = torch.as_tensor(t, dtype=x.dtype, device=x.device).expand(x.shape[0])
        return torch.logsumexp(self._time_logits(sde, x, tt)[0], dim=1)

    def time_marginal_score(self, sde: Any) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        r"""The exact score :math:`s(x,t)=\nabla_x\log p_t(x)` of :meth:`time_marginal_log_prob`, as the samplers
        and losses call a score: ``s(x, t)`` with ``t`` of shape ``(batch,)`` (book: eq-mixture-marginal with
        eq-gmm-score). The returned function does no input checks, so ``torch.func`` can transform it."""

        def score(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            logits, means, var = self._time_logits(sde, x, t)
            r = torch.softmax(logits, dim=1)
            return ((r / var)[:, :, None] * (means - x[:, None, :])).sum(1)

        return score

    def noised(self, sigma: float) -> "GaussianMixture":
        r"""The law of :math:`x+\sigma z`, :math:`z\sim\mathcal N(0,I)`: the same mixture with
        :math:`s_k^2\to s_k^2+\sigma^2`. Its :meth:`score` is the exact score at noise level ``sigma``."""
        sigma = check_positive_float(sigma, "sigma", allow_zero=True)
        return GaussianMixture(self.means, torch.sqrt(self.stds.square() + sigma**2), self.weights)

    def mean(self) -> torch.Tensor:
        """The mixture mean :math:`\\sum_k w_k\\mu_k` (float64, CPU)."""
        return self.weights @ self.means

    def covariance(self) -> torch.Tensor:
        r"""The mixture covariance :math:`\sum_k w_k(s_k^2I+\mu_k\mu_k^\top)-\bar\mu\bar\mu^\top` (float64)."""
        m = self.mean()
        second = (self.weights * self.stds.square()).sum() * torch.eye(self.dim, dtype=torch.float64)
        second = second + (self.weights[:, None, None] * self.means[:, :, None] * self.means[:, None, :]).sum(0)
        return second - torch.outer(m, m)

    def __repr__(self) -> str:
        return f"GaussianMixture(n_components={self.n_components}, dim={self.dim})"


def eight_gaussians(radius: float = 2.0, std: float = 0.2) -> GaussianMixture:
    """The 8-Gaussian ring: equal-weight components at angles ``k*pi/4`` on a circle of ``radius``."""
    radius = check_positive_float(radius, "radius")
    std = check_positive_float(std, "std")
    angles = torch.arange(8, dtype=torch.float64) * (math.pi / 4)
    means = radius * torch.stack([angles.cos(), angles.sin()], dim=1)
    return GaussianMixture(means, std)


def three_gaussians() -> GaussianMixture:
    """The chapter-2 mixture: three unequal, well-separated but overlapping-tailed components in 2-D."""
    return GaussianMixture(
        means=[[-2.0, -1.0], [2.0, -1.0], [0.0, 2.0]],
        stds=[0.6, 0.45, 0.75],
        weights=[0.45, 0.25, 0.30],
    )


class TwoMoons(ToyDistribution):
    """Two interleaved half circles (radius 1) with Gaussian noise of standard deviation ``noise``,
    centred at the origin and scaled by ``scale``."""

    def __init__(self, noise: float = 0.05, scale: float = 2.0) -> None:
        self.noise = check_positive_float(noise, "noise", allow_zero=True)
        self.scale = check_positive_float(scale, "scale")

    def _sample(self, n, generator, device, dtype):
        t = math.pi * _uniform(n, generator, device, dtype)
        upper = torch.rand(n, generator=generator, dtype=torch.float32, device=device) < 0.5
        x = torch.where(upper, t.cos(), 1 - t.cos()) - 0.5
        y = torch.where(upper, t.sin(), 0.5 - t.sin()) - 0.25
        pts = torch.stack([x, y], dim=1)
        pts = pts + self.noise * _normal((n, 2), generator, device, dtype)
        return self.scale * pts


class Checkerboard(ToyDistribution):
    r"""Uniform on the 8 dark squares of a 4x4 board covering :math:`[-2s, 2s)^2` (``s = scale``):
    :math:`\log p = -\log(8 s^2)` on a dark square (cell :math:`(i,j)` with :math:`i+j` even), :math:`-\infty`
    elsewhere."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = check_positive_float(scale, "scale")

    def _sample(self, n, generator, device, dtype):
        cell = torch.randint(0, 8, (n,), generator=generator, device=device)
        row = cell // 2
        col = 2 * (cell % 2) + (row % 2)  # dark squares: (row + col) even
        u = torch.rand((n, 2), generator=generator, device=device, dtype=dtype)
        pts = torch.stack([col, row], dim=1).to(dtype) + u - 2.0
        return self.scale * pts

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log-density of each row of ``x`` (``-inf`` off the dark squares)."""
        self._check_points(x)
        cells = torch.floor(x / self.scale + 2.0)
        inside = ((cells >= 0) & (cells <= 3)).all(dim=1)
        dark = (cells.sum(dim=1).remainder(2) == 0) & inside
        value = torch.full_like(x[:, 0], -math.log(8 * self.scale**2))
        return torch.where(dark, value, torch.full_like(value, -math.inf))


class SwissRoll(ToyDistribution):
    r"""The 2-D swiss roll :math:`t(\cos t,\sin t)/5`, :math:`t = 1.5\pi(1+2u)`, :math:`u\sim U(0,1)`,
    plus Gaussian noise of standard deviation ``noise``."""

    def __init__(self, noise: float = 0.1) -> None:
        self.noise = check_positive_float(noise, "noise", allow_zero=True)

    def _sample(self, n, generator, device, dtype):
        t = 1.5 * math.pi * (1 + 2 * _uniform(n, generator, device, dtype))
        pts = torch.stack([t * t.cos(), t * t.sin()], dim=1) / 5.0
        return pts + self.noise * _normal((n, 2), generator, device, dtype)


_FACTORIES: dict[str, Callable[..., ToyDistribution]] = {
    "three_gaussians": three_gaussians,
    "eight_gaussians": eight_gaussians,
    "two_moons": TwoMoons,
    "checkerboard": Checkerboard,
    "swiss_roll": SwissRoll,
}
TOY_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def make_toy(name: str, **kwargs: Any) -> ToyDistribution:
    """Build a toy distribution by name (one of :data:`TOY_NAMES`), passing ``kwargs`` to its constructor."""
    check_choice(name, "toy distribution", TOY_NAMES)
    return _FACTORIES[name](**kwargs)


# ---- real images: scikit-learn's 8x8 handwritten digits (chapter 7) ----------------------------------------

#: Grey levels of :func:`sklearn.datasets.load_digits`: integers ``0 … 16`` (17 levels per pixel).
DIGIT_LEVELS: int = 17
DIGIT_SPLITS: tuple[str, ...] = ("train", "test", "all")


def _digit_levels() -> tuple[torch.Tensor, torch.Tensor]:
    """The 1,797 digit images as integer levels ``(1797, 1, 8, 8)`` (int64) and their labels ``(1797,)``."""
    try:
        from sklearn.datasets import load_digits  # ships inside scikit-learn: no download
    except ImportError as err:  # pragma: no cover - the course's environment pins scikit-learn
        raise ImportError("the digits data set needs scikit-learn: pip install scikit-learn") from err
    bunch = load_digits()
    levels = torch.as_tensor(bunch.images, dtype=torch.int64).reshape(-1, 1, 8, 8)
    return levels, torch.as_tensor(bunch.target, dtype=torch.int64)


def digits_split(split: str = "train", *, test_fraction: float = 0.2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer grey levels ``(N, 1, 8, 8)`` (values ``0 … 16``) and labels ``(N,)`` of one split of the digits.

    The split is a seeded random permutation of the 1,797 images: the last ``round(test_fraction * 1797)``
    form the test set, the rest the training set (``"all"``: every image, in the original order).

    Args:
        split: ``"train"``, ``"test"`` or ``"all"``.
        test_fraction: share of the images held out, in ``(0, 1)``.
        seed: seed of the permutation (the same seed gives the same split on every machine).
    """
    check_choice(split, "split", DIGIT_SPLITS)
    test_fraction = check_positive_float(test_fraction, "test_fraction")
    if test_fraction >= 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    check_positive_int(seed, "seed", minimum=0)
    levels, labels = _digit_levels()
    if split == "all":
        return levels, labels
    perm = torch.randperm(levels.shape[0], generator=torch.Generator().manual_seed(seed))
    n_test = max(1, round(test_fraction * levels.shape[0]))
    idx = perm[-n_test:] if split == "test" else perm[:-n_test]
    return levels[idx], labels[idx]


def digits_to_unit(
    levels: torch.Tensor,
    *,
    dequantize: bool = False,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    r"""Map grey levels :math:`k\in\{0,\dots,16\}` into :math:`[-1, 1]`.

    Without dequantisation :math:`x = 2k/16 - 1` (0 → −1, 16 → 1). With ``dequantize=True`` each pixel is spread
    uniformly over its bin, :math:`x = 2(k+u)/17 - 1`, :math:`u\sim U(0,1)`: a continuous density :math:`p` of these
    values bounds the discrete likelihood, :math:`-\log P(k)\le\mathbb E_u[-\log p(x)] - D\log(2/17)`
    (book: eq-dequantization), which is what the chapter's bits per dimension measure.

    Args:
        levels: integer tensor of grey levels, any shape, values in ``0 … 16``.
        dequantize: add uniform noise within each level's bin.
        generator: ``torch.Generator`` on ``levels``' device for the noise.
        dtype: floating dtype of the result.
    """
    if not isinstance(levels, torch.Tensor) or levels.is_floating_point() or levels.is_complex():
        raise TypeError(f"levels must be an integer torch.Tensor, got "
                        f"{levels.dtype if isinstance(levels, torch.Tensor) else type(levels).__name__}")
    if levels.numel() and bool(((levels < 0) | (levels >= DIGIT_LEVELS)).any()):
        raise ValueError(f"levels must lie in 0 … {DIGIT_LEVELS - 1}")
    check_bool(dequantize, "dequantize")
    draw_device(generator, levels.device, dtype)
    k = levels.to(dtype)
    if not dequantize:
        return 2 * k / (DIGIT_LEVELS - 1) - 1
    u = torch.rand(levels.shape, generator=generator, dtype=dtype, device=levels.device)
    return 2 * (k + u) / DIGIT_LEVELS - 1


class Digits(ToyDistribution):
    """The training (or test) digits as a sampler for :func:`scoresde.train.train`: rows drawn with replacement,
    scaled by :func:`digits_to_unit` (fresh dequantisation noise at every draw when ``dequantize``).

    Samples have shape ``(n, 1, 8, 8)``.

    Args:
        split: ``"train"``, ``"test"`` or ``"all"`` (see :func:`digits_split`).
        dequantize: uniform dequantisation (see :func:`digits_to_unit`).
        test_fraction: held-out share of the split.
        seed: seed of the split.
    """

    dim = 64
    event_shape: tuple[int, ...] = (1, 8, 8)

    def __init__(self, split: str = "train", *, dequantize: bool = True, test_fraction: float = 0.2,
                 seed: int = 0) -> None:
        self.levels, self.labels = digits_split(split, test_fraction=test_fraction, seed=seed)
        self.split = split
        self.dequantize = check_bool(dequantize, "dequantize")

    def _sample(self, n, generator, device, dtype):
        idx = torch.randint(0, self.levels.shape[0], (n,), generator=generator, device=device)
        return digits_to_unit(self.levels.to(device)[idx], dequantize=self.dequantize, generator=generator,
                              dtype=dtype)

    def __repr__(self) -> str:
        return f"Digits(split={self.split!r}, n={self.levels.shape[0]}, dequantize={self.dequantize})"
