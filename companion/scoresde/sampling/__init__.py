"""Samplers that need only a score: Langevin dynamics, and the reverse-time SDE samplers of chapter 5 with
their predictors and corrector.

A short re-export list; each sampler lives in its own module.
"""

from .correctors import LangevinCorrector
from .langevin import annealed_langevin, langevin, langevin_step
from .predictors import AncestralSamplingPredictor, ReverseDiffusionPredictor
from .registry import (
    CORRECTORS,
    PREDICTORS,
    SAMPLERS,
    register_corrector,
    register_predictor,
    register_sampler,
)
from .reverse import ode_methods, predictor_corrector_sample, probability_flow_sample, reverse_sde_sample

__all__ = [
    "langevin_step",
    "LangevinCorrector",
    "ReverseDiffusionPredictor",
    "AncestralSamplingPredictor",
    "PREDICTORS",
    "CORRECTORS",
    "SAMPLERS",
    "register_predictor",
    "register_corrector",
    "register_sampler",
    "ode_methods",
    "langevin",
    "annealed_langevin",
    "reverse_sde_sample",
    "predictor_corrector_sample",
    "probability_flow_sample",
]
