"""The method names of :func:`scoresde.solvers.solve` and the solver objects they stand for."""

from __future__ import annotations

from .base import Solver
from .euler import EulerMaruyama
from .heun import StochasticHeun
from .milstein import Milstein

__all__ = ["METHODS", "SOLVERS", "get_solver"]

#: method name -> solver object (solvers hold no state: one instance serves every call)
SOLVERS: dict[str, Solver] = {s.name: s for s in (EulerMaruyama(), Milstein(), StochasticHeun())}
METHODS: tuple[str, ...] = tuple(SOLVERS)


def get_solver(method: str | Solver, name: str = "method") -> Solver:
    """The solver object for a method name of :data:`METHODS`, or ``method`` itself if it is a :class:`Solver`."""
    if isinstance(method, Solver):
        return method
    if not isinstance(method, str):
        raise TypeError(f"{name} must be one of {METHODS} or a scoresde.solvers.Solver, got {type(method).__name__}")
    if method not in SOLVERS:
        raise ValueError(f"unknown {name} {method!r}; expected one of {METHODS} or a scoresde.solvers.Solver")
    return SOLVERS[method]
