"""Samplers that need only a score: Langevin dynamics, and the reverse-time SDE samplers of chapter 5 with
their predictors and corrector.

A short re-export list; each sampler lives in its own module.
"""

from .correctors import LangevinCorrector
from .langevin import annealed_langevin, langevin, langevin_step
from .predictors import PREDICTORS, AncestralSamplingPredictor, ReverseDiffusionPredictor
from .reverse import predictor_corrector_sample, probability_flow_sample, reverse_sde_sample

__all__ = [
    "langevin_step",
    "LangevinCorrector",
    "ReverseDiffusionPredictor",
    "AncestralSamplingPredictor",
    "PREDICTORS",
    "langevin",
    "annealed_langevin",
    "reverse_sde_sample",
    "predictor_corrector_sample",
    "probability_flow_sample",
]
