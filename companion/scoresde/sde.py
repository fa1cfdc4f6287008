r"""Stochastic differential equations: an abstract :class:`SDE`, its reverse in time, and the course's examples.

An Itô SDE for a state :math:`x_t` of any shape ``(batch, *event_shape)`` (``D`` entries per event) is

.. math::  \mathrm dx_t = f(x_t,t)\,\mathrm dt + G(x_t,t)\,\mathrm dW_t,
           \qquad\text{i.e.}\qquad
           x_t = x_0 + \int_0^t f(x_s,s)\,\mathrm ds + \int_0^t G(x_s,s)\,\mathrm dW_s
           \qquad\text{(book: eq-sde, eq-ito-integral-form)}

An :class:`SDE` gives the drift ``f(x, t)`` and the diffusion ``g(x, t)`` in one of four ``noise_type`` s,
``"scalar"`` (:math:`G = gI`, ``g`` of shape ``(batch,)``), ``"diagonal"`` (``g`` shaped like ``x``), ``"general"``
(the matrix :math:`G`, ``(batch, D, m)``) or ``"none"`` (an ODE); how each acts is :mod:`scoresde.noise`'s.
Time ``t`` is passed as a tensor of shape ``(batch,)`` (a Python number or 0-d tensor is broadcast), so
time-conditional score networks fit the same interface.

:meth:`SDE.reverse` builds the reverse-time SDE from a score function :math:`s(x,t)\approx\nabla_x\log p_t(x)`.
With :math:`\Sigma = GG^\top` and the row-wise divergence :math:`(\nabla\cdot\Sigma)_i=\sum_j\partial\Sigma_{ij}/\partial x_j`,

.. math::  \mathrm dx = \big[f - \nabla\cdot\Sigma - \Sigma\,\nabla_x\log p_t\big]\,\mathrm dt + G\,\mathrm d\bar W
           \qquad\text{(book: eq-reverse-sde-general)}

run from :math:`t=T` down to :math:`0` (``dt < 0``); for a scalar :math:`g(t)` this is
:math:`f - g^2\nabla_x\log p_t` (book: eq-reverse-sde), and the probability-flow ODE has drift
:math:`f - \tfrac12\nabla\cdot\Sigma - \tfrac12\Sigma\nabla_x\log p_t` (book: eq-probability-flow).

Concrete SDEs: :class:`BrownianMotion` (with drift), :class:`OrnsteinUhlenbeck`,
:class:`GeometricBrownianMotion`, and the three SDEs of Song et al. (2021) with score_sde's
parametrisations, :class:`VPSDE`, :class:`SubVPSDE`, :class:`VESDE`; :class:`FunctionSDE` wraps your own
``f`` and ``g``. This module knows nothing of solvers (see :mod:`scoresde.solvers`).
"""

from __future__ import annotations

import abc
import functools
import math
from collections.abc import Callable
from typing import Any, Literal

import torch

from ._checks import (
    as_column,
    check_bool,
    check_callable,
    check_choice,
    check_output_like,
    check_positive_float,
    check_real,
    check_same_shape_dtype,
    check_shape,
    check_tensor,
    check_time,
    check_time_between,
    draw_device,
)
from ._registry import Registry
from .noise import NOISE_TYPES, NoiseStructure, noise_structure
from .noise_schedules import CosineSchedule, LinearBeta, NoiseSchedule

__all__ = [
    "SDES",
    "register_sde",
    "check_forward_sde",
    "NOISE_TYPES",
    "SDE_TYPES",
    "SDE",
    "ReverseSDE",
    "FunctionSDE",
    "BrownianMotion",
    "OrnsteinUhlenbeck",
    "GeometricBrownianMotion",
    "VPSDE",
    "CosineVPSDE",
    "SubVPSDE",
    "VESDE",
]

NoiseType = Literal["scalar", "diagonal", "general", "none"]
SDE_TYPES: tuple[str, ...] = ("ito", "stratonovich")

ScoreFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

#: the forward SDEs of diffusion models by name (``python -m scoresde.cli train --sde NAME``), each registered
#: with :func:`register_sde` where it is defined; built from a spec by :func:`scoresde.cli.make_sde`
SDES: Registry[type[SDE]] = Registry("SDE")


def register_sde(name: str) -> Callable[[type[SDE]], type[SDE]]:
    """Class decorator: register a forward SDE with a prior (a diffusion model's SDE) under ``name``."""

    def add(cls: type[SDE]) -> type[SDE]:
        if not (isinstance(cls, type) and issubclass(cls, SDE)):
            raise TypeError(f"register_sde decorates an SDE subclass, got {cls!r}")
        SDES.register(cls, name=name)
        return cls

    return add


def _time(t: Any, x: torch.Tensor) -> torch.Tensor:
    """``t`` as a tensor of shape ``(batch,)`` with ``x``'s dtype and device."""
    if not isinstance(t, torch.Tensor):
        t = torch.as_tensor(float(check_time(t, "t", minimum=-math.inf)), dtype=x.dtype, device=x.device)
    if t.ndim == 0:
        t = t.expand(x.shape[0])
    elif t.shape != (x.shape[0],):
        raise ValueError(f"t must be a number or a tensor of shape (batch,) = ({x.shape[0]},), got {tuple(t.shape)}")
    return t.to(dtype=x.dtype, device=x.device)


def _law_time(t: Any, x0: torch.Tensor) -> torch.Tensor:
    """``t`` for a closed-form law at ``x0``: ``x0`` floating (an integer ``x0`` would make ``t`` an integer),
    ``t`` finite and ``>= 0`` (a negative time has a negative variance)."""
    check_tensor(x0, "x0", min_dim=1)
    return _time(check_time(t, "t"), x0)


def _gaussian_logp(z: torch.Tensor, std: float) -> torch.Tensor:
    """log N(z; 0, std^2 I) summed over the event dimensions, shape (batch,)."""
    d = z[0].numel()
    return -0.5 * d * math.log(2 * math.pi * std**2) - z.reshape(z.shape[0], -1).square().sum(1) / (2 * std**2)


class SDE(abc.ABC):
    r"""An Itô (or Stratonovich) SDE :math:`\mathrm dx = f\,\mathrm dt + G\,\mathrm dW` (book: eq-sde).

    Subclasses set the class attributes and implement :meth:`f` and :meth:`g`; where closed forms exist they also
    implement :meth:`marginal_prob`, :attr:`prior_std` and :meth:`div_sigma`. How :math:`G` acts (shapes, products,
    the check of ``g``) is the :attr:`noise` structure's, chosen once from :attr:`noise_type`.

    Attributes:
        noise_type: ``"scalar"``, ``"diagonal"``, ``"general"`` or ``"none"`` (see :mod:`scoresde.noise`).
        sde_type: ``"ito"`` or ``"stratonovich"`` (how :math:`\int G\,\mathrm dW` is read).
        additive: ``True`` if :math:`G` does not depend on :math:`x` (then Itô = Stratonovich and
            :math:`\nabla\cdot\Sigma=0`).
        noise_dim: ``m``, the number of Brownian motions, for ``"general"`` noise (else ``None``).
        time_direction: ``+1`` for an SDE solved forward in time, ``-1`` for a reverse-time SDE
            (solved on a decreasing grid).
        discrete_chain: the discrete chain that :meth:`discretize` and the ancestral predictor follow, declared
            (not inferred from the class): ``"ddpm"`` (:meth:`VPSDE.discrete_beta`), ``"smld"``
            (:meth:`VESDE.discrete_sigmas`) or ``None``.
        variance_preserving: declared ``True`` by an SDE whose kernel is :math:`\mathcal N(\alpha_tx_0,
            (1-\alpha_t^2)I)` with :math:`\log\alpha_t=-\tfrac12\int_0^t\beta` of its ``schedule`` (the VP family
            but not sub-VP): the Gaussian path that the few-step samplers need (:class:`~scoresde.sampling.VPPath`).
        T: the final time of the forward process.
    """

    noise_type: str = "diagonal"
    sde_type: str = "ito"
    additive: bool = False
    noise_dim: int | None = None
    time_direction: int = 1
    discrete_chain: str | None = None
    variance_preserving: bool = False

    def __init__(self, T: float = 1.0) -> None:
        self.T = check_positive_float(T, "T")

    @abc.abstractmethod
    def f(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """The drift :math:`f(x, t)`, shaped like ``x`` (book: eq-sde)."""

    @abc.abstractmethod
    def g(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """The diffusion, shaped as ``noise_type`` says (book: eq-sde)."""

    # ------------------------------------------------------------------ the noise structure's products
    @functools.cached_property
    def noise(self) -> NoiseStructure:
        """The :class:`~scoresde.noise.NoiseStructure` of :attr:`noise_type` and :attr:`noise_dim`, chosen once."""
        return noise_structure(self.noise_type, self.noise_dim)

    def noise_shape(self, x_shape: tuple[int, ...] | torch.Size) -> tuple[int, ...]:
        """The shape of a Brownian increment for a state of shape ``x_shape``."""
        return self.noise.noise_shape(x_shape)

    def g_prod(self, x: torch.Tensor, t: torch.Tensor | float, dw: torch.Tensor) -> torch.Tensor:
        r""":math:`G(x,t)\,\mathrm dw` shaped like ``x``, for ``dw`` of shape :meth:`noise_shape` ``(x.shape)``
        (what the solvers call)."""
        return self.apply_g(x, self.g(x, t), dw) if self.noise.diffusive else torch.zeros_like(x)

    def apply_g(self, x: torch.Tensor, g: torch.Tensor, dw: torch.Tensor) -> torch.Tensor:
        r""":math:`G\,\mathrm dw` for a diffusion value ``g`` already computed at ``x`` (checks its shape)."""
        return self.noise.apply(x, self._checked_g(x, g), dw)

    def sigma_prod(self, x: torch.Tensor, t: torch.Tensor | float, v: torch.Tensor) -> torch.Tensor:
        r""":math:`\Sigma(x,t)\,v` with :math:`\Sigma = GG^\top`, shaped like ``x`` (``v`` is shaped like ``x``)."""
        if not self.noise.diffusive:
            return torch.zeros_like(x)
        return self.noise.sigma_apply(x, self._checked_g(x, self.g(x, t)), v)

    def sigma_matrix(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        r"""The matrix :math:`\Sigma = GG^\top` of each sample, shape ``(batch, D, D)``."""
        if not self.noise.diffusive:
            return x.new_zeros(x.shape[0], x[0].numel(), x[0].numel())
        return self.noise.sigma_matrix(x, self._checked_g(x, self.g(x, t)))

    def div_sigma(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        r"""The row-wise divergence :math:`(\nabla\cdot\Sigma)_i = \sum_j \partial\Sigma_{ij}/\partial x_j`
        (book: eq-reverse-sde-general), shaped like ``x``: zero for additive noise, else exact by automatic
        differentiation (:meth:`scoresde.noise.NoiseStructure.div_sigma`); subclasses may give a closed form."""
        if self.additive or not self.noise.diffusive:
            return torch.zeros_like(x)
        t = _time(t, x)
        return self.noise.div_sigma(lambda y: self.g(y, t), x)

    def _checked_g(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return self.noise.check_g(x, g, type(self).__name__)

    # ------------------------------------------------------------------ closed forms: marginal and prior
    def marginal_prob(self, x0: torch.Tensor, t: torch.Tensor | float) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Mean (shaped like ``x0``) and standard deviation (``(batch,)``, isotropic) of the Gaussian transition law
        :math:`p_{0t}(x_t\mid x_0)`; ``NotImplementedError`` where this SDE has no Gaussian closed form."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form Gaussian marginal")

    @property
    def prior_std(self) -> float | None:
        r"""The standard deviation :math:`s` of the isotropic Gaussian prior :math:`\mathcal N(0, s^2I)` that the
        forward process approaches at ``T``, or ``None`` (no closed-form prior). Subclasses with a prior set this
        one number; :meth:`prior_sample` and :meth:`prior_logp` read it."""
        return None

    def prior_sample(self, shape: tuple[int, ...] | torch.Size, *, generator: torch.Generator | None = None,
                     dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> torch.Tensor:
        r"""Draw from the prior :math:`\mathcal N(0, s^2I)` (:attr:`prior_std`), shape ``shape``
        (``NotImplementedError`` without a closed-form prior)."""
        std = self._prior_std()
        device = draw_device(generator, device, dtype)
        shape = check_shape(shape, dtype=dtype, device=device)  # refused before allocation if it cannot fit
        return std * torch.randn(shape, generator=generator, dtype=dtype, device=device)

    def prior_logp(self, z: torch.Tensor) -> torch.Tensor:
        """Log density of the prior at ``z`` (shape ``(batch, *event)``), summed over the event: ``(batch,)``
        (``NotImplementedError`` without a closed-form prior)."""
        std = self._prior_std()
        check_tensor(z, "z", min_dim=2)
        return _gaussian_logp(z, std)

    def _prior_std(self) -> float:
        if (std := self.prior_std) is None:
            raise NotImplementedError(f"{type(self).__name__} has no closed-form prior")
        return std

    # ------------------------------------------------------------------ discrete chain and reverse time
    def discretize(self, x: torch.Tensor, t: torch.Tensor | float, dt: float) -> tuple[torch.Tensor, torch.Tensor]:
        r"""One step of size ``dt > 0`` as a chain :math:`x_{i+1} = x_i + f_i + G_i z_i`, :math:`z_i\sim\mathcal N(0,I)`
        (score_sde's ``SDE.discretize``): ``(f_i, G_i)``, by default Euler–Maruyama's :math:`f_i = f(x,t)\,\Delta t`,
        :math:`G_i = g(x,t)\sqrt{\Delta t}` (book: eq-em; zeros of ``x``'s shape for ``"none"``); :class:`VPSDE`
        and :class:`VESDE` override it with the DDPM and SMLD chains."""
        dt = check_positive_float(dt, "dt")
        check_time_between(t, 0.0, self.T)
        f = self.f(x, t) * dt
        return f, self.g(x, t) * math.sqrt(dt) if self.noise.diffusive else torch.zeros_like(x)

    def langevin_alpha(self, t: torch.Tensor | float, dt: float, like: torch.Tensor) -> torch.Tensor | None:
        r"""The factor :math:`\alpha_i = 1-\beta_i` (``(batch,)``) by which score_sde's Langevin corrector scales its
        step on this SDE (``alpha_factor=True``), or ``None``: declared by the VP family, ``None`` here."""
        return None

    def reverse(self, score_fn: ScoreFn, probability_flow: bool = False) -> ReverseSDE:
        r"""The reverse-time SDE driven by ``score_fn`` :math:`s(x, t)\approx\nabla_x\log p_t(x)` (called with ``x``
        of shape ``(batch, *event)`` and ``t`` of shape ``(batch,)``) (book: eq-reverse-sde-general), or with
        ``probability_flow`` the probability-flow ODE (book: eq-probability-flow): a :class:`ReverseSDE` with
        ``time_direction = -1``, solved on a decreasing grid from ``T`` to 0."""
        return ReverseSDE(self, score_fn, probability_flow=probability_flow)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(noise_type={self.noise_type!r}, T={self.T:g})"


class ReverseSDE(SDE):
    r"""The reverse-time SDE of a forward SDE, given its score (book: eq-reverse-sde-general).

    .. math:: \bar f(x,t) = f(x,t) - c\,\big[\nabla\cdot\Sigma(x,t) + \Sigma(x,t)\,s(x,t)\big],
              \qquad c = 1 \text{ (reverse SDE)},\ \tfrac12 \text{ (probability flow, no noise)},

    with the forward SDE's diffusion (or none). Time runs backwards: ``time_direction = -1``, and a solver
    steps with ``dt < 0``. Build it with :meth:`SDE.reverse`.
    """

    time_direction = -1
    sde_type = "ito"

    def __init__(self, forward: SDE, score_fn: ScoreFn, probability_flow: bool = False) -> None:
        if not isinstance(forward, SDE):
            raise TypeError(f"forward must be an SDE, got {type(forward).__name__}")
        if forward.sde_type != "ito":
            raise ValueError("reverse() needs an Itô SDE; convert a Stratonovich SDE to Itô form first")
        if forward.time_direction != 1:
            raise ValueError("reverse() needs a forward-time SDE (this one already runs backwards)")
        check_bool(probability_flow, "probability_flow")
        super().__init__(forward.T)
        self.forward = forward
        self.score_fn = check_callable(score_fn, "score_fn")
        self.probability_flow = probability_flow
        self.noise = noise_structure("none") if probability_flow else forward.noise
        self.noise_type, self.noise_dim = self.noise.name, forward.noise_dim
        self.additive = forward.additive

    def score(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """``score_fn(x, t)`` with ``t`` of shape ``(batch,)``, checked to be shaped like ``x``."""
        # finiteness is checked by the solver once per output time, not here (no device sync per step)
        return check_output_like(self.score_fn(x, _time(t, x)), x, "score_fn", finite=False)

    def f(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """The reverse drift :math:`\\bar f` (book: eq-reverse-sde-general)."""
        t = _time(t, x)
        lam = 0.5 if self.probability_flow else 1.0
        fwd = self.forward
        correction = fwd.sigma_prod(x, t, self.score(x, t))
        if not (fwd.additive or not fwd.noise.diffusive):
            correction = correction + fwd.div_sigma(x, t)
        return fwd.f(x, t) - lam * correction

    def discretize(self, x: torch.Tensor, t: torch.Tensor | float, dt: float) -> tuple[torch.Tensor, torch.Tensor]:
        r"""The reverse chain of the forward chain :math:`(f_i, G_i)` = ``forward.discretize(x, t, dt)``
        (score_sde's ``ReverseSDE.discretize``): a step from :math:`t` to :math:`t-\Delta t` is
        :math:`x \leftarrow x - \bar f_i + \bar G_i z` with

        .. math:: \bar f_i = f_i - c\,G_i^2\,s(x,t),\qquad \bar G_i = G_i \ (\text{reverse SDE},\ c=1),
                  \quad \bar G_i = 0\ (\text{probability flow},\ c=\tfrac12).

        Needs additive scalar or diagonal noise (the chain has no :math:`\nabla\cdot\Sigma` term).
        """
        fwd = self.forward
        if not (fwd.noise.elementwise and fwd.additive):
            raise ValueError(f"discretize needs additive scalar or diagonal noise; {fwd!r} has "
                             f"{'additive' if fwd.additive else 'state-dependent'} {fwd.noise_type!r} noise")
        f, G = fwd.discretize(x, t, dt)
        lam = 0.5 if self.probability_flow else 1.0
        rev_f = f - lam * fwd.apply_g(x, G.square(), self.score(x, t))
        return rev_f, torch.zeros_like(G) if self.probability_flow else G

    def g(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """The forward SDE's diffusion (the probability-flow ODE has none)."""
        if self.probability_flow:
            raise ValueError("the probability-flow ODE has no diffusion (noise_type 'none')")
        return self.forward.g(x, t)

    def div_sigma(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """The forward SDE's :math:`\\nabla\\cdot\\Sigma`."""
        return self.forward.div_sigma(x, t)

    @property
    def prior_std(self) -> float | None:
        """The forward SDE's prior: where the reverse process starts."""
        return self.forward.prior_std

    def __repr__(self) -> str:
        kind = "probability-flow ODE" if self.probability_flow else "reverse SDE"
        return f"ReverseSDE({kind} of {self.forward!r})"


class FunctionSDE(SDE):
    r"""Wrap your own drift and diffusion: :math:`\mathrm dx = f(x,t)\,\mathrm dt + G(x,t)\,\mathrm dW`.

    Args:
        f: drift, ``f(x, t) -> tensor shaped like x`` (``t`` of shape ``(batch,)``).
        g: diffusion, ``g(x, t)`` shaped as ``noise_type`` says (ignored and may be ``None`` for ``"none"``).
        noise_type: ``"scalar"``, ``"diagonal"``, ``"general"`` or ``"none"``.
        noise_dim: ``m`` for ``"general"`` noise (required there, forbidden otherwise).
        sde_type: ``"ito"`` or ``"stratonovich"``.
        additive: declare that ``g`` does not depend on ``x`` (lets solvers and :meth:`div_sigma` skip work;
            the Stratonovich solver ``"heun"`` accepts an Itô SDE only when this is ``True``).
        div_sigma: optional closed form of :math:`\nabla\cdot\Sigma` (else automatic differentiation).
        T: final time.
        time_direction: ``+1`` (solved on an increasing grid) or ``-1``: an SDE written in reverse time, solved
            on a decreasing grid from ``T`` down, as :meth:`SDE.reverse` is (torchsde asks for increasing times).
    """

    def __init__(
        self,
        f: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        g: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None,
        noise_type: NoiseType = "diagonal",
        *,
        noise_dim: int | None = None,
        sde_type: Literal["ito", "stratonovich"] = "ito",
        additive: bool = False,
        div_sigma: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        T: float = 1.0,
        time_direction: Literal[1, -1] = 1,
    ) -> None:
        super().__init__(T)
        if isinstance(time_direction, bool) or time_direction not in (1, -1):
            raise ValueError(f"time_direction must be 1 or -1, got {time_direction!r}")
        self.time_direction = int(time_direction)
        self._f = check_callable(f, "f")
        self.noise = noise_structure(noise_type, noise_dim)  # checks noise_type, and noise_dim against it
        self.noise_type, self.noise_dim = self.noise.name, self.noise.noise_dim
        self.sde_type = check_choice(sde_type, "sde_type", SDE_TYPES)
        if self.noise.diffusive:
            self._g = check_callable(g, "g")
        check_bool(additive, "additive")
        self.additive = additive or not self.noise.diffusive
        self._div_sigma = None if div_sigma is None else check_callable(div_sigma, "div_sigma")

    def f(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """The wrapped drift, called with ``t`` of shape ``(batch,)`` (its shape and dtype checked on every call)."""
        return check_same_shape_dtype(self._f(x, _time(t, x)), x, "the drift f(x, t)")

    def g(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """The wrapped diffusion, called with ``t`` of shape ``(batch,)``."""
        if not self.noise.diffusive:
            raise ValueError("this SDE has no diffusion (noise_type 'none')")
        return self._g(x, _time(t, x))

    def div_sigma(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """The closed form given as ``div_sigma`` (checked to be shaped like ``x``), else autograd."""
        if self._div_sigma is None:
            return super().div_sigma(x, t)
        return check_output_like(self._div_sigma(x, _time(t, x)), x, "div_sigma")


class BrownianMotion(SDE):
    r"""Brownian motion with drift, :math:`\mathrm dx = \mu\,\mathrm dt + \sigma\,\mathrm dW`.

    Exact solution :math:`x_t = x_0 + \mu t + \sigma W_t\sim\mathcal N(x_0+\mu t,\ \sigma^2 t)`
    (book: eq-bm-drift-law). ``mu = 0`` is pure diffusion.
    """

    noise_type = "scalar"
    additive = True

    def __init__(self, mu: float = 0.0, sigma: float = 1.0, T: float = 1.0) -> None:
        super().__init__(T)
        self.mu = check_real(mu, "mu")
        self.sigma = check_positive_float(sigma, "sigma")

    def f(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        return torch.full_like(x, self.mu)

    def g(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        return x.new_full((x.shape[0],), self.sigma)

    def marginal_prob(self, x0: torch.Tensor, t: torch.Tensor | float) -> tuple[torch.Tensor, torch.Tensor]:
        """:math:`\\mathcal N(x_0+\\mu t,\\ \\sigma^2 t)` (book: eq-bm-drift-law)."""
        t = _law_time(t, x0)
        return x0 + self.mu * as_column(t, x0), self.sigma * t.sqrt()

    def exact_solution(self, x0: torch.Tensor, t: torch.Tensor | float, w: torch.Tensor) -> torch.Tensor:
        """:math:`x_0 + \\mu t + \\sigma W_t` for the Brownian value ``w`` at time ``t`` (shaped like ``x0``)."""
        return x0 + self.mu * as_column(_law_time(t, x0), x0) + self.sigma * w


class OrnsteinUhlenbeck(SDE):
    r"""The Ornstein–Uhlenbeck process :math:`\mathrm dx = -\beta x\,\mathrm dt + \sigma\,\mathrm dW`.

    .. math:: \mathbb E[x_t] = x_0 e^{-\beta t},\qquad
              \operatorname{Var}[x_t] = \frac{\sigma^2}{2\beta}\big(1-e^{-2\beta t}\big)
              \qquad\text{(book: eq-ou-moments)}

    and the stationary law :math:`\mathcal N(0, \sigma^2/(2\beta))` is the prior.
    """

    noise_type = "scalar"
    additive = True

    def __init__(self, beta: float = 1.0, sigma: float = 1.0, T: float = 1.0) -> None:
        super().__init__(T)
        self.beta = check_positive_float(beta, "beta")
        self.sigma = check_positive_float(sigma, "sigma")

    @property
    def stationary_std(self) -> float:
        r""":math:`\sigma/\sqrt{2\beta}`."""
        return self.sigma / math.sqrt(2 * self.beta)

    def f(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        return -self.beta * x

    def g(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        return x.new_full((x.shape[0],), self.sigma)

    def marginal_prob(self, x0: torch.Tensor, t: torch.Tensor | float) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean :math:`x_0e^{-\\beta t}`, std :math:`\\sigma\\sqrt{(1-e^{-2\\beta t})/(2\\beta)}` (book: eq-ou-moments)."""
        t = _law_time(t, x0)
        mean = x0 * as_column(torch.exp(-self.beta * t), x0)
        return mean, self.stationary_std * (-torch.expm1(-2 * self.beta * t)).sqrt()

    @property
    def prior_std(self) -> float | None:
        """The stationary law :math:`\\mathcal N(0,\\sigma^2/(2\\beta) I)`."""
        return self.stationary_std


class GeometricBrownianMotion(SDE):
    r"""Geometric Brownian motion :math:`\mathrm dx = \mu x\,\mathrm dt + \sigma x\,\mathrm dW` (diagonal noise).

    Exact solution driven by the same Brownian path (book: eq-gbm-solution):

    .. math:: x_t = x_0\exp\!\big((\mu-\tfrac12\sigma^2)t + \sigma W_t\big),\qquad
              \mathbb E[x_t] = x_0e^{\mu t},\quad \operatorname{Var}[x_t] = x_0^2e^{2\mu t}(e^{\sigma^2t}-1).

    The law is log-normal, so there is no Gaussian :meth:`marginal_prob`; use :meth:`exact_solution`
    and :meth:`moments`. :math:`\nabla\cdot\Sigma = 2\sigma^2 x` in closed form.
    """

    noise_type = "diagonal"

    def __init__(self, mu: float = 1.0, sigma: float = 0.5, T: float = 1.0) -> None:
        super().__init__(T)
        self.mu = check_real(mu, "mu")
        self.sigma = check_positive_float(sigma, "sigma")

    def f(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        return self.mu * x

    def g(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        return self.sigma * x

    def div_sigma(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """:math:`\\partial(\\sigma^2x_i^2)/\\partial x_i = 2\\sigma^2x_i` (book: eq-rt-div-sigma)."""
        return 2 * self.sigma**2 * x

    def exact_solution(self, x0: torch.Tensor, t: torch.Tensor | float, w: torch.Tensor) -> torch.Tensor:
        """:math:`x_0\\exp((\\mu-\\sigma^2/2)t+\\sigma W_t)` (book: eq-gbm-solution)."""
        t = as_column(_law_time(t, x0), x0)
        return x0 * torch.exp((self.mu - 0.5 * self.sigma**2) * t + self.sigma * w)

    def moments(self, x0: torch.Tensor, t: torch.Tensor | float) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance of :math:`x_t` given :math:`x_0` (book: eq-gbm-solution)."""
        t = as_column(_law_time(t, x0), x0)
        mean = x0 * torch.exp(self.mu * t)
        return mean, mean.square() * torch.expm1(self.sigma**2 * t)


@register_sde("vp")
class VPSDE(SDE):
    r"""Variance-preserving SDE (Song et al., 2021; score_sde's parametrisation):

    .. math:: \mathrm dx = -\tfrac12\beta(t)x\,\mathrm dt + \sqrt{\beta(t)}\,\mathrm dW,\qquad
              \beta(t) = \beta_{\min} + t(\beta_{\max}-\beta_{\min}),

    with :math:`x_t\mid x_0\sim\mathcal N(\alpha_t x_0, (1-\alpha_t^2)I)`,
    :math:`\log\alpha_t = -\tfrac14t^2(\beta_{\max}-\beta_{\min}) - \tfrac12t\beta_{\min}`, and prior
    :math:`\mathcal N(0,I)`. ``schedule`` replaces the linear :math:`\beta(t)` by another
    :class:`~scoresde.noise_schedules.NoiseSchedule` (e.g. :class:`~scoresde.noise_schedules.CosineSchedule`;
    ``beta_min``, ``beta_max`` are then unused), with :math:`\log\alpha_t=-\tfrac12\int_0^t\beta`.
    """

    noise_type = "scalar"
    additive = True
    discrete_chain: str | None = "ddpm"
    variance_preserving = True

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0, T: float = 1.0,
                 schedule: NoiseSchedule | None = None) -> None:
        super().__init__(T)
        if schedule is None:
            schedule = LinearBeta(beta_min, beta_max)
        elif not isinstance(schedule, NoiseSchedule):
            raise TypeError(f"schedule must be a scoresde.noise_schedules.NoiseSchedule, got {type(schedule).__name__}")
        if getattr(schedule, "T", self.T) != self.T:
            raise ValueError(f"schedule's T ({schedule.T}) must be the SDE's T ({self.T})")  # type: ignore[attr-defined]
        self.schedule = schedule
        if isinstance(schedule, LinearBeta):
            self.beta_min, self.beta_max = schedule.beta_min, schedule.beta_max

    def beta(self, t: torch.Tensor) -> torch.Tensor:
        r""":math:`\beta(t)` of the schedule (linear: :math:`\beta_{\min} + t(\beta_{\max}-\beta_{\min})`)."""
        return self.schedule.beta(t)

    def log_mean_coeff(self, t: torch.Tensor) -> torch.Tensor:
        r""":math:`\log\alpha_t = -\tfrac12\int_0^t\beta(s)\,\mathrm ds`."""
        return -0.5 * self.schedule.integral(t)

    def f(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        r""":math:`-\tfrac12\beta(t)x`."""
        return -0.5 * as_column(self.beta(_time(t, x)), x) * x

    def g(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        r""":math:`\sqrt{\beta(t)}`, shape ``(batch,)``."""
        return self.beta(_time(t, x)).sqrt()

    def discrete_beta(self, t: torch.Tensor | float, dt: float, like: torch.Tensor) -> torch.Tensor:
        r"""The DDPM noise level of the step of size ``dt`` at ``t``: :math:`\beta_i = \beta(t)\,\Delta t`, shape
        ``(batch,)`` (score_sde's ``discrete_betas`` with :math:`\Delta t = T/N`, read at :math:`t` itself
        instead of at the index :math:`\lfloor t(N-1)/T\rfloor`).

        Raises:
            ValueError: ``dt <= 0``, or :math:`\beta_i \ge 1` (the step is too large for the chain).
        """
        beta = self.beta(_time(t, like)) * check_positive_float(dt, "dt")
        if bool((beta >= 1).any()):
            raise ValueError(f"dt = {dt:g} is too large: beta(t) * dt reaches {float(beta.max()):.3g} >= 1")
        return beta

    def langevin_alpha(self, t: torch.Tensor | float, dt: float, like: torch.Tensor) -> torch.Tensor | None:
        r""":math:`\alpha_i = 1-\beta_i` with :math:`\beta_i` of :meth:`discrete_beta` (the VP and sub-VP SDEs)."""
        return 1 - self.discrete_beta(t, dt, like)

    def discretize(self, x: torch.Tensor, t: torch.Tensor | float, dt: float) -> tuple[torch.Tensor, torch.Tensor]:
        r"""The DDPM chain :math:`x_{i+1} = \sqrt{1-\beta_i}\,x_i + \sqrt{\beta_i}\,z_i`:
        :math:`f_i = (\sqrt{1-\beta_i}-1)\,x`, :math:`G_i = \sqrt{\beta_i}` with :math:`\beta_i` of
        :meth:`discrete_beta` (score_sde's ``VPSDE.discretize``)."""
        check_time_between(t, 0.0, self.T)
        beta = self.discrete_beta(t, dt, x)
        return (as_column(torch.sqrt(1 - beta), x) - 1) * x, beta.sqrt()

    def marginal_prob(self, x0: torch.Tensor, t: torch.Tensor | float) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Mean :math:`\alpha_tx_0`, std :math:`\sqrt{1-\alpha_t^2}`."""
        lmc = self.log_mean_coeff(_law_time(t, x0))
        return as_column(lmc.exp(), x0) * x0, (-torch.expm1(2 * lmc)).sqrt()

    @property
    def prior_std(self) -> float | None:
        """The prior :math:`\\mathcal N(0, I)`."""
        return 1.0


@register_sde("vp_cosine")
class CosineVPSDE(VPSDE):
    r"""The VP SDE with Nichol & Dhariwal's cosine schedule (:class:`~scoresde.noise_schedules.CosineSchedule`, its
    :math:`\beta` clipped at ``beta_max``): ``VPSDE(T=T, schedule=CosineSchedule(s, beta_max, T))`` under a name the
    CLI's ``--sde`` can take."""

    def __init__(self, s: float = 0.008, beta_max: float = 20.0, T: float = 1.0) -> None:
        super().__init__(T=T, schedule=CosineSchedule(s, beta_max, T))


@register_sde("subvp")
class SubVPSDE(VPSDE):
    r"""Sub-VP SDE (Song et al., 2021): :math:`\mathrm dx = -\tfrac12\beta(t)x\,\mathrm dt +
    \sqrt{\beta(t)(1-e^{-2\int_0^t\beta})}\,\mathrm dW`, with
    :math:`x_t\mid x_0\sim\mathcal N(\alpha_tx_0, (1-\alpha_t^2)^2I)` and prior :math:`\mathcal N(0,I)`."""

    #: score_sde has no special chain for the sub-VP SDE: Euler–Maruyama's (:meth:`SDE.discretize`)
    discretize = SDE.discretize
    discrete_chain = None
    variance_preserving = False  # its kernel's std is 1 - alpha_t^2

    def g(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        r""":math:`\sqrt{\beta(t)(1-\alpha_t^4)}`, shape ``(batch,)``."""
        t = _time(t, x)
        return (self.beta(t) * -torch.expm1(4 * self.log_mean_coeff(t))).sqrt()

    def marginal_prob(self, x0: torch.Tensor, t: torch.Tensor | float) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Mean :math:`\alpha_tx_0`, std :math:`1-\alpha_t^2`."""
        lmc = self.log_mean_coeff(_law_time(t, x0))
        return as_column(lmc.exp(), x0) * x0, -torch.expm1(2 * lmc)


@register_sde("ve")
class VESDE(SDE):
    r"""Variance-exploding SDE (Song et al., 2021; score_sde's parametrisation):

    .. math:: \mathrm dx = \sigma(t)\sqrt{2\log(\sigma_{\max}/\sigma_{\min})}\,\mathrm dW,\qquad
              \sigma(t) = \sigma_{\min}(\sigma_{\max}/\sigma_{\min})^t .

    The exact transition law is :math:`\mathcal N(x_0, (\sigma(t)^2-\sigma_{\min}^2)I)` (score_sde uses the
    approximation :math:`\sigma(t)`, which treats :math:`x_0` as already perturbed at level
    :math:`\sigma_{\min}`); prior :math:`\mathcal N(0,\sigma_{\max}^2I)`.
    """

    noise_type = "scalar"
    additive = True
    discrete_chain = "smld"

    def __init__(self, sigma_min: float = 0.01, sigma_max: float = 50.0, T: float = 1.0) -> None:
        super().__init__(T)
        self.sigma_min = check_positive_float(sigma_min, "sigma_min")
        self.sigma_max = check_positive_float(sigma_max, "sigma_max")
        if self.sigma_max <= self.sigma_min:
            raise ValueError(f"sigma_max ({sigma_max}) must be > sigma_min ({sigma_min})")

    def sigma_t(self, t: torch.Tensor) -> torch.Tensor:
        r""":math:`\sigma(t) = \sigma_{\min}(\sigma_{\max}/\sigma_{\min})^t`."""
        return self.sigma_min * (self.sigma_max / self.sigma_min) ** t

    def f(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """Zero: the VE SDE has no drift."""
        return torch.zeros_like(x)

    def g(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        r""":math:`\sigma(t)\sqrt{2\log(\sigma_{\max}/\sigma_{\min})}`, shape ``(batch,)``."""
        return self.sigma_t(_time(t, x)) * math.sqrt(2 * math.log(self.sigma_max / self.sigma_min))

    def discrete_sigmas(
        self, t: torch.Tensor | float, dt: float, like: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        r"""The SMLD noise levels of the step of size ``dt`` at ``t``: :math:`\sigma_i = \sigma(t)` and
        :math:`\sigma_{i-1} = \sigma(t-\Delta t)`, with :math:`\sigma_{i-1} = 0` when :math:`t-\Delta t < 0`
        (score_sde's ``discrete_sigmas`` and its ``adjacent_sigma``: :math:`\sigma(0)=\sigma_{\min}` is the first
        level, zero lies below it); each ``(batch,)``."""
        t = _time(t, like)
        dt = check_positive_float(dt, "dt")
        prev = t - dt
        above = prev > -1e-6 * dt  # t - dt = 0 up to rounding is the first level
        return self.sigma_t(t), torch.where(above, self.sigma_t(prev.clamp_min(0)), torch.zeros_like(t))

    def discretize(self, x: torch.Tensor, t: torch.Tensor | float, dt: float) -> tuple[torch.Tensor, torch.Tensor]:
        r"""The SMLD chain :math:`x_{i+1} = x_i + \sqrt{\sigma_{i+1}^2-\sigma_i^2}\,z_i`: :math:`f_i = 0`,
        :math:`G_i = \sqrt{\sigma_i^2-\sigma_{i-1}^2}` with the levels of :meth:`discrete_sigmas`
        (score_sde's ``VESDE.discretize``)."""
        check_time_between(t, 0.0, self.T)
        sigma, prev = self.discrete_sigmas(t, dt, x)
        return torch.zeros_like(x), torch.sqrt(sigma.square() - prev.square())

    def marginal_prob(self, x0: torch.Tensor, t: torch.Tensor | float) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Mean :math:`x_0`, std :math:`\sqrt{\sigma(t)^2-\sigma_{\min}^2}` (exact)."""
        s = self.sigma_t(_law_time(t, x0))
        return x0, (s.square() - self.sigma_min**2).clamp_min(0).sqrt()

    @property
    def prior_std(self) -> float | None:
        """The prior :math:`\\mathcal N(0, \\sigma_{\\max}^2 I)`."""
        return self.sigma_max


def check_forward_sde(sde: Any, why: str) -> SDE:
    """Return ``sde`` if it is a forward-time :class:`SDE` (``time_direction == 1``), else raise.

    ``why`` ends the message of the ``ValueError``, e.g. ``"the samplers build its reverse with sde.reverse"``.
    """
    if not isinstance(sde, SDE):
        raise TypeError(f"sde must be a scoresde.sde.SDE, got {type(sde).__name__}")
    if sde.time_direction != 1:
        raise ValueError(f"sde must be the forward SDE ({why})")
    return sde
