"""The references and hidden cases of the book's code exercises, keyed by label, for :mod:`scoresde.exercises`.

``scoresde.exercises.check("ex-02-ula-code", ula_step)`` runs the student's function on the cases below and compares
it with the reference (:func:`scoresde.exercises.code.run_cases`). Each reference calls the package's own function
for the idea (:func:`~scoresde.losses.sliced_score_matching`, :func:`~scoresde.sampling.langevin.langevin_step`,
:func:`~scoresde.solvers.euler.euler_maruyama_step`, :meth:`~scoresde.sde.VPSDE.marginal_prob`,
:meth:`~scoresde.sde.SDE.div_sigma`), so the self-check and the library cannot drift apart;
``tests/test_exercise_references.py`` tests each against an independent hand-written solution.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..losses import _shared_vjp, sliced_score_matching
from ..sampling.langevin import langevin_step
from ..sampling.parametrisations import to_x0_eps
from ..sde import VPSDE, FunctionSDE
from ..solvers.euler import euler_maruyama_step
from .code import CodeCase, CodeExercise

__all__ = ["REFERENCES"]

_F64 = torch.float64


# ---- references (the solutions of the notebooks' coding exercises) ----------------------------------------


def _ssm_per_sample(score: Callable, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return sliced_score_matching(score, x, probes=v[None], method="vjp", reduction="none").detach()


def _ssm_shared(score: Callable, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    s, grads = _shared_vjp(score, x.detach(), v)  # one forward pass, M vector-Jacobian products
    return (0.5 * (v * s).sum(-1) ** 2 + (v * grads).sum(-1)).detach()


def _energy_score(energy: Callable, x: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(energy(x).sum(), x)
    return -grad


def _ula_step(score: Callable, x: torch.Tensor, eps: float, z: torch.Tensor) -> torch.Tensor:
    return langevin_step(x, score(x), eps, z)


def _ito_sum(W: torch.Tensor) -> torch.Tensor:
    return (W[:-1] * (W[1:] - W[:-1])).sum(dim=0)


def _em_step(f: Callable, g: Callable, x: torch.Tensor, t: torch.Tensor, dt: float, dw: torch.Tensor) -> torch.Tensor:
    return euler_maruyama_step(FunctionSDE(f, g, "diagonal"), x, t, dt, dw)


def _vp_perturb(x0: torch.Tensor, t: torch.Tensor, z: torch.Tensor, beta_min: float = 0.1,
                beta_max: float = 20.0) -> torch.Tensor:
    mean, std = VPSDE(beta_min=beta_min, beta_max=beta_max).marginal_prob(x0, t)
    return mean + std[:, None] * z


def _div_sigma(G: Callable, x: torch.Tensor) -> torch.Tensor:
    zero = FunctionSDE(lambda y, t: torch.zeros_like(y), lambda y, t: G(y), "general", noise_dim=G(x).shape[2])
    return zero.div_sigma(x, 0.0).detach()


# ---- hidden cases -------------------------------------------------------------------------------------------


def _randn(g: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=g, dtype=_F64)


def _linear_score(g: torch.Generator, d: int) -> Callable:
    A = _randn(g, d, d)
    return lambda x: -x @ A.T


def _tanh_score(g: torch.Generator, d: int) -> Callable:
    W, b = _randn(g, d, d), _randn(g, d)
    return lambda x: torch.tanh(x @ W.T + b) - x


def _tanh_energy(g: torch.Generator, d: int) -> Callable:
    W, b, c = _randn(g, 8, d), _randn(g, 8), _randn(g, 8)
    return lambda x: torch.tanh(x @ W.T + b) @ c + 0.1 * x.square().sum(1)


def _G_state(g: torch.Generator, d: int, m: int) -> Callable:
    A, B = _randn(g, d, m), _randn(g, d, m)
    return lambda x: A + torch.sin(x[:, :1, None]) * B + 0.5 * x.sum(1)[:, None, None] * A


def _ddim_step(x: torch.Tensor, eps: torch.Tensor, alpha_s: float, sigma_s: float, alpha_t: float,
               sigma_t: float) -> torch.Tensor:
    x0, eps = to_x0_eps("eps", eps, x, alpha_s, sigma_s)   # the package's conversion (book: eq-param-conversions)
    return alpha_t * x0 + sigma_t * eps                    # deterministic DDIM (book: eq-ddim, eta = 0)


REFERENCES: dict[str, CodeExercise] = {
    "ex-01-ssm-code": CodeExercise(_ssm_per_sample, (
        CodeCase(("a linear score in d = 2, batch 5", "d = 2 的線性分數，批次 5"),
                 lambda g: (_linear_score(g, 2), _randn(g, 5, 2), _randn(g, 5, 2))),
        CodeCase(("a nonlinear (tanh) score in d = 4, batch 7", "d = 4 的非線性（tanh）分數，批次 7"),
                 lambda g: (_tanh_score(g, 4), _randn(g, 7, 4), _randn(g, 7, 4))),
        CodeCase(("a batch of one point in d = 3", "d = 3 中只有一個點的批次"),
                 lambda g: (_tanh_score(g, 3), _randn(g, 1, 3), _randn(g, 1, 3))),
    )),
    "ex-07-shared-code": CodeExercise(_ssm_shared, one_pass=(0, 1), cases=(
        CodeCase(("a linear score in d = 3, batch 4, M = 2 probes", "d = 3 的線性分數，批次 4，M = 2 個探測向量"),
                 lambda g: (_linear_score(g, 3), _randn(g, 4, 3), _randn(g, 2, 4, 3))),
        CodeCase(("a nonlinear (tanh) score in d = 5, batch 3, M = 4", "d = 5 的非線性（tanh）分數，批次 3，M = 4"),
                 lambda g: (_tanh_score(g, 5), _randn(g, 3, 5), _randn(g, 4, 3, 5))),
        CodeCase(("one probe (M = 1), d = 2, batch 6", "一個探測向量（M = 1），d = 2，批次 6"),
                 lambda g: (_tanh_score(g, 2), _randn(g, 6, 2), _randn(g, 1, 6, 2))),
    )),
    "ex-08-energy-score-code": CodeExercise(_energy_score, (
        CodeCase(("a quadratic energy |x|^2 / 2 in d = 3, batch 4", "d = 3 的二次能量 |x|^2 / 2，批次 4"),
                 lambda g: ((lambda x: 0.5 * x.square().sum(1)), _randn(g, 4, 3))),
        CodeCase(("a nonlinear (tanh) energy in d = 5, batch 6", "d = 5 的非線性（tanh）能量，批次 6"),
                 lambda g: (_tanh_energy(g, 5), _randn(g, 6, 5))),
        CodeCase(("one point in d = 2", "d = 2 中的一個點"),
                 lambda g: (_tanh_energy(g, 2), _randn(g, 1, 2))),
    )),
    "ex-09-ddim-code": CodeExercise(_ddim_step, (
        CodeCase(("a VP step from t = 0.5 to 0.4, batch 5 in d = 2", "VP 從 t = 0.5 到 0.4 的一步，d = 2 的批次 5"),
                 lambda g: (_randn(g, 5, 2), _randn(g, 5, 2), 0.6, 0.8, 0.8, 0.6)),
        CodeCase(("image-shaped states (3, 1, 4, 4), a long step", "影像形狀的狀態 (3, 1, 4, 4)，一大步"),
                 lambda g: (_randn(g, 3, 1, 4, 4), _randn(g, 3, 1, 4, 4), 0.1, math.sqrt(0.99), 0.95, math.sqrt(1 - 0.95**2))),
        CodeCase(("the linear path of flow matching, t = 0.7 to 0.3", "流匹配的線性路徑，t = 0.7 到 0.3"),
                 lambda g: (_randn(g, 4, 3), _randn(g, 4, 3), 0.3, 0.7, 0.7, 0.3)),
    )),
    "ex-02-ula-code": CodeExercise(_ula_step, (
        CodeCase(("a batch of 6 points in d = 2, eps = 0.01", "d = 2 中 6 個點的批次，eps = 0.01"),
                 lambda g: (_linear_score(g, 2), _randn(g, 6, 2), 0.01, _randn(g, 6, 2))),
        CodeCase(("image-shaped states (4, 1, 3, 3), eps = 0.1", "影像形狀的狀態 (4, 1, 3, 3)，eps = 0.1"),
                 lambda g: ((lambda x: -x), _randn(g, 4, 1, 3, 3), 0.1, _randn(g, 4, 1, 3, 3))),
        CodeCase(("one point in d = 1, eps = 0.5", "d = 1 中的一個點，eps = 0.5"),
                 lambda g: ((lambda x: -2 * x), _randn(g, 1, 1), 0.5, _randn(g, 1, 1))),
    )),
    "ex-03-ito-sum-code": CodeExercise(_ito_sum, (
        CodeCase(("8 paths of 16 steps on [0, 1]", "[0, 1] 上 8 條 16 步的路徑"),
                 lambda g: (torch.cat([torch.zeros(1, 8, dtype=_F64),
                                       (_randn(g, 16, 8) / 4).cumsum(0)]),)),
        CodeCase(("1 path of 1 step", "1 條只有 1 步的路徑"),
                 lambda g: (torch.cat([torch.zeros(1, 1, dtype=_F64), _randn(g, 1, 1)]),)),
        CodeCase(("3 paths of 100 steps that do not start at 0", "3 條不從 0 出發、100 步的路徑"),
                 lambda g: ((1.0 + (_randn(g, 101, 3) / 10).cumsum(0)),)),
    )),
    "ex-04-em-code": CodeExercise(_em_step, (
        CodeCase(("OU drift and constant noise, d = 2, batch 5, dt = 0.1", "OU 漂移與常數雜訊，d = 2，批次 5，dt = 0.1"),
                 lambda g: ((lambda x, t: -x), (lambda x, t: 0.5 * torch.ones_like(x)), _randn(g, 5, 2),
                            torch.full((5,), 0.3, dtype=_F64), 0.1, math.sqrt(0.1) * _randn(g, 5, 2))),
        CodeCase(("GBM coefficients, reverse time dt = -0.05", "GBM 係數，反向時間 dt = -0.05"),
                 lambda g: ((lambda x, t: 0.7 * x), (lambda x, t: 0.4 * x), 1 + _randn(g, 6, 1).abs(),
                            torch.full((6,), 0.5, dtype=_F64), -0.05, math.sqrt(0.05) * _randn(g, 6, 1))),
        CodeCase(("a time-dependent drift, d = 3, batch 1", "隨時間變化的漂移，d = 3，批次 1"),
                 lambda g: ((lambda x, t: t[:, None] * x), (lambda x, t: torch.cos(x)), _randn(g, 1, 3),
                            torch.full((1,), 2.0, dtype=_F64), 0.2, math.sqrt(0.2) * _randn(g, 1, 3))),
    )),
    "ex-05-perturb-code": CodeExercise(_vp_perturb, (
        CodeCase(("5 rows in d = 2, one time per row", "d = 2 中 5 列，每列一個時間"),
                 lambda g: (_randn(g, 5, 2), torch.rand(5, generator=g, dtype=_F64), _randn(g, 5, 2))),
        CodeCase(("one row at t = 1 (almost pure noise)", "t = 1 的一列（幾乎全是雜訊）"),
                 lambda g: (_randn(g, 1, 3), torch.ones(1, dtype=_F64), _randn(g, 1, 3))),
        CodeCase(("beta_min = 1, beta_max = 5 given as arguments", "以引數給定 beta_min = 1、beta_max = 5"),
                 lambda g: (_randn(g, 4, 2), torch.rand(4, generator=g, dtype=_F64), _randn(g, 4, 2), 1.0, 5.0)),
    )),
    "ex-06-div-code": CodeExercise(_div_sigma, (
        CodeCase(("G of shape (batch, 2, 2) that depends on x, batch 4", "隨 x 變化、形狀 (batch, 2, 2) 的 G，批次 4"),
                 lambda g: (_G_state(g, 2, 2), _randn(g, 4, 2))),
        CodeCase(("a rectangular G of shape (batch, 3, 2)", "形狀 (batch, 3, 2) 的長方形 G"),
                 lambda g: (_G_state(g, 3, 2), _randn(g, 3, 3))),
        CodeCase(("G = [[x2, 0], [x1, 1]], batch 2", "G = [[x2, 0], [x1, 1]]，批次 2"),
                 lambda g: ((lambda x: torch.stack([torch.stack([x[:, 1], torch.zeros_like(x[:, 0])], 1),
                                                     torch.stack([x[:, 0], torch.ones_like(x[:, 0])], 1)], 1)),
                            _randn(g, 2, 2))),
    )),
}
