"""Issue 13: every reproduction of a silent wrong answer, an obscure error or unbounded work now raises a clear
error naming the argument, or gives the right answer. Each guard is also shown to matter (mutation)."""

from __future__ import annotations

import math

import pytest
import torch

import scoresde
from scoresde import _checks, losses, metrics, solvers
from scoresde import sde as S
from scoresde.sampling import langevin


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---- 2. silent wrong answers -------------------------------------------------------------------------

def shape_changing_drift() -> S.FunctionSDE:
    return S.FunctionSDE(lambda y, t: -y if float(t[0]) < 0.3 else -y[:1], lambda y, t: torch.ones_like(y))


def test_drift_changing_shape_mid_solve_is_refused():
    with pytest.raises(ValueError, match=r"drift f\(x, t\) has shape \(1, 2\)"):
        solvers.solve(shape_changing_drift(), torch.randn(8, 2), [0.0, 1.0], dt=0.1, generator=gen(0))


def test_drift_check_in_the_step_catches_a_subclass_that_broadcasts():
    class Broadcasting(S.SDE):
        noise_type, sde_type = "diagonal", "ito"

        def f(self, x, t):
            return -x if float(t[0]) < 0.3 else -x[:1]

        def g(self, x, t):
            return torch.ones_like(x)

    with pytest.raises(ValueError, match="has shape"):
        solvers.solve(Broadcasting(), torch.randn(8, 2), [0.0, 1.0], dt=0.1, generator=gen(0))


def test_drift_changing_dtype_is_refused():
    sde = S.FunctionSDE(lambda y, t: -y.double(), lambda y, t: torch.ones_like(y))
    with pytest.raises(TypeError, match="dtype torch.float64"):
        solvers.solve(sde, torch.randn(4, 2), [0.0, 1.0], generator=gen(0))


def test_without_the_shape_check_the_drift_is_broadcast_silently(monkeypatch):
    """Mutation: remove the check and row 0's drift is silently used for every row."""
    monkeypatch.setattr(S, "check_same_shape_dtype", lambda out, x, what: out)
    monkeypatch.setattr(solvers.integrate, "check_same_shape_dtype", lambda out, x, what: out)
    out = solvers.solve(shape_changing_drift(), torch.randn(8, 2), [0.0, 1.0], dt=0.1, generator=gen(0))
    assert out.shape == (2, 8, 2)  # it "worked": that is the silent wrong answer the check prevents


@pytest.mark.parametrize("dtype", [torch.long, torch.int32, torch.bool])
def test_marginal_prob_refuses_integer_x0(dtype):
    with pytest.raises(TypeError, match="x0 must have a floating-point dtype"):
        S.VPSDE().marginal_prob(torch.ones(2, 2, dtype=dtype), 0.5)


def test_marginal_prob_of_a_float_x0_is_right():
    std = S.VPSDE().marginal_prob(torch.ones(2, 2, dtype=torch.float64), 0.5)[1]
    lmc = -0.25 * 0.25 * 19.9 - 0.5 * 0.5 * 0.1
    assert std[0].item() == pytest.approx(math.sqrt(1 - math.exp(2 * lmc)), rel=1e-12)
    assert std[0].item() == pytest.approx(0.9597, abs=1e-4)


@pytest.mark.parametrize("sde", [S.BrownianMotion(), S.VESDE(), S.VPSDE(), S.SubVPSDE(), S.OrnsteinUhlenbeck()],
                         ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("t, error, match", [(-0.5, ValueError, ">= 0"), (float("nan"), ValueError, "finite"),
                                             (float("inf"), ValueError, "finite"),
                                             (torch.tensor([0.1, -0.1]), ValueError, ">= 0"),
                                             (torch.tensor([0.1, float("nan")]), ValueError, "non-finite"),
                                             ("0.5", TypeError, "real number")])
def test_marginal_prob_refuses_bad_times(sde, t, error, match):
    with pytest.raises(error, match=match):
        sde.marginal_prob(torch.zeros(2, 2), t)


def test_energy_distance_is_scale_equivariant_without_overflow():
    x, y = torch.randn(50, 2, generator=gen(0)), torch.randn(50, 2, generator=gen(1)) + 1
    base = metrics.energy_distance(x, y)
    for c in (1e20, 1e-20, 3.0):
        assert metrics.energy_distance(x * c, y * c) == pytest.approx(c * base, rel=1e-6)
    assert metrics.energy_distance(x, y) == base  # power-of-2 scaling: ordinary data unchanged
    assert metrics.energy_distance(torch.zeros(3, 2), torch.zeros(3, 2)) == 0.0


def test_energy_distance_without_scaling_overflows(monkeypatch):
    """Mutation: without the rescaling the float32 squares overflow and the estimate is NaN."""
    x, y = torch.randn(5, 2, generator=gen(0)) * 1e20, torch.randn(5, 2, generator=gen(1)) * 1e20
    monkeypatch.setattr(metrics.math, "ldexp", lambda m, e: 1.0)
    assert math.isnan(metrics.energy_distance(x, y))


@pytest.mark.parametrize("sigma", [1e-30, torch.tensor([0.1, 1e-30])])
def test_dsm_refuses_a_vanishing_noise_level(sigma):
    with pytest.raises(ValueError, match="smallest noise level"):
        losses.denoising_score_matching(lambda z: -z, torch.randn(2, 2, generator=gen(0)), sigma)


def test_dsm_smallest_allowed_level_is_finite():
    smallest = float(torch.finfo(torch.float32).max) ** -0.25
    loss = losses.denoising_score_matching(lambda z: -z, torch.randn(64, 2, generator=gen(0)), smallest * 1.01,
                                           generator=gen(1))
    assert torch.isfinite(loss)


def test_langevin_refuses_a_score_that_changes_the_dtype():
    with pytest.raises(TypeError, match="returned dtype torch.float64"):
        langevin(lambda z: (-z).double(), torch.randn(4, 2), 0.1, 3, generator=gen(0))


def cross_coupled() -> S.FunctionSDE:
    return S.FunctionSDE(lambda y, t: -y, lambda y, t: 1 + 0.3 * y.flip(-1), "diagonal")


def test_milstein_refuses_diagonal_noise_coupled_across_coordinates():
    with pytest.raises(ValueError, match="depends on other coordinates"):
        solvers.solve(cross_coupled(), torch.randn(8, 2, generator=gen(0)), [0.0, 1.0], method="milstein",
                      generator=gen(1))


def test_milstein_accepts_true_diagonal_noise():
    sde = S.FunctionSDE(lambda y, t: -y, lambda y, t: 1 + 0.3 * torch.sin(y), "diagonal")
    out = solvers.solve(sde, torch.randn(8, 3, generator=gen(0)), [0.0, 1.0], method="milstein", dt=0.1,
                        generator=gen(1))
    assert torch.isfinite(out).all()


def test_without_the_probe_milstein_runs_silently(monkeypatch):
    monkeypatch.setattr(solvers.milstein, "check_diagonal", lambda sde, x, t: None)
    out = solvers.solve(cross_coupled(), torch.randn(8, 2, generator=gen(0)), [0.0, 1.0], method="milstein",
                        generator=gen(1))
    assert out.shape == (2, 8, 2)


# ---- 5. one divergence exception --------------------------------------------------------------------

def test_divergence_is_one_exception_type_everywhere():
    assert scoresde.DivergenceError is _checks.DivergenceError
    assert issubclass(scoresde.DivergenceError, FloatingPointError)
    assert issubclass(scoresde.DivergenceError, ValueError)
    blow_up = S.FunctionSDE(lambda y, t: y**3 * 1e3, lambda y, t: torch.ones_like(y))
    with pytest.raises(scoresde.DivergenceError, match="step"):
        solvers.solve(blow_up, torch.full((2, 1), 10.0), [0.0, 1.0], dt=0.1, generator=gen(0))
    with pytest.raises(scoresde.DivergenceError, match="diverged"):
        langevin(lambda z: z * 1e30, torch.ones(2, 1), 1.0, 20, generator=gen(0))


# ---- 3. obscure errors become clear ones --------------------------------------------------------------

from scoresde import brownian, hutchinson, likelihood, nets, train  # noqa: E402
from scoresde.sampling import predictor_corrector_sample, reverse_sde_sample  # noqa: E402


def test_stride_zero_input_to_jvp_hutchinson_gives_the_right_answer():
    x = torch.randn(1, 3, generator=gen(0)).expand(4, 3)
    got = hutchinson.hutchinson_trace(lambda z: 2 * z, x, method="jvp", dist="rademacher", n_probes=3)
    assert torch.allclose(got, torch.full((4,), 6.0))


@pytest.mark.parametrize("call", [
    lambda x: hutchinson.hutchinson_trace(lambda z: z, x),
    lambda x: solvers.solve(S.VPSDE(), x, [0.0, 1.0]),
    lambda x: losses.explicit_score_matching(lambda z: z, x, lambda z: z),
], ids=["hutchinson", "solve", "esm"])
def test_meta_tensors_are_refused_by_name(call):
    with pytest.raises(ValueError, match="meta device"):
        call(torch.empty(4, 2, device="meta"))


def test_train_on_meta_is_refused():
    with pytest.raises(ValueError, match="device 'meta'"):
        train.train(nets.ScoreMLP(2, 8, 1), torch.randn(16, 2), "ssm", steps=1, batch_size=4, device="meta")


def test_empty_batch_is_refused_by_name():
    with pytest.raises(ValueError, match="x is an empty batch"):
        losses.explicit_score_matching(lambda z: z, torch.randn(0, 2), lambda z: z)


def test_float64_into_a_float32_network_is_refused_by_name():
    with pytest.raises(TypeError, match="x has dtype torch.float64 but ScoreMLP's parameters are torch.float32"):
        nets.ScoreMLP(2, 8, 1)(torch.randn(3, 2, dtype=torch.float64))
    with pytest.raises(TypeError, match="x has dtype torch.float64 but TimeScoreMLP"):
        nets.TimeScoreMLP(2, 8, 1)(torch.randn(3, 2, dtype=torch.float64), torch.rand(3))
    with pytest.raises(TypeError, match="data has dtype torch.float64"):
        train.train(nets.ScoreMLP(2, 8, 1), torch.randn(16, 2, dtype=torch.float64), "ssm", steps=1, batch_size=4)


def test_log_likelihood_without_a_prior_is_refused():
    with pytest.raises(ValueError, match="no closed-form prior; pass prior_logp"):
        likelihood.log_likelihood(S.GeometricBrownianMotion(), lambda x, t: -x, torch.ones(3, 1))


def test_checkpoint_path_under_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file, not a directory"):
        train.train(nets.ScoreMLP(2, 8, 1), torch.randn(16, 2), "ssm", steps=1, batch_size=4,
                    checkpoint_path=tmp_path / "file" / "ckpt.pt")
    with pytest.raises(ValueError, match="is a directory"):
        _checks.check_writable_file(tmp_path, "checkpoint_path")
    assert _checks.check_writable_file(tmp_path / "new" / "deeper" / "c.pt", "p").name == "c.pt"


@pytest.mark.skipif(hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0,
                    reason="root may write anywhere")
def test_checkpoint_path_in_a_read_only_directory_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(ValueError, match="not writable"):
            _checks.check_writable_file(ro / "c.pt", "checkpoint_path")
    finally:
        ro.chmod(0o700)


def test_read_only_check_uses_os_access(tmp_path, monkeypatch):
    monkeypatch.setattr(_checks.os, "access", lambda path, mode: False)
    with pytest.raises(ValueError, match="not writable"):
        _checks.check_writable_file(tmp_path / "c.pt", "checkpoint_path")


@pytest.mark.parametrize("device, says", [("banana", "unknown device 'banana'"), ("meta", "only cpu and cuda")]
                         + ([("cuda", "CUDA is not available")] if not torch.cuda.is_available() else []))
def test_cli_device_errors_are_argparse_one_liners(device, says, tmp_path, capsys):
    from scoresde.cli import main

    with pytest.raises(SystemExit) as info:
        main(["sample", "--checkpoint", str(tmp_path / "c.pt"), "--device", device, "--out", str(tmp_path / "x")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and err.strip().splitlines()[-1].startswith("usage") is False


def test_cli_missing_checkpoint_is_an_argparse_error(tmp_path, capsys):
    from scoresde.cli import main

    with pytest.raises(SystemExit) as info:
        main(["sample", "--checkpoint", str(tmp_path / "missing.pt"), "--out", str(tmp_path / "x")])
    assert info.value.code == 2 and "error: sample:" in capsys.readouterr().err


# ---- 4. bounded work ----------------------------------------------------------------------------------

@pytest.mark.parametrize("call, says", [
    (lambda: solvers.solve(S.VPSDE(), torch.randn(4, 2), [0.0, 1.0], dt=1e-9), "1000000002 steps"),
    (lambda: brownian.BrownianPath.sample(torch.linspace(0, 1, 101), (2, 1)).refine(10**6), "100000000 steps"),
    (lambda: langevin(lambda z: -z, torch.randn(2, 2), 0.1, 10**9), "1000000000 steps"),
    (lambda: reverse_sde_sample(S.VPSDE(), lambda x, t: -x, (2, 2), n_steps=10**9), "1000000000 steps"),
    (lambda: predictor_corrector_sample(S.VPSDE(), lambda x, t: -x, (2, 2), n_steps=10**6, n_corrector=20),
     "21000000 steps"),
], ids=["solve", "refine", "langevin", "reverse", "pc"])
def test_step_counts_beyond_the_limit_are_refused_at_once(call, says):
    with pytest.raises(ValueError, match=f"{says} exceeds max_steps = {_checks.MAX_STEPS}"):
        call()


def test_the_step_limit_is_overridable():
    x0 = torch.randn(4, 2, generator=gen(0))
    with pytest.raises(ValueError, match="exceeds max_steps = 100"):
        solvers.solve(S.VPSDE(), x0, [0.0, 1.0], dt=1e-3, max_steps=100)
    assert solvers.solve(S.VPSDE(), x0, [0.0, 1.0], dt=0.1, max_steps=100, generator=gen(1)).shape == (2, 4, 2)
    with pytest.raises(ValueError, match="exceeds max_steps = 5"):
        brownian.BrownianPath.sample(torch.linspace(0, 1, 11), (2, 1), max_steps=5)
    with pytest.raises(ValueError, match="exceeds max_steps = 3"):
        langevin(lambda z: -z, torch.randn(2, 2), 0.1, 4, max_steps=3)


def test_global_limit_is_read_at_call_time(monkeypatch):
    monkeypatch.setattr(_checks, "MAX_STEPS", 10)
    with pytest.raises(ValueError, match="exceeds max_steps = 10"):
        reverse_sde_sample(S.VPSDE(), lambda x, t: -x, (2, 2), n_steps=11)


# ---- issue 31: the book's helpers, times, probes, sizes, checkpoints ---------------------------------------

import os  # noqa: E402
from pathlib import Path  # noqa: E402

import sympy as sp  # noqa: E402

from scoresde import book  # noqa: E402
from scoresde._checks import DivergenceError  # noqa: E402

CODE = "__import__('os').system('touch pwned_by_sympify')"


@pytest.mark.parametrize("call", [
    lambda: book.CheckLog().sympy("label", CODE),
    lambda: book.gaussian_expectation(CODE, sp.symbols("z0:2")),
    lambda: book.rademacher_expectation(CODE, sp.symbols("z0:2")),
], ids=["CheckLog.sympy", "gaussian_expectation", "rademacher_expectation"])
def test_book_never_evaluates_a_string(call, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TypeError, match="sympy expression .*got str"):
        call()
    assert not os.listdir(tmp_path)  # before: sympify ran the code and the file appeared


def test_rademacher_expectation_refuses_too_many_symbols():
    vs = sp.symbols("v0:40")
    with pytest.raises(ValueError, match="40 symbols; at most 20"):
        book.rademacher_expectation(sum(vs), vs)  # before: 2**40 substitutions (a hang)
    v = sp.symbols("v0:3")
    assert book.rademacher_expectation((v[0] + v[1]) ** 2, v) == 2


@pytest.mark.parametrize("call, match", [
    (lambda: book.round_guarded(1.25, 1, -1), "guard must be in"),  # before: '1.2', the check switched off
    (lambda: book.round_guarded(3.14, -1, 0.001), "decimals must be >= 0"),
    (lambda: book.round_guarded(1e300, 3, 1e-4), "too large to round"),
    (lambda: book.se5(torch.tensor([1.0, float("nan"), 2.0])), "samples contains non-finite"),
    (lambda: book.ks_distance(torch.tensor([0.1, 0.5, float("nan")]), torch.special.ndtr), "non-finite"),
    (lambda: book.ks_distance(torch.tensor([0.1, 0.5]), lambda u: 3 * u), "distribution function"),
    (lambda: book.loglog_slope([1, 1], [1, 2]), "two different values"),
    (lambda: book.loglog_slope([1, -1], [1, 2]), "positive xs and ys"),
    (lambda: book.loglog_slope([1, 2], [0, 1]), "positive xs and ys"),
    (lambda: book.CheckLog().mc("label", 1.0, 1.0, -0.5), "tol must be > 0"),
    (lambda: book.format_estimate(1, 5e-324), "too small"),
])
def test_book_helpers_refuse_bad_numbers(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("sde", [S.VPSDE(), S.SubVPSDE(), S.VESDE()], ids=repr)
@pytest.mark.parametrize("t", [float("nan"), -5.0, -1.0, 2.0, torch.full((8,), float("nan")),
                               torch.tensor(float("nan")).expand(8), torch.tensor(2.0).expand(8),
                               torch.tensor(-1.0).expand(8), torch.tensor([0.5] * 7 + [2.0])],
                         ids=["nan", "-5", "-1", "2>T", "tensor nan", "expanded nan", "expanded 2>T", "expanded -1",
                              "one row 2>T"])
def test_discretize_refuses_times_off_the_interval(sde, t):
    with pytest.raises(ValueError, match=r"^t (must|contains non-finite)"):
        sde.discretize(torch.ones(8, 2), t, 0.01)  # before: NaN came back


def test_drift_refuses_a_nan_time():
    with pytest.raises(ValueError, match="t must be finite"):
        S.VPSDE().f(torch.ones(8, 2), float("nan"))
    f, g = S.VPSDE().discretize(torch.ones(8, 2), 1.0, 0.01)  # t = T is on the interval
    assert bool(torch.isfinite(f).all() and torch.isfinite(g).all())


@pytest.mark.parametrize("call", [
    lambda p: hutchinson.hutchinson_trace(lambda y: -y, torch.ones(8, 2), probes=p),
    lambda p: losses.sliced_score_matching(lambda y: -y, torch.ones(8, 2), probes=p),
    lambda p: likelihood.log_likelihood(S.VPSDE(), lambda y, t: -y, torch.ones(8, 2), probes=p),
], ids=["hutchinson_trace", "sliced_score_matching", "log_likelihood"])
@pytest.mark.parametrize("probes", [torch.zeros(1, 8, 2), torch.ones(2, 8, 2).index_fill(1, torch.tensor([5]), 0.)],
                         ids=["all zero", "one zero row"])
def test_degenerate_probes_are_refused(call, probes):
    with pytest.raises(ValueError, match=r"probes\[\d+, \d+\] is the zero vector"):
        call(probes)  # before: hutchinson_trace gave 0 for a trace of -2


@pytest.mark.parametrize("kwargs, match", [({"data_range": 5e-324}, "smallest normal float"),
                                           ({"levels": 10**400}, "levels must be <= 2\\*\\*32")])
def test_bits_per_dim_refuses_degenerate_ranges(kwargs, match):
    result = likelihood.log_likelihood(S.VPSDE(), lambda y, t: -y, torch.ones(4, 2),
                                       generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match=match):
        result.bits_per_dim(**kwargs)  # before: inf, and an OverflowError
    assert bool(torch.isfinite(result.bits_per_dim(data_range=2.0)).all())


def test_pc_sampler_refuses_an_snr_above_one():
    with pytest.raises(ValueError, match="snr = 1e\\+10 is above 1"):
        predictor_corrector_sample(S.VPSDE(), lambda y, t: -y, (2000, 2), snr=1e10, n_steps=5)


def test_a_sampler_whose_state_leaves_every_plausible_scale_raises_divergence():
    with pytest.raises(DivergenceError, match=r"or values beyond \|x\| = .* at step \d+ of 20"):
        predictor_corrector_sample(S.VPSDE(), lambda y, t: -y * 1e-9, (64, 2), snr=0.9, n_steps=20,
                                   generator=torch.Generator().manual_seed(1))  # before: samples of std ~1e13


def test_solve_max_abs_is_the_bound():
    x = torch.ones(4, 2)
    ou = S.OrnsteinUhlenbeck()
    assert solvers.solve(ou, x, [0.0, 1.0], dt=0.1, max_abs=10.0, generator=torch.Generator().manual_seed(0)).shape
    with pytest.raises(DivergenceError, match="step 0 of"):
        solvers.solve(ou, x, [0.0, 1.0], dt=0.1, max_abs=0.5, generator=torch.Generator().manual_seed(0))


class _OneRow:
    def sample(self, n, *, generator=None, device=None):
        return torch.randn(1, 2, generator=generator)


def test_trainer_refuses_a_data_source_that_returns_fewer_rows():
    with pytest.raises(ValueError, match=r"returned shape \(1, 2\): the trainer needs batch_size=16 rows"):
        train.train(nets.ScoreMLP(2, 8, 1), _OneRow(), "ssm", steps=2, batch_size=16)  # before: trained on 1 row


def test_self_referencing_loss_kwargs_are_not_plain_data():
    loop: list = []
    loop.append(loop)
    with pytest.raises(TypeError, match="loss_kwargs must hold plain data"):
        train.TrainConfig(steps=1, loss_kwargs={"a": loop})  # before: RecursionError


@pytest.mark.parametrize("call", [
    lambda: S.VPSDE().prior_sample((10**6, 10**6)),
    lambda: hutchinson.sample_probes((10**6, 10**6), "gaussian"),
    lambda: solvers.solve(S.OrnsteinUhlenbeck(), torch.zeros(1000, 100), torch.linspace(0, 1, 10**6)),
], ids=["prior_sample", "sample_probes", "solve outputs"])
def test_sizes_that_cannot_fit_are_refused_with_an_estimate(call):
    with pytest.raises(ValueError, match=r"needs about [\d.]+ [TGP]B, more than the .* of memory"):
        call()


def test_a_denormal_dt_is_too_many_steps_not_an_overflow():
    with pytest.raises(ValueError, match="exceeds max_steps"):
        solvers.solve(S.VPSDE(), torch.ones(4, 2), [0.0, 1.0], dt=5e-324)  # before: OverflowError


def _checkpoint(tmp_path, **changes):
    path = tmp_path / "c.pt"
    train.train(nets.ScoreMLP(2, 8, 1), torch.randn(64, 2, generator=torch.Generator().manual_seed(0)), "ssm",
                steps=3, batch_size=8, ema_decay=0.5, checkpoint_path=path)
    ckpt = torch.load(path, weights_only=True)
    for key, value in changes.items():
        ckpt[key] = value(ckpt) if callable(value) else value
    torch.save(ckpt, path)
    return path


@pytest.mark.parametrize("changes, match", [
    ({"step": -5}, "step must be a non-negative int"),
    ({"step": 2.7}, "step must be a non-negative int"),
    ({"losses": lambda c: torch.full_like(c["losses"], float("nan"))}, "losses contains non-finite"),
    ({"losses": lambda c: c["losses"][:2]}, "losses holds 2 values for step 3"),
    ({"config": [1, 2]}, "config must be a dict"),
    ({"ema": None}, "ema_decay=0.5 but ema holds no weights"),
    ({"model": lambda c: {**c["model"], next(iter(c["model"])): "text"}}, "model must map names to tensors"),
    ({"optimizer": {"state": 3}}, "optimizer must be an optimizer state dict"),
], ids=["step -5", "step 2.7", "NaN losses", "short losses", "config list", "ema None", "model str",
        "optimizer"])
def test_a_forged_checkpoint_is_refused_on_load(tmp_path, changes, match):
    with pytest.raises(ValueError, match=match):
        train.load_checkpoint(_checkpoint(tmp_path, **changes))  # before: all accepted (resumed, or failed later)


def test_weights_of_another_shape_are_refused_in_one_line(tmp_path):
    def wrong(c):
        return {**c["model"], next(iter(c["model"])): torch.zeros(3, 3)}

    with pytest.raises(ValueError, match=r"has shape \(3, 3\), the model's is"):
        train.load_trained(_checkpoint(tmp_path, model=wrong), ema=False)  # before: RuntimeError of load_state_dict


def test_resume_refuses_an_optimizer_of_another_model(tmp_path):
    path = _checkpoint(tmp_path)
    other = tmp_path / "other.pt"
    train.train(nets.ScoreMLP(2, 16, 2), torch.randn(64, 2), "ssm", steps=2, batch_size=8, checkpoint_path=other)
    ckpt = torch.load(path, weights_only=True)
    ckpt["optimizer"] = torch.load(other, weights_only=True)["optimizer"]
    torch.save(ckpt, path)
    with pytest.raises(ValueError, match="optimizer holds parameter groups of sizes"):
        train.train(nets.ScoreMLP(2, 8, 1), torch.randn(64, 2), "ssm", steps=5, batch_size=8, ema_decay=0.5,
                    checkpoint_path=path, resume=True)


def test_resume_names_every_difference_of_the_run_record():
    rec = train.TrainConfig(steps=3).record("l", 1, nets.ScoreMLP(2, 8, 1), torch.ones(4, 2),
                                            {"sde": {"name": "vp", "beta_max": 20.0}, "n_projections": 1})
    other = {**rec, "lr": 0.5, "loss_config": {"sde": {"name": "vp", "beta_max": 5.0}, "n_projections": 4}}
    with pytest.raises(ValueError) as err:
        train.TrainConfig.check_resumable(other, rec, Path("x.pt"))
    for name in ("lr=0.5", "loss_config.sde.beta_max=5.0", "loss_config.n_projections=4"):
        assert name in str(err.value)
    train.TrainConfig.check_resumable({**rec, "steps": 99}, rec, Path("x.pt"))  # run length may change


def test_outputs_that_are_inputs_are_refused_through_symlinks(tmp_path):
    (tmp_path / "a.pt").write_bytes(b"x")
    os.symlink(tmp_path / "a.pt", tmp_path / "link.pt")
    with pytest.raises(ValueError, match="--out .* is the same file as --checkpoint"):
        _checks.check_distinct_paths({"--checkpoint": tmp_path / "a.pt"}, {"--out": tmp_path / "link.pt"})
    with pytest.raises(ValueError, match="--out .* is the same file as --figure"):
        _checks.check_distinct_paths({}, {"--figure": tmp_path / "s.png", "--out": tmp_path / "." / "s.png"})
    _checks.check_distinct_paths({"--checkpoint": tmp_path / "a.pt"}, {"--out": tmp_path / "b.pt"})
