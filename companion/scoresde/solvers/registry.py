"""The method names of :func:`scoresde.solvers.solve`: the registry :data:`SOLVERS` that each solver class joins
with the decorator :func:`register_solver` where it is defined (a new solver is one file)."""

from __future__ import annotations

from typing import TypeVar

from .._registry import Registry
from .base import Solver

__all__ = ["SOLVERS", "register_solver", "get_solver", "methods"]

S = TypeVar("S", bound=type[Solver])

#: method name -> solver object (solvers hold no state: one instance serves every call), in registration order
SOLVERS: Registry[Solver] = Registry("solver", build=lambda cls: cls())


def register_solver(cls: S) -> S:
    """Class decorator: register one instance of the :class:`Solver` subclass ``cls`` under its declared ``name``."""
    if not (isinstance(cls, type) and issubclass(cls, Solver)):
        raise TypeError(f"register_solver decorates a Solver subclass, got {cls!r}")
    return SOLVERS.register(cls)


def methods() -> tuple[str, ...]:
    """The method names :func:`scoresde.solvers.solve` accepts now (every registered solver)."""
    return SOLVERS.names


def get_solver(method: str | Solver, name: str = "method") -> Solver:
    """The solver object for a registered method name, or ``method`` itself if it is a :class:`Solver`."""
    if isinstance(method, Solver):
        return method
    if not isinstance(method, str):
        raise TypeError(f"{name} must be one of {SOLVERS.names} or a scoresde.solvers.Solver, "
                        f"got {type(method).__name__}")
    if method not in SOLVERS:
        raise ValueError(f"unknown {name} {method!r}; expected one of {SOLVERS.names} or a scoresde.solvers.Solver")
    return SOLVERS[method]
