r"""Density models fitted by score matching (chapter 8): a NICE flow, an MLP energy model, and the adapter that
hands any log-density to the objectives of :mod:`scoresde.losses`.

A **density model** gives :math:`\log p_\theta(x)` (normalised, like :class:`NICE`, or up to a constant, like
:class:`EnergyMLP`, :math:`p_\theta\propto e^{-E_\theta}`). Its score is the input gradient

.. math:: S_\theta(x) = \nabla_x \log p_\theta(x) = -\nabla_x E_\theta(x)  \qquad\text{(book: eq-density-score)}

and the normalising constant drops out. :class:`DensityScore` computes it with ``create_graph=True``, so
``implicit_score_matching`` (exact trace: :math:`d` backward passes through a gradient),
``sliced_score_matching`` (one Hessian-vector product per probe) and ``denoising_score_matching`` take a density
model unchanged (:func:`objective_loss` names them for :func:`scoresde.train.train`).

**NICE** (:cite:`dinh2015nice`). :math:`L` additive coupling layers and a diagonal scaling map :math:`x` to
:math:`z=f_\theta(x)`. Coupling layer :math:`\ell` splits the coordinates into two halves :math:`(a,b)` (even and odd
indices, swapped from one layer to the next) and keeps one:

.. math:: y_a = x_a,\qquad y_b = x_b + m_\ell(x_a)  \qquad\text{(book: eq-nice-coupling)}

with :math:`m_\ell` an MLP. Its Jacobian is triangular with unit diagonal, so :math:`\log|\det| = 0`; the scaling
:math:`z_i = e^{s_i}h_i` has :math:`\log|\det| = \sum_i s_i`. With a standard normal prior, the change of variables

.. math:: \log p_\theta(x) = \log\mathcal N\big(f_\theta(x);0,I\big) + \sum_{i=1}^d s_i
          \qquad\text{(book: eq-nice-logp)}

is exact; :meth:`NICE.inverse` undoes the layers in reverse order (:math:`x_b = y_b - m_\ell(y_a)`) and
:meth:`NICE.sample` pushes prior draws through it.

**Maximum likelihood** (the reference objective) is :math:`-\mathbb{E}\log p_\theta(x)` (:func:`maximum_likelihood`);
only a normalised model has it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ._checks import (
    check_choice,
    check_module_input,
    check_positive_float,
    check_positive_int,
    check_tensor,
    draw_device,
)
from .nets import ACTIVATIONS, _mlp, _pure_init

__all__ = [
    "DENSITY_OBJECTIVES",
    "NICE",
    "EnergyMLP",
    "DensityScore",
    "maximum_likelihood",
    "objective_loss",
    "density_from_config",
    "load_density",
]

#: The objectives that fit a density model (``--objective`` of ``python -m scoresde.cli train-density``):
#: maximum likelihood, exact implicit score matching, sliced score matching (plain and with variance reduction),
#: denoising score matching.
DENSITY_OBJECTIVES: tuple[str, ...] = ("mle", "ism", "ssm", "ssm-vr", "dsm")

_LOG_2PI = math.log(2 * math.pi)


def _flat(x: Any, dim: int, module: nn.Module) -> torch.Tensor:
    """``x`` of shape ``(batch, *event)`` with ``dim`` entries per event, as ``(batch, dim)``."""
    check_tensor(x, "x", min_dim=2, finite=False)
    if math.prod(x.shape[1:]) != dim:
        raise ValueError(f"x must hold {dim} numbers per row (shape (batch, {dim}) or (batch, *event)), "
                         f"got shape {tuple(x.shape)}")
    check_module_input(x, module)
    return x.reshape(x.shape[0], dim)


class NICE(nn.Module):
    r"""NICE flow :math:`z=f_\theta(x)` on :math:`\mathbb{R}^d` with a standard normal prior (book: eq-nice-logp).

    ``n_couplings`` additive coupling layers (book: eq-nice-coupling), each shifting one half of the coordinates
    (odd indices in layers 0, 2, …; even indices in layers 1, 3, …) by an MLP of the other half with ``depth``
    hidden layers of width ``hidden``, then a diagonal scaling :math:`z=e^{s}\odot h` (:math:`s` starts at 0).

    Calling the module returns :meth:`log_prob`. Inputs of any event shape with :math:`d` entries per row are
    flattened (e.g. digits ``(batch, 1, 8, 8)`` for ``dim=64``); :meth:`sample` and :meth:`inverse` return
    ``(batch, dim)``.

    Args:
        dim: :math:`d` (at least 2).
        hidden: width of the coupling MLPs.
        depth: hidden layers per coupling MLP.
        n_couplings: number of coupling layers :math:`L` (4 in :cite:`dinh2015nice`).
        activation: one of :data:`scoresde.nets.ACTIVATIONS`; smooth, so score matching's second derivatives exist.
        generator: a CPU ``torch.Generator`` for the initialisation (``None``: one seeded with 0).
        dtype: the floating dtype of the parameters.
    """

    odd: torch.Tensor  # buffers: index sets of the two halves
    even: torch.Tensor

    @_pure_init
    def __init__(self, dim: int, hidden: int = 64, depth: int = 2, n_couplings: int = 4, activation: str = "softplus",
                 *, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        assert generator is not None  # @_pure_init supplies one
        self.dim = check_positive_int(dim, "dim", minimum=2)
        check_positive_int(hidden, "hidden")
        check_positive_int(depth, "depth")
        check_positive_int(n_couplings, "n_couplings")
        check_choice(activation, "activation", ACTIVATIONS)
        self._config = {"class": "NICE", "dim": self.dim, "hidden": int(hidden), "depth": int(depth),
                        "n_couplings": int(n_couplings), "activation": activation}
        self.register_buffer("even", torch.arange(0, dim, 2), persistent=False)
        self.register_buffer("odd", torch.arange(1, dim, 2), persistent=False)
        self.couplings = nn.ModuleList()
        for layer in range(n_couplings):
            kept, moved = self._halves(layer)
            self.couplings.append(_mlp([len(kept)] + [hidden] * depth + [len(moved)], activation, generator, dtype))
        self.log_scale = nn.Parameter(torch.zeros(dim, dtype=dtype))

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments (plain data) that :func:`density_from_config` turns back into this model."""
        return dict(self._config)

    def _halves(self, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(kept, moved)`` index sets of coupling ``layer``: even/odd on even layers, odd/even on odd ones."""
        return (self.even, self.odd) if layer % 2 == 0 else (self.odd, self.even)

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""``(z, log|det ∂z/∂x|)``: :math:`z=f_\theta(x)` of shape ``(batch, dim)`` and the log-determinant,
        shape ``(batch,)``, equal to :math:`\sum_i s_i` for every row (the couplings contribute 0)."""
        h = _flat(x, self.dim, self)
        for layer, net in enumerate(self.couplings):
            kept, moved = self._halves(layer)
            h = h.index_add(1, moved, net(h[:, kept]))  # y_b = x_b + m(x_a), y_a = x_a (eq-nice-coupling)
        z = h * self.log_scale.exp()
        return z, self.log_scale.sum().expand(z.shape[0])

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`\log p_\theta(x)` of each row, shape ``(batch,)`` (book: eq-nice-logp)."""
        z, log_det = self.transform(x)
        return -0.5 * (z.square().sum(dim=1) + self.dim * _LOG_2PI) + log_det

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.log_prob(x)

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        r""":math:`x=f_\theta^{-1}(z)`: undo the scaling, then the couplings in reverse order
        (:math:`x_b = y_b - m_\ell(y_a)`). ``z`` of shape ``(batch, dim)``; returns ``(batch, dim)``."""
        h = _flat(z, self.dim, self) * (-self.log_scale).exp()
        for layer in reversed(range(len(self.couplings))):
            kept, moved = self._halves(layer)
            h = h.index_add(1, moved, -self.couplings[layer](h[:, kept]))
        return h

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
        r"""``n`` draws :math:`x=f_\theta^{-1}(z)`, :math:`z\sim\mathcal N(0,I)`, shape ``(n, dim)``, on the
        model's device and in its dtype; ``generator`` (on that device) makes them reproducible."""
        n = check_positive_int(n, "n")
        p = self.log_scale
        draw_device(generator, p.device, p.dtype)
        z = torch.randn(n, self.dim, generator=generator, device=p.device, dtype=p.dtype)
        return self.inverse(z)


class EnergyMLP(nn.Module):
    r"""An unnormalised density :math:`p_\theta(x)\propto e^{-E_\theta(x)}` with an MLP energy
    :math:`E_\theta:\mathbb{R}^d\to\mathbb{R}` (``depth`` hidden layers of width ``hidden``).

    Calling the module returns :math:`E_\theta(x)`, shape ``(batch,)``; :meth:`log_prob` returns
    :math:`-E_\theta(x)`, the log-density up to the unknown constant :math:`\log Z_\theta`, all that score matching
    needs (book: eq-density-score). Inputs of any event shape with :math:`d` entries per row are flattened.

    Args:
        dim: :math:`d`.
        hidden: width of each hidden layer.
        depth: number of hidden layers.
        activation: one of :data:`scoresde.nets.ACTIVATIONS` (smooth).
        generator: a CPU ``torch.Generator`` for the initialisation (``None``: one seeded with 0).
        dtype: the floating dtype of the parameters.
    """

    @_pure_init
    def __init__(self, dim: int, hidden: int = 128, depth: int = 3, activation: str = "softplus", *,
                 generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        assert generator is not None  # @_pure_init supplies one
        self.dim = check_positive_int(dim, "dim")
        check_positive_int(hidden, "hidden")
        check_positive_int(depth, "depth")
        check_choice(activation, "activation", ACTIVATIONS)
        self._config = {"class": "EnergyMLP", "dim": self.dim, "hidden": int(hidden), "depth": int(depth),
                        "activation": activation}
        self.net = _mlp([dim] + [hidden] * depth + [1], activation, generator, dtype)

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments (plain data) that :func:`density_from_config` turns back into this model."""
        return dict(self._config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(_flat(x, self.dim, self))[:, 0]

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`-E_\theta(x) = \log p_\theta(x) + \log Z_\theta`, shape ``(batch,)`` (not normalised)."""
        return -self.forward(x)


class DensityScore(nn.Module):
    r"""The score :math:`S_\theta(x)=\nabla_x\log p_\theta(x)` of a density model (book: eq-density-score), as a
    score model that :mod:`scoresde.losses` and :func:`scoresde.train.train` take unchanged.

    ``density`` is any ``nn.Module`` with ``log_prob(x) -> (batch,)`` (normalised or not: a constant has no
    gradient), e.g. :class:`NICE` or :class:`EnergyMLP`. Its parameters are this module's parameters. The gradient
    is taken with ``create_graph=True`` whenever gradients are being recorded, so the losses can differentiate it
    again, with respect to ``x`` (the Hessian of :math:`\log p_\theta`: its trace for ISM, Hessian-vector products
    for SSM) and to :math:`\theta`; under ``torch.no_grad()`` (sampling, evaluation) the score is detached.
    The output has ``x``'s shape. For ``sliced_score_matching`` use ``method="vjp"`` (the default on CPU and CUDA):
    forward mode (``torch.func.jvp``) cannot differentiate through ``torch.autograd.grad``.
    """

    def __init__(self, density: nn.Module) -> None:
        super().__init__()
        if not isinstance(density, nn.Module) or not callable(getattr(density, "log_prob", None)):
            raise TypeError(f"density must be an nn.Module with a log_prob method, got {type(density).__name__}")
        self.density = density

    @property
    def config(self) -> dict[str, Any] | None:
        """The density's config (so checkpoints written by :func:`scoresde.train.train` record it)."""
        config = getattr(self.density, "config", None)
        return None if config is None else {"class": "DensityScore", "density": config}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        record = torch.is_grad_enabled()
        with torch.enable_grad():
            xg = x if x.requires_grad else x.detach().requires_grad_(True)
            log_p: torch.Tensor = getattr(self.density, "log_prob")(xg)  # checked callable in __init__
            (score,) = torch.autograd.grad(log_p.sum(), xg, create_graph=record)
        return score if record else score.detach()


def maximum_likelihood(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    r"""The negative log-likelihood :math:`-\frac1n\sum_i\log p_\theta(x_i)` (0-dim), for a normalised
    ``model`` with ``log_prob`` (e.g. :class:`NICE`) or a :class:`DensityScore` around one."""
    density = model.density if isinstance(model, DensityScore) else model
    log_prob: Callable[[torch.Tensor], torch.Tensor] | None = getattr(density, "log_prob", None)
    if log_prob is None or isinstance(density, EnergyMLP):
        raise TypeError("maximum likelihood needs a normalised model with log_prob (NICE), "
                        f"got {type(density).__name__}")
    return -log_prob(x).mean()


def objective_loss(objective: str, *, sigma: float | None = None
                   ) -> Callable[[nn.Module, torch.Tensor, torch.Generator], torch.Tensor]:
    r"""``loss_fn(model, x, generator)`` for :func:`scoresde.train.train`, where ``model`` is a
    :class:`DensityScore`: one of :data:`DENSITY_OBJECTIVES`.

    ``"mle"``: :func:`maximum_likelihood`; ``"ism"``: :func:`~scoresde.losses.implicit_score_matching` (exact
    trace); ``"ssm"``, ``"ssm-vr"``: :func:`~scoresde.losses.sliced_score_matching` with one Gaussian probe (plain,
    variance reduced), double-backward path; ``"dsm"``: :func:`~scoresde.losses.denoising_score_matching` at noise
    level ``sigma`` (required, and only for ``"dsm"``).
    """
    from .losses import denoising_score_matching, implicit_score_matching, sliced_score_matching

    check_choice(objective, "objective", DENSITY_OBJECTIVES)
    if (sigma is not None) != (objective == "dsm"):
        raise ValueError("sigma is the noise level of 'dsm': give it for dsm and only for dsm")
    level = None if sigma is None else check_positive_float(sigma, "sigma")

    def loss_fn(model: nn.Module, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if objective == "mle":
            return maximum_likelihood(model, x)
        if objective == "ism":
            return implicit_score_matching(model, x)
        if objective == "dsm":
            assert level is not None
            return denoising_score_matching(model, x, level, generator=generator)
        return sliced_score_matching(model, x, variance_reduction=objective == "ssm-vr", generator=generator,
                                     method="vjp")

    loss_fn.__qualname__ = objective if sigma is None else f"{objective}[sigma={sigma:g}]"
    return loss_fn


_CLASSES: dict[str, type[nn.Module]] = {"NICE": NICE, "EnergyMLP": EnergyMLP}


def density_from_config(config: Any, *, dtype: torch.dtype = torch.float32) -> nn.Module:
    """Rebuild a :class:`NICE` or :class:`EnergyMLP` (or a :class:`DensityScore` around one) from its ``config``;
    the weights are freshly initialised (load a ``state_dict`` into the result)."""
    if not isinstance(config, dict) or "class" not in config:
        raise ValueError(f"config must be a dict with a 'class' entry, got {config!r}")
    kwargs = dict(config)
    name = check_choice(kwargs.pop("class"), "density class", (*_CLASSES, "DensityScore"))
    if name == "DensityScore":
        return DensityScore(density_from_config(kwargs.get("density"), dtype=dtype))
    return _CLASSES[name](**kwargs, dtype=dtype)


def load_density(path: str | os.PathLike[str], *, map_location: str | torch.device = "cpu") -> nn.Module:
    """The density model (:class:`NICE` or :class:`EnergyMLP`, eval mode) of a checkpoint written by
    :func:`scoresde.train.train` for a :class:`DensityScore` (e.g. by ``python -m scoresde.cli train-density``);
    read with ``torch.load(..., weights_only=True)``."""
    from .train import load_checkpoint

    ckpt = load_checkpoint(path, map_location=map_location)
    config = ckpt["config"].get("model")
    if not isinstance(config, dict) or config.get("class") != "DensityScore":
        raise ValueError(f"{path} does not hold a density model (its model config is {config!r})")
    state = ckpt["model"]
    dtype = next((v.dtype for v in state.values() if torch.is_floating_point(v)), torch.float32)
    model = density_from_config(config, dtype=dtype).to(map_location)
    model.load_state_dict(state)
    assert isinstance(model, DensityScore)
    return model.density.eval()
