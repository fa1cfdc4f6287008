"""Tests of the command line `python -m scoresde.cli` (train -> checkpoint -> sample -> figure) and of the
committed chapter-5 checkpoints it wrote."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from scoresde import cli
from scoresde.checkpoints import CHECKPOINT_DIR
from scoresde.cli import CH05_COMMANDS, load_score_model, main, make_sde
from scoresde.data import eight_gaussians
from scoresde.metrics import permutation_test
from scoresde.sde import VESDE, VPSDE, SubVPSDE
from scoresde.train import load_checkpoint

CHECKPOINTS = Path(cli.__file__).parent / "checkpoints"
SMALL = ["--steps", "30", "--batch-size", "64", "--hidden", "16", "--depth", "1", "--lr", "1e-3"]


def train_small(tmp_path: Path, *extra: str) -> Path:
    path = tmp_path / "run" / "ckpt.pt"
    main(["train", *SMALL, "--checkpoint", str(path), *extra])
    return path


def test_train_writes_a_checkpoint_that_rebuilds_model_and_sde(tmp_path, capsys):
    path = train_small(tmp_path, "--sde", "vp", "--beta-max", "15")
    assert "trained 30 steps" in capsys.readouterr().out
    ckpt = load_checkpoint(path)  # torch.load(weights_only=True) inside
    assert ckpt["step"] == 30 and len(ckpt["losses"]) == 30
    model, sde, info = load_score_model(path)
    assert isinstance(sde, VPSDE) and sde.beta_max == 15.0 and sde.beta_min == 0.1
    assert info["objective"] == "dsm" and info["weighting"] == "sigma2" and info["toy"] == "eight_gaussians"
    assert info["train_seconds"] > 0 and not model.training
    out = model(torch.zeros(5, 2, dtype=torch.float32), torch.full((5,), 0.5, dtype=torch.float32))
    assert out.shape == (5, 2) and out.dtype == torch.float32


@pytest.mark.parametrize(
    "flags, cls",
    [
        (["--sde", "subvp", "--objective", "ssm"], SubVPSDE),
        (["--sde", "ve", "--sigma-max", "5", "--weighting", "likelihood"], VESDE),
        (["--sde", "vp", "--toy", "two_moons", "--objective", "ssm", "--weighting", "likelihood"], VPSDE),
    ],
)
def test_every_sde_objective_and_weighting_trains(tmp_path, flags, cls):
    path = train_small(tmp_path, *flags)
    model, sde, info = load_score_model(path)
    assert isinstance(sde, cls)
    if cls is VESDE:
        assert sde.sigma_max == 5.0
    assert info["objective"] in ("dsm", "ssm") and info["weighting"] in ("sigma2", "likelihood")
    losses = load_checkpoint(path)["losses"]
    assert bool(torch.isfinite(losses).all())


@pytest.mark.parametrize("sampler", ["sde", "pc", "ode"])
def test_sample_writes_samples_and_figure_reproducibly(tmp_path, sampler, capsys):
    path = train_small(tmp_path)
    out, fig = tmp_path / "s.pt", tmp_path / "figs" / "s.png"
    args = ["sample", "--checkpoint", str(path), "--sampler", sampler, "--n-steps", "20", "--n-samples", "64"]
    x = main([*args, "--out", str(out), "--figure", str(fig)])
    saved = torch.load(out, weights_only=True)
    assert saved.shape == (64, 2) and torch.equal(saved, x)
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = main([*args, "--out", str(tmp_path / "t.pt")])
    assert torch.equal(again, x)
    other = main([*args, "--out", str(tmp_path / "u.pt"), "--seed", "7"])
    assert not torch.equal(other, x)


def test_train_with_figure_and_resume(tmp_path):
    path = tmp_path / "ckpt.pt"
    main(["train", *SMALL, "--checkpoint", str(path), "--steps", "20"])
    first = load_checkpoint(path)["losses"]
    x = main(["train", *SMALL, "--checkpoint", str(path), "--steps", "30", "--resume",
              "--figure", str(tmp_path / "f.png"), "--sampler", "sde", "--n-steps", "10", "--n-samples", "50"])
    ckpt = load_checkpoint(path)
    assert ckpt["step"] == 30 and torch.equal(ckpt["losses"][:20], first)
    assert x.shape == (50, 2) and (tmp_path / "f.png").is_file()
    assert load_score_model(path)[2]["sde"]["name"] == "vp"


def test_progress_bar(tmp_path, capsys):
    path = tmp_path / "c.pt"
    main(["train", *SMALL, "--checkpoint", str(path), "--progress"])
    main(["sample", "--checkpoint", str(path), "--sampler", "pc", "--n-steps", "7", "--n-samples", "8",
          "--out", str(tmp_path / "x.pt"), "--progress"])
    err = capsys.readouterr().err
    assert "30/30" in err and "7/7" in err


def test_module_entry_point_help():
    res = subprocess.run([sys.executable, "-m", "scoresde.cli", "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "train" in res.stdout and "sample" in res.stdout


def test_errors(tmp_path):
    with pytest.raises(SystemExit):
        main(["train", "--checkpoint", str(tmp_path / "a.pt"), "--sde", "cld"])  # argparse rejects the choice
    path = train_small(tmp_path)
    with pytest.raises(SystemExit, match="--figure and/or --out"):
        main(["sample", "--checkpoint", str(path)])
    with pytest.raises(SystemExit) as exit_info:  # a user error: argparse's one line, exit status 2
        main(["sample", "--checkpoint", str(path), "--n-steps", "0", "--out", str(tmp_path / "x.pt")])
    assert exit_info.value.code == 2
    with pytest.raises(FileNotFoundError):
        load_score_model(tmp_path / "missing.pt")
    # a checkpoint of scoresde.train without the cli's record of the SDE
    from scoresde.nets import ScoreMLP
    from scoresde.train import train

    plain = tmp_path / "plain.pt"
    train(ScoreMLP(2, 8, 1).float(), eight_gaussians(), "ssm", steps=2, batch_size=8, checkpoint_path=plain)
    with pytest.raises(ValueError, match="no SDE recorded"):
        load_score_model(plain)
    with pytest.raises(ValueError, match="unknown sde"):
        make_sde({"name": "cld"})
    with pytest.raises(ValueError, match="does not take"):
        make_sde({"name": "ve", "beta_max": 3.0})
    with pytest.raises(ValueError, match="'name'"):
        make_sde("vp")


@pytest.mark.parametrize("name", sorted(CH05_COMMANDS))
def test_committed_checkpoints_match_their_command_and_sample_well(name):
    """The committed checkpoints are what CH05_COMMANDS writes, and the DSM model's probability-flow samples
    pass a permutation energy-distance test against fresh data at level 0.001 (500 points each)."""
    path = CHECKPOINTS / f"{name}.pt"
    ckpt = load_checkpoint(path)
    cmd = CH05_COMMANDS[name]
    assert ckpt["step"] == 10000 and "--steps 10000" in cmd and f"--checkpoint companion/scoresde/checkpoints/{name}.pt" in cmd
    model, sde, info = load_score_model(path)
    assert f"--objective {info['objective']}" in cmd and isinstance(sde, VPSDE)
    assert ckpt["config"]["batch_size"] == 512 and ckpt["config"]["seed"] == 0
    if info["objective"] == "dsm":
        args = cli._parser().parse_args(["sample", "--checkpoint", str(path), "--sampler", "ode",
                                         "--n-samples", "500", "--n-steps", "1"])
        x = cli._sample(model, sde, args, torch.device("cpu"), 0)
        data = eight_gaussians().sample(500, generator=torch.Generator().manual_seed(1))
        assert not permutation_test(x, data, alpha=0.01, generator=torch.Generator().manual_seed(2)).reject


@pytest.mark.gpu
def test_train_and_sample_on_cuda(tmp_path):
    path = train_small(tmp_path, "--device", "cuda")
    x = main(["sample", "--checkpoint", str(path), "--device", "cuda", "--sampler", "pc", "--n-steps", "20",
              "--n-samples", "64", "--out", str(tmp_path / "x.pt"), "--figure", str(tmp_path / "x.png")])
    assert x.device.type == "cuda" and x.shape == (64, 2)
    model, _, _ = load_score_model(path, map_location="cuda")
    assert next(model.parameters()).device.type == "cuda"


# ---- chapter 7: --data digits, the ssm-vr objective, and the committed digit checkpoints ----------------------

from scoresde.cli import CH07_COMMANDS, CH09_COMMANDS, OBJECTIVES, image_grid, load_velocity_model  # noqa: E402
from scoresde.nets import TimeScoreConv  # noqa: E402

DIGITS_SMALL = ["--data", "digits", "--steps", "6", "--batch-size", "16", "--hidden", "4", "--depth", "1"]


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_train_on_digits_every_objective_then_sample_images(tmp_path, objective):
    path = tmp_path / "d.pt"
    main(["train", *DIGITS_SMALL, "--objective", objective, "--n-projections", "2", "--checkpoint", str(path)])
    if objective == "flow":  # a velocity model, no SDE: read by load_velocity_model, sampled by its ODE
        model, info = load_velocity_model(path)
        with pytest.raises(ValueError, match="load_velocity_model"):
            load_score_model(path)
        with pytest.raises(SystemExit):
            main(["sample", "--checkpoint", str(path), "--sampler", "sde", "--out", str(tmp_path / "y.pt")])
    else:
        model, sde, info = load_score_model(path)
        with pytest.raises(ValueError, match="not a flow-matching checkpoint"):
            load_velocity_model(path)
    assert isinstance(model, TimeScoreConv) and info["toy"] == "digits" and info["objective"] == objective
    assert bool(torch.isfinite(load_checkpoint(path)["losses"]).all())
    sampler = "ode" if objective == "flow" else "sde"
    x = main(["sample", "--checkpoint", str(path), "--sampler", sampler, "--n-steps", "3", "--n-samples", "5",
              "--out", str(tmp_path / "x.pt"), "--figure", str(tmp_path / "x.png")])
    assert x.shape == (5, 1, 8, 8) and (tmp_path / "x.png").read_bytes()[:4] == b"\x89PNG"


def test_ssm_vr_objective_is_a_different_loss_than_ssm(tmp_path):
    losses = {}
    for objective in ("ssm", "ssm-vr"):
        path = tmp_path / f"{objective}.pt"
        main(["train", *DIGITS_SMALL, "--objective", objective, "--checkpoint", str(path)])
        losses[objective] = load_checkpoint(path)["losses"]
    assert not torch.equal(losses["ssm"], losses["ssm-vr"])


def test_digits_cli_bad_input(tmp_path):
    with pytest.raises(SystemExit):
        main(["train", "--data", "mnist", "--checkpoint", str(tmp_path / "a.pt")])
    with pytest.raises(SystemExit):
        main(["train", "--objective", "ism", "--checkpoint", str(tmp_path / "a.pt")])
    with pytest.raises(SystemExit) as info:  # a user error: argparse's one line naming it, exit status 2
        main(["train", *DIGITS_SMALL, "--n-projections", "0", "--checkpoint", str(tmp_path / "a.pt")])
    assert info.value.code == 2


def test_image_grid_tiles_images_in_order():
    imgs = torch.arange(3, dtype=torch.float32).reshape(3, 1, 1, 1) / 2 - 0.5  # -0.5, 0, 0.5
    grid = image_grid(imgs, ncols=2, pad=1)
    assert grid.shape == (3, 3)
    assert grid[0, 0] == -0.5 and grid[0, 2] == 0.0 and grid[2, 0] == 0.5 and grid[1, 1] == -1.0


@pytest.mark.parametrize("name", sorted(CH07_COMMANDS))
def test_committed_digit_checkpoints_match_their_command(name):
    """The committed ch07 checkpoints are what CH07_COMMANDS writes (steps, batch, seed, objective, network);
    every one is below 1 MB and its EMA model gives finite scores of the right shape."""
    path = CHECKPOINTS / f"{name}.pt"
    assert path.stat().st_size < 2**20
    ckpt = load_checkpoint(path)
    cmd = CH07_COMMANDS[name]
    assert f"--steps {ckpt['step']}" in cmd and f"--batch-size {ckpt['config']['batch_size']}" in cmd
    assert f"--seed {ckpt['config']['seed']} " in cmd and f"--checkpoint companion/scoresde/checkpoints/{name}.pt" in cmd
    assert ckpt["config"]["seed"] == (int(name[-1]) if "_seed" in name else 0)
    model, sde, info = load_score_model(path)
    assert f"--objective {info['objective']} " in cmd and info["toy"] == "digits" and isinstance(sde, VPSDE)
    assert isinstance(model, TimeScoreConv) and f"--hidden {model.config['width']}" in cmd
    out = model(torch.zeros(3, 1, 8, 8), torch.full((3,), 0.5))
    assert out.shape == (3, 1, 8, 8) and bool(torch.isfinite(out).all())


def test_committed_flow_matching_checkpoint_matches_its_command():
    """ch09_fm is what CH09_COMMANDS writes: chapter 7's digits, network, steps, batch, learning rate, EMA and seed."""
    path = CHECKPOINTS / "ch09_fm.pt"
    assert path.stat().st_size < 2**20
    ckpt = load_checkpoint(path)
    cmd, ch07 = CH09_COMMANDS["ch09_fm"], CH07_COMMANDS["ch07_vp_dsm"]
    for flag in ("--steps", "--batch-size", "--lr", "--ema-decay", "--hidden", "--depth", "--seed"):
        value = ch07.split(flag + " ")[1].split()[0]
        assert f"{flag} {value} " in cmd, flag
    assert f"--steps {ckpt['step']}" in cmd and ckpt["config"]["seed"] == 0
    model, info = load_velocity_model(path)
    assert info["objective"] == "flow" and info["sde"] is None and isinstance(model, TimeScoreConv)
    out = model(torch.zeros(3, 1, 8, 8), torch.full((3,), 0.5))
    assert out.shape == (3, 1, 8, 8) and bool(torch.isfinite(out).all())


def test_checkpoints_command_runs_the_committed_commands(tmp_path, capsys):
    from scoresde.cli import CH05_COMMANDS, CH07_COMMANDS, CHECKPOINT_RUNS, committed_argv

    assert set(CHECKPOINT_RUNS) == {p.stem for p in CHECKPOINT_DIR.glob("*.pt")}, "a committed file has no command"
    argv = committed_argv("ch07_vp_ssm_vr", tmp_path, steps=3)
    assert argv[0] == "train" and "--data" in argv and argv[argv.index("--steps") + 1] == "3"
    assert " ".join(committed_argv("ch05_vp_dsm", "companion/scoresde/checkpoints")) == \
        CH05_COMMANDS["ch05_vp_dsm"].removeprefix("python -m scoresde.cli ")  # test_recipes.py: every word, frozen
    assert committed_argv("ch05_vp_dsm")[-1] == str(CHECKPOINT_DIR / "ch05_vp_dsm.pt")
    threads = torch.get_num_threads()
    main(["checkpoints", "--only", "ch07_vp_dsm", "ch05_vp_ssm", "--out", str(tmp_path), "--steps", "2"])
    assert torch.get_num_threads() == threads, "the command changed the caller's thread count"
    assert capsys.readouterr().out.count("CPU time") == 2
    for name, command in (("ch07_vp_dsm", CH07_COMMANDS), ("ch05_vp_ssm", CH05_COMMANDS)):
        ckpt = load_checkpoint(tmp_path / f"{name}.pt")
        assert ckpt["step"] == 2 and f"--objective {ckpt['config']['cli']['objective']} " in command[name]
    with pytest.raises(ValueError, match="no command for checkpoint"):
        committed_argv("ch07_vp_ism")
    with pytest.raises(SystemExit):
        main(["checkpoints", "--only", "ch07_vp_ism"])


@pytest.mark.gpu
def test_train_and_sample_digits_on_cuda(tmp_path):
    path = tmp_path / "d.pt"
    main(["train", *DIGITS_SMALL, "--objective", "ssm", "--n-projections", "4", "--device", "cuda",
          "--checkpoint", str(path)])
    x = main(["sample", "--checkpoint", str(path), "--device", "cuda", "--sampler", "pc", "--n-steps", "5",
              "--n-samples", "8", "--out", str(tmp_path / "x.pt")])
    assert x.device.type == "cuda" and x.shape == (8, 1, 8, 8)


def test_help_describes_every_option_with_its_default():
    from scoresde.cli import _parser

    parser = _parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        text = " ".join(sub.format_help().split())
        for action in sub._actions:
            if action.dest == "help" or not action.option_strings:
                continue
            assert action.help and action.help != argparse.SUPPRESS, f"{name} {action.option_strings}: no help"
            if action.default not in (None, argparse.SUPPRESS) and not action.required:
                assert f"(default: {action.default})" in text, f"{name} {action.option_strings[0]}: no default shown"


def test_ema_warning_for_short_runs(tmp_path, capsys):
    from scoresde.cli import ema_warning

    assert ema_warning(500, 0.999) and "61%" in ema_warning(500, 0.999)      # 0.999^499 = 0.61
    assert ema_warning(10000, 0.999) is None                                  # 0.999^9999 = 4.5e-5
    assert ema_warning(1000, 1 - 3 / 1000) is None and ema_warning(1000, 0.998)
    assert ema_warning(1, 0.999) is None and ema_warning(100, 0.0) is None
    main(["train", *SMALL, "--checkpoint", str(tmp_path / "c.pt"), "--ema-decay", "0.999"])
    assert "warning: --ema-decay 0.999 with --steps 30" in capsys.readouterr().err
    main(["train", *SMALL, "--checkpoint", str(tmp_path / "d.pt"), "--ema-decay", "0.5"])
    assert "warning" not in capsys.readouterr().err


def test_progress_follows_the_terminal(monkeypatch):
    from scoresde.cli import _progress

    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert _progress(None) is True and _progress(False) is False
    monkeypatch.setenv("CI", "1")
    assert _progress(None) is False and _progress(True) is True
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    monkeypatch.delenv("CI")
    assert _progress(None) is False


@pytest.mark.parametrize("script", sorted(p.name for p in (Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py")
                                          if not p.name.startswith("_") and p.name != "fuzz_cases.py"))
def test_every_benchmark_has_help(script):
    path = Path(__file__).resolve().parents[1] / "benchmarks" / script
    res = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stdout.startswith("usage:")
    description = res.stdout.split("\n\n")[1].strip()
    assert len(description) > 20 and not description.startswith(("options", "positional")), description


def test_draw_leaves_matplotlib_as_it_found_it(tmp_path):
    import matplotlib

    from scoresde.cli import draw

    backend, rc = matplotlib.get_backend(), dict(matplotlib.rcParams)
    pts = torch.randn(20, 2, generator=torch.Generator().manual_seed(0))
    draw(pts, pts, tmp_path / "f.png", "a title")
    assert (tmp_path / "f.png").stat().st_size > 1000
    assert matplotlib.get_backend() == backend
    assert {k: v for k, v in matplotlib.rcParams.items() if rc.get(k) != v} == {}


def test_the_auto_path_table_is_read_only() -> None:
    from scoresde.losses import SSM_AUTO_METHOD, ssm_method_for

    with pytest.raises(TypeError):
        SSM_AUTO_METHOD["cpu"] = "jvp"  # type: ignore[index]
    assert ssm_method_for("cpu") == "vjp"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc (a directory no one can write to)")
def test_an_unwritable_file_is_a_one_line_error_before_any_work(tmp_path, capsys):
    # as root, the directory looks writable and torch's own open fails; as a user, the check refuses it first
    for argv in (["train-score", "--steps", "1", "--batch-size", "4", "--hidden", "4", "--depth", "1",
                  "--checkpoint", "/proc/scoresde-test.pt"],
                 ["sample", "--checkpoint", str(CHECKPOINT_DIR / "ch05_vp_dsm.pt"), "--n-samples", "4",
                  "--n-steps", "2", "--out", "/proc/scoresde-test.pt"],
                 ["sample", "--checkpoint", str(CHECKPOINT_DIR / "ch05_vp_dsm.pt"), "--out", str(tmp_path)],
                 ["train", "--steps", "1", "--checkpoint", str(tmp_path / "t.pt"), "--figure", str(tmp_path)]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith(f"python -m scoresde.cli: error: {argv[0]}: ") and (
            "/proc" in err[-1] or "directory" in err[-1]), err
    assert not (tmp_path / "t.pt").exists(), "train ran before its --figure was checked"


def test_checkpoints_command_guards_the_committed_files_and_names_itself(tmp_path, capsys):
    before = {p.name: p.stat().st_mtime_ns for p in CHECKPOINT_DIR.glob("*.pt")}
    with pytest.raises(SystemExit):
        main(["checkpoints", "--only", "ch07_vp_dsm", "--steps", "2"])  # would overwrite the committed file
    assert "would overwrite the committed checkpoints" in capsys.readouterr().err
    assert before == {p.name: p.stat().st_mtime_ns for p in CHECKPOINT_DIR.glob("*.pt")}
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(SystemExit):
        main(["checkpoints", "--only", "ch07_vp_dsm", "--steps", "2", "--out", str(tmp_path / "file")])
    assert "error: checkpoints: " in capsys.readouterr().err  # the nested run reports under this command


# ---- issue 31: resume compares the whole run, outputs never destroy inputs, long runs and sizes are refused ----

TINY = ["--steps", "3", "--batch-size", "16", "--hidden", "8", "--depth", "1", "--ema-decay", "0.5", "--no-progress"]


def _argparse_error(capsys, argv) -> str:
    with pytest.raises(SystemExit) as err:
        main(argv)
    assert err.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("first, change, named", [
    ([], ["--beta-max", "5"], "loss_config.sde.beta_max=5.0"),
    (["--sde", "ve"], ["--sde", "ve", "--sigma-max", "5"], "loss_config.sde.sigma_max=5.0"),
    (["--objective", "ssm"], ["--objective", "ssm", "--n-projections", "4"], "loss_config.n_projections=4"),
    ([], ["--hidden", "16"], "model.hidden=16"),
])
def test_resume_refuses_another_run_and_names_the_difference(tmp_path, capsys, first, change, named):
    path = str(tmp_path / "a.pt")
    main(["train", "--checkpoint", path, *TINY, *first])
    before = Path(path).read_bytes()
    err = _argparse_error(capsys, ["train", "--checkpoint", path, *TINY, "--steps", "6", "--resume", *change])
    assert "cannot resume" in err and named in err  # before: rc 0, the run mixed two SDEs
    assert Path(path).read_bytes() == before
    main(["train", "--checkpoint", path, *TINY, "--steps", "6", "--resume", *first])  # run length may change
    assert load_checkpoint(path)["step"] == 6


def test_outputs_never_overwrite_an_input_or_each_other(tmp_path, capsys):
    ckpt = tmp_path / "a.pt"
    main(["train", "--checkpoint", str(ckpt), *TINY])
    before = ckpt.read_bytes()
    (tmp_path / "link.pt").symlink_to(ckpt)
    for out in (ckpt, tmp_path / "link.pt", tmp_path / "sub" / ".." / "a.pt"):
        err = _argparse_error(capsys, ["sample", "--checkpoint", str(ckpt), "--out", str(out)])
        assert "is the same file as --checkpoint" in err  # before: the checkpoint became a tensor of samples
    assert ckpt.read_bytes() == before
    err = _argparse_error(capsys, ["sample", "--checkpoint", str(ckpt), "--out", str(tmp_path / "s.png"),
                                   "--figure", str(tmp_path / "s.png")])
    assert "--out" in err and "same file as --figure" in err
    err = _argparse_error(capsys, ["train", "--checkpoint", str(tmp_path / "s.png"), "--figure",
                                   str(tmp_path / "s.png"), *TINY])
    assert "--figure" in err and "same file as --checkpoint" in err


def test_only_the_checkpoints_command_writes_into_the_committed_folder(tmp_path, capsys, monkeypatch):
    committed = tmp_path / "committed"
    committed.mkdir()
    (committed / "ch05_vp_dsm.pt").write_bytes(b"committed")
    monkeypatch.setattr(cli, "CHECKPOINT_DIR", committed)
    for argv in (["train", "--checkpoint", str(committed / "ch05_vp_dsm.pt"), *TINY],
                 ["train-score", "--checkpoint", str(committed / "x.pt"), "--steps", "2", "--hidden", "8"]):
        assert "rewritten only by `python -m scoresde.cli checkpoints`" in _argparse_error(capsys, argv)
    assert (committed / "ch05_vp_dsm.pt").read_bytes() == b"committed"


def test_a_run_longer_than_max_steps_is_refused_with_an_estimate(tmp_path, capsys):
    err = _argparse_error(capsys, ["train", "--checkpoint", str(tmp_path / "c.pt"), *TINY, "--steps",
                                   str(10**12)])
    assert "--steps 1000000000000 exceeds --max-steps 1000000" in err and "ms per step" in err  # before: a hang
    assert "days" in err and "pass --max-steps 1000000000000 to confirm" in err
    err = _argparse_error(capsys, ["train-score", "--steps", str(10**12), "--hidden", "8"])
    assert "exceeds --max-steps" in err
    assert "--max-steps" in cli._parser()._subparsers._group_actions[0].choices["train"].format_help()
    main(["train", "--checkpoint", str(tmp_path / "c.pt"), *TINY, "--max-steps", "3"])  # at the cap: runs


@pytest.mark.parametrize("argv, says", [
    (["--seed", str(2**64)], "--seed must be below 2**63"),
    (["--hidden", "200000"], "needs about"),
    (["--batch-size", str(10**12)], "needs about"),
    (["--snr", "1e10", "--figure", "f.png"], "--snr = 1e+10 is above 1"),
    (["--n-samples", str(10**11), "--figure", "f.png"], "--n-samples 100000000000"),
])
def test_train_refuses_bad_seeds_sizes_and_snr_before_training(tmp_path, capsys, monkeypatch, argv, says):
    monkeypatch.chdir(tmp_path)
    err = _argparse_error(capsys, ["train", "--checkpoint", str(tmp_path / "c.pt"), *TINY, *argv])
    assert says in err  # before: an OverflowError, allocation tracebacks, or samples of std 1e13
    assert not (tmp_path / "c.pt").exists()


def test_sample_refuses_a_forged_cli_record(tmp_path, capsys):
    path = tmp_path / "a.pt"
    main(["train", "--checkpoint", str(path), *TINY])
    ckpt = torch.load(path, weights_only=True)
    del ckpt["config"]["cli"]["toy"]
    torch.save(ckpt, path)
    err = _argparse_error(capsys, ["sample", "--checkpoint", str(path), "--out", str(tmp_path / "x.pt")])
    assert "cli record has toy=None" in err  # before: KeyError traceback
