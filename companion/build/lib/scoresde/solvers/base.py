r"""What a fixed-step solver declares, and the one compatibility check that reads those declarations.

As in diffrax and torchsde, a solver states its orders of convergence, the calculus whose solution it
converges to, and the kinds of noise it accepts; :func:`scoresde.solvers.solve` checks an SDE against these
attributes once, before the first step, instead of an if-chain per method:

* ``strong_order``: :math:`\mathbb E|X_N - x(T)| = O(\Delta t^{p})` for the noise it accepts (book: eq-em-orders);
* ``weak_order``: :math:`|\mathbb E\,\varphi(X_N) - \mathbb E\,\varphi(x(T))| = O(\Delta t^{q})`;
* ``calculus``: ``"ito"`` and/or ``"stratonovich"``, the reading of :math:`\int G\,\mathrm dW` whose
  solution it converges to when the noise is multiplicative (for additive noise the two readings agree);
* ``noise_types``: the noise structures of :func:`noise_structure` it accepts.

A :class:`Corrector` is a step at a fixed time (e.g. Langevin MCMC) that :func:`~scoresde.solvers.solve` runs
before each solver step: the predictor–corrector sampler is a solver (the predictor) plus a corrector.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import torch

from .._checks import check_choice, check_positive_float
from ..sde import SDE, SDE_TYPES

__all__ = ["NOISE_STRUCTURES", "Solver", "Corrector", "noise_structure", "check_compatible"]

#: the noise structures :func:`noise_structure` tells apart (torchsde's noise types, plus ``"none"``)
NOISE_STRUCTURES: tuple[str, ...] = ("none", "additive", "diagonal", "scalar", "general")

_CALCULUS_NAMES = {"ito": "Itô", "stratonovich": "Stratonovich"}

_WHY_NOT = {
    "none": "no noise (an ODE)",
    "general": "general (matrix) noise needs Lévy areas",
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
    ``"scalar"`` (:math:`g(x)I` on a state of several coordinates, which couples them); ``"general"``.
    """
    if sde.noise_type == "none":
        return "none"
    if sde.additive:
        return "additive"
    if sde.noise_type == "scalar" and x0[0].numel() == 1:
        return "diagonal"
    return sde.noise_type


class Solver(abc.ABC):
    r"""A one-step method :math:`X_{n+1} = \Phi(X_n, t_n, \Delta t, \Delta W_n)` with its declared properties.

    A subclass declares them as class keywords, checked when the class is made, and implements :meth:`step`::

        class EulerMaruyama(Solver, name="euler", strong_order=0.5, weak_order=1.0, calculus=("ito",)): ...

    (``noise_types`` defaults to all of :data:`NOISE_STRUCTURES`). :meth:`check_sde` may refuse an SDE for
    reasons the declarations cannot express (e.g. a predictor that needs a reverse-time SDE).
    """

    name: ClassVar[str]
    strong_order: ClassVar[float]
    weak_order: ClassVar[float]
    calculus: ClassVar[tuple[str, ...]]
    noise_types: ClassVar[tuple[str, ...]]

    def __init_subclass__(
        cls, *, name: str, strong_order: float, weak_order: float, calculus: tuple[str, ...],
        noise_types: tuple[str, ...] = NOISE_STRUCTURES, **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if not isinstance(name, str) or not name:
            raise TypeError(f"a solver's name must be a non-empty string, got {name!r}")
        cls.name = name
        cls.strong_order = check_positive_float(strong_order, "strong_order")
        cls.weak_order = check_positive_float(weak_order, "weak_order")
        cls.calculus = _subset(calculus, "calculus", SDE_TYPES)
        cls.noise_types = _subset(noise_types, "noise_types", NOISE_STRUCTURES)

    @abc.abstractmethod
    def step(self, sde: SDE, x: torch.Tensor, t: torch.Tensor, dt: float, dw: torch.Tensor | None,
             t_next: torch.Tensor) -> torch.Tensor:
        r"""One step from :math:`t` (shape ``(batch,)``) to ``t_next`` with the signed step ``dt`` and the
        Brownian increment ``dw`` of variance :math:`|\Delta t|` (``None`` for an SDE without noise)."""

    def check_sde(self, sde: SDE, x0: torch.Tensor, t0: torch.Tensor) -> None:
        """Refuse ``sde`` for a reason beyond :attr:`calculus` and :attr:`noise_types`, given the initial state
        ``x0`` at the times ``t0`` (shape ``(batch,)``) (default: accept)."""

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(strong_order={self.strong_order:g}, weak_order={self.weak_order:g}, "
                f"calculus={self.calculus}, noise_types={self.noise_types})")


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
    solver: Solver, sde: SDE, x0: torch.Tensor, t0: torch.Tensor, solvers: dict[str, Solver]
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
