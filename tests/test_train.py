"""Tests of scoresde.train: the loop's arithmetic (optimizers, clipping, EMA), determinism, checkpoints and
resume, losses by name, the command line, and bad input."""

from __future__ import annotations

import io
import math
import pickle
from pathlib import Path

import pytest
import torch
from torch import nn

from scoresde import losses
from scoresde.data import three_gaussians
from scoresde.nets import ScoreMLP, TimeScoreMLP
from scoresde.train import (
    LOSS_NAMES,
    OPTIMIZERS,
    RESUME_KEYS,
    TrainConfig,
    load_checkpoint,
    load_trained,
    resolve_loss,
    train,
    write_checkpoint,
)

GMM = three_gaussians()


def small_net(seed: int = 0) -> ScoreMLP:
    return ScoreMLP(2, hidden=16, depth=2, generator=torch.Generator().manual_seed(seed))


class Linear(nn.Module):
    """theta in R^2; the loss <A, theta> has the constant gradient A, so one step can be checked by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.tensor([1.0, -2.0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


A = torch.tensor([3.0, 4.0])  # |A| = 5


def linear_loss(model, x, generator):
    return (model.theta * A).sum()


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_first_step_of_each_optimizer(optimizer):
    lr, wd = 0.1, 0.5
    net = Linear()
    train(net, GMM, linear_loss, steps=1, batch_size=4, lr=lr, optimizer=optimizer, weight_decay=wd)
    theta0 = torch.tensor([1.0, -2.0])
    if optimizer == "sgd":  # first momentum step is a plain step on g + wd * theta
        expected = theta0 - lr * (A + wd * theta0)
    elif optimizer == "adam":  # Adam's first step is lr * sign(g + wd * theta) (up to eps)
        expected = theta0 - lr * torch.sign(A + wd * theta0)
    else:  # AdamW: decoupled decay, then lr * sign(g)
        expected = theta0 * (1 - lr * wd) - lr * torch.sign(A)
    torch.testing.assert_close(net.theta.detach(), expected, rtol=1e-6, atol=1e-6)


def test_gradient_clipping():
    net = Linear()
    train(net, GMM, linear_loss, steps=1, batch_size=4, lr=0.1, optimizer="sgd", grad_clip=1.0)
    # |g| = 5 is clipped to 1: the step is lr * g / 5
    torch.testing.assert_close(net.theta.detach(), torch.tensor([1.0, -2.0]) - 0.1 * A / 5)


def test_ema_follows_its_formula():
    """eq-ema: the first average is theta_1, then theta_bar <- beta theta_bar + (1 - beta) theta_k."""
    beta, lr = 0.9, 0.1
    result = train(Linear(), GMM, linear_loss, steps=3, batch_size=4, lr=lr, optimizer="sgd", ema_decay=beta)
    theta, v, thetas = torch.tensor([1.0, -2.0]), torch.zeros(2), []
    for _ in range(3):  # SGD with momentum 0.9 on the constant gradient A
        v = 0.9 * v + A
        theta = theta - lr * v
        thetas.append(theta)
    ema = thetas[0]
    for th in thetas[1:]:
        ema = beta * ema + (1 - beta) * th
    torch.testing.assert_close(result.model.theta.detach(), thetas[-1])
    torch.testing.assert_close(result.ema_model.theta.detach(), ema)


def test_deterministic_with_a_seed_and_learns_the_score():
    a = train(small_net(), GMM, "ssm", steps=300, batch_size=128, lr=3e-3, seed=3)
    b = train(small_net(), GMM, "ssm", steps=300, batch_size=128, lr=3e-3, seed=3)
    c = train(small_net(), GMM, "ssm", steps=5, batch_size=128, lr=3e-3, seed=4)
    assert a.losses == b.losses and len(a.losses) == 300 and a.step == 300
    assert c.losses[:5] != a.losses[:5]
    x = GMM.sample(4000, generator=torch.Generator().manual_seed(99))
    with torch.no_grad():
        before = float((small_net()(x) - GMM.score(x)).square().sum(1).mean())
        after = float((a.model(x) - GMM.score(x)).square().sum(1).mean())
    # 300 SSM steps on a 16-wide net: the mean squared score error falls from 5.8 to 2.1 (measured)
    assert after < 0.5 * before


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_every_loss_name_resolves_to_scoresde_losses(name):
    kwargs = {"sigma": 0.3} if name in ("dsm", "denoising_score_matching") else {}
    fn = resolve_loss(name, **kwargs)
    net = small_net()
    x = GMM.sample(32, generator=torch.Generator().manual_seed(1))
    got = fn(net, x, torch.Generator().manual_seed(2))
    func = {"s": losses.sliced_score_matching, "d": losses.denoising_score_matching,
            "i": losses.implicit_score_matching}[name[0]]
    extra = {"variance_reduction": True} if name == "ssm_vr" else {}
    if func is losses.implicit_score_matching:
        ref = func(net, x)
    else:
        ref = func(net, x, generator=torch.Generator().manual_seed(2), **kwargs, **extra)
    torch.testing.assert_close(got, ref)
    result = train(small_net(), GMM, name, loss_kwargs=kwargs, steps=3, batch_size=16)
    assert len(result.losses) == 3 and all(math.isfinite(v) for v in result.losses)


def test_loss_kwargs_reach_the_loss():
    x = GMM.sample(64, generator=torch.Generator().manual_seed(3))
    net = small_net()
    a = resolve_loss("ssm", n_projections=3, dist="rademacher", method="jvp")(net, x, torch.Generator().manual_seed(4))
    b = losses.sliced_score_matching(net, x, 3, "rademacher", generator=torch.Generator().manual_seed(4), method="jvp")
    torch.testing.assert_close(a, b)


def test_tensor_dataset_and_time_conditional_loss():
    """The loop serves chapter 5: the loss callable receives (model, batch, generator) and draws t itself."""
    data = GMM.sample(500, generator=torch.Generator().manual_seed(5))

    def time_dsm(model, x, generator):
        t = torch.rand(x.shape[0], generator=generator)
        sigma = (0.1 + t)[:, None]
        eps = torch.randn(x.shape, generator=generator)
        return 0.5 * (sigma * model(x + sigma * eps, t) + eps).square().sum(1).mean()

    net = TimeScoreMLP(2, 32, 2, generator=torch.Generator().manual_seed(6))
    r1 = train(net, data, time_dsm, steps=150, batch_size=64, lr=3e-3, seed=1)
    r2 = train(TimeScoreMLP(2, 32, 2, generator=torch.Generator().manual_seed(6)), data, time_dsm,
               steps=150, batch_size=64, lr=3e-3, seed=1)
    assert r1.losses == r2.losses
    # the sigma-weighted DSM loss starts near d/2 = 1 and must drop clearly below it
    assert sum(r1.losses[-30:]) / 30 < 0.9 * sum(r1.losses[:10]) / 10  # measured: 0.78 vs 0.95
    assert r1.config["data"] == "tensor(500, 2)"


def test_checkpoint_resume_continues_exactly(tmp_path):
    path = tmp_path / "run.pt"
    kw = dict(batch_size=64, lr=3e-3, seed=7, ema_decay=0.95, grad_clip=10.0)
    full = train(small_net(), GMM, "ssm_vr", steps=40, **kw)
    first = train(small_net(), GMM, "ssm_vr", steps=25, checkpoint_path=path, checkpoint_every=10, **kw)
    assert load_checkpoint(path)["step"] == 25
    resumed = train(small_net(1), GMM, "ssm_vr", steps=40, checkpoint_path=path, resume=True, **kw)
    assert len(first.losses) == 25
    torch.testing.assert_close(torch.tensor(resumed.losses), torch.tensor(full.losses), rtol=1e-6, atol=1e-7)
    for p, q in zip(resumed.model.parameters(), full.model.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
    for p, q in zip(resumed.ema_model.parameters(), full.ema_model.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
    ckpt = load_checkpoint(path)
    assert ckpt["step"] == 40 and ckpt["losses"].shape == (40,)
    assert ckpt["config"]["loss"] == "ssm_vr" and ckpt["config"]["model"] == small_net().config
    assert set(ckpt["optimizer"]) == {"state", "param_groups"}
    # the network rebuilt from the checkpoint alone: EMA weights by default, raw weights on request
    x = GMM.sample(8, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        torch.testing.assert_close(load_trained(path)(x), resumed.ema_model(x))
        torch.testing.assert_close(load_trained(path, ema=False)(x), resumed.model(x))
    # resume with a missing file starts afresh
    fresh = train(small_net(), GMM, "ssm_vr", steps=5, checkpoint_path=tmp_path / "new.pt", resume=True, **kw)
    assert fresh.losses == full.losses[:5]


def test_resume_refuses_a_different_run(tmp_path):
    path = tmp_path / "run.pt"
    train(small_net(), GMM, "ssm", steps=3, batch_size=16, checkpoint_path=path)
    with pytest.raises(ValueError, match="seed"):
        train(small_net(), GMM, "ssm", steps=6, batch_size=16, seed=1, checkpoint_path=path, resume=True)
    with pytest.raises(ValueError, match="ema_decay"):
        train(small_net(), GMM, "ssm", steps=6, batch_size=16, ema_decay=0.9, checkpoint_path=path, resume=True)
    with pytest.raises(ValueError, match="beyond"):
        train(small_net(), GMM, "ssm", steps=2, batch_size=16, checkpoint_path=path, resume=True)
    for changed, match in (({"lr": 0.5}, "lr="), ({"loss_kwargs": {"dist": "rademacher"}}, "loss_kwargs"),
                           ({"grad_clip": 1.0}, "grad_clip"), ({"optimizer": "sgd"}, "optimizer")):
        with pytest.raises(ValueError, match=match):
            train(small_net(), GMM, "ssm", steps=6, batch_size=16, checkpoint_path=path, resume=True, **changed)


class Foreign:
    pass


def test_bad_checkpoint_files(tmp_path):
    good = tmp_path / "good.pt"
    train(small_net(), GMM, "ssm", steps=2, batch_size=16, checkpoint_path=good)
    raw = good.read_bytes()
    (tmp_path / "cut.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="truncated"):
        load_checkpoint(tmp_path / "cut.pt")
    torch.save(small_net().state_dict(), tmp_path / "state.pt")
    with pytest.raises(ValueError, match="not a scoresde training checkpoint"):
        load_checkpoint(tmp_path / "state.pt")
    with open(tmp_path / "obj.pt", "wb") as fh:
        pickle.dump({"format": "scoresde.train", "x": Foreign()}, fh, protocol=2)
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "obj.pt")
    torch.save({"format": "scoresde.train", "version": 99}, tmp_path / "future.pt")
    with pytest.raises(ValueError, match="version"):
        load_checkpoint(tmp_path / "future.pt")
    torch.save({"format": "scoresde.train", "version": 1, "step": 1}, tmp_path / "part.pt")
    with pytest.raises(ValueError, match="incomplete"):
        load_checkpoint(tmp_path / "part.pt")
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "cut.pt").write_bytes(raw[:100])
    with pytest.raises(ValueError, match="truncated"):
        train(small_net(), GMM, "ssm", steps=4, batch_size=16, checkpoint_path=tmp_path / "cut.pt", resume=True)


def test_non_finite_loss_names_the_step():
    calls = {"n": 0}

    def exploding(model, x, generator):
        calls["n"] += 1
        value = (model(x) ** 2).mean()
        return value * float("nan") if calls["n"] == 7 else value

    with pytest.raises(FloatingPointError, match="at step 7"):
        train(small_net(), GMM, exploding, steps=20, batch_size=8)


def test_progress_bar_only_when_asked(capsys):
    train(small_net(), GMM, "ssm", steps=3, batch_size=8)
    assert capsys.readouterr().err == ""
    train(small_net(), GMM, "ssm", steps=3, batch_size=8, progress=True)
    err = capsys.readouterr().err
    assert "train ssm" in err and "3/3" in err


def main(argv):
    from scoresde.cli import main as cli_main

    return cli_main(["train-score", *argv])


def test_command_line(tmp_path, capsys):
    path = tmp_path / "cli.pt"
    result = main(["--loss", "dsm", "--sigma", "0.2", "--steps", "4", "--batch-size", "16", "--hidden", "8",
                   "--depth", "1", "--ema-decay", "0.9", "--grad-clip", "5", "--optimizer", "adamw",
                   "--checkpoint", str(path), "--checkpoint-every", "2", "--data", "two_moons"])
    assert capsys.readouterr().out.startswith("step 4: loss ")
    ckpt = load_checkpoint(path)
    assert ckpt["config"]["loss_kwargs"] == {"sigma": 0.2} and ckpt["config"]["optimizer"] == "adamw"
    assert result.step == 4
    more = main(["--loss", "ssm", "--method", "jvp", "--steps", "6", "--batch-size", "16", "--hidden", "8",
                 "--depth", "1", "--checkpoint", str(tmp_path / "ssm.pt")])
    again = main(["--loss", "ssm", "--method", "jvp", "--steps", "6", "--batch-size", "16", "--hidden", "8",
                  "--depth", "1", "--checkpoint", str(tmp_path / "ssm.pt"), "--resume"])
    assert more.losses == again.losses


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(model="net"), TypeError, "nn.Module"),
        (dict(data=[1, 2]), TypeError, "sample"),
        (dict(data=torch.ones(4)), ValueError, "at least 2"),
        (dict(loss="sm"), ValueError, "unknown loss"),
        (dict(loss=3), TypeError, "callable"),
        (dict(loss="dsm"), ValueError, "sigma"),
        (dict(loss="ssm", loss_kwargs={"sigma": 0.1}), ValueError, "does not take"),
        (dict(loss="ssm", loss_kwargs={"generator": None}), ValueError, "does not take"),
        (dict(loss=linear_loss, loss_kwargs={"sigma": 0.1}), ValueError, "only used with a loss given by name"),
        (dict(loss="dsm", loss_kwargs={"sigma": torch.tensor(0.1)}), TypeError, "plain data"),
        (dict(steps=0), ValueError, ">= 1"),
        (dict(batch_size=2.5), TypeError, "int"),
        (dict(lr=-1.0), ValueError, "> 0"),
        (dict(optimizer="lbfgs"), ValueError, "unknown optimizer"),
        (dict(ema_decay=1.0), ValueError, r"\(0, 1\)"),
        (dict(grad_clip=0.0), ValueError, "> 0"),
        (dict(seed=-1), ValueError, ">= 0"),
        (dict(checkpoint_every=5), ValueError, "checkpoint_path"),
        (dict(resume=True), ValueError, "checkpoint_path"),
        (dict(progress="yes"), TypeError, "bool"),
        (dict(device=0), TypeError, "device"),
        (dict(device="tpu:x"), ValueError, "unknown device"),
        (dict(distributed=True), ValueError, "process group"),
        (dict(loss=lambda m, x, g: m(x)), TypeError, "0-dim"),
    ],
)
def test_bad_input(kwargs, exc, match):
    args = {"model": small_net(), "data": GMM, "loss": "ssm", "steps": 2, "batch_size": 8}
    args.update(kwargs)
    model, data, loss = args.pop("model"), args.pop("data"), args.pop("loss")
    with pytest.raises(exc, match=match):
        train(model, data, loss, **args)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown without CUDA")
def test_cuda_requested_without_cuda():
    with pytest.raises(ValueError, match="CUDA is not available"):
        train(small_net(), GMM, "ssm", steps=1, batch_size=8, device="cuda")


@pytest.mark.gpu
def test_cuda_training_and_checkpoint_to_cpu(tmp_path):
    path = tmp_path / "gpu.pt"
    r = train(small_net(), GMM, "ssm", steps=50, batch_size=64, device="cuda", ema_decay=0.9, checkpoint_path=path)
    assert next(r.model.parameters()).device.type == "cuda"
    assert all(math.isfinite(v) for v in r.losses)
    r2 = train(small_net(), GMM, "ssm", steps=50, batch_size=64, device="cuda", ema_decay=0.9)
    assert r.losses == r2.losses  # seeded CUDA generators: reproducible on the same GPU
    cpu_model = load_trained(path)
    assert next(cpu_model.parameters()).device.type == "cpu"


# ---- the committed checkpoints of chapter 2 and the command that regenerates them ------------------------------


def test_committed_chapter_two_checkpoints_load_and_match_their_recipe():
    from scoresde.checkpoints import checkpoint_path
    from scoresde.checkpoints.make_ch2 import COMMON, MODEL, RUNS

    for name, (loss, loss_kwargs) in RUNS.items():
        ckpt = load_checkpoint(checkpoint_path(name))
        cfg = ckpt["config"]
        assert cfg["loss"] == loss and cfg["loss_kwargs"] == loss_kwargs
        assert cfg["model"] == {"class": "ScoreMLP", **MODEL}
        assert all(cfg[k] == v for k, v in COMMON.items())
        assert ckpt["step"] == COMMON["steps"] and ckpt["losses"].shape == (COMMON["steps"],)
        assert isinstance(load_trained(checkpoint_path(name + ".pt")), ScoreMLP)


def test_regeneration_command_reproduces_the_committed_curve(tmp_path, capsys):
    """`python -m scoresde.cli checkpoints --only ch02_ssm_vr` (here its first 30 steps) retraces the committed run."""
    from scoresde.checkpoints import checkpoint_path
    from scoresde.cli import main as cli_main

    threads = torch.get_num_threads()
    cli_main(["checkpoints", "--only", "ch02_ssm_vr", "--out", str(tmp_path), "--steps", "30"])
    assert torch.get_num_threads() == threads, "the command changed the caller's thread count"
    assert "ch02_ssm_vr: 30 steps" in capsys.readouterr().out
    fresh = load_checkpoint(tmp_path / "ch02_ssm_vr.pt")["losses"]
    committed = load_checkpoint(checkpoint_path("ch02_ssm_vr"))["losses"][:30]
    torch.testing.assert_close(fresh, committed, rtol=1e-4, atol=1e-4)  # float32: CPU types may round apart


def test_checkpoint_path_errors():
    from scoresde.checkpoints import checkpoint_path

    with pytest.raises(FileNotFoundError, match="scoresde.cli checkpoints"):
        checkpoint_path("ch99_missing")
    with pytest.raises(TypeError, match="string"):
        checkpoint_path(2)
    from scoresde.checkpoints.make_ch2 import make

    with pytest.raises(ValueError, match="unknown run"):
        make("ch02_ism")


# ---- TrainConfig: the settings as one frozen, checked object ------------------------------------------------


def test_train_config_is_frozen_checked_once_and_replaceable(tmp_path):
    import dataclasses

    cfg = TrainConfig(steps=4, batch_size=16, lr=0.01, loss_kwargs={"sigma": 0.1})
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.steps = 5  # type: ignore[misc]
    assert hash(cfg) == hash(TrainConfig(steps=4, batch_size=16, lr=0.01, loss_kwargs={"sigma": 0.1}))
    longer = dataclasses.replace(cfg, steps=8)
    assert longer.steps == 8 and longer.lr == 0.01 and cfg.steps == 4
    with pytest.raises(ValueError, match="steps must be >= 1"):
        dataclasses.replace(cfg, steps=0)  # replace runs the checks again
    assert isinstance(TrainConfig(steps=1, checkpoint_path=str(tmp_path / "a.pt")).checkpoint_path, Path)
    assert TrainConfig(steps=1, lr=1).lr == 1.0 and isinstance(TrainConfig(steps=1, lr=1).lr, float)


def test_train_takes_a_config_or_its_fields_and_gives_the_same_run():
    cfg = TrainConfig(steps=6, batch_size=16, lr=3e-3, seed=2)
    a = train(small_net(), GMM, "ssm", cfg)
    b = train(small_net(), GMM, "ssm", steps=6, batch_size=16, lr=3e-3, seed=2)
    c = train(small_net(), GMM, "ssm", TrainConfig(steps=3, batch_size=16, lr=3e-3, seed=2), steps=6)
    assert a.losses == b.losses == c.losses and a.config == b.config == c.config
    with pytest.raises(TypeError, match="unexpected keyword argument 'stpes'"):
        train(small_net(), GMM, "ssm", stpes=3)
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        train(small_net(), GMM, "ssm", 100)  # the old positional habit gets a clear message
    kwargs = {"sigma": 0.1}
    cfg = TrainConfig(steps=2, loss_kwargs=kwargs)
    kwargs["sigma"] = object()  # the caller's dict changes; the config's checked copy does not
    assert cfg.loss_kwargs == {"sigma": 0.1}
    if not torch.cuda.is_available():
        remote = TrainConfig(steps=2, device="cuda")  # a config for a GPU job can be written here
        with pytest.raises(ValueError, match="CUDA is not available"):
            train(small_net(), GMM, "ssm", remote)


def test_record_holds_every_resume_key_as_plain_data():
    rec = TrainConfig(steps=3, ema_decay=0.9).record("ssm", 1, small_net(), GMM)
    assert set(RESUME_KEYS) <= set(rec) and rec["steps"] == 3 and rec["model"] == small_net().config
    buffer = io.BytesIO()
    torch.save(rec, buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True) == rec
    for key in RESUME_KEYS:
        changed = {**rec, key: "something else"}
        with pytest.raises(ValueError, match=f"trained with {key}="):
            TrainConfig.check_resumable(changed, rec, Path("x.pt"))
    TrainConfig.check_resumable({**rec, "steps": 99}, rec, Path("x.pt"))  # steps may change


def test_write_checkpoint_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "sub" / "c.pt"
    assert write_checkpoint(path, {"a": torch.ones(2)}) == path
    assert torch.equal(torch.load(path, weights_only=True)["a"], torch.ones(2))

    def crash(obj, f, *args, **kwargs):
        Path(f).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        write_checkpoint(path, {"a": torch.zeros(2)})
    assert torch.equal(torch.load(path, weights_only=True)["a"], torch.ones(2)), "the old checkpoint was damaged"
    assert not path.with_name("c.pt.tmp").exists(), "the half-written temporary file was left behind"

    def cannot_open(obj, f, *args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:747] . open file failed with strerror: EACCES")

    monkeypatch.setattr(torch, "save", cannot_open)  # how torch reports a file it cannot open
    with pytest.raises(OSError, match="cannot write the checkpoint .*c.pt: .*open file failed"):
        write_checkpoint(path, {"a": torch.zeros(2)})
    with pytest.raises(TypeError, match="path"):
        write_checkpoint(3, {})
