"""The three differences between `scoresde.sampling.predictor_corrector_sample` and score_sde's `pc_sampler`,
each switched on alone, measured on a 2-D Gaussian mixture with the exact score.

The differences (documented in the sampler's docstring):

1. alpha:   score_sde's VP corrector multiplies its Langevin step by alpha_i = 1 - beta_i (`alpha_factor=True`);
2. denoise: score_sde returns the last predictor step's mean, without its noise (`denoise=True`);
3. grid:    score_sde evaluates at linspace(T, eps, N) but steps by T/N each time, N steps, so its run ends one
            step below eps; here a `scoresde.solvers.Solver` that steps by T/N is run by `scoresde.solvers.solve`
            on that grid (the alpha of row "all three" reads beta_i from the grid's spacing, not T/N).

Every variant starts from the same prior draw and the same generator seed (common random numbers), so the
differences between rows are the differences of the samplers more than sampling noise. Columns: the energy
distance to fresh data (x 1e3), the error of the sample mean (Euclidean), of the sample covariance (Frobenius),
and of the within-mode spread (the RMS distance to the nearest mode per coordinate, exact value printed), each
the average over `--seeds` runs; the last row is the same statistics of a fresh data sample (the noise floor).

    python benchmarks/pc_vs_score_sde.py [--n 4000] [--steps 25 100] [--seeds 3] [--snr 0.16]
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

import torch
from torch import Tensor

from scoresde.brownian import Increment
from scoresde.data import GaussianMixture, eight_gaussians
from scoresde.metrics import energy_distance
from scoresde.sampling import LangevinCorrector, predictor_corrector_sample
from scoresde.sde import SDE, VPSDE
from scoresde.solvers import Solver, euler_maruyama_step, solve

from bench_ch05_samplers import exact_score  # the benchmarks' exact score of the mixture's marginals

EPS = 1e-3


class FixedStepEulerMaruyama(Solver, name="euler (score_sde step)", calculus=("ito",),
                             orders={"none": (1.0, 1.0), "additive": (1.0, 1.0)}):
    """score_sde's `EulerMaruyamaPredictor`: a step of -T/N at the grid time, whatever the grid's spacing (the
    increment is rescaled from the grid step to T/N)."""

    def __init__(self, step: float) -> None:
        self.fixed = step

    def step(self, sde: SDE, x: Tensor, t: Tensor, dt: float, inc: Increment | None, t_next: Tensor) -> Tensor:
        dw = None if inc is None else inc.dW * math.sqrt(self.fixed / abs(dt))
        return euler_maruyama_step(sde, x, t, -self.fixed, dw)


def score_sde_grid(sde: VPSDE, score, x_T: torch.Tensor, n_steps: int, snr: float, seed: int, *, alpha: bool,
                   denoise: bool) -> torch.Tensor:
    """score_sde's time grid: N corrector-predictor pairs at linspace(T, eps, N), each predictor step -T/N."""
    h = sde.T / n_steps
    ts = torch.cat([torch.linspace(sde.T, EPS, n_steps, dtype=torch.float64),
                    torch.tensor([EPS - h], dtype=torch.float64)])
    return solve(sde.reverse(score), x_T, ts, method=FixedStepEulerMaruyama(h), corrector=LangevinCorrector(snr, 1, alpha),
                 generator=torch.Generator().manual_seed(seed), denoise=denoise)[-1]


def variants(sde: VPSDE, score, n_steps: int, snr: float) -> dict[str, Callable[[torch.Tensor, int], torch.Tensor]]:
    def pc(**kw):
        return lambda x_T, seed: predictor_corrector_sample(sde, score, x_T=x_T, n_steps=n_steps, snr=snr,
                                                            generator=torch.Generator().manual_seed(seed), **kw)

    return {
        "this package (none of the three)": pc(),
        "+ alpha factor": pc(alpha_factor=True),
        "+ denoise": pc(denoise=True),
        "+ score_sde grid": lambda x_T, s: score_sde_grid(sde, score, x_T, n_steps, snr, s, alpha=False, denoise=False),
        "all three (score_sde)": lambda x_T, s: score_sde_grid(sde, score, x_T, n_steps, snr, s, alpha=True,
                                                               denoise=True),
    }


def statistics(x: torch.Tensor, data: torch.Tensor, mix: GaussianMixture) -> tuple[float, float, float, float]:
    """(energy distance x 1e3, |mean error|, |covariance error|_F, within-mode spread) of the sample ``x``."""
    mean, cov = mix.mean(), mix.covariance()
    nearest = torch.cdist(x, mix.means).min(1).values
    spread = float(nearest.square().mean().div(x.shape[1]).sqrt())
    return (1e3 * energy_distance(x, data), float((x.mean(0) - mean).norm()),
            float((torch.cov(x.T) - cov).norm()), spread)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=4000, help="samples per run (default 4000)")
    p.add_argument("--steps", type=int, nargs="+", default=[25, 100], help="predictor steps N (default 25 100)")
    p.add_argument("--seeds", type=int, default=3, help="runs averaged per row (default 3)")
    p.add_argument("--snr", type=float, default=0.16, help="the corrector's signal-to-noise ratio (default 0.16)")
    args = p.parse_args()
    mix, sde = eight_gaussians(), VPSDE()
    if min(args.steps) <= sde.beta_max * sde.T:  # the DDPM chain of the alpha factor needs beta_i < 1
        p.error(f"--steps must be > beta_max T = {sde.beta_max * sde.T:g} (beta_i = beta(t) T/N < 1)")
    torch.set_default_dtype(torch.float64)
    score = exact_score(mix, sde)
    data = mix.sample(args.n, generator=torch.Generator().manual_seed(12345), dtype=torch.float64)
    print(f"VP SDE, eight-Gaussian ring (mode std {float(mix.stds[0]):.3f}), exact score, {args.n} samples, "
          f"snr {args.snr}, Euler-Maruyama predictor + 1 Langevin step, eps {EPS:g}; mean of {args.seeds} seeds")
    print(f"{'N':>4} {'variant':34} {'energy e3':>9} {'mean err':>9} {'cov err':>9} {'mode std':>9}")
    for n_steps in args.steps:
        for name, run in variants(sde, score, n_steps, args.snr).items():
            rows = []
            for seed in range(args.seeds):
                x_T = sde.prior_sample((args.n, 2), generator=torch.Generator().manual_seed(1000 + seed),
                                       dtype=torch.float64)
                rows.append(statistics(run(x_T, seed), data, mix))
            avg = [sum(col) / len(col) for col in zip(*rows)]
            print(f"{n_steps:4d} {name:34} {avg[0]:9.3f} {avg[1]:9.4f} {avg[2]:9.4f} {avg[3]:9.4f}")
    floor = [statistics(mix.sample(args.n, generator=torch.Generator().manual_seed(s), dtype=torch.float64), data, mix)
             for s in range(args.seeds)]
    avg = [sum(col) / len(col) for col in zip(*floor)]
    print(f"{'-':>4} {'fresh data (noise floor)':34} {avg[0]:9.3f} {avg[1]:9.4f} {avg[2]:9.4f} {avg[3]:9.4f}")


if __name__ == "__main__":
    main()
