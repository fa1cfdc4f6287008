"""Samplers that need only a score: Langevin dynamics here; the reverse-time SDE samplers join for chapter 5.

A short re-export list; each sampler lives in its own module.
"""

from .langevin import annealed_langevin, langevin
from .reverse import predictor_corrector_sample, probability_flow_sample, reverse_sde_sample

__all__ = [
    "langevin",
    "annealed_langevin",
    "reverse_sde_sample",
    "predictor_corrector_sample",
    "probability_flow_sample",
]
