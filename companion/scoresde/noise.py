r"""The noise structure of an SDE: how its diffusion :math:`G` acts, one small object per ``noise_type``.

An :class:`~scoresde.sde.SDE` :math:`\mathrm dx = f\,\mathrm dt + G\,\mathrm dW` (book: eq-sde) returns its diffusion
``g(x, t)`` in a shape that its ``noise_type`` fixes; the SDE picks one :class:`NoiseStructure` for it once
(:func:`noise_structure`) and leaves to it the shapes, the products and the check of ``g``:

=================  ==========================  ==================  =========================================
``noise_type``     ``g`` (state ``(b, *e)``)   noise shape         :math:`G\,\mathrm dw` and :math:`\Sigma v`
=================  ==========================  ==================  =========================================
``"scalar"``       ``(b,)``: :math:`G = gI`    ``(b, *e)``         :math:`g\,\mathrm dw`, :math:`g^2v`
``"diagonal"``     ``(b, *e)``                 ``(b, *e)``         :math:`g\odot\mathrm dw`, :math:`g^2\odot v`
``"general"``      ``(b, D, m)``: :math:`G`    ``(b, m)``          :math:`G\,\mathrm dw`, :math:`G(G^\top v)`
``"none"``         none (an ODE)               --                  zero
=================  ==========================  ==================  =========================================

with :math:`\Sigma = GG^\top` (book: eq-reverse-sde-general) and ``D`` the number of entries of one event.
:meth:`NoiseStructure.div_sigma` computes the row-wise divergence :math:`(\nabla\cdot\Sigma)_i = \sum_j
\partial\Sigma_{ij}/\partial x_j` of the reverse-time drift by automatic differentiation.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import torch

from ._checks import as_column, check_choice, check_positive_int

__all__ = ["NOISE_TYPES", "NoiseStructure", "ScalarNoise", "DiagonalNoise", "GeneralNoise", "NoNoise", "noise_structure"]

#: the diffusion at a fixed time as a function of the state, ``y -> g(y, t)``
DiffusionFn = Callable[[torch.Tensor], torch.Tensor]


def _gram(g: torch.Tensor) -> torch.Tensor:
    r""":math:`GG^\top` of each sample, ``(batch, D, D)``."""
    return g @ g.transpose(1, 2)


def _jvp_columns(sigma: DiffusionFn, x: torch.Tensor) -> Iterator[tuple[int, torch.Tensor]]:
    r"""``(j, dΣ/dx_j)`` for each coordinate ``j`` of one event: ``D`` forward-mode passes through ``sigma``."""
    batch, d = x.shape[0], x[0].numel()
    for j in range(d):
        e = x.new_zeros(batch, d)
        e[:, j] = 1.0
        yield j, torch.func.jvp(sigma, (x,), (e.reshape(x.shape),))[1]


class NoiseStructure(abc.ABC):
    r"""How a diffusion value ``g`` of one ``noise_type`` acts: the shape it must have, :math:`G\,\mathrm dw`,
    :math:`\Sigma v`, :math:`\Sigma` and :math:`\nabla\cdot\Sigma` (book: eq-sde, eq-reverse-sde-general).

    Attributes:
        name: the ``noise_type`` it serves.
        diffusive: ``False`` only for ``"none"`` (an ODE: no ``g`` to call, every product is zero).
        elementwise: :math:`G` acts coordinate by coordinate (``"scalar"``, ``"diagonal"``), as the discrete
            DDPM/SMLD chains and the reverse-diffusion predictor need.
        isotropic: :math:`G = gI` with one number ``g`` per sample (``"scalar"``), as the likelihood weighting
            :math:`\lambda(t) = g(t)^2` of :func:`scoresde.losses.sde_score_matching` needs.
        noise_dim: ``m``, the number of Brownian motions, for ``"general"`` noise (else ``None``).
    """

    name: ClassVar[str]
    diffusive: ClassVar[bool] = True
    elementwise: ClassVar[bool] = True
    isotropic: ClassVar[bool] = False
    noise_dim: int | None = None

    def noise_shape(self, x_shape: tuple[int, ...] | torch.Size) -> tuple[int, ...]:
        """The shape of a Brownian increment for a state of shape ``x_shape``."""
        return tuple(x_shape)

    def solver_class(self, event_size: int) -> str:
        """The noise class that the solvers' orders are declared for (:data:`scoresde.solvers.base.NOISE_STRUCTURES`)
        when :math:`G` depends on the state, for events of ``event_size`` entries (default: :attr:`name`)."""
        return self.name

    @abc.abstractmethod
    def g_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        """The shape that ``g`` must have at the state ``x``."""

    def check_g(self, x: torch.Tensor, g: Any, owner: str = "the SDE") -> torch.Tensor:
        """Return ``g`` if it is a tensor of :meth:`g_shape` ``(x)``, else raise a ``TypeError`` / ``ValueError``
        naming ``g`` (and ``owner``, e.g. the SDE's class name)."""
        if not isinstance(g, torch.Tensor):
            raise TypeError(f"g must return a torch.Tensor, got {type(g).__name__}")
        expected = self.g_shape(x)
        if tuple(g.shape) != expected:
            raise ValueError(f"{owner}.g returned shape {tuple(g.shape)} for a state of shape {tuple(x.shape)}; "
                             f"noise_type {self.name!r} needs {expected}")
        return g

    @abc.abstractmethod
    def apply(self, x: torch.Tensor, g: torch.Tensor, dw: torch.Tensor) -> torch.Tensor:
        r""":math:`G\,\mathrm dw`, shaped like ``x``, for ``dw`` of :meth:`noise_shape` ``(x.shape)``."""

    @abc.abstractmethod
    def sigma_apply(self, x: torch.Tensor, g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        r""":math:`\Sigma v = GG^\top v`, shaped like ``x`` (``v`` shaped like ``x``)."""

    @abc.abstractmethod
    def sigma_matrix(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        r"""The matrix :math:`\Sigma = GG^\top` of each sample, shape ``(batch, D, D)``."""

    @abc.abstractmethod
    def div_sigma(self, g: DiffusionFn, x: torch.Tensor) -> torch.Tensor:
        r""":math:`\nabla\cdot\Sigma` at ``x``, shaped like ``x``, exactly by automatic differentiation through ``g``
        (``y -> g(y, t)``). Assumes that :math:`G` of one sample depends only on that sample's state."""

    @classmethod
    def make(cls, noise_dim: Any = None) -> NoiseStructure:
        """An instance; only ``"general"`` noise takes (and needs) ``noise_dim``."""
        if noise_dim is not None:
            raise ValueError(f"noise_dim is only used with noise_type 'general', not {cls.name!r}")
        return cls()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ScalarNoise(NoiseStructure):
    r"""``"scalar"`` (score_sde's meaning): ``g`` of shape ``(batch,)``, :math:`G = gI`, an independent Brownian
    motion in every coordinate: :math:`G\,\mathrm dw = g\,\mathrm dw`, :math:`\Sigma = g^2I`. (torchsde's "scalar" is one
    Brownian motion shared by all coordinates: here ``"general"`` noise with ``noise_dim = 1``.)"""

    name = "scalar"
    isotropic = True

    def solver_class(self, event_size: int) -> str:
        """``"diagonal"`` on a one-coordinate state, else ``"scalar"`` (:math:`g(x)I` couples the coordinates)."""
        return "diagonal" if event_size == 1 else "scalar"

    def g_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        return (x.shape[0],)

    def apply(self, x: torch.Tensor, g: torch.Tensor, dw: torch.Tensor) -> torch.Tensor:
        return as_column(g, x) * dw

    def sigma_apply(self, x: torch.Tensor, g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return as_column(g.square(), x) * v

    def sigma_matrix(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return g.square()[:, None, None] * torch.eye(x[0].numel(), dtype=x.dtype, device=x.device)

    def div_sigma(self, g: DiffusionFn, x: torch.Tensor) -> torch.Tensor:
        r""":math:`\nabla\cdot(g^2I) = \nabla_x g^2`: one backward pass (zero if ``g`` does not depend on ``x``)."""
        x = x.detach()
        with torch.enable_grad():
            xg = x.requires_grad_(True)
            g2 = g(xg).square()
            if not g2.requires_grad:
                return torch.zeros_like(x)
            (grad,) = torch.autograd.grad(g2.sum(), xg)
        return grad


class DiagonalNoise(NoiseStructure):
    r"""``"diagonal"``: ``g`` shaped like the state, :math:`G\,\mathrm dw = g\odot\mathrm dw`,
    :math:`\Sigma = \operatorname{diag}(g^2)`."""

    name = "diagonal"

    def g_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        return tuple(x.shape)

    def apply(self, x: torch.Tensor, g: torch.Tensor, dw: torch.Tensor) -> torch.Tensor:
        return g * dw

    def sigma_apply(self, x: torch.Tensor, g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return g.square() * v

    def sigma_matrix(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return torch.diag_embed(g.reshape(x.shape[0], -1).square())

    def div_sigma(self, g: DiffusionFn, x: torch.Tensor) -> torch.Tensor:
        r""":math:`(\nabla\cdot\Sigma)_j = \partial g_j^2/\partial x_j`: ``D`` forward-mode passes through the diagonal."""
        x = x.detach()
        batch, d = x.shape[0], x[0].numel()
        div = x.new_zeros(batch, d)
        for j, ds in _jvp_columns(lambda y: g(y).reshape(batch, d).square(), x):
            div[:, j] = ds[:, j]
        return div.reshape(x.shape)


class GeneralNoise(NoiseStructure):
    r"""``"general"``: ``g`` is the matrix :math:`G` of shape ``(batch, D, m)`` driven by ``m`` Brownian motions
    (noise shape ``(batch, m)``): :math:`G\,\mathrm dw` and :math:`\Sigma v = G(G^\top v)` are matrix products.

    Args:
        noise_dim: ``m >= 1``.
    """

    name = "general"
    elementwise = False
    noise_dim: int

    def __init__(self, noise_dim: int) -> None:
        self.noise_dim = check_positive_int(noise_dim, "noise_dim")

    def noise_shape(self, x_shape: tuple[int, ...] | torch.Size) -> tuple[int, ...]:
        return (x_shape[0], self.noise_dim)

    def solver_class(self, event_size: int) -> str:
        """``"shared"`` for one Brownian motion (``noise_dim = 1``, torchsde's "scalar"; commutative), else
        ``"general"``."""
        return "shared" if self.noise_dim == 1 else "general"

    def g_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        return (x.shape[0], x[0].numel(), self.noise_dim)

    def apply(self, x: torch.Tensor, g: torch.Tensor, dw: torch.Tensor) -> torch.Tensor:
        return (g @ dw.unsqueeze(-1)).reshape(x.shape)

    def sigma_apply(self, x: torch.Tensor, g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        gtv = g.transpose(1, 2) @ v.reshape(x.shape[0], -1, 1)  # (batch, m, 1)
        return (g @ gtv).reshape(x.shape)

    def sigma_matrix(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return _gram(g)

    @classmethod
    def make(cls, noise_dim: Any = None) -> NoiseStructure:
        if noise_dim is None:
            raise ValueError("noise_type 'general' needs noise_dim (the number m of Brownian motions)")
        return cls(noise_dim)

    def div_sigma(self, g: DiffusionFn, x: torch.Tensor) -> torch.Tensor:
        r""":math:`(\nabla\cdot\Sigma)_i = \sum_j\partial\Sigma_{ij}/\partial x_j`: ``D`` forward-mode passes through
        :math:`GG^\top`."""
        x = x.detach()
        div = x.new_zeros(x.shape[0], x[0].numel())
        for j, ds in _jvp_columns(lambda y: _gram(g(y)), x):
            div += ds[:, :, j]
        return div.reshape(x.shape)

    def __repr__(self) -> str:
        return f"GeneralNoise(noise_dim={self.noise_dim})"


class NoNoise(NoiseStructure):
    """``"none"``: an ODE. There is no ``g``; :math:`G\\,\\mathrm dw`, :math:`\\Sigma v`, :math:`\\Sigma` and
    :math:`\\nabla\\cdot\\Sigma` are zero."""

    name = "none"
    diffusive = False
    elementwise = False

    def g_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        raise ValueError("noise_type 'none' has no diffusion g")

    def apply(self, x: torch.Tensor, g: torch.Tensor, dw: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)

    def sigma_apply(self, x: torch.Tensor, g: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)

    def sigma_matrix(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        d = x[0].numel()
        return x.new_zeros(x.shape[0], d, d)

    def div_sigma(self, g: DiffusionFn, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


_BY_NAME: dict[str, type[NoiseStructure]] = {c.name: c for c in (ScalarNoise, DiagonalNoise, GeneralNoise, NoNoise)}
#: the ``noise_type`` s, in the order of the module docstring's table
NOISE_TYPES: tuple[str, ...] = tuple(_BY_NAME)


def noise_structure(noise_type: Any, noise_dim: Any = None) -> NoiseStructure:
    """The :class:`NoiseStructure` of ``noise_type`` (``"scalar"``, ``"diagonal"``, ``"general"``, ``"none"``).

    Raises:
        ValueError: an unknown ``noise_type``; ``"general"`` without ``noise_dim`` (the number ``m`` of Brownian
            motions, a positive integer), or ``noise_dim`` with another noise type.
    """
    return _BY_NAME[check_choice(noise_type, "noise_type", NOISE_TYPES)].make(noise_dim)
