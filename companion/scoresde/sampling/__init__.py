"""Samplers that need only a score: Langevin dynamics here; the reverse-time SDE samplers join for chapter 5.

A short re-export list; each sampler lives in its own module.
"""

from .langevin import annealed_langevin, langevin

__all__ = [
    "langevin",
    "annealed_langevin",
]
