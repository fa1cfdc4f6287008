"""Every declared (solver, noise structure) order is measured: the strong and weak orders of each registered solver
and predictor on closed-form problems of that noise structure, within ±0.1 of the declaration.

Each problem is solved on h = 2^-4 ... 2^-8 with the Brownian path of the 2^-8 grid coarsened to h (the same path
at every level), against its exact solution on that path; a problem that needs the path's Lévy areas or a reference
solution uses h = 2^-3 ... 2^-7 and a 2^-10 grid:

* ``none``: dx = -x dt, x(T) = x0 e^{-T};
* ``additive``: strong order on the Ornstein–Uhlenbeck process dx = -2x dt + dW against its exact transition on
  the 2^-10 grid with the Lévy areas, and on dx = -2 sin x dt + 2 dW against SRA1 on the 2^-10 grid (SRA1 itself
  only there: on a linear drift its h^1.5 error terms vanish and it measures 2.0); weak order on
  dx = (b/√(1+t) - x/(2(1+t))) dt + ab/√(1+t) dW,
  x(T) = (x0 + b(T + aW_T))/√(1+T) (the additive test problem of Kloeden & Platen and DifferentialEquations.jl;
  a = 0.05 so the Monte Carlo error stays below the bias). Its solution depends on W_T alone, so no scheme needs
  the Lévy area there and even stochastic Heun measures strong order 2: it cannot show strong orders;
* ``diagonal``: geometric Brownian motion, and x = arctan(W + tan x0) (dx = -sin x cos³x dt + cos²x dW) and
  x = tanh(W + artanh x0) (dx = -x(1-x²) dt + (1-x²) dW), in their Itô or Stratonovich form;
* ``shared``: a 2-D geometric Brownian motion driven by one Brownian motion (torchsde's "scalar" noise);
* ``general``: the Heisenberg system dx1 = dW1, dx2 = dW2, dx3 = x1 dW2 - x2 dW1 (Itô = Stratonovich), whose
  x3(T) = x1W2 - x2W1 + ∫W1dW2 - W2dW1 is exact on the piecewise-linear path of the fine grid;
* ``scalar``: g(x)I coupling two coordinates has no closed form; the reference is stochastic Heun on the fine
  grid applied to the Stratonovich form (error O(2^-10), against O(h^½) measured);
* the predictors' ``additive`` and ``none``: the reverse SDE and probability-flow ODE of a VP SDE with Gaussian
  data and its exact score; the reverse SDE's reference is stochastic Heun on the fine grid (error O(2^-10)).

Strong error E|X_h(T) - x(T)|; weak error |E[φ(X_h(T)) - φ(x(T))]| on the same paths (common random numbers), with
φ(x) = x except x3² for the Heisenberg system and |x|² for g(x)I, whose means have no bias. Orders are least-squares
slopes in log-log. A problem with a fine-grid reference serves its strong and weak order on one set of paths.

Paths are chosen for cost (the file runs in about 25 s on one core) with the slopes' standard deviation over
four seeds (measured at half these path counts, so about 1/√2 of it here): strong 0.003 (GBM, VP) to 0.014
(Heisenberg, 1,000 paths); weak 0.004 (shared GBM, 5,000), 0.01 (VP reverse, 10,000), about 0.02 and 0.08 (g(x)I
with Heun and Euler, 10,000) and 0.09 (Heisenberg, 12,000): the last two are Monte Carlo-limited, the ±0.1 there
is about one standard deviation. The VP reverse problem's weak slope starts at h = 1/16: at h = 1/8, β(t)h = 0.6
and the error ratios are 1.7 instead of 2 (its slope over h = 1/8 ... 1/128 is 0.90 to 0.93).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from scoresde.brownian import BrownianPath
from scoresde.sampling import PREDICTORS
from scoresde.sde import SDE, VPSDE, FunctionSDE
from scoresde.solvers import SOLVERS, Solver, solve

LEVELS = tuple(range(4, 9))  # closed forms in W_T: h = 2^-4 ... 2^-8
COARSE = tuple(range(3, 8))  # a reference or a Lévy area on the 2^-10 grid: h = 2^-3 ... 2^-7
FINE = 10
TOLERANCE = 0.1
STRONG_PATHS = 1000  # the strong slopes' SE (4 seeds): 0.003 (GBM, VP) to 0.014 (Heisenberg)
CHUNK = 2000


@dataclass
class Problem:
    """A test problem: ``make(calculus)`` gives the SDE and the start; ``exact(x0, fine)`` its solution at T on the
    fine path (or ``None``: the fine-grid reference of ``reference``)."""

    name: str
    make: Callable[[str], SDE]
    x0: Callable[[int], torch.Tensor]
    exact: Callable[[torch.Tensor, BrownianPath], torch.Tensor] | None
    phi: Callable[[torch.Tensor], torch.Tensor] = lambda x: x
    ts: tuple[float, float] = (0.0, 1.0)
    reference: Callable[[torch.Tensor, BrownianPath], torch.Tensor] | None = None
    weak_paths: int = 20000
    fine: int = max(LEVELS)  # the grid of the path: the finest level, or 2^-FINE for a reference or a Lévy area
    levy_area: bool = False  # the reference needs the fine path's Lévy areas (else only SRA1 does)
    from_level: int = 0  # a first level beyond COARSE's 2^-3 (a step outside the asymptotic range)

    @property
    def levels(self) -> tuple[int, ...]:
        return LEVELS if self.fine == max(LEVELS) else tuple(p for p in COARSE if p >= self.from_level)


def fd(f, g, noise, calculus, **kw):
    return FunctionSDE(f, g, noise, sde_type=calculus, **kw)


def ones(d):
    return lambda n: torch.full((n, d), 0.5, dtype=torch.float64)


def additive(a):
    b = 1.0
    return Problem(
        f"additive(a={a})",
        lambda c: fd(lambda x, t: b / (1 + t[:, None]).sqrt() - x / (2 * (1 + t[:, None])),
                     lambda x, t: a * b / (1 + t).sqrt(), "scalar", c, additive=True),
        ones(1),
        lambda x0, p: (x0 + b * (1.0 + a * p.W[-1])) / math.sqrt(2.0),
    )


def diagonal_problems(calculus: str, weak: bool) -> list[Problem]:
    mu, s, a = (1.0, 0.5, 0.5) if weak else (0.5, 1.0, 0.5)
    ito = calculus == "ito"
    zero = lambda x, t: torch.zeros_like(x)  # noqa: E731  (the Stratonovich forms of arctan and tanh)
    return [
        Problem("gbm", lambda c: fd(lambda x, t: mu * x, lambda x, t: s * x, "diagonal", c), ones(1),
                lambda x0, p: x0 * torch.exp(((mu - s * s / 2) if ito else mu) + s * p.W[-1])),
        Problem("arctan", lambda c: fd((lambda x, t: -torch.sin(x) * torch.cos(x) ** 3) if ito else zero,
                                       lambda x, t: torch.cos(x) ** 2, "diagonal", c), ones(1),
                lambda x0, p: torch.arctan(p.W[-1] + torch.tan(x0))),
        Problem("tanh", lambda c: fd((lambda x, t: -a * a * x * (1 - x * x)) if ito else zero,
                                     lambda x, t: a * (1 - x * x), "diagonal", c), ones(1),
                lambda x0, p: torch.tanh(a * p.W[-1] + torch.atanh(x0))),
    ]


def shared_problem(calculus: str) -> Problem:
    mu = torch.tensor([1.0, 0.5], dtype=torch.float64)
    s = torch.tensor([0.5, 0.8], dtype=torch.float64)
    drift = mu - s * s / 2 if calculus == "ito" else mu
    return Problem("shared gbm", lambda c: fd(lambda x, t: mu * x, lambda x, t: (s * x)[..., None], "general", c,
                                              noise_dim=1), ones(2),
                   lambda x0, p: x0 * torch.exp(drift + s * p.W[-1]), weak_paths=5000)  # weak slope SE 0.004


def heisenberg(x0, p):
    w = p.W
    area = (w[:-1, :, 0] * p.dW[:, :, 1] - w[:-1, :, 1] * p.dW[:, :, 0]).sum(0)
    w1, w2 = w[-1, :, 0], w[-1, :, 1]
    return torch.stack([x0[:, 0] + w1, x0[:, 1] + w2, x0[:, 2] + x0[:, 0] * w2 - x0[:, 1] * w1 + area], dim=1)


def general_problem() -> Problem:
    def g(x, t):
        one, zero = torch.ones_like(x[:, 0]), torch.zeros_like(x[:, 0])
        return torch.stack([torch.stack([one, zero], 1), torch.stack([zero, one], 1),
                            torch.stack([-x[:, 1], x[:, 0]], 1)], dim=1)

    return Problem("heisenberg", lambda c: fd(lambda x, t: torch.zeros_like(x), g, "general", c, noise_dim=2),
                   lambda n: torch.zeros(n, 3, dtype=torch.float64), heisenberg, phi=lambda x: x[:, 2:].square(),
                   fine=FINE, weak_paths=12000)


def scalar_problem() -> Problem:
    def g(x, t):
        return 1 + 0.5 * torch.sin(x.sum(1))

    def half_g_grad_g(x, t):  # ½ g ∇g, the Itô-Stratonovich correction of g(x) I
        return (0.5 * g(x, t) * 0.5 * torch.cos(x.sum(1)))[:, None].expand_as(x)

    def make(c):
        if c == "ito":
            return fd(lambda x, t: torch.zeros_like(x), g, "scalar", c)
        return fd(lambda x, t: -half_g_grad_g(x, t), g, "scalar", c)

    strat = make("stratonovich")
    return Problem("g(x)I", make, ones(2), None, phi=lambda x: x.square().sum(1),
                   reference=lambda x0, p: solve(strat, x0, [0.0, 1.0], bm=p, method="heun")[-1], fine=FINE,
                   weak_paths=10000)


def ou_problem() -> Problem:
    """dx = -βx dt + σ dW; the reference is the exact transition on the 2^-10 grid with its Lévy areas,
    e^{-βh}x + σ∫e^{-β(h-s)}dW, the integral to first order: ΔW - βh(ΔW/2 + H) (error O(h²) per step)."""
    beta, sigma = 2.0, 1.0

    def reference(x0, p):
        x, h = x0, float(p.dt[0])
        for dw, area in zip(p.dW, p.H):
            x = math.exp(-beta * h) * x + sigma * (dw - beta * h * (dw / 2 + area))
        return x

    return Problem("ou", lambda c: fd(lambda x, t: -beta * x, lambda x, t: sigma + 0 * t, "scalar", c, additive=True),
                   ones(1), None, reference=reference, fine=FINE, weak_paths=5000, levy_area=True)


def nonlinear_additive() -> Problem:
    """dx = -2 sin(x) dt + 2 dW: no closed form; the reference is SRA1 on the 2^-10 grid with its Lévy areas
    (error O(2^-15) against the O(h^1.5) measured). On the linear Ornstein–Uhlenbeck process SRA1's error
    terms of order h^1.5 vanish (it measures 2.0 there); a nonlinear drift shows its declared 1.5."""
    sde = FunctionSDE(lambda x, t: -2 * torch.sin(x), lambda x, t: 2 * torch.ones_like(t), "scalar", additive=True)
    return Problem("-2 sin x", lambda c: sde, ones(1), None,
                   reference=lambda x0, p: solve(sde, x0, [0.0, 1.0], bm=p, method="sra1")[-1], fine=FINE,
                   weak_paths=5000, levy_area=True)


def vp_problem(flow: bool) -> Problem:
    # data std: wider than the prior for the flow; beta_max = 5: beta(t) h < 1 on every level (the discrete chains)
    vp, s0 = VPSDE(beta_max=5.0), (2.0 if flow else 0.5)

    def var(t):
        return 1 - torch.exp(2 * vp.log_mean_coeff(t)) * (1 - s0 * s0)

    def score(x, t):
        return -x / var(t)[:, None]

    rev = vp.reverse(score, probability_flow=flow)
    eps = torch.tensor(0.05, dtype=torch.float64)
    if flow:
        return Problem("vp flow", lambda c: rev, ones(2), lambda x0, p: x0 * (var(eps) / var(torch.tensor(1.0))).sqrt(),
                       ts=(1.0, 0.05))
    return Problem("vp reverse", lambda c: rev, ones(2), None, ts=(1.0, 0.05),
                   reference=lambda x0, p: solve(rev, x0, [1.0, 0.05], bm=p, method="heun")[-1], fine=FINE,
                   weak_paths=10000, from_level=4)  # h = 1/8 has beta h = 0.6: its weak error is pre-asymptotic


def problems(structure: str, solver: Solver, weak: bool) -> list[Problem]:
    calculus = solver.calculus[0]
    if solver.name in ("reverse_diffusion", "ancestral"):  # predictors: they need a reverse-time SDE
        return [vp_problem(flow=structure == "none")]
    if structure == "none":
        return [Problem("dx = -x dt", lambda c: fd(lambda x, t: -x, None, "none", c), ones(1),
                        lambda x0, p: x0 * math.exp(-1.0))]
    if structure == "additive":  # the additive problem's solution depends on W_T alone: weak order only
        if weak:
            return [additive(0.05)]
        return [nonlinear_additive()] if solver.orders[structure].strong > 1 else [ou_problem(), nonlinear_additive()]
    if structure == "diagonal":
        probs = diagonal_problems(calculus, weak)
        return probs[:1] if weak else probs
    if structure == "shared":
        return [shared_problem(calculus)]
    if structure == "general":
        return [general_problem()]
    return [scalar_problem()]


_REFERENCES: dict[tuple, torch.Tensor] = {}  # a chunk's reference solution, by problem, seed and chunk


def measure(solver: Solver, problem: Problem, n: int, seed: int) -> tuple[list[float], list[float]]:
    """Strong and weak errors at h = 2^-LEVELS on one set of paths, drawn CHUNK paths at a time (one generator,
    so the same paths whatever the chunk; a 2^-10 path of 12,000 samples with its Lévy areas would be 0.6 GB)."""
    t0, t1 = problem.ts
    sde = problem.make(solver.calculus[0])
    gen = torch.Generator().manual_seed(seed)
    abs_sum = [0.0] * len(problem.levels)
    phi_sum = [0.0] * len(problem.levels)
    for start in range(0, n, CHUNK):
        x0 = problem.x0(min(CHUNK, n - start))
        noise = sde.noise_shape(x0.shape) if sde.noise_type != "none" else (x0.shape[0], 1)
        fine = BrownianPath.sample(torch.linspace(t0, t1, 2**problem.fine + 1, dtype=torch.float64), noise,
                                   generator=gen, dtype=torch.float64,
                                   levy_area=problem.levy_area or solver.name == "sra1")
        if problem.exact is not None:
            truth = problem.exact(x0, fine)
        else:  # a fine-grid reference: the same for every solver of this problem (euler and heun, two predictors)
            key = (problem.name, problem.ts, problem.fine, seed, n, start)
            if key not in _REFERENCES:
                _REFERENCES[key] = problem.reference(x0, fine)  # type: ignore[misc]
            truth = _REFERENCES[key]
        path = fine
        for i, p in reversed(list(enumerate(problem.levels))):  # finest first, each coarsened from the last
            path = path.coarsen(2 ** (path.n_steps.bit_length() - 1 - p))
            x = solve(sde, x0, [t0, t1], bm=path if sde.noise_type != "none" else None,
                      dt=None if sde.noise_type != "none" else abs(t1 - t0) / 2**p, method=solver)[-1]
            abs_sum[i] += float((x - truth).abs().sum())
            phi_sum[i] += float((problem.phi(x) - problem.phi(truth)).sum())
    return [a / n for a in abs_sum], [abs(f) / n for f in phi_sum]


def slope(errors: list[float], levels: tuple[int, ...] = COARSE) -> float:
    hs = [2.0**-p for p in levels]
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])


def declared() -> list[tuple[str, str]]:
    every = {**dict(SOLVERS.items()), **dict(PREDICTORS.items())}
    return [(name, structure) for name, s in every.items() for structure in s.orders]


@pytest.mark.parametrize("name, structure", declared())
def test_declared_orders_are_measured(name, structure):
    """A problem with a fine-grid reference or Lévy areas serves the strong and the weak order on one set of
    paths (common random numbers: the reference, the costly part, is computed once)."""
    solver = PREDICTORS[name] if name in PREDICTORS else SOLVERS[name]
    order = solver.orders[structure]
    weak_only = {p.name: p for p in problems(structure, solver, weak=True)}
    for problem in problems(structure, solver, weak=False):
        both = problem.fine == FINE and weak_only.pop(problem.name, None) is not None
        strong, weak = measure(solver, problem, problem.weak_paths if both else STRONG_PATHS, seed=1)
        measured = slope(strong, problem.levels)
        assert abs(measured - order.strong) <= TOLERANCE, (problem.name, measured, strong)
        if both:
            measured = slope(weak, problem.levels)
            assert abs(measured - order.weak) <= TOLERANCE, (problem.name, "weak", measured, weak)
    for problem in weak_only.values():
        _, weak = measure(solver, problem, problem.weak_paths, seed=2)
        measured = slope(weak, problem.levels)
        assert abs(measured - order.weak) <= TOLERANCE, (problem.name, measured, weak)


def test_sra1_is_torchsde_srk_on_the_same_brownian_path():
    """The same tableau: driven by one torchsde BrownianInterval (passed to solve directly), SRA1 and torchsde's
    ``srk`` agree to rounding at every step size, so their measured orders are the same number (printed)."""
    torchsde = pytest.importorskip("torchsde")

    class Peer(torch.nn.Module):
        noise_type, sde_type = "additive", "ito"

        def f(self, t, y):
            return -2 * torch.sin(y)

        def g(self, t, y):
            return torch.full((y.shape[0], 1, 1), 2.0, dtype=y.dtype)

    problem = nonlinear_additive()
    ours = problem.make("ito")
    n = 1000
    x0 = problem.x0(n)
    bm = torchsde.BrownianInterval(0.0, 1.0, size=(n, 1), dtype=torch.float64, levy_area_approximation="space-time",
                                   entropy=5)
    reference = solve(ours, x0, [0.0, 1.0], bm=bm, dt=2.0**-FINE, method="sra1")[-1]
    errors: dict[str, list[float]] = {"sra1": [], "srk": []}
    for p in COARSE:
        mine = solve(ours, x0, [0.0, 1.0], bm=bm, dt=2.0**-p, method="sra1")[-1]
        theirs = torchsde.sdeint(Peer(), x0, torch.tensor([0.0, 1.0], dtype=torch.float64), bm=bm, method="srk",
                                 dt=2.0**-p)[-1]
        assert torch.allclose(mine, theirs, rtol=1e-12, atol=1e-12), float((mine - theirs).abs().max())
        errors["sra1"].append(float((mine - reference).abs().mean()))
        errors["srk"].append(float((theirs - reference).abs().mean()))
    orders = {k: slope(v) for k, v in errors.items()}
    print(f"strong order on dx = -2 sin x dt + 2 dW: scoresde sra1 {orders['sra1']:.3f}, torchsde srk {orders['srk']:.3f}")
    assert abs(orders["sra1"] - 1.5) <= TOLERANCE and abs(orders["srk"] - orders["sra1"]) <= 1e-6


def test_solve_takes_a_torchsde_brownian_object_or_names_the_adapter():
    torchsde = pytest.importorskip("torchsde")
    sde = nonlinear_additive().make("ito")
    x0 = torch.zeros(4, 1, dtype=torch.float64)
    bm = torchsde.BrownianInterval(0.0, 1.0, size=(4, 1), dtype=torch.float64, entropy=1)
    path = BrownianPath.from_torchsde(bm, torch.linspace(0, 1, 9, dtype=torch.float64).tolist())
    assert torch.equal(solve(sde, x0, [0.0, 1.0], bm=bm, dt=0.125), solve(sde, x0, [0.0, 1.0], bm=path))
    with pytest.raises(ValueError, match="needs the Lévy areas"):
        solve(sde, x0, [0.0, 1.0], bm=path, method="sra1")
    with pytest.raises(TypeError, match="BrownianPath.from_torchsde"):
        solve(sde, x0, [0.0, 1.0], bm=lambda a, b: torch.zeros(4, 1))
    with pytest.raises(ValueError, match="ts must be increasing"):
        solve(sde.__class__(lambda x, t: x, lambda x, t: torch.ones_like(t), "scalar", additive=True,
                            time_direction=-1), x0, [1.0, 0.0], bm=bm)
