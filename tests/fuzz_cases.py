"""The fuzz table of issue 13: every public function driven with bad shapes, dtypes, NaN/inf, empty batches,
the meta device, bad callables, bad files and bad answers, each run and classified.

A case is ``(name, call, expect)``: ``call()`` runs the public function; ``expect`` is ``None`` when the only
acceptable outcome is a clear error, or a predicate that a returned value must satisfy (a correct answer).
:func:`classify` runs one case in a fresh temporary working directory under a wall-clock limit and returns
one of :data:`OUTCOMES`:

* ``"code executed"``: a file appeared in the working directory (an answer ran code);
* ``"hang"``: the call ran past the limit;
* ``"silent wrong"``: a value came back where an error was due, or a value that fails ``expect``
  (NaN where a number was promised included);
* ``"obscure error"``: an exception other than ``ValueError``/``TypeError`` (the divergence error and
  argparse's exit status 2 count as clear), or a clear type whose message does not name what is wrong;
* ``"clear error"`` and ``"accepted"``: the two good outcomes.

Used by ``tests/test_fuzz.py`` (which asserts only good outcomes) and ``benchmarks/fuzz_table.py`` (which
prints the table).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import tempfile
from collections.abc import Callable
from typing import Any

import torch

from scoresde import brownian, exercises, hutchinson, likelihood, losses, metrics, nets, solvers, train
from scoresde import sde as S
from scoresde._checks import DivergenceError
from scoresde.exercises.safe_expr import time_limit
from scoresde.sampling import (
    annealed_langevin,
    langevin,
    predictor_corrector_sample,
    probability_flow_sample,
    reverse_sde_sample,
)

OUTCOMES = ("code executed", "hang", "silent wrong", "obscure error", "clear error", "accepted")
GOOD = ("clear error", "accepted")
SECONDS = 20.0

Case = tuple[str, Callable[[], Any], Callable[[Any], bool] | None]


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _finite(value: Any) -> bool:
    """Every number in ``value`` (tensor, float, tuple, dataclass) is finite."""
    if isinstance(value, torch.Tensor):
        return not (value.is_floating_point() or value.is_complex()) or bool(torch.isfinite(value).all())
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (tuple, list)):
        return all(_finite(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return all(_finite(getattr(value, f)) for f in value.__dataclass_fields__)
    return True


# ---- the bad inputs ---------------------------------------------------------------------------------

def _good(shape=(8, 2)) -> torch.Tensor:
    return torch.randn(shape, generator=_gen(0))


def _nan() -> torch.Tensor:
    x = _good()
    x[3, 1] = float("nan")
    return x


def _inf() -> torch.Tensor:
    x = _good()
    x[0, 0] = float("inf")
    return x


TENSORS: dict[str, Callable[[], Any]] = {
    "float32": _good,
    "float64": lambda: _good().double(),
    "float16": lambda: _good().half(),
    "bfloat16": lambda: _good().bfloat16(),
    "int64": lambda: _good().long(),
    "bool": lambda: _good() > 0,
    "complex64": lambda: _good().to(torch.complex64),
    "NaN": _nan,
    "inf": _inf,
    "empty batch": lambda: torch.empty(0, 2),
    "meta": lambda: torch.empty(8, 2, device="meta"),
    "1-D": lambda: torch.randn(8, generator=_gen(0)),
    "list": lambda: [[0.0, 1.0]] * 8,
    "None": lambda: None,
    "stride 0": lambda: torch.randn(1, 2, generator=_gen(0)).expand(8, 2),
}
VALID = ("float32", "float64", "stride 0")  # half precision: a clear error or a finite answer
#: inputs some functions accept by design: a 1-D batch of scalars for the closed-form laws; NaN/inf rows
#: through a network (its forward does not synchronise a GPU to look; the losses check), checked row by row
EXTRA_VALID = {"marginal_prob": ("1-D",), "ScoreMLP": ("NaN", "inf")}


def _rowwise(value: Any) -> bool:
    """Non-finite output only in the rows whose input was non-finite (rows 0 and 3 of _nan/_inf)."""
    keep = [i for i in range(8) if i not in (0, 3)]
    return bool(torch.isfinite(value[keep]).all())

CALLABLES: dict[str, Any] = {
    "not callable": 3,
    "wrong shape": lambda x, *a: x[:, :1],
    "returns NaN": lambda x, *a: x * float("nan"),
    "returns int": lambda x, *a: x.long(),
    "returns a list": lambda x, *a: x.tolist(),
    "raises": lambda x, *a: 1 / 0,
}


def _score(x: torch.Tensor, *rest: Any) -> torch.Tensor:
    return -x


# ---- functions of one tensor argument ---------------------------------------------------------------

def _x_functions() -> dict[str, Callable[[Any], Any]]:
    f64 = torch.float64
    return {
        "hutchinson_trace(jvp)": lambda x: hutchinson.hutchinson_trace(lambda z: 2 * z, x, method="jvp",
                                                                       generator=_gen(1)),
        "hutchinson_trace(vjp)": lambda x: hutchinson.hutchinson_trace(lambda z: 2 * z, x, method="vjp",
                                                                       generator=_gen(1)),
        "jacobian_trace": lambda x: hutchinson.jacobian_trace(lambda z: 2 * z, x),
        "explicit_score_matching": lambda x: losses.explicit_score_matching(_score, x, _score),
        "implicit_score_matching": lambda x: losses.implicit_score_matching(_score, x),
        "sliced_score_matching": lambda x: losses.sliced_score_matching(_score, x, generator=_gen(1)),
        "denoising_score_matching": lambda x: losses.denoising_score_matching(_score, x, 0.5, generator=_gen(1)),
        "sde_score_matching": lambda x: losses.sde_score_matching(lambda y, t: -y, x, S.VPSDE(), generator=_gen(1)),
        "energy_distance": lambda x: metrics.energy_distance(x, x.clone() if isinstance(x, torch.Tensor) else x),
        "mmd2": lambda x: metrics.mmd2(x, x + 1 if isinstance(x, torch.Tensor) else x),
        "pairwise_distances": lambda x: metrics.pairwise_distances(x, x),
        "permutation_test": lambda x: metrics.permutation_test(x, x, n_permutations=20, generator=_gen(1)),
        "VPSDE.marginal_prob": lambda x: S.VPSDE().marginal_prob(x, 0.5),
        "VESDE.marginal_prob": lambda x: S.VESDE().marginal_prob(x, 0.5),
        "BrownianMotion.marginal_prob": lambda x: S.BrownianMotion().marginal_prob(x, 0.5),
        "OrnsteinUhlenbeck.marginal_prob": lambda x: S.OrnsteinUhlenbeck().marginal_prob(x, 0.5),
        "VPSDE.prior_logp": lambda x: S.VPSDE().prior_logp(x),
        "solve(euler)": lambda x: solvers.solve(S.VPSDE(), x, [0.0, 1.0], dt=0.1, generator=_gen(1)),
        "solve(milstein, GBM)": lambda x: solvers.solve(S.GeometricBrownianMotion(), x, [0.0, 1.0], dt=0.1,
                                                        method="milstein", generator=_gen(1)),
        "langevin": lambda x: langevin(_score, x, 0.1, 5, generator=_gen(1)),
        "annealed_langevin": lambda x: annealed_langevin(_score, x, [1.0, 0.5], 0.1, 2, generator=_gen(1)),
        "reverse_sde_sample(x_T)": lambda x: reverse_sde_sample(S.VPSDE(), lambda y, t: -y, x_T=x, n_steps=5,
                                                                generator=_gen(1)),
        "predictor_corrector_sample(x_T)": lambda x: predictor_corrector_sample(
            S.VPSDE(), lambda y, t: -y, x_T=x, n_steps=5, generator=_gen(1)),
        "probability_flow_sample(x_T)": lambda x: probability_flow_sample(
            S.VPSDE(), lambda y, t: -y, x_T=x, method="euler", n_steps=5),
        "log_likelihood": lambda x: likelihood.log_likelihood(S.VPSDE(), lambda y, t: -y, x, generator=_gen(1)),
        "ScoreMLP": lambda x: nets.ScoreMLP(2, 8, 1, generator=_gen(2))(x),
        "TimeScoreMLP": lambda x: nets.TimeScoreMLP(2, 8, 1, generator=_gen(2))(
            x, torch.full((len(x),), 0.5) if isinstance(x, torch.Tensor) and x.device.type == "cpu" else x),
        "train(data)": lambda x: train.train(nets.ScoreMLP(2, 8, 1, generator=_gen(2)), x, "ssm", steps=2,
                                             batch_size=4, seed=0),
        "float64 model": lambda x: nets.ScoreMLP(2, 8, 1, generator=_gen(2)).to(f64)(x),
    }


# ---- functions of a callable argument ---------------------------------------------------------------

def _callable_functions() -> dict[str, Callable[[Any], Any]]:
    x = _good()
    return {
        "hutchinson_trace": lambda f: hutchinson.hutchinson_trace(f, x, generator=_gen(1)),
        "jacobian_trace": lambda f: hutchinson.jacobian_trace(f, x),
        "explicit_score_matching": lambda f: losses.explicit_score_matching(f, x, _score),
        "implicit_score_matching": lambda f: losses.implicit_score_matching(f, x),
        "denoising_score_matching": lambda f: losses.denoising_score_matching(f, x, 0.5, generator=_gen(1)),
        "langevin": lambda f: langevin(f, x, 0.1, 3, generator=_gen(1)),
        "reverse_sde_sample": lambda f: reverse_sde_sample(S.VPSDE(), f, (8, 2), n_steps=3, generator=_gen(1)),
        "solve(FunctionSDE drift)": lambda f: solvers.solve(
            S.FunctionSDE(f, lambda y, t: torch.ones_like(y)), x, [0.0, 1.0], generator=_gen(1)),
        "log_likelihood": lambda f: likelihood.log_likelihood(S.VPSDE(), f, x, generator=_gen(1)),
    }


# a callable that "raises" is the student's own bug: its own exception propagating is the clear outcome
_OWN_ERROR = ZeroDivisionError


# ---- parameters out of range ------------------------------------------------------------------------

def _parameter_cases() -> list[Case]:
    x = _good()
    finite = _finite
    return [
        ("marginal_prob t=-0.5", lambda: S.BrownianMotion().marginal_prob(x, -0.5), None),
        ("marginal_prob t=nan", lambda: S.VESDE().marginal_prob(x, float("nan")), None),
        ("marginal_prob t=inf", lambda: S.VPSDE().marginal_prob(x, float("inf")), None),
        ("marginal_prob t='1'", lambda: S.VPSDE().marginal_prob(x, "1"), None),
        ("marginal_prob int x0", lambda: S.VPSDE().marginal_prob(torch.ones(2, 2, dtype=torch.long), 0.5), None),
        ("VPSDE(beta_min=-1)", lambda: S.VPSDE(beta_min=-1.0), None),
        ("VESDE(sigma_max=nan)", lambda: S.VESDE(sigma_max=float("nan")), None),
        ("OU(T=0)", lambda: S.OrnsteinUhlenbeck(T=0.0), None),
        ("solve dt=0", lambda: solvers.solve(S.VPSDE(), x, [0.0, 1.0], dt=0.0), None),
        ("solve dt=1e-9", lambda: solvers.solve(S.VPSDE(), x, [0.0, 1.0], dt=1e-9), None),
        ("solve ts not monotone", lambda: solvers.solve(S.VPSDE(), x, [0.0, 1.0, 0.5]), None),
        ("solve ts with NaN", lambda: solvers.solve(S.VPSDE(), x, [0.0, float("nan")]), None),
        ("solve method='rk4'", lambda: solvers.solve(S.VPSDE(), x, [0.0, 1.0], method="rk4"), None),
        ("solve reverse SDE forward", lambda: solvers.solve(S.VPSDE().reverse(_score), x, [0.0, 1.0]), None),
        ("solve shape-changing drift", lambda: solvers.solve(
            S.FunctionSDE(lambda y, t: -y if float(t[0]) < 0.3 else -y[:1], lambda y, t: torch.ones_like(y)),
            x, [0.0, 1.0], dt=0.1, generator=_gen(1)), None),
        ("milstein coupled diagonal", lambda: solvers.solve(
            S.FunctionSDE(lambda y, t: -y, lambda y, t: 1 + 0.3 * y.flip(-1)), x, [0.0, 1.0], method="milstein",
            generator=_gen(1)), None),
        ("langevin step_size=-1", lambda: langevin(_score, x, -1.0, 3), None),
        ("langevin n_steps=1e9", lambda: langevin(_score, x, 0.1, 10**9), None),
        ("langevin n_steps=2.5", lambda: langevin(_score, x, 0.1, 2.5), None),
        ("langevin float64 score", lambda: langevin(lambda z: (-z).double(), x, 0.1, 3), None),
        ("langevin diverges", lambda: langevin(lambda z: z * 1e30, x, 1.0, 20, generator=_gen(1)), None),
        ("annealed sigmas increasing", lambda: annealed_langevin(_score, x, [0.5, 1.0], 0.1, 2), None),
        ("annealed sigmas empty", lambda: annealed_langevin(_score, x, [], 0.1, 2), None),
        ("dsm sigma=1e-30", lambda: losses.denoising_score_matching(_score, x, 1e-30), None),
        ("dsm sigma=0", lambda: losses.denoising_score_matching(_score, x, 0.0), None),
        ("dsm sigma=nan", lambda: losses.denoising_score_matching(_score, x, float("nan")), None),
        ("energy_distance 1e20", lambda: metrics.energy_distance(x * 1e20, (x + 1) * 1e20),
         lambda v: math.isfinite(v) and v > 0),
        ("energy_distance 1e-30", lambda: metrics.energy_distance(x * 1e-30, (x + 1) * 1e-30),
         lambda v: math.isfinite(v) and v > 0),
        ("energy_distance one point", lambda: metrics.energy_distance(x[:1], x), None),
        ("energy_distance mixed dtypes", lambda: metrics.energy_distance(x, x.double()), None),
        ("mmd2 bandwidth=-1", lambda: metrics.mmd2(x, x, bandwidth=-1.0), None),
        ("permutation_test alpha=2", lambda: metrics.permutation_test(x, x, alpha=2.0), None),
        ("hutchinson n_probes=0", lambda: hutchinson.hutchinson_trace(lambda z: z, x, n_probes=0), None),
        ("hutchinson dist='cauchy'", lambda: hutchinson.hutchinson_trace(lambda z: z, x, dist="cauchy"), None),
        ("sample_probes bad shape", lambda: hutchinson.sample_probes((0, 2), "rademacher"), None),
        ("BrownianPath.sample ts=[0]", lambda: brownian.BrownianPath.sample([0.0], (2, 1)), None),
        ("BrownianPath.sample 20M steps", lambda: brownian.BrownianPath.sample(
            torch.arange(20_000_001, dtype=torch.float64), (1, 1)), None),
        ("BrownianPath.refine 1e6", lambda: brownian.BrownianPath.sample([0.0, 1.0], (2, 1)).refine(10**8), None),
        ("BrownianPath.sample int dtype", lambda: brownian.BrownianPath.sample([0.0, 1.0], (2, 1),
                                                                               dtype=torch.int64), None),
        ("reverse_sde_sample eps=0", lambda: reverse_sde_sample(S.VPSDE(), _score, (4, 2), eps=0.0), None),
        ("reverse_sde_sample n_steps=1e9", lambda: reverse_sde_sample(S.VPSDE(), _score, (4, 2), n_steps=10**9),
         None),
        ("pc_sample snr=-1", lambda: predictor_corrector_sample(S.VPSDE(), _score, (4, 2), snr=-1.0), None),
        ("pc_sample 2e7 steps", lambda: predictor_corrector_sample(S.VPSDE(), _score, (4, 2), n_steps=10**6,
                                                                   n_corrector=20), None),
        ("log_likelihood GBM (no prior)", lambda: likelihood.log_likelihood(S.GeometricBrownianMotion(),
                                                                            _score, torch.ones(3, 1)), None),
        ("log_likelihood eps=1", lambda: likelihood.log_likelihood(S.VPSDE(), _score, x, eps=1.0), None),
        ("train steps=0", lambda: train.train(nets.ScoreMLP(2, 8, 1), x, "ssm", steps=0), None),
        ("train loss='nope'", lambda: train.train(nets.ScoreMLP(2, 8, 1), x, "nope", steps=1), None),
        ("train device='meta'", lambda: train.train(nets.ScoreMLP(2, 8, 1), x, "ssm", steps=1, device="meta"),
         None),
        ("train device='banana'", lambda: train.train(nets.ScoreMLP(2, 8, 1), x, "ssm", steps=1,
                                                      device="banana"), None),
        ("train lr=nan", lambda: train.train(nets.ScoreMLP(2, 8, 1), x, "ssm", steps=1, lr=float("nan")), None),
        ("train diverges", lambda: train.train(nets.ScoreMLP(2, 8, 1, generator=_gen(2)), x * 1e30, "ssm",
                                               steps=3, batch_size=4), None),
        ("ScoreMLP(dim=0)", lambda: nets.ScoreMLP(0), None),
        ("ScoreMLP activation='relu'", lambda: nets.ScoreMLP(2, activation="relu"), None),
        ("ScoreMLP wrong width", lambda: nets.ScoreMLP(3, 8, 1)(x), None),
        ("good solve", lambda: solvers.solve(S.VPSDE(), x, [0.0, 1.0], dt=0.1, generator=_gen(1)),
         lambda v: v.shape == (2, 8, 2) and finite(v)),
        ("good marginal std", lambda: S.VPSDE().marginal_prob(torch.ones(2, 2), 0.5)[1],
         lambda v: abs(float(v[0]) - 0.9597) < 1e-4),
    ]


# ---- bad files ----------------------------------------------------------------------------------------

def _file_cases() -> list[Case]:
    def in_tmp(write: Callable[[str], str]) -> Callable[[], Any]:
        def run() -> Any:
            path = write("f.pt")
            return train.load_checkpoint(path)
        return run

    def garbage(p: str) -> str:
        with open(p, "wb") as fh:
            fh.write(b"\x00not a checkpoint")
        return p

    def pickled_code(p: str) -> str:
        import pickle

        class Evil:
            def __reduce__(self):  # unpickling would call os.system: weights_only refuses it
                return (os.system, ("touch pwned_by_pickle",))

        with open(p, "wb") as fh:
            pickle.dump({"model": Evil()}, fh)
        return p

    def weights_only(p: str) -> str:
        torch.save({"x": torch.zeros(2)}, p)
        return p

    def directory(p: str) -> str:
        os.mkdir(p)
        return p

    def under_a_file(p: str) -> str:
        open("file", "w").close()
        return "file/x.pt"

    cases: list[Case] = [
        ("load_checkpoint missing", lambda: train.load_checkpoint("missing.pt"), None),
        ("load_checkpoint garbage", in_tmp(garbage), None),
        ("load_checkpoint pickled code", in_tmp(pickled_code), None),
        ("load_checkpoint not a checkpoint", in_tmp(weights_only), None),
        ("load_checkpoint directory", in_tmp(directory), None),
        ("load_checkpoint under a file", in_tmp(under_a_file), None),
        ("load_checkpoint int path", lambda: train.load_checkpoint(3), None),
        ("load_checkpoint map_location='banana'", lambda: train.load_checkpoint("x.pt", map_location="banana"),
         None),
        ("train checkpoint under a file", lambda: (open("file", "w").close(), train.train(
            nets.ScoreMLP(2, 8, 1), _good(), "ssm", steps=1, batch_size=4, checkpoint_path="file/c.pt")), None),
        ("train checkpoint is a directory", lambda: (os.mkdir("d"), train.train(
            nets.ScoreMLP(2, 8, 1), _good(), "ssm", steps=1, batch_size=4, checkpoint_path="d")), None),
    ]
    return cases


# ---- the CLI ------------------------------------------------------------------------------------------

def _cli_cases() -> list[Case]:
    from scoresde.cli import main

    def quiet(argv: list[str]) -> Callable[[], Any]:
        def run() -> Any:
            with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
                return main(argv)
        return run

    sample = ["sample", "--checkpoint", "c.pt", "--out", "x.pt"]
    cases = [
        ("cli --device banana", quiet(sample + ["--device", "banana"]), None),
        ("cli --device meta", quiet(sample + ["--device", "meta"]), None),
        ("cli missing checkpoint", quiet(sample), None),
        ("cli --n-steps 0", quiet(sample + ["--n-steps", "0"]), None),
        ("cli --n-steps x", quiet(sample + ["--n-steps", "x"]), None),
        ("cli --sampler nope", quiet(sample + ["--sampler", "nope"]), None),
        ("cli train --sde cld", quiet(["train", "--checkpoint", "c.pt", "--sde", "cld"]), None),
        ("cli train checkpoint under a file", lambda: (open("file", "w").close(), quiet(
            ["train", "--checkpoint", "file/c.pt", "--steps", "1"])()), None),
        ("cli no command", quiet([]), None),
    ]
    if not torch.cuda.is_available():
        cases.append(("cli --device cuda (no CUDA)", quiet(sample + ["--device", "cuda"]), None))
    return cases


# ---- answers to the exercises -------------------------------------------------------------------------

def _answer_cases() -> list[Case]:
    from test_safe_expr import INJECTIONS, MALFORMED, RESOURCES

    def malformed(answer: Any) -> Callable[[], Any]:
        def run() -> Any:
            result = exercises.check("3.2", answer)
            if result.status == "malformed":
                raise ValueError(str(result))  # the checker's clear refusal
            return result
        return run

    cases: list[Case] = [(f"check 3.2 {a[:40]!r}", malformed(a), None) for a in INJECTIONS + RESOURCES + MALFORMED]
    cases += [(f"check 3.2 {a!r}", lambda a=a: exercises.check("3.2", a), lambda r: r.status == "correct")
              for a in ("t**3/3", "t^3/3", "(t**3)/3 + 0", "exp(3*log(t))/3")]
    cases += [("check 3.2 't**3/6'", lambda: exercises.check("3.2", "t**3/6"), lambda r: r.status == "not yet"),
              ("check '9.9'", lambda: exercises.check("9.9", 1.0), None),
              ("check 3.2 (number id)", lambda: exercises.check(3.2, 1.0), None)]
    return cases


# ---- the table -----------------------------------------------------------------------------------------

IMAGES: dict[str, Callable[[], Any]] = {
    "float32": lambda: torch.randn(4, 1, 6, 6, generator=_gen(0)),
    "float64": lambda: torch.randn(4, 1, 6, 6, generator=_gen(0), dtype=torch.float64),
    "int64": lambda: torch.zeros(4, 1, 6, 6, dtype=torch.long),
    "complex64": lambda: torch.zeros(4, 1, 6, 6, dtype=torch.complex64),
    "empty batch": lambda: torch.empty(0, 1, 6, 6),
    "meta": lambda: torch.empty(4, 1, 6, 6, device="meta"),
    "3 channels": lambda: torch.randn(4, 3, 6, 6, generator=_gen(0)),
    "flat": lambda: torch.randn(4, 36, generator=_gen(0)),
}


def _image_cases() -> list[Case]:
    def conv(x: Any) -> Any:
        return nets.TimeScoreConv(1, 4, 1, generator=_gen(2))(x, torch.full((4,), 0.5))

    def dsm(x: Any) -> Any:
        net = nets.TimeScoreConv(1, 4, 1, generator=_gen(2))
        return losses.sde_score_matching(net, x, S.VPSDE(), generator=_gen(1))

    out: list[Case] = []
    for fname, fn in (("TimeScoreConv", conv), ("sde_score_matching(conv)", dsm)):
        for tname, make in IMAGES.items():
            expect = _finite if tname == "float32" else None
            out.append((f"{fname} x={tname}", (lambda fn=fn, make=make: fn(make())), expect))
    return out


def cases() -> list[Case]:
    table: list[Case] = _image_cases()
    for fname, fn in _x_functions().items():
        for tname, make in TENSORS.items():
            expect = _finite if tname in VALID or tname in ("float16", "bfloat16") else None
            for key, kinds in EXTRA_VALID.items():
                if key in fname and tname in kinds:
                    expect = _rowwise if tname in ("NaN", "inf") else _finite
            table.append((f"{fname} x={tname}", (lambda fn=fn, make=make: fn(make())), expect))
    for fname, fn in _callable_functions().items():
        for cname, bad in CALLABLES.items():
            table.append((f"{fname} f={cname}", (lambda fn=fn, bad=bad: fn(bad)), None))
    return table + _parameter_cases() + _file_cases() + _cli_cases() + _answer_cases() + _issue31_cases()


_NAMES = ("x", "x0", "x_T", "data", "sigma", "t", "f", "score_fn", "step_size", "n_steps", "dt", "ts", "method",
          "eps", "snr", "alpha", "n_probes", "dist", "steps", "loss", "device", "lr", "dim", "activation",
          "bandwidth", "sigmas", "shape", "dtype", "path", "checkpoint", "answer", "exercise_id", "beta_min",
          "sigma_max", "T", "max_steps", "prior_logp", "drift f", "y", "factor", "model", "noise_type", "alpha",
          "n_corrector", "predictor", "grad_clip", "checkpoint_path", "map_location", "command", "malformed",
          "diverged", "--device", "--n-steps", "--sampler", "--sde", "--figure", "x_0", "x0", "sde", "z",
          # issue 31
          "resume", "--checkpoint", "--out", "--seed", "--hidden", "--n-samples", "--steps", "--max-steps", "--snr",
          "lr", "probes", "levels", "data_range", "decimals", "guard", "tol", "estimate", "difference", "expr", "vs",
          "zs", "samples", "cdf", "xs", "ys", "step", "losses", "config", "optimizer", "ema", "weights",
          "data.sample", "loss_kwargs", "label", "batch_size", "toy", "objective")


def _clear(err: BaseException) -> bool:
    if isinstance(err, SystemExit):
        return err.code == 2  # argparse's one-line error
    if isinstance(err, (_OWN_ERROR, DivergenceError)):
        return True
    if isinstance(err, (FileNotFoundError, IsADirectoryError, NotADirectoryError)):
        return True
    if not isinstance(err, (ValueError, TypeError)) or isinstance(err, NotImplementedError):
        return False
    text = str(err)
    return bool(re.search(r"(?<![\w.])(" + "|".join(map(re.escape, _NAMES)) + r")(?![\w(])", text))


def classify(call: Callable[[], Any], expect: Callable[[Any], bool] | None,
             seconds: float = SECONDS) -> tuple[str, str]:
    """Run one case in a fresh temporary directory; return (outcome, detail)."""
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        before = set(os.listdir(tmp))
        try:
            with time_limit(seconds):
                value = call()
        except TimeoutError:
            return "hang", f"> {seconds:g} s"
        except BaseException as err:  # noqa: BLE001 - every exception is classified
            if isinstance(err, KeyboardInterrupt):
                raise
            created = set(os.listdir(tmp)) - before - {"file", "d", "f.pt"}
            if any(name.startswith("pwn") for name in created):
                return "code executed", f"created {sorted(created)}"
            detail = f"{type(err).__name__}: {str(err).splitlines()[0][:100] if str(err) else ''}"
            return ("clear error" if _clear(err) else "obscure error"), detail
        finally:
            os.chdir(cwd)
        created = {name for name in os.listdir(tmp) if name.startswith("pwn")}
        if created:
            return "code executed", f"created {sorted(created)}"
        if expect is None:
            return "silent wrong", f"returned {type(value).__name__} where an error was due"
        try:
            ok = bool(expect(value))
        except Exception as err:  # noqa: BLE001
            return "silent wrong", f"the answer cannot be checked ({type(err).__name__})"
        return ("accepted", "") if ok else ("silent wrong", "the answer fails its check (NaN or wrong)")


# ---- issue 31: the CLI, checkpoints, times, probes, sizes and the book's helpers ------------------------

_TINY = ["--hidden", "8", "--depth", "1", "--batch-size", "16", "--ema-decay", "0.5", "--no-progress"]


def _cli(argv: list[str]) -> Any:
    from scoresde.cli import main

    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        return main(argv)


def _tiny_run(path: str = "a.pt", *extra: str, steps: int = 3) -> str:
    """A 3-step checkpoint of ``cli train`` (a tiny network: a fraction of a second)."""
    _cli(["train", "--steps", str(steps), "--checkpoint", path, *_TINY, *extra])
    return path


def _forged(change: Callable[[dict[str, Any]], None]) -> str:
    """A tiny checkpoint with one field changed by ``change``, saved as f.pt."""
    _tiny_run("f.pt")
    ckpt = torch.load("f.pt", weights_only=True)
    change(ckpt)
    torch.save(ckpt, "f.pt")
    return "f.pt"


def _resume(path: str, *extra: str, steps: int = 6) -> Any:
    return _cli(["train", "--steps", str(steps), "--checkpoint", path, "--resume", *_TINY, *extra])


def _sample_from(path: str, *extra: str) -> Any:
    return _cli(["sample", "--checkpoint", path, "--n-steps", "3", "--n-samples", "8", *extra])


def _other_optimizer(ckpt: dict[str, Any]) -> None:
    _cli(["train", "--steps", "2", "--checkpoint", "g.pt", "--hidden", "16", "--depth", "1", "--batch-size", "16",
          "--no-progress"])
    ckpt["optimizer"] = torch.load("g.pt", weights_only=True)["optimizer"]


def _wrong_shape(ckpt: dict[str, Any]) -> None:
    key = next(iter(ckpt["model"]))
    ckpt["model"][key] = torch.zeros(3, 3)
    ckpt["ema"]["module." + key] = torch.zeros(3, 3)


def _into_committed() -> Any:
    """``cli train --checkpoint`` into the committed folder (a stand-in folder: the real one is never touched)."""
    import scoresde.cli as cli

    os.mkdir("committed")
    torch.save({"committed": torch.ones(1)}, "committed/ch05_vp_dsm.pt")
    saved = cli.CHECKPOINT_DIR
    cli.CHECKPOINT_DIR = type(saved)(os.path.realpath("committed"))
    try:
        return _tiny_run("committed/ch05_vp_dsm.pt")
    finally:
        cli.CHECKPOINT_DIR = saved


def _symlinked_out() -> Any:
    _tiny_run("a.pt")
    os.symlink("a.pt", "link.pt")
    return _sample_from("a.pt", "--out", "link.pt")


class _OneRow:
    """A data source that returns one row whatever batch it is asked for."""

    def sample(self, n: int, *, generator: Any = None, device: Any = None) -> torch.Tensor:
        return torch.randn(1, 2, generator=generator)


def _self_referencing() -> Any:
    loop: list[Any] = []
    loop.append(loop)
    return train.train(nets.ScoreMLP(2, 8, 1), _good(), "ssm", steps=1, batch_size=4, loss_kwargs={"a": loop})


def _book_cases() -> list[Case]:
    import sympy as sp

    from scoresde import book

    evil = "__import__('os').system('touch pwned_by_sympify')"
    zs, many = sp.symbols("z0:2"), sp.symbols("v0:40")
    nan = float("nan")
    return [
        ("book CheckLog.sympy(code string)", lambda: book.CheckLog().sympy("label", evil), None),
        ("book gaussian_expectation(code string)", lambda: book.gaussian_expectation(evil, zs), None),
        ("book rademacher_expectation(code string)", lambda: book.rademacher_expectation(evil, zs), None),
        ("book rademacher_expectation 40 symbols", lambda: book.rademacher_expectation(sum(many), many), None),
        ("book gaussian_expectation zs not symbols", lambda: book.gaussian_expectation(zs[0] ** 2, [1, 2]), None),
        ("book round_guarded guard=-1", lambda: book.round_guarded(1.25, 1, -1), None),
        ("book round_guarded decimals=-1", lambda: book.round_guarded(3.14, -1, 0.001), None),
        ("book round_guarded x=1e300", lambda: book.round_guarded(1e300, 3, 1e-4), None),
        ("book se5 [1, nan, 2]", lambda: book.se5(torch.tensor([1.0, nan, 2.0])), None),
        ("book se5 list", lambda: book.se5([1.0, nan, 2.0]), None),
        ("book ks_distance NaN sample", lambda: book.ks_distance(torch.tensor([0.1, 0.5, nan]), torch.special.ndtr),
         None),
        ("book ks_distance cdf not callable", lambda: book.ks_distance(torch.tensor([0.1, 0.5]), 3), None),
        ("book ks_distance cdf returns NaN", lambda: book.ks_distance(torch.tensor([0.1, 0.5]),
                                                                      lambda u: u * nan), None),
        ("book loglog_slope equal xs", lambda: book.loglog_slope([1, 1], [1, 2]), None),
        ("book loglog_slope negative x", lambda: book.loglog_slope([1, -1], [1, 2]), None),
        ("book loglog_slope zero y", lambda: book.loglog_slope([1, 2], [0, 1]), None),
        ("book loglog_slope NaN", lambda: book.loglog_slope([1, 2], [1, nan]), None),
        ("book CheckLog.mc tol=-0.5", lambda: book.CheckLog().mc("label", 1.0, 1.0, -0.5), None),
        ("book CheckLog.mc estimate='1'", lambda: book.CheckLog().mc("label", "1", 1.0, 0.5), None),
        ("book format_estimate tol=5e-324", lambda: book.format_estimate(1, 5e-324), None),
        ("book format_estimate tol=nan", lambda: book.format_estimate(1, nan), None),
        ("good book rademacher", lambda: book.rademacher_expectation((zs[0] + zs[1]) ** 2, zs), lambda v: v == 2),
        ("good book gaussian", lambda: book.gaussian_expectation(zs[0] ** 4, zs), lambda v: v == 3),
        ("good book round_guarded", lambda: book.round_guarded(torch.tensor(3.5601), 1, 0.002),
         lambda v: v == "3.6"),
        ("good book loglog_slope", lambda: book.loglog_slope([1, 2, 4], [1, 4, 16]), lambda v: abs(v - 2) < 1e-12),
    ]


def _issue31_cases() -> list[Case]:
    x = _good()
    zeros = torch.zeros(1, 8, 2)
    vp = S.VPSDE()
    nan = float("nan")
    committed_argv = ["--steps", "3", *_TINY]
    return _book_cases() + [
        # resume: the whole run record, every difference named
        ("cli resume --beta-max 5", lambda: (_tiny_run(), _resume("a.pt", "--beta-max", "5")), None),
        ("cli resume --sde subvp", lambda: (_tiny_run(), _resume("a.pt", "--sde", "subvp")), None),
        ("cli resume --sigma-max 5 (ve)", lambda: (_tiny_run("a.pt", "--sde", "ve"),
                                                   _resume("a.pt", "--sde", "ve", "--sigma-max", "5")), None),
        ("cli resume --n-projections 4", lambda: (_tiny_run("a.pt", "--objective", "ssm"),
                                                  _resume("a.pt", "--objective", "ssm", "--n-projections", "4")),
         None),
        ("cli resume --weighting likelihood", lambda: (_tiny_run(), _resume("a.pt", "--weighting", "likelihood")),
         None),
        ("cli resume --hidden 16", lambda: (_tiny_run(), _resume("a.pt", "--hidden", "16")), None),
        ("good cli resume, more steps", lambda: (_tiny_run(), _resume("a.pt"))[1], lambda v: v is None),
        ("good cli resume, --progress", lambda: (_tiny_run(), _resume("a.pt", "--progress"))[1], lambda v: v is None),
        # outputs never destroy inputs
        ("cli sample --out = --checkpoint", lambda: (_tiny_run(), _sample_from("a.pt", "--out", "a.pt")), None),
        ("cli sample --out symlink to --checkpoint", _symlinked_out, None),
        ("cli sample --out = --figure", lambda: (_tiny_run(), _sample_from("a.pt", "--out", "s.png", "--figure",
                                                                           "s.png")), None),
        ("cli train --figure = --checkpoint", lambda: _cli(["train", "--checkpoint", "s.png", "--figure", "s.png",
                                                            *committed_argv]), None),
        ("cli train into the committed folder", _into_committed, None),
        # forged checkpoints
        ("cli resume checkpoint step=-5", lambda: _resume(_forged(lambda c: c.update(step=-5))), None),
        ("cli resume checkpoint step=2.7", lambda: _resume(_forged(lambda c: c.update(step=2.7))), None),
        ("cli resume checkpoint losses NaN", lambda: _resume(_forged(
            lambda c: c.update(losses=torch.full_like(c["losses"], nan)))), None),
        ("cli resume checkpoint wrong weight shape", lambda: _resume(_forged(_wrong_shape)), None),
        ("cli sample checkpoint wrong weight shape", lambda: _sample_from(_forged(_wrong_shape), "--out", "x.pt"),
         None),
        ("cli sample checkpoint without toy", lambda: _sample_from(_forged(
            lambda c: c["config"]["cli"].pop("toy")), "--out", "x.pt"), None),
        ("cli sample checkpoint without objective", lambda: _sample_from(_forged(
            lambda c: c["config"]["cli"].pop("objective")), "--out", "x.pt"), None),
        ("cli resume optimizer of another model", lambda: _resume(_forged(_other_optimizer)), None),
        ("cli resume checkpoint ema=None", lambda: _resume(_forged(lambda c: c.update(ema=None))), None),
        ("load_checkpoint config=[1, 2]", lambda: train.load_checkpoint(_forged(lambda c: c.update(config=[1, 2]))),
         None),
        # run length, seeds, sizes, learning rate
        ("cli train --steps 1e12", lambda: _cli(["train", "--checkpoint", "c.pt", "--steps", str(10**12), *_TINY]),
         None),
        ("cli train-score --steps 1e12", lambda: _cli(["train-score", "--steps", str(10**12), "--hidden", "8"]),
         None),
        ("cli train --seed 2**64", lambda: _cli(["train", "--checkpoint", "c.pt", *committed_argv, "--seed",
                                                 str(2**64)]), None),
        ("cli sample --seed 2**64", lambda: (_tiny_run(), _sample_from("a.pt", "--out", "x.pt", "--seed",
                                                                       str(2**64))), None),
        ("cli train --hidden 200000", lambda: _cli(["train", "--checkpoint", "c.pt", "--steps", "3", "--hidden",
                                                    "200000", "--no-progress"]), None),
        ("cli train-score --hidden 200000", lambda: _cli(["train-score", "--steps", "3", "--hidden", "200000"]),
         None),
        ("cli sample --n-samples 1e10", lambda: (_tiny_run(), _cli(["sample", "--checkpoint", "a.pt", "--out",
                                                                   "x.pt", "--n-samples", "1e10"])), None),
        ("cli sample --n-samples 10**10", lambda: (_tiny_run(), _sample_from("a.pt", "--out", "x.pt", "--n-samples",
                                                                             str(10**10))), None),
        ("cli train --snr 1e10", lambda: _cli(["train", "--checkpoint", "c.pt", *committed_argv, "--snr", "1e10",
                                               "--figure", "f.png"]), None),
        ("cli train --lr 1e30", lambda: _cli(["train", "--checkpoint", "c.pt", "--steps", "4", "--lr", "1e30",
                                              *_TINY]), None),
        ("VPSDE.prior_sample (10**6, 10**6)", lambda: vp.prior_sample((10**6, 10**6)), None),
        ("sample_probes (10**6, 10**6)", lambda: hutchinson.sample_probes((10**6, 10**6), "gaussian"), None),
        ("solve 10**6 output times", lambda: solvers.solve(S.OrnsteinUhlenbeck(), torch.zeros(1000, 100),
                                                           torch.linspace(0, 1, 10**6)), None),
        ("solve dt=5e-324", lambda: solvers.solve(vp, x, [0.0, 1.0], dt=5e-324), None),
        # times
        ("VPSDE.discretize t=nan", lambda: vp.discretize(x, nan, 0.01), None),
        ("VPSDE.discretize t=-5", lambda: vp.discretize(x, -5.0, 0.01), None),
        ("VPSDE.discretize t=2 (> T)", lambda: vp.discretize(x, 2.0, 0.01), None),
        ("VPSDE.discretize t tensor NaN", lambda: vp.discretize(x, torch.full((8,), nan), 0.01), None),
        ("SubVPSDE.discretize t=-1", lambda: S.SubVPSDE().discretize(x, -1.0, 0.01), None),
        ("VESDE.discretize t=-1", lambda: S.VESDE().discretize(x, -1.0, 0.01), None),
        ("VPSDE.f t=nan", lambda: vp.f(x, nan), None),
        ("VPSDE.g t=inf", lambda: vp.g(x, float("inf")), None),
        ("good VPSDE.discretize", lambda: vp.discretize(x, 0.5, 0.01), lambda v: _finite(v)),
        # probes
        ("hutchinson_trace zero probes", lambda: hutchinson.hutchinson_trace(lambda y: -y, x, probes=zeros), None),
        ("hutchinson_trace one zero row", lambda: hutchinson.hutchinson_trace(
            lambda y: -y, x, probes=torch.ones(1, 8, 2).index_fill(1, torch.tensor([3]), 0.0)), None),
        ("sliced_score_matching zero probes", lambda: losses.sliced_score_matching(_score, x, probes=zeros), None),
        ("log_likelihood zero probes", lambda: likelihood.log_likelihood(vp, lambda y, t: -y, x, probes=zeros),
         None),
        ("good hutchinson_trace ones", lambda: hutchinson.hutchinson_trace(lambda y: -y, x,
                                                                           probes=torch.ones(1, 8, 2)),
         lambda v: bool(torch.allclose(v, torch.full((8,), -2.0)))),
        # data ranges, levels, snr, data sources, plain data
        ("bits_per_dim data_range=5e-324", lambda: likelihood.log_likelihood(
            vp, lambda y, t: -y, x, generator=_gen(1)).bits_per_dim(data_range=5e-324), None),
        ("bits_per_dim levels=10**400", lambda: likelihood.log_likelihood(
            vp, lambda y, t: -y, x, generator=_gen(1)).bits_per_dim(levels=10**400), None),
        ("pc_sample snr=1e10", lambda: predictor_corrector_sample(vp, lambda y, t: -y, (2000, 2), snr=1e10,
                                                                  n_steps=20, generator=_gen(1)), None),
        ("pc_sample snr=0.9 x_T huge score", lambda: predictor_corrector_sample(
            vp, lambda y, t: -y * 1e-9, (64, 2), snr=0.9, n_steps=20, generator=_gen(1)), None),
        ("reverse_sde_sample exploding score", lambda: reverse_sde_sample(
            vp, lambda y, t: y * 50, (64, 2), n_steps=50, generator=_gen(1)), None),
        ("train data source returns 1 row", lambda: train.train(nets.ScoreMLP(2, 8, 1), _OneRow(), "ssm", steps=2,
                                                                batch_size=16), None),
        ("train loss_kwargs self-referencing", _self_referencing, None),
    ]
