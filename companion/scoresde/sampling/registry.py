r"""The registries of the samplers' parts, each filled by a decorator where the part is defined:

* :data:`PREDICTORS`: the predictors of :func:`~scoresde.sampling.predictor_corrector_sample`: every registered
  solver of :mod:`scoresde.solvers` that accepts additive noise (a reverse SDE's noise is additive), then the
  discrete-chain predictors registered with :func:`register_predictor`;
* :data:`CORRECTORS`: corrector classes, built as ``cls(snr=..., n_steps=..., alpha_factor=...)``
  (:func:`register_corrector`);
* :data:`SAMPLERS`: the ``--sampler`` choices of ``python -m scoresde.cli``, functions
  ``fn(sde, score_fn, shape, *, n_steps, snr, predictor, corrector, generator, progress)`` that may ignore the
  options they do not use (:func:`register_sampler`).

A new predictor, corrector or sampler is one decorated definition; the CLI's choices and the samplers'
accepted names are read from here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch

from .._registry import Registry
from ..solvers import SOLVERS, Corrector, Solver

__all__ = ["PREDICTORS", "CORRECTORS", "SAMPLERS", "register_predictor", "register_corrector", "register_sampler"]

S = TypeVar("S", bound=type[Solver])
C = TypeVar("C", bound=type[Corrector])
F = TypeVar("F", bound=Callable[..., torch.Tensor])

#: predictor name -> solver object: the solvers that accept additive noise, then the registered predictors
PREDICTORS: Registry[Solver] = SOLVERS.view("predictor", lambda s: "additive" in s.noise_types,
                                            build=lambda cls: cls())
#: corrector name -> corrector class
CORRECTORS: Registry[Callable[..., Corrector]] = Registry("corrector")
#: ``--sampler`` name -> sampling function of the CLI
SAMPLERS: Registry[Callable[..., torch.Tensor]] = Registry("sampler")


def register_predictor(cls: S) -> S:
    """Class decorator: register one instance of the predictor (a :class:`~scoresde.solvers.Solver`) ``cls``."""
    if not (isinstance(cls, type) and issubclass(cls, Solver)):
        raise TypeError(f"register_predictor decorates a Solver subclass, got {cls!r}")
    return PREDICTORS.register(cls)


def register_corrector(cls: C) -> C:
    """Class decorator: register the :class:`~scoresde.solvers.Corrector` subclass ``cls`` under its ``name``."""
    if not (isinstance(cls, type) and issubclass(cls, Corrector)):
        raise TypeError(f"register_corrector decorates a Corrector subclass, got {cls!r}")
    return CORRECTORS.register(cls)


def register_sampler(name: str) -> Callable[[F], F]:
    """Function decorator: register a CLI sampler under ``name`` (see the module docstring for its call)."""

    def add(fn: F) -> F:
        SAMPLERS.register(fn, name=name)
        return fn

    return add


def sampler_help() -> str:
    """One line per registered sampler: its name and the first line of its docstring (the CLI's help)."""
    return "; ".join(f"{n}: {(fn.__doc__ or '').strip().splitlines()[0].rstrip('.')}" if fn.__doc__ else n
                     for n, fn in SAMPLERS.items())
