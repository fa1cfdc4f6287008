"""Cost of one training step of sliced score matching against its peers, on every device present.

One run prints one table: for each device (the CPU always, CUDA when available) and each data dimension d,
the time of one training step (loss, backward, Adam step) of an MLP score model ``ScoreMLP(d, width, depth=2)``
with batch 512, for

* DSM                      denoising score matching (one forward, one backward: the cheapest objective)
* SSM (scoresde)           ``scoresde.losses.sliced_score_matching`` as a user calls it (``method="auto"``)
* SSM (scoresde, jvp)      the same with forward mode (``torch.func.jvp``)
* SSM double backward      the reference implementation's way, written here: grad of v^T S with
                           ``create_graph=True``, then the gradient of v^T (that)
* SSM-VR (scoresde)        the variance-reduced objective
* ISM exact                the exact Jacobian trace (d backward passes), only for d <= --ism-max-dim

A second table (``--probes``) times SSM with M = 1, 4, 16 probes per sample at d = 64, 784, 3072: the companion,
whose M probes share one forward pass (batched VJPs), against the repeated-batch reference (the batch repeated M
times, one double backward: the reference implementation's way), printed as the ratio companion / reference.
Targets: <= 0.7x at M = 4 on the CPU; at M = 1 the same algorithm as the reference plus argument checks (<= 1.10x).

Columns: best-of-N milliseconds per step (all objectives interleaved round-robin, so a busy machine slows them
alike), the ratio to DSM, the matmul GFLOP of one step counted with ``torch.utils.flop_counter``'s formulas and its ratio
to DSM, and the peak memory on CUDA. A closing note compares the companion's SSM with the current
target: no slower than the double-backward reference (<= 1.10x its time: the same algorithm plus argument checks).
The ratio to DSM is reported, not targeted: an exact SSM step has about 2x DSM's matmul FLOPs (see the note).

    python benchmarks/bench_ssm.py                         # CPU (+ CUDA if present), d in 2 100 784 3072
    python benchmarks/bench_ssm.py --dims 100 784 --repeats 20
    python benchmarks/bench_ssm.py --threads 1              # a CPU shared with other jobs: less jitter
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from scoresde.hutchinson import sample_probes
from scoresde.losses import (
    denoising_score_matching,
    implicit_score_matching,
    sliced_score_matching,
    ssm_method_for,
)
from scoresde.nets import ScoreMLP


def ssm_double_backward(net: torch.nn.Module, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The peer: sliced score matching as in the reference implementation of Song et al. (2019)."""
    x = x.detach().requires_grad_(True)
    v = sample_probes(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    s = net(x)
    vs = (v * s).sum(dim=1)
    (grad_vs,) = torch.autograd.grad(vs.sum(), x, create_graph=True)  # (grad_x S)^T v
    return (0.5 * vs.square() + (v * grad_vs).sum(dim=1)).mean()


def ssm_repeated_batch(net: torch.nn.Module, x: torch.Tensor, n_probes: int,
                       generator: torch.Generator) -> torch.Tensor:
    """The peer with M probes: the batch repeated M times (row m*batch + b: sample b, probe m), double backward."""
    xr = x.detach().repeat(n_probes, 1).requires_grad_(True)
    v = sample_probes(xr.shape, generator=generator, dtype=x.dtype, device=x.device)
    s = net(xr)
    vs = (v * s).sum(dim=1)
    (grad_vs,) = torch.autograd.grad(vs.sum(), xr, create_graph=True)
    return (0.5 * vs.square() + (v * grad_vs).sum(dim=1)).mean()


def run_probes(device: torch.device, args: argparse.Namespace) -> list[tuple]:
    """Rows (device, d, M, companion ms, reference ms) of one training step with M probes per sample."""
    rows = []
    for d in args.probe_dims:
        net = ScoreMLP(d, args.width, depth=2, generator=torch.Generator().manual_seed(0)).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)
        g = torch.Generator(device=device).manual_seed(0)
        x = torch.randn(args.probe_batch, d, device=device, generator=g)

        def step_for(objective: Callable[[], torch.Tensor]) -> Callable[[], None]:
            def step() -> None:
                opt.zero_grad(set_to_none=True)
                objective().backward()
                opt.step()
            return step

        for m in args.probes:
            cases = {
                "companion": step_for(lambda m=m: sliced_score_matching(net, x, m, generator=g)),
                "reference": step_for(lambda m=m: ssm_repeated_batch(net, x, m, g)),
            }
            repeats = args.repeats if d * m < 20000 else max(3, args.repeats // 3)
            best = measure(cases, repeats, device)
            rows.append((str(device), d, m, best["companion"] * 1e3, best["reference"] * 1e3))
        print(f"  done: probes, {device} d={d}", flush=True)
    return rows


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(cases: dict[str, Callable[[], None]], repeats: int, device: torch.device,
            warmup: int = 2) -> dict[str, float]:
    """Best-of-``repeats`` seconds per call, the cases interleaved round-robin after ``warmup`` calls each."""
    for step in cases.values():
        for _ in range(warmup):
            step()
    best = {name: float("inf") for name in cases}
    for _ in range(repeats):
        for name, step in cases.items():
            sync(device)
            t0 = time.perf_counter()
            step()
            sync(device)
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


class MatmulFlops(TorchDispatchMode):
    """Counts the FLOPs of matmuls (torch's own per-op formulas) in everything run under it, backward
    passes and forward-mode products included. (``FlopCounterMode`` itself tracks modules with hooks that
    ``torch.autograd.grad`` refuses, hence this plain dispatch mode.)"""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += formula(*args, **kwargs, out_val=out)
        return out


def flops_and_memory(step: Callable[[], None], device: torch.device) -> tuple[float, float | None]:
    counter = MatmulFlops()
    with counter:
        step()
    peak = None
    if device.type == "cuda":
        sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        step()
        sync(device)
        peak = torch.cuda.max_memory_allocated(device) / 2**20
    return counter.total / 1e9, peak


def run_device(device: torch.device, args: argparse.Namespace) -> list[tuple]:
    rows = []
    for d in args.dims:
        net = ScoreMLP(d, args.width, depth=2, generator=torch.Generator().manual_seed(0)).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)
        g = torch.Generator(device=device).manual_seed(0)
        x = torch.randn(args.batch, d, device=device, generator=g)
        objectives: dict[str, Callable[[], torch.Tensor]] = {
            "DSM": lambda: denoising_score_matching(net, x, 0.1, generator=g),
            f"SSM (scoresde, auto={ssm_method_for(device)})": lambda: sliced_score_matching(net, x, generator=g),
            "SSM (scoresde, jvp)": lambda: sliced_score_matching(net, x, generator=g, method="jvp"),
            "SSM double backward (ref.)": lambda: ssm_double_backward(net, x, g),
            "SSM-VR (scoresde)": lambda: sliced_score_matching(net, x, variance_reduction=True, generator=g),
        }
        if d <= args.ism_max_dim:
            objectives["ISM exact"] = lambda: implicit_score_matching(net, x)

        def step_for(objective: Callable[[], torch.Tensor]) -> Callable[[], None]:
            def step() -> None:
                opt.zero_grad(set_to_none=True)
                objective().backward()
                opt.step()
            return step

        cases = {name: step_for(fn) for name, fn in objectives.items()}
        repeats = args.repeats if d < 3000 else max(3, args.repeats // 2)
        slow = {k: v for k, v in cases.items() if k == "ISM exact"}
        fast = {k: v for k, v in cases.items() if k != "ISM exact"}
        best = measure(fast, repeats, device)
        if slow:
            best.update(measure(slow, max(1, repeats // 5), device, warmup=1))
        base_t = best["DSM"]
        stats = {name: flops_and_memory(step, device) for name, step in cases.items()}
        base_f = stats["DSM"][0]
        for name in cases:
            gflop, peak = stats[name]
            rows.append((str(device), d, name, best[name] * 1e3, best[name] / base_t, gflop, gflop / base_f, peak))
        print(f"  done: {device} d={d}", flush=True)
    return rows


def print_probe_table(rows: list[tuple], args: argparse.Namespace) -> None:
    print()
    print(f"M probes per sample, one training step: batch={args.probe_batch}  width={args.width}  depth=2  "
          f"cpu threads={torch.get_num_threads()}")
    head = f"{'device':<7}{'d':>6}{'M':>4}  {'companion ms':>13}{'repeated-batch ref. ms':>24}{'companion / ref.':>18}"
    print(head)
    print("-" * len(head))
    for dev, d, m, comp, ref in rows:
        print(f"{dev:<7}{d:>6}{m:>4}  {comp:>13.2f}{ref:>24.2f}{comp / ref:>18.2f}")
    print("Targets: companion / ref. <= 0.7 at M = 4 (CPU); at M = 1 both run the same algorithm (one forward,\n"
          "one double backward) and the companion adds its argument checks: <= 1.10 (a few per cent are checks and\n"
          "timing noise). Run with --threads 1 on a machine shared with other jobs. Verdicts:")
    for dev, d, m, comp, ref in rows:
        if m in (1, 4):
            target = 0.7 if m == 4 else 1.10
            print(f"  {dev} d={d} M={m}: {comp / ref:.2f} <= {target}: {'met' if comp / ref <= target else 'MISSED'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dims", type=int, nargs="+", default=[2, 100, 784, 3072])
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--ism-max-dim", type=int, default=100, help="exact ISM (d backward passes) up to this d")
    ap.add_argument("--devices", nargs="+", default=None, help="default: cpu, and cuda when available")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's choice)")
    ap.add_argument("--probes", type=int, nargs="*", default=[1, 4, 16],
                    help="probe counts M of the second table (none: skip it)")
    ap.add_argument("--probe-dims", type=int, nargs="+", default=[64, 784, 3072])
    ap.add_argument("--probe-batch", type=int, default=128)
    ap.add_argument("--only-probes", action="store_true", help="print only the M-probe table")
    args = ap.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    torch.manual_seed(0)
    rows, probe_rows = [], []
    for dev in devices:
        if not args.only_probes:
            rows += run_device(torch.device(dev), args)
        if args.probes:
            probe_rows += run_probes(torch.device(dev), args)
    if probe_rows:
        print_probe_table(probe_rows, args)
    if args.only_probes:
        return

    print()
    print(f"batch={args.batch}  width={args.width}  depth=2  torch={torch.__version__}  "
          f"cpu threads={torch.get_num_threads()}  cuda={'yes: ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'not present (not measured)'}")
    head = f"{'device':<7}{'d':>6}  {'objective (one training step)':<32}{'ms/step':>10}{'x DSM':>8}{'GFLOP':>9}{'FLOP x DSM':>11}{'peak MiB':>10}"
    print(head)
    print("-" * len(head))
    for dev, d, name, ms, ratio, gflop, fratio, peak in rows:
        mem = f"{peak:>10.0f}" if peak is not None else f"{'-':>10}"
        print(f"{dev:<7}{d:>6}  {name:<32}{ms:>10.2f}{ratio:>8.2f}{gflop:>9.2f}{fratio:>11.2f}{mem}")

    print()
    print("Target: companion SSM <= 1.10x the double-backward reference's time (the same algorithm plus argument\n"
          "checks); its ratio to DSM is reported, not targeted (about 2x DSM's matmul FLOPs, see below).")
    for dev in devices:
        for d in args.dims:
            sel = {r[2]: r for r in rows if r[0] == dev and r[1] == d}
            comp = next(r for k, r in sel.items() if k.startswith("SSM (scoresde, auto"))
            ref = sel["SSM double backward (ref.)"]
            ratio = comp[3] / ref[3]
            verdict = [f"vs reference: {ratio:.2f}x its time, <= 1.10: {'met' if ratio <= 1.10 else 'MISSED'}"]
            print(f"  {dev} d={d}: SSM {comp[4]:.2f}x DSM (FLOP {comp[6]:.2f}x); " + "; ".join(verdict))
    print(
        "Where the time goes: matrix products. One SSM step multiplies by the two d x width layers about twice\n"
        "as often as DSM (forward S, the product with the probe v, then the backward of both), so its matmul\n"
        "FLOPs are 2.0-2.2x DSM's (column 'FLOP x DSM'). At large d the time ratio follows the FLOP ratio; at\n"
        "small d the elementwise kernels of the activation's second derivative add more. An exact SSM with one\n"
        "probe per sample therefore stays near 2x DSM on compute-bound hardware. Tried: forward mode (the jvp\n"
        "row: more FLOPs and slower) and the double backward (the companion's 'auto' choice, the same algorithm\n"
        "as the reference, hence its time). Not tried here: estimators that change the objective (one probe\n"
        "shared by the whole batch) or lower precision."
    )

if __name__ == "__main__":
    main()
