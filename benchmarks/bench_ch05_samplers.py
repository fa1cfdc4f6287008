"""Chapter 5 samplers against a peer: one table, one run.

The probability-flow ODE is solved by `scoresde.sampling.probability_flow_sample` (torchdiffeq's dopri5 on the
tensors' device) and, as score_sde does it, by SciPy's RK45 (`scipy.integrate.solve_ivp`, CPU, NumPy round trip
per evaluation) with the same tolerances; the stochastic samplers are listed for their cost per sample. Every row
uses the exact score of the eight-Gaussian ring (no network), so the numbers measure the samplers only. Columns:
score evaluations (NFE), wall time in ms (median of `--repeats` runs), and the energy distance to 2000 fresh data
points (smaller is better; the permutation threshold at 5% is printed below the table).

    python benchmarks/bench_ch05_samplers.py [--n 2000] [--repeats 3] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from scipy.integrate import solve_ivp

from scoresde.data import eight_gaussians
from scoresde.metrics import permutation_test
from scoresde.sampling import predictor_corrector_sample, probability_flow_sample, reverse_sde_sample
from scoresde.sde import VPSDE


def exact_score(mix, sde):
    """The exact time-marginal score of the mixture (scoresde.data.GaussianMixture.time_marginal_score)."""
    return mix.time_marginal_score(sde)


def scipy_rk45(sde, score, x_T, eps=1e-3, rtol=1e-5, atol=1e-5):
    """score_sde's ODE sampler: solve_ivp(RK45) on the flattened state, one NumPy round trip per evaluation."""
    shape, nfe = x_T.shape, [0]
    flow = sde.reverse(score, probability_flow=True)

    def f(t, y):
        nfe[0] += 1
        x = torch.from_numpy(y).to(x_T).reshape(shape)
        return flow.f(x, torch.full((shape[0],), t, dtype=x_T.dtype, device=x_T.device)).cpu().numpy().reshape(-1)

    sol = solve_ivp(f, (sde.T, eps), x_T.cpu().numpy().reshape(-1), rtol=rtol, atol=atol, method="RK45")
    return torch.from_numpy(sol.y[:, -1]).to(x_T).reshape(shape), nfe[0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] + " " + __doc__.split("\n\n")[1].replace("\n", " "))
    p.add_argument("--n", type=int, default=2000, help="samples per sampler (default: 2000)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per row; the median is printed (default: 3)")
    p.add_argument("--device", default="cpu", help="torch device of the scoresde rows (default: cpu)")
    args = p.parse_args()
    dev = torch.device(args.device)
    mix, sde = eight_gaussians(), VPSDE()
    score = exact_score(mix, sde)
    data = mix.sample(args.n, generator=torch.Generator().manual_seed(0)).to(dev)

    def prior(seed):
        return sde.prior_sample((args.n, 2), generator=torch.Generator().manual_seed(seed)).to(dev)

    def g(seed):
        return torch.Generator(device=dev).manual_seed(seed)

    rows = {
        "probability flow, dopri5 (torchdiffeq)": lambda s: probability_flow_sample(sde, score, x_T=prior(s), return_nfe=True),
        "probability flow, RK45 (scipy, score_sde)": lambda s: scipy_rk45(sde, score, prior(s)),
        "probability flow, Heun, 100 steps": lambda s: (probability_flow_sample(sde, score, x_T=prior(s), method="heun", n_steps=100), 200),
        "reverse SDE, Euler-Maruyama, 500 steps": lambda s: (reverse_sde_sample(sde, score, x_T=prior(s), n_steps=500, generator=g(s)), 500),
        "predictor-corrector, 200 steps": lambda s: (predictor_corrector_sample(sde, score, x_T=prior(s), n_steps=200, generator=g(s)), 400),
    }
    print(f"{args.n} samples of the eight-Gaussian ring, VP SDE, exact score, device {dev}")
    print(f"{'sampler':44} {'NFE':>5} {'ms':>8} {'energy':>8}")
    threshold = None
    for name, run in rows.items():
        times = []
        for rep in range(args.repeats):
            if dev.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            x, nfe = run(rep + 1)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        test = permutation_test(x, data, n_permutations=200, generator=g(99))
        threshold = test.threshold
        print(f"{name:44} {nfe:5d} {1e3 * statistics.median(times):8.1f} {test.statistic:8.4f}")
    print(f"(permutation threshold of the energy distance at 5%: about {threshold:.4f})")


if __name__ == "__main__":
    np.seterr(all="raise")
    main()
