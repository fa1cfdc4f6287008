r"""Reference models for the bits per dimension of grey-level images: what a score model must beat.

Chapter 7 scores a continuous density :math:`p` of the dequantised images :math:`x=2(k+u)/L-1`,
:math:`u\sim\mathcal U(0,1)^D`, by

.. math::  \mathrm{bpd}=\frac{\mathbb E_u[-\log p(x)]/D+\log(L/2)}{\log 2}\qquad\text{(book: eq-bits-per-dim)},

an upper bound on the bits per dimension :math:`-\log_2P(k)/D` of the discrete image (book:
eq-dequantization). Two simple models put that number in context, on the same footing:

* :func:`pixel_categorical_bpd`: every pixel independent, with its own categorical law over the :math:`L` levels
  fitted on the training images with add-:math:`\alpha` smoothing,
  :math:`\hat P_j(k)=(n_{jk}+\alpha)/(N+\alpha L)`. Its bits per dimension
  :math:`-\frac1D\sum_j\log_2\hat P_j(k_j)` are exact. As a density on :math:`[-1,1]^D` (constant
  :math:`\hat P_j(k)\,L/2` on each bin) the bound (book: eq-bits-per-dim) gives exactly the same number: the offset
  :math:`\log(L/2)` is the one the score models get.
* :func:`gaussian_bpd`: a full-covariance Gaussian of the dequantised training images, with their exact moments
  :math:`\mu=2(\bar k+\tfrac12)/L-1`, :math:`\Sigma=(2/L)^2(\hat\Sigma_k+I/12)` (the uniform noise adds
  variance :math:`1/12` per level, which also makes :math:`\Sigma` invertible when a pixel never changes). Its
  bound is computed in closed form, the expectation over :math:`u` included:
  :math:`\mathbb E_u[(x-\mu)^\top\Sigma^{-1}(x-\mu)]=(\bar x-\mu)^\top\Sigma^{-1}(\bar x-\mu)
  +\tfrac{(2/L)^2}{12}\operatorname{tr}\Sigma^{-1}` with :math:`\bar x=2(k+\tfrac12)/L-1`.

The uniform model scores :math:`\log_2L` (exercise 7.2). Both functions return one number per test image (float64),
so that means, standard errors and differences paired with a score model over the same images follow.
"""

from __future__ import annotations

import math

import torch

from ._checks import check_positive_float, check_positive_int

__all__ = ["pixel_categorical_bpd", "gaussian_bpd"]


def _check_levels(levels: object, name: str, n_levels: int) -> torch.Tensor:
    if not isinstance(levels, torch.Tensor) or levels.is_floating_point() or levels.is_complex() \
            or levels.dtype == torch.bool:
        kind = levels.dtype if isinstance(levels, torch.Tensor) else type(levels).__name__
        raise TypeError(f"{name} must be an integer torch.Tensor of grey levels, got {kind}")
    if levels.ndim < 2 or levels.shape[0] == 0 or levels[0].numel() == 0:
        raise ValueError(f"{name} must have shape (n, *event) with n >= 1 and a non-empty event, got {tuple(levels.shape)}")
    if bool(((levels < 0) | (levels >= n_levels)).any()):
        raise ValueError(f"{name} must lie in 0 … {n_levels - 1} (levels={n_levels})")
    return levels.reshape(levels.shape[0], -1)


def _check_pair(train_levels: object, test_levels: object, levels: object) -> tuple[int, torch.Tensor, torch.Tensor]:
    L = check_positive_int(levels, "levels", minimum=2)
    train = _check_levels(train_levels, "train_levels", L)
    test = _check_levels(test_levels, "test_levels", L)
    if train.shape[1] != test.shape[1]:
        raise ValueError(f"train_levels and test_levels must hold images of the same size, got "
                         f"{train.shape[1]} and {test.shape[1]} pixels")
    if train.device != test.device:
        raise ValueError(f"train_levels and test_levels must be on the same device, got {train.device} and {test.device}")
    return L, train, test


def pixel_categorical_bpd(
    train_levels: torch.Tensor, test_levels: torch.Tensor, levels: int = 17, alpha: float = 0.5
) -> torch.Tensor:
    r"""Bits per dimension of independent per-pixel categorical laws, :math:`-\frac1D\sum_j\log_2\hat P_j(k_j)`,
    :math:`\hat P_j(k)=(n_{jk}+\alpha)/(N+\alpha L)` (an exact discrete likelihood, on the footing of
    book: eq-bits-per-dim).

    Args:
        train_levels: integer grey levels of the ``N`` training images, shape ``(N, *event)``, values in
            ``0 … levels-1``.
        test_levels: the images to score, shape ``(n, *event)``.
        levels: the number :math:`L\ge2` of grey levels (17 for the digits).
        alpha: the smoothing :math:`\alpha>0` added to every count (0.5: the Krichevsky–Trofimov estimate), so a
            level never seen at a pixel still has positive probability.

    Returns:
        Bits per dimension of each test image, shape ``(n,)``, float64.
    """
    L, train, test = _check_pair(train_levels, test_levels, levels)
    a = check_positive_float(alpha, "alpha")
    D = train.shape[1]
    counts = torch.zeros(D, L, dtype=torch.float64, device=train.device)
    counts.scatter_add_(1, train.T.long(), torch.ones(train.T.shape, dtype=torch.float64, device=train.device))
    log_p = torch.log((counts + a) / (train.shape[0] + a * L))        # (D, L)
    per_pixel = log_p.gather(1, test.T.long())                       # (D, n): log P_j(k_ij)
    return -per_pixel.sum(0) / (D * math.log(2))


def gaussian_bpd(train_levels: torch.Tensor, test_levels: torch.Tensor, levels: int = 17) -> torch.Tensor:
    r"""The dequantisation bound (book: eq-bits-per-dim) of a full-covariance Gaussian fitted to the dequantised
    training images, in bits per dimension, the expectation over the dequantisation noise in closed form
    (book: eq-dequantization, eq-bits-per-dim).

    The Gaussian has the exact moments of :math:`x=2(k+u)/L-1` over the training images and
    :math:`u\sim\mathcal U(0,1)^D`: :math:`\mu=2(\bar k+\tfrac12)/L-1`,
    :math:`\Sigma=(2/L)^2(\hat\Sigma_k+I/12)` (:math:`\hat\Sigma_k` the maximum-likelihood covariance of the
    levels). For a test image with levels :math:`k`,

    .. math::  \mathbb E_u[-\log\mathcal N(x;\mu,\Sigma)]=\tfrac12\big[D\log2\pi+\log\det\Sigma
               +(\bar x-\mu)^\top\Sigma^{-1}(\bar x-\mu)+\tfrac{(2/L)^2}{12}\operatorname{tr}\Sigma^{-1}\big],
               \qquad \bar x=2(k+\tfrac12)/L-1 .

    Args:
        train_levels: integer grey levels of the ``N >= 2`` training images, shape ``(N, *event)``.
        test_levels: the images to score, shape ``(n, *event)``.
        levels: the number :math:`L\ge2` of grey levels.

    Returns:
        Bits per dimension of each test image, shape ``(n,)``, float64.
    """
    L, train, test = _check_pair(train_levels, test_levels, levels)
    if train.shape[0] < 2:
        raise ValueError(f"train_levels needs at least 2 images to fit a covariance, got {train.shape[0]}")
    D, w = train.shape[1], 2.0 / L
    k = train.double()
    k_mean = k.mean(0)
    centred = k - k_mean
    cov = w * w * (centred.T @ centred / k.shape[0] + torch.eye(D, dtype=torch.float64, device=k.device) / 12)
    chol = torch.linalg.cholesky(cov)
    mu = w * (k_mean + 0.5) - 1
    x_bar = w * (test.double() + 0.5) - 1
    z = torch.linalg.solve_triangular(chol, (x_bar - mu).T, upper=False)        # L^{-1}(x̄ - μ), (D, n)
    maha = z.square().sum(0)
    chol_inv = torch.linalg.solve_triangular(chol, torch.eye(D, dtype=torch.float64, device=k.device), upper=False)
    trace_prec = float(chol_inv.square().sum())                                 # tr Σ^{-1} = ||L^{-1}||_F^2
    log_det = 2 * float(torch.log(torch.diagonal(chol)).sum())
    nll = 0.5 * (D * math.log(2 * math.pi) + log_det + maha + w * w / 12 * trace_prec)
    return (nll / D + math.log(L / 2)) / math.log(2)
