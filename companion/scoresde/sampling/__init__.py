"""Samplers that need only a score: Langevin dynamics, the reverse-time SDE samplers of chapter 5 with
their predictors and corrector, and chapter 9's few-step samplers (DDIM, DPM-Solver, EDM's Heun, the velocity ODE)
on Gaussian paths with their time-step schedules.

A short re-export list; each sampler lives in its own module.
"""

from .correctors import LangevinCorrector
from .ddim import ddim_sample, ddim_step
from .dpm_solver import dpm_solver_2_sample, dpm_solver_2_step, dpm_solver_pp_2m_sample, dpm_solver_pp_2m_step
from .edm import edm_heun_sample
from .few_step import FEW_STEP_SAMPLERS, SamplerSpec, sample_with_nfe, steps_for_nfe
from .flow import flow_sample
from .gaussian_path import GaussianPath, LinearPath, VPPath
from .langevin import annealed_langevin, langevin, langevin_step
from .parametrisations import KINDS, Prediction, from_x0_eps, to_x0_eps
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
from .schedules import SCHEDULES, KarrasSigma, LogSNRUniform, TimeSchedule, UniformTime

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
    "GaussianPath",
    "VPPath",
    "LinearPath",
    "KINDS",
    "to_x0_eps",
    "from_x0_eps",
    "Prediction",
    "TimeSchedule",
    "UniformTime",
    "LogSNRUniform",
    "KarrasSigma",
    "SCHEDULES",
    "ddim_step",
    "ddim_sample",
    "dpm_solver_2_step",
    "dpm_solver_pp_2m_step",
    "dpm_solver_2_sample",
    "dpm_solver_pp_2m_sample",
    "edm_heun_sample",
    "flow_sample",
    "SamplerSpec",
    "FEW_STEP_SAMPLERS",
    "steps_for_nfe",
    "sample_with_nfe",
]
