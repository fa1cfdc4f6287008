r"""What a fixed-step solver declares, and the one compatibility check that reads those declarations.

As in diffrax and torchsde, a solver states its orders of convergence, the calculus whose solution it
converges to, and the kinds of noise it accepts; :func:`scoresde.solvers.solve` checks an SDE against these
attributes once, before the first step, instead of an if-chain per method:

* ``orders``: for each noise structure of :func:`noise_structure` it accepts, its strong order :math:`p`,
  :math:`\mathbb E|X_N - x(T)| = O(\Delta t^{p})`, and weak order :math:`q`,
  :math:`|\mathbb E\,\varphi(X_N) - \mathbb E\,\varphi(x(T))| = O(\Delta t^{q})` (book: eq-em-orders). The orders
  depend on the noise (Euler–Maruyama: strong ½ in general, 1 for additive noise; stochastic Heun: strong ½ for
  non-commutative noise, weak 2 for additive noise), so they are declared per structure, and
  ``tests/test_solver_orders.py`` measures every declared pair on closed-form problems;
* ``calculus``: ``"ito"`` and/or ``"stratonovich"``, the reading of :math:`\int G\,\mathrm dW` whose
  solution it converges to when the noise is multiplicative (for additive noise the two readings agree);
* ``noise_types``: the structures it accepts, the keys of ``orders``.

A :class:`Corrector` is a step at a fixed time (e.g. Langevin MCMC) that :func:`~scoresde.solvers.solve` runs
before each solver step: the predictor–corrector sampler is a solver (the predictor) plus a corrector.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple

import torch

from .._checks import check_bool, check_choice, check_positive_float
from ..brownian import Increment
from ..sde import SDE, SDE_TYPES

__all__ = ["NOISE_STRUCTURES", "Order", "Solver", "Corrector", "noise_structure", "check_compatible"]

#: the noise structures :func:`noise_structure` tells apart (torchsde's noise types, plus ``"none"``; torchsde's
#: "scalar", one Brownian motion shared by every coordinate, is ``"shared"`` here)
NOISE_STRUCTURES: tuple[str, ...] = ("none", "additive", "diagonal", "shared", "scalar", "general")


class Order(NamedTuple):
    """A solver's declared strong and weak order of convergence on one noise structure."""

    strong: float
    weak: float

_CALCULUS_NAMES = {"ito": "Itô", "stratonovich": "Stratonovich"}

_WHY_NOT = {
    "none": "no noise (an ODE)",
    "general": "general (matrix) noise, whose iterated integrals need Lévy areas",
    "scalar": "state-dependent scalar noise g(x) I, which is diagonal only when each g_i depends on x_i alone: "
              "use noise_type 'diagonal'",
}


def _subset(values: Any, name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """``values`` as a non-empty tuple of entries of ``allowed``, else raise naming the declaration."""
    if isinstance(values, str) or not isinstance(values, (tuple, list)) or not values:
        raise TypeError(f"a solver's {name} must be a non-empty tuple of {allowed}, got {values!r}")
    for v in values:
        check_choice(v, f"entry of {name}", allowed)
    return tuple(values)


def noise_structure(sde: SDE, x0: torch.Tensor) -> str:
    r"""The structure of :math:`G` that decides which solvers apply, one of :data:`NOISE_STRUCTURES`.

    ``"none"`` (an ODE); ``"additive"`` (:math:`G` independent of :math:`x`); ``"diagonal"`` (each
    :math:`g_i` depends on :math:`x_i` only: diagonal noise, or scalar noise on a one-coordinate state);
    ``"shared"`` (one Brownian motion drives every coordinate: general noise with ``noise_dim = 1``,
    torchsde's "scalar"; commutative); ``"scalar"`` (:math:`g(x)I` on a state of several coordinates, which
    couples them); ``"general"``.
    """
    if not sde.noise.diffusive:
        return "none"
    if sde.additive:
        return "additive"
    return sde.noise.solver_class(x0[0].numel())  # declared by the SDE's scoresde.noise.NoiseStructure


class Solver(abc.ABC):
    r"""A one-step method :math:`X_{n+1} = \Phi(X_n, t_n, \Delta t, \Delta W_n)` with its declared properties.

    A subclass declares them as class keywords, checked when the class is made, and implements :meth:`step`::

        class EulerMaruyama(Solver, name="euler", calculus=("ito",),
                            orders={"additive": (1.0, 1.0), "diagonal": (0.5, 1.0), ...}): ...

    ``orders`` maps each accepted noise structure (:data:`NOISE_STRUCTURES`) to ``(strong, weak)``; a solver that
    needs the space–time Lévy area :math:`H` of each step declares ``levy_area=True`` and its steps receive it in
    the :class:`~scoresde.brownian.Increment`.
    :meth:`check_sde` may refuse an SDE for reasons the declarations cannot express (e.g. a predictor that
    needs a reverse-time SDE).
    """

    name: ClassVar[str]
    orders: ClassVar[dict[str, Order]]
    calculus: ClassVar[tuple[str, ...]]
    levy_area: ClassVar[bool]

    def __init_subclass__(
        cls, *, name: str, orders: Mapping[str, tuple[float, float]], calculus: tuple[str, ...],
        levy_area: bool = False, **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.levy_area = check_bool(levy_area, "levy_area")
        if not isinstance(name, str) or not name:
            raise TypeError(f"a solver's name must be a non-empty string, got {name!r}")
        cls.name = name
        cls.calculus = _subset(calculus, "calculus", SDE_TYPES)
        if not isinstance(orders, Mapping) or not orders:
            raise TypeError(f"a solver's orders must be a non-empty mapping of noise structure to (strong, weak), "
                            f"got {orders!r}")
        cls.orders = {}
        for structure, pair in orders.items():
            check_choice(structure, "noise structure of orders", NOISE_STRUCTURES)
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise TypeError(f"orders[{structure!r}] must be a pair (strong, weak), got {pair!r}")
            cls.orders[structure] = Order(check_positive_float(pair[0], f"orders[{structure!r}] strong order"),
                                          check_positive_float(pair[1], f"orders[{structure!r}] weak order"))

    @property
    def noise_types(self) -> tuple[str, ...]:
        """The noise structures this solver accepts (the keys of :attr:`orders`)."""
        return tuple(self.orders)

    @abc.abstractmethod
    def step(self, sde: SDE, x: torch.Tensor, t: torch.Tensor, dt: float, inc: Increment | None,
             t_next: torch.Tensor) -> torch.Tensor:
        r"""One step from :math:`t` (shape ``(batch,)``) to ``t_next`` with the signed step ``dt`` and the noise
        ``inc``: the Brownian increment ``inc.dW`` of variance :math:`|\Delta t|` and, if the solver declares
        ``levy_area``, the space–time Lévy area ``inc.H`` (``inc`` is ``None`` for an SDE without noise)."""

    def check_sde(self, sde: SDE, x0: torch.Tensor, t0: torch.Tensor) -> None:
        """Refuse ``sde`` for a reason beyond :attr:`calculus` and :attr:`noise_types`, given the initial state
        ``x0`` at the times ``t0`` (shape ``(batch,)``) (default: accept)."""

    def __repr__(self) -> str:
        orders = ", ".join(f"{k}: {o.strong:g}/{o.weak:g}" for k, o in self.orders.items())
        return f"{type(self).__name__}(calculus={self.calculus}, strong/weak orders {{{orders}}})"


class Corrector(abc.ABC):
    r"""A move at a fixed time :math:`t` that keeps the marginal :math:`p_t` invariant (e.g. Langevin MCMC),
    run by :func:`~scoresde.solvers.solve` before each solver step."""

    name: ClassVar[str]

    @abc.abstractmethod
    def step(self, sde: SDE, x: torch.Tensor, t: torch.Tensor, dt: float,
             generator: torch.Generator | None) -> torch.Tensor:
        """Correct ``x`` at time ``t`` (shape ``(batch,)``); ``dt > 0`` is the size of the solver step that
        follows; the noise is drawn from ``generator``."""

    def check_sde(self, sde: SDE) -> None:
        """Refuse an SDE this corrector cannot use (default: accept)."""


def check_compatible(
    solver: Solver, sde: SDE, x0: torch.Tensor, t0: torch.Tensor, solvers: Mapping[str, Solver]
) -> None:
    """Refuse a solver that would converge to the wrong solution of ``sde`` or does not accept its noise.

    Reads only the declared attributes (and :meth:`Solver.check_sde`); ``solvers`` (name to solver) supplies
    the alternatives named in the message.
    """
    structure = noise_structure(sde, x0)
    if structure not in solver.noise_types:
        why = _WHY_NOT.get(structure, f"{structure} noise")
        ok = [n for n, s in solvers.items() if structure in s.noise_types]
        needs = [n for n in solver.noise_types if n not in ("none", "additive")] or ["additive"]
        raise ValueError(f"{solver.name} needs {' or '.join(needs)} noise, but {type(sde).__name__} has {why}; "
                         f"use method={' or '.join(map(repr, ok))}")
    if structure not in ("none", "additive") and sde.sde_type not in solver.calculus:
        ok = [n for n, s in solvers.items() if sde.sde_type in s.calculus and structure in s.noise_types]
        raise ValueError(
            f"{solver.name} converges to the {_CALCULUS_NAMES[solver.calculus[0]]} solution; for a "
            f"{_CALCULUS_NAMES[sde.sde_type]} SDE with multiplicative noise use method={' or '.join(map(repr, ok))}"
            " (or declare additive noise)"
        )
    solver.check_sde(sde, x0, t0)
