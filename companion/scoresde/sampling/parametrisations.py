r"""One model, five parametrisations: the score, :math:`\varepsilon`, :math:`x_0`, :math:`v` and the flow velocity.

On a Gaussian path :math:`x_t=\alpha_tx_0+\sigma_t\varepsilon` (:mod:`scoresde.sampling.gaussian_path`) a network
may predict any of these quantities; each is an affine function of the pair :math:`(\hat x_0,\hat\varepsilon)` with
:math:`x_t=\alpha_t\hat x_0+\sigma_t\hat\varepsilon` (book: eq-param-conversions):

.. math::
    s &= -\hat\varepsilon/\sigma_t            && \text{score (Tweedie: } \hat x_0=(x_t+\sigma_t^2 s)/\alpha_t)\\
    v &= \alpha_t\hat\varepsilon-\sigma_t\hat x_0                    && \text{v-prediction (Salimans \& Ho 2022)}\\
    u &= \dot\alpha_t\hat x_0+\dot\sigma_t\hat\varepsilon            && \text{flow velocity } \mathrm dx_t/\mathrm dt

and back: :math:`\hat x_0=(\alpha_tx_t-\sigma_tv)/(\alpha_t^2+\sigma_t^2)`,
:math:`\hat\varepsilon=(\sigma_tx_t+\alpha_tv)/(\alpha_t^2+\sigma_t^2)`;
:math:`\hat x_0=(\dot\sigma_tx_t-\sigma_tu)/(\alpha_t\dot\sigma_t-\sigma_t\dot\alpha_t)`,
:math:`\hat\varepsilon=(\alpha_tu-\dot\alpha_tx_t)/(\alpha_t\dot\sigma_t-\sigma_t\dot\alpha_t)`.

:func:`to_x0_eps` and :func:`from_x0_eps` use only ``+ - * /``, so they apply to tensors, floats and sympy
symbols alike (the book proves the round trips symbolically with these very functions). :class:`Prediction`
wraps a network of any kind and answers every other kind, counting its evaluations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .._checks import check_callable, check_choice, check_output_like
from .gaussian_path import GaussianPath

__all__ = ["KINDS", "to_x0_eps", "from_x0_eps", "Prediction"]

#: what a network may predict: the score, the noise, the clean data, Salimans & Ho's v, the flow velocity dx/dt
KINDS: tuple[str, ...] = ("score", "eps", "x0", "v", "flow")


def to_x0_eps(kind: str, out: Any, x: Any, alpha: Any, sigma: Any, d_alpha: Any = None,
              d_sigma: Any = None) -> tuple[Any, Any]:
    r"""The pair :math:`(\hat x_0,\hat\varepsilon)` from a prediction ``out`` of ``kind`` at the state ``x``
    (book: eq-param-conversions). ``d_alpha``, ``d_sigma`` (:math:`\dot\alpha_t,\dot\sigma_t`) are needed for
    ``"flow"`` only."""
    check_choice(kind, "kind", KINDS)
    if kind == "eps":
        return (x - sigma * out) / alpha, out
    if kind == "score":
        return (x + sigma * sigma * out) / alpha, -sigma * out
    if kind == "x0":
        return out, (x - alpha * out) / sigma
    if kind == "v":
        norm = alpha * alpha + sigma * sigma
        return (alpha * x - sigma * out) / norm, (sigma * x + alpha * out) / norm
    if d_alpha is None or d_sigma is None:
        raise ValueError("kind 'flow' needs d_alpha and d_sigma")
    det = alpha * d_sigma - sigma * d_alpha
    return (d_sigma * x - sigma * out) / det, (alpha * out - d_alpha * x) / det


def from_x0_eps(kind: str, x0: Any, eps: Any, alpha: Any, sigma: Any, d_alpha: Any = None,
                d_sigma: Any = None) -> Any:
    r"""The prediction of ``kind`` that the pair :math:`(\hat x_0,\hat\varepsilon)` stands for
    (book: eq-param-conversions)."""
    check_choice(kind, "kind", KINDS)
    if kind == "eps":
        return eps
    if kind == "score":
        return -eps / sigma
    if kind == "x0":
        return x0
    if kind == "v":
        return alpha * eps - sigma * x0
    if d_alpha is None or d_sigma is None:
        raise ValueError("kind 'flow' needs d_alpha and d_sigma")
    return d_alpha * x0 + d_sigma * eps


class Prediction:
    r"""A network ``model(x, t)`` that predicts ``kind`` on ``path``, read in any parametrisation.

    :meth:`x0_eps` evaluates the network once and returns :math:`(\hat x_0,\hat\varepsilon)`; :meth:`predict`
    returns any :data:`KINDS`. ``t`` is a number (one time for the whole batch, as every sampler here steps);
    the network gets it as a tensor of shape ``(batch,)`` in ``x``'s dtype. :attr:`nfe` counts the evaluations.

    Args:
        model: the network, ``x`` of shape ``(batch, *event)``, ``t`` of shape ``(batch,)``.
        path: the Gaussian path it was trained on.
        kind: what it predicts, one of :data:`KINDS`.
    """

    def __init__(self, model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], path: GaussianPath,
                 kind: str) -> None:
        self.model = check_callable(model, "model")
        if not isinstance(path, GaussianPath):
            raise TypeError(f"path must be a scoresde.sampling.GaussianPath, got {type(path).__name__}")
        self.path = path
        self.kind = check_choice(kind, "kind", KINDS)
        self.nfe = 0

    def coefficients(self, t: float) -> tuple[float, float, float, float]:
        r""":math:`(\alpha_t,\sigma_t,\dot\alpha_t,\dot\sigma_t)` as Python floats (computed in float64)."""
        p = self.path
        return float(p.alpha(t)), float(p.sigma(t)), float(p.d_alpha(t)), float(p.d_sigma(t))

    def x0_eps(self, x: torch.Tensor, t: float) -> tuple[torch.Tensor, torch.Tensor]:
        r"""One network evaluation at ``(x, t)``, converted to :math:`(\hat x_0,\hat\varepsilon)`."""
        tt = torch.full((x.shape[0],), float(t), dtype=x.dtype, device=x.device)
        out = check_output_like(self.model(x, tt), x, "model")
        self.nfe += 1
        return to_x0_eps(self.kind, out, x, *self.coefficients(t))

    def predict(self, kind: str, x: torch.Tensor, t: float) -> torch.Tensor:
        """The network's prediction at ``(x, t)`` read as ``kind`` (one evaluation)."""
        check_choice(kind, "kind", KINDS)
        x0, eps = self.x0_eps(x, t)
        return from_x0_eps(kind, x0, eps, *self.coefficients(t))

    def __repr__(self) -> str:
        return f"Prediction(kind={self.kind!r}, path={self.path!r})"
