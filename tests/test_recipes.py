"""The table of checkpoint recipes (scoresde.checkpoints.recipes) writes exactly what the old hand-written commands
wrote, so a committed checkpoint retrained by its recipe is the same run.

``OLD_ARGV``, ``OLD_CH2`` and ``OLD_RUN_ORDER`` are a frozen copy, taken once from the code before the table
(``shlex.split`` of the shell strings of ``scoresde.cli.CH05_COMMANDS`` ... ``CH09_COMMANDS`` without
``python -m scoresde.cli``, and ``scoresde.checkpoints.make_ch2``'s ``MODEL``, ``COMMON``, ``RUNS``); they are data
here, never derived from the package.
"""

from __future__ import annotations

import dataclasses

import pytest

from scoresde import cli
from scoresde.checkpoints import CHECKPOINT_DIR, checkpoint_path, make_ch2
from scoresde.checkpoints.recipes import RECIPES, Recipe, _number, recipe
from scoresde.train import TrainConfig, load_checkpoint

#: the order `python -m scoresde.cli checkpoints` ran them
OLD_RUN_ORDER = (
    'ch02_ssm',
    'ch02_ssm_vr',
    'ch02_dsm',
    'ch05_vp_dsm',
    'ch05_vp_ssm',
    'ch07_vp_dsm',
    'ch07_vp_ssm',
    'ch07_vp_ssm_vr',
    'ch07_vp_dsm_seed1',
    'ch07_vp_ssm_seed1',
    'ch07_vp_ssm_vr_seed1',
    'ch07_vp_dsm_seed2',
    'ch07_vp_ssm_seed2',
    'ch07_vp_ssm_vr_seed2',
    'ch08_nice_mle_s0',
    'ch08_nice_mle_s1',
    'ch08_nice_mle_s2',
    'ch08_nice_ism_s0',
    'ch08_nice_ism_s1',
    'ch08_nice_ism_s2',
    'ch08_nice_ssm_s0',
    'ch08_nice_ssm_s1',
    'ch08_nice_ssm_s2',
    'ch08_nice_ssm_vr_s0',
    'ch08_nice_ssm_vr_s1',
    'ch08_nice_ssm_vr_s2',
    'ch08_nice_dsm001_s0',
    'ch08_nice_dsm001_s1',
    'ch08_nice_dsm001_s2',
    'ch08_nice_dsm005_s0',
    'ch08_nice_dsm005_s1',
    'ch08_nice_dsm005_s2',
    'ch08_nice_dsm01_s0',
    'ch08_nice_dsm01_s1',
    'ch08_nice_dsm01_s2',
    'ch08_nice_dsm03_s0',
    'ch08_nice_dsm03_s1',
    'ch08_nice_dsm03_s2',
    'ch08_energy_toy',
    'ch08_energy_digits',
    'ch09_fm',
)
#: scoresde.checkpoints.make_ch2's settings
OLD_CH2 = {
    "MODEL": {'dim': 2, 'hidden': 64, 'depth': 3, 'activation': 'silu'},
    "COMMON": {'steps': 4000, 'batch_size': 512, 'lr': 0.002, 'ema_decay': 0.999, 'seed': 0},
    "RUNS": {'ch02_ssm': ('ssm', {}), 'ch02_ssm_vr': ('ssm_vr', {}), 'ch02_dsm': ('dsm', {'sigma': 0.1})},
}
#: the old command lines' words after `python -m scoresde.cli`
OLD_ARGV: dict[str, list[str]] = {
    'ch05_vp_dsm': (
        'train --toy eight_gaussians --sde vp --objective dsm --steps 10000 --batch-size 512 --lr 2e-3'
        ' --ema-decay 0.999 --seed 0 --device cpu --checkpoint companion/scoresde/checkpoints/ch05_vp_dsm.pt'
    ).split(),
    'ch05_vp_ssm': (
        'train --toy eight_gaussians --sde vp --objective ssm --steps 10000 --batch-size 512 --lr 2e-3'
        ' --ema-decay 0.999 --seed 0 --device cpu --checkpoint companion/scoresde/checkpoints/ch05_vp_ssm.pt'
    ).split(),
    'ch07_vp_dsm': (
        'train --data digits --sde vp --objective dsm --steps 4000 --batch-size 64 --lr 2e-3 --ema-decay'
        ' 0.995 --hidden 32 --depth 3 --seed 0 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch07_vp_dsm.pt'
    ).split(),
    'ch07_vp_ssm': (
        'train --data digits --sde vp --objective ssm --steps 4000 --batch-size 64 --lr 2e-3 --ema-decay'
        ' 0.995 --hidden 32 --depth 3 --seed 0 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch07_vp_ssm.pt'
    ).split(),
    'ch07_vp_ssm_vr': (
        'train --data digits --sde vp --objective ssm-vr --steps 4000 --batch-size 64 --lr 2e-3 --ema-decay'
        ' 0.995 --hidden 32 --depth 3 --seed 0 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch07_vp_ssm_vr.pt'
    ).split(),
    'ch07_vp_dsm_seed1': (
        'train --data digits --sde vp --objective dsm --steps 4000 --batch-size 64 --lr 2e-3 --ema-decay'
        ' 0.995 --hidden 32 --depth 3 --seed 1 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch07_vp_dsm_seed1.pt'
    ).split(),
    'ch07_vp_ssm_seed1': (
        'train --data digits --sde vp --objective ssm --steps 4000 --batch-size 64 --lr 2e-3 --ema-decay'
        ' 0.995 --hidden 32 --depth 3 --seed 1 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch07_vp_ssm_seed1.pt'
    ).split(),
    'ch07_vp_ssm_vr_seed1': (
        'train --data digits --sde vp --objective ssm-vr --steps 4000 --batch-size 64 --lr 2e-3 --ema-decay'
        ' 0.995 --hidden 32 --depth 3 --seed 1 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch07_vp_ssm_vr_seed1.pt'
    ).split(),
    'ch07_vp_dsm_seed2': (
        'train --data digits --sde vp --objective dsm --steps 4000 --batch-size 64 --lr 2e-3 --ema-decay'
        ' 0.995 --hidden 32 --depth 3 --seed 2 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch07_vp_dsm_seed2.pt'
    ).split(),
    'ch07_vp_ssm_seed2': (
        'train --data digits --sde vp --objective ssm --steps 4000 --batch-size 64 --lr 2e-3 --ema-decay'
        ' 0.995 --hidden 32 --depth 3 --seed 2 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch07_vp_ssm_seed2.pt'
    ).split(),
    'ch07_vp_ssm_vr_seed2': (
        'train --data digits --sde vp --objective ssm-vr --steps 4000 --batch-size 64 --lr 2e-3 --ema-decay'
        ' 0.995 --hidden 32 --depth 3 --seed 2 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch07_vp_ssm_vr_seed2.pt'
    ).split(),
    'ch08_nice_mle_s0': (
        'train-density --model nice --data digits --objective mle --steps 500 --batch-size 64 --lr 2e-3'
        ' --hidden 64 --depth 2 --n-couplings 4 --seed 0 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_mle_s0.pt'
    ).split(),
    'ch08_nice_mle_s1': (
        'train-density --model nice --data digits --objective mle --steps 500 --batch-size 64 --lr 2e-3'
        ' --hidden 64 --depth 2 --n-couplings 4 --seed 1 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_mle_s1.pt'
    ).split(),
    'ch08_nice_mle_s2': (
        'train-density --model nice --data digits --objective mle --steps 500 --batch-size 64 --lr 2e-3'
        ' --hidden 64 --depth 2 --n-couplings 4 --seed 2 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_mle_s2.pt'
    ).split(),
    'ch08_nice_ism_s0': (
        'train-density --model nice --data digits --objective ism --steps 500 --batch-size 64 --lr 2e-3'
        ' --hidden 64 --depth 2 --n-couplings 4 --seed 0 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_ism_s0.pt'
    ).split(),
    'ch08_nice_ism_s1': (
        'train-density --model nice --data digits --objective ism --steps 500 --batch-size 64 --lr 2e-3'
        ' --hidden 64 --depth 2 --n-couplings 4 --seed 1 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_ism_s1.pt'
    ).split(),
    'ch08_nice_ism_s2': (
        'train-density --model nice --data digits --objective ism --steps 500 --batch-size 64 --lr 2e-3'
        ' --hidden 64 --depth 2 --n-couplings 4 --seed 2 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_ism_s2.pt'
    ).split(),
    'ch08_nice_ssm_s0': (
        'train-density --model nice --data digits --objective ssm --steps 500 --batch-size 64 --lr 2e-3'
        ' --hidden 64 --depth 2 --n-couplings 4 --seed 0 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_ssm_s0.pt'
    ).split(),
    'ch08_nice_ssm_s1': (
        'train-density --model nice --data digits --objective ssm --steps 500 --batch-size 64 --lr 2e-3'
        ' --hidden 64 --depth 2 --n-couplings 4 --seed 1 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_ssm_s1.pt'
    ).split(),
    'ch08_nice_ssm_s2': (
        'train-density --model nice --data digits --objective ssm --steps 500 --batch-size 64 --lr 2e-3'
        ' --hidden 64 --depth 2 --n-couplings 4 --seed 2 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_ssm_s2.pt'
    ).split(),
    'ch08_nice_ssm_vr_s0': (
        'train-density --model nice --data digits --objective ssm-vr --steps 500 --batch-size 64 --lr 2e-3'
        ' --hidden 64 --depth 2 --n-couplings 4 --seed 0 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_ssm_vr_s0.pt'
    ).split(),
    'ch08_nice_ssm_vr_s1': (
        'train-density --model nice --data digits --objective ssm-vr --steps 500 --batch-size 64 --lr 2e-3'
        ' --hidden 64 --depth 2 --n-couplings 4 --seed 1 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_ssm_vr_s1.pt'
    ).split(),
    'ch08_nice_ssm_vr_s2': (
        'train-density --model nice --data digits --objective ssm-vr --steps 500 --batch-size 64 --lr 2e-3'
        ' --hidden 64 --depth 2 --n-couplings 4 --seed 2 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_ssm_vr_s2.pt'
    ).split(),
    'ch08_nice_dsm001_s0': (
        'train-density --model nice --data digits --objective dsm --sigma 0.01 --steps 500 --batch-size 64'
        ' --lr 2e-3 --hidden 64 --depth 2 --n-couplings 4 --seed 0 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_dsm001_s0.pt'
    ).split(),
    'ch08_nice_dsm001_s1': (
        'train-density --model nice --data digits --objective dsm --sigma 0.01 --steps 500 --batch-size 64'
        ' --lr 2e-3 --hidden 64 --depth 2 --n-couplings 4 --seed 1 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_dsm001_s1.pt'
    ).split(),
    'ch08_nice_dsm001_s2': (
        'train-density --model nice --data digits --objective dsm --sigma 0.01 --steps 500 --batch-size 64'
        ' --lr 2e-3 --hidden 64 --depth 2 --n-couplings 4 --seed 2 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_dsm001_s2.pt'
    ).split(),
    'ch08_nice_dsm005_s0': (
        'train-density --model nice --data digits --objective dsm --sigma 0.05 --steps 500 --batch-size 64'
        ' --lr 2e-3 --hidden 64 --depth 2 --n-couplings 4 --seed 0 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_dsm005_s0.pt'
    ).split(),
    'ch08_nice_dsm005_s1': (
        'train-density --model nice --data digits --objective dsm --sigma 0.05 --steps 500 --batch-size 64'
        ' --lr 2e-3 --hidden 64 --depth 2 --n-couplings 4 --seed 1 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_dsm005_s1.pt'
    ).split(),
    'ch08_nice_dsm005_s2': (
        'train-density --model nice --data digits --objective dsm --sigma 0.05 --steps 500 --batch-size 64'
        ' --lr 2e-3 --hidden 64 --depth 2 --n-couplings 4 --seed 2 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_dsm005_s2.pt'
    ).split(),
    'ch08_nice_dsm01_s0': (
        'train-density --model nice --data digits --objective dsm --sigma 0.1 --steps 500 --batch-size 64'
        ' --lr 2e-3 --hidden 64 --depth 2 --n-couplings 4 --seed 0 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_dsm01_s0.pt'
    ).split(),
    'ch08_nice_dsm01_s1': (
        'train-density --model nice --data digits --objective dsm --sigma 0.1 --steps 500 --batch-size 64'
        ' --lr 2e-3 --hidden 64 --depth 2 --n-couplings 4 --seed 1 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_dsm01_s1.pt'
    ).split(),
    'ch08_nice_dsm01_s2': (
        'train-density --model nice --data digits --objective dsm --sigma 0.1 --steps 500 --batch-size 64'
        ' --lr 2e-3 --hidden 64 --depth 2 --n-couplings 4 --seed 2 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_dsm01_s2.pt'
    ).split(),
    'ch08_nice_dsm03_s0': (
        'train-density --model nice --data digits --objective dsm --sigma 0.3 --steps 500 --batch-size 64'
        ' --lr 2e-3 --hidden 64 --depth 2 --n-couplings 4 --seed 0 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_dsm03_s0.pt'
    ).split(),
    'ch08_nice_dsm03_s1': (
        'train-density --model nice --data digits --objective dsm --sigma 0.3 --steps 500 --batch-size 64'
        ' --lr 2e-3 --hidden 64 --depth 2 --n-couplings 4 --seed 1 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_dsm03_s1.pt'
    ).split(),
    'ch08_nice_dsm03_s2': (
        'train-density --model nice --data digits --objective dsm --sigma 0.3 --steps 500 --batch-size 64'
        ' --lr 2e-3 --hidden 64 --depth 2 --n-couplings 4 --seed 2 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_nice_dsm03_s2.pt'
    ).split(),
    'ch08_energy_toy': (
        'train-density --model energy --data three_gaussians --objective ssm-vr --steps 2000 --batch-size 256'
        ' --lr 2e-3 --hidden 64 --depth 2 --seed 0 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_energy_toy.pt'
    ).split(),
    'ch08_energy_digits': (
        'train-density --model energy --data digits --objective ssm-vr --steps 1000 --batch-size 64 --lr 2e-3'
        ' --hidden 128 --depth 2 --seed 0 --device cpu --checkpoint'
        ' companion/scoresde/checkpoints/ch08_energy_digits.pt'
    ).split(),
    'ch09_fm': (
        'train --data digits --objective flow --steps 4000 --batch-size 64 --lr 2e-3 --ema-decay 0.995'
        ' --hidden 32 --depth 3 --seed 0 --device cpu --checkpoint companion/scoresde/checkpoints/ch09_fm.pt'
    ).split(),
}


def test_the_table_writes_the_old_commands_token_for_token():
    assert tuple(cli.CHECKPOINT_RUNS) == tuple(RECIPES) == OLD_RUN_ORDER
    commands = {**cli.CH05_COMMANDS, **cli.CH07_COMMANDS, **cli.CH08_COMMANDS, **cli.CH09_COMMANDS}
    assert list(commands) == list(OLD_ARGV)
    for name, old in OLD_ARGV.items():
        assert cli.committed_argv(name, "companion/scoresde/checkpoints") == old, name
        assert commands[name] == "python -m scoresde.cli " + " ".join(old), name  # as the chapters print it
    assert cli.committed_argv("ch08_nice_dsm005_s1", "out", steps=7) == [
        "out/ch08_nice_dsm005_s1.pt" if t.endswith(".pt") else "7" if t == "500" else t
        for t in OLD_ARGV["ch08_nice_dsm005_s1"]]


def test_chapter_two_reads_the_same_settings():
    assert {"MODEL": make_ch2.MODEL, "COMMON": make_ch2.COMMON, "RUNS": make_ch2.RUNS} == OLD_CH2
    for name, (loss, loss_kwargs) in make_ch2.RUNS.items():  # MODEL and COMMON hold for every run
        r = RECIPES[name]
        assert r.command is None and r.task == {"loss": loss} and dict(r.network) == make_ch2.MODEL
        assert r.config == TrainConfig(**make_ch2.COMMON, loss_kwargs=loss_kwargs)


@pytest.mark.parametrize("name", list(RECIPES))
def test_each_committed_checkpoint_records_its_recipe(name):
    """The training settings a committed file records are its recipe's config, field for field."""
    saved = load_checkpoint(checkpoint_path(name))
    record, cfg = saved["config"], RECIPES[name].config
    for key in ("steps", "batch_size", "lr", "optimizer", "weight_decay", "loss_kwargs", "ema_decay", "grad_clip",
                "seed"):
        assert record[key] == getattr(cfg, key), key
    assert saved["step"] == cfg.steps
    assert set(RECIPES) == {p.stem for p in CHECKPOINT_DIR.glob("*.pt")}


def test_numbers_are_written_as_the_commands_wrote_them():
    assert [_number(x) for x in (2e-3, 0.999, 0.995, 0.01, 0.05, 0.1, 0.3, 1e-4, 20.0, 4000, "cpu")] == [
        "2e-3", "0.999", "0.995", "0.01", "0.05", "0.1", "0.3", "1e-4", "20.0", "4000", "cpu"]
    assert _number(0.0012345678) == "0.0012345678"  # never a rounded short form
    assert _number(1.5e-7) == "1.5e-7" and _number(-3e-3) == "-3e-3" and _number(123456.0) == "123456.0"


def test_bad_recipes_are_refused() -> None:
    ok = RECIPES["ch05_vp_dsm"]
    with pytest.raises(ValueError, match="command must be"):
        dataclasses.replace(ok, command="sample")
    with pytest.raises(TypeError, match="TrainConfig"):
        dataclasses.replace(ok, config={"steps": 3})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sets only"):  # the command line has no --optimizer: it would be lost
        dataclasses.replace(ok, config=dataclasses.replace(ok.config, optimizer="sgd"))
    with pytest.raises(ValueError, match="sets only"):
        dataclasses.replace(ok, config=dataclasses.replace(ok.config, loss_kwargs={"sigma": 0.1}))
    train = next(r for r in RECIPES.values() if r.command == "train")
    with pytest.raises(ValueError, match="needs an ema_decay"):  # its command line would train with 0.999
        dataclasses.replace(train, config=dataclasses.replace(train.config, ema_decay=None))
    with pytest.raises(ValueError, match="checkpoint_path"):
        dataclasses.replace(RECIPES["ch02_ssm"], config=TrainConfig(steps=3, checkpoint_path="x.pt"))
    with pytest.raises(ValueError, match="one command-line word"):
        dataclasses.replace(ok, task={"toy": "eight gaussians"})
    with pytest.raises(TypeError, match="mapping"):
        Recipe("train", ["--toy"], {}, ok.config)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="make_ch2"):
        RECIPES["ch02_dsm"].argv("x.pt")
    with pytest.raises(ValueError, match="no recipe"):
        recipe("ch07_vp_ism")
    with pytest.raises(TypeError, match="string"):
        recipe(7)  # type: ignore[arg-type]
    assert recipe("ch09_fm") is RECIPES["ch09_fm"]
    with pytest.raises(TypeError):
        RECIPES["ch09_fm"].task["objective"] = "dsm"  # type: ignore[index]
