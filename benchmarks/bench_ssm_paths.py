"""Which path should sliced score matching take: forward-mode jvp or double-backward vjp?

Times one training step (loss + gradient with respect to every parameter) of an MLP score model for
the objectives in ``scoresde.losses`` and prints one table: the best-of-N step time (all objectives interleaved, so a
busy machine slows them alike) and its ratio to denoising
score matching (the cheapest objective: one forward, one backward). ``SSM_AUTO_METHOD`` in
``scoresde/losses.py`` records the faster SSM path per device type from this table.

    python benchmarks/bench_ssm_paths.py                    # CPU, d in (2, 100, 784)
    python benchmarks/bench_ssm_paths.py --device cuda --batch 512 --repeats 50

Both paths compute the same number (tests/test_losses.py); this script decides only speed.
"""

from __future__ import annotations

import argparse
import time

import torch

from scoresde.losses import denoising_score_matching, implicit_score_matching, sliced_score_matching


def mlp(d: int, width: int, device: torch.device) -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(d, width), torch.nn.SiLU(),
        torch.nn.Linear(width, width), torch.nn.SiLU(),
        torch.nn.Linear(width, d),
    ).to(device)


def time_steps(steps: dict, repeats: int, device: torch.device) -> dict[str, float]:
    """Best-of-``repeats`` time of each step, the steps interleaved round-robin (fair under shared load)."""
    for step in steps.values():  # warm-up
        for _ in range(2):
            step()
    best = {name: float("inf") for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 100, 784])
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--projections", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--ism-max-dim", type=int, default=10, help="exact ISM (d backward passes) up to this d")
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    gen = torch.Generator(device=device).manual_seed(0)

    rows = []
    for d in args.dims:
        net = mlp(d, args.width, device)
        params = list(net.parameters())
        x = torch.randn(args.batch, d, device=device, generator=gen)

        def step_for(loss_fn):
            def step():
                loss = loss_fn()
                torch.autograd.grad(loss, params)
            return step

        cases = {
            "DSM": lambda: denoising_score_matching(net, x, 0.1, generator=gen),
            "SSM jvp": lambda: sliced_score_matching(net, x, args.projections, generator=gen, method="jvp"),
            "SSM vjp (double backward)": lambda: sliced_score_matching(
                net, x, args.projections, generator=gen, method="vjp"),
            "SSM-VR jvp": lambda: sliced_score_matching(
                net, x, args.projections, variance_reduction=True, generator=gen, method="jvp"),
            "SSM-VR vjp": lambda: sliced_score_matching(
                net, x, args.projections, variance_reduction=True, generator=gen, method="vjp"),
            "SSM auto": lambda: sliced_score_matching(net, x, args.projections, generator=gen),
        }
        if d <= args.ism_max_dim:
            cases["ISM (exact trace)"] = lambda: implicit_score_matching(net, x)
        best = time_steps({name: step_for(fn) for name, fn in cases.items()}, args.repeats, device)
        for name, t in best.items():
            rows.append((d, name, t * 1e3, t / best["DSM"]))

    print(f"device={device}  batch={args.batch}  width={args.width}  projections={args.projections}  "
          f"torch={torch.__version__}  threads={torch.get_num_threads()}")
    print(f"{'d':>5}  {'objective (one training step)':<28} {'ms/step':>9} {'x DSM':>7}")
    for d, name, ms, ratio in rows:
        print(f"{d:>5}  {name:<28} {ms:>9.2f} {ratio:>7.2f}")


if __name__ == "__main__":
    main()
