"""The training loop under DistributedDataParallel: 2 CPU processes (gloo) started by torchrun.

The deterministic loss (exact implicit score matching) must give the single-process loss curve, weights and
EMA weights for the same global batch, up to floating-point rounding (rtol 1e-5: the two runs add the same
numbers in a different order). A sliced loss under DDP draws its probes per rank: checked by recording the
draws. About 15 s, most of it two Python processes importing torch.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from scoresde.data import three_gaussians
from scoresde.nets import ScoreMLP
from scoresde.train import load_checkpoint, train

WORKER = textwrap.dedent(
    """
    import sys
    import torch
    from scoresde.data import three_gaussians
    from scoresde.nets import ScoreMLP
    from scoresde.train import init_distributed, train

    torch.set_num_threads(1)
    out = sys.argv[1]
    rank, world, _ = init_distributed("gloo")
    assert world == 2
    gmm = three_gaussians()

    def net():
        return ScoreMLP(2, 32, 2, generator=torch.Generator().manual_seed(0))

    train(net(), gmm, "ism", steps=25, batch_size=64, lr=3e-3, ema_decay=0.9, grad_clip=5.0, seed=1,
          checkpoint_path=f"{out}/ism.pt", checkpoint_every=10)
    train(net(), gmm, "ssm", steps=10, batch_size=64, seed=1, checkpoint_path=f"{out}/ssm.pt")

    draws = []
    def recording_loss(model, x, generator):
        draws.append((x.clone(), torch.rand(3, generator=generator)))
        return (model(x) ** 2).mean()
    train(net(), gmm, recording_loss, steps=2, batch_size=64, seed=5)
    torch.save(draws, f"{out}/draws_{rank}.pt")

    for kwargs, message in (({"loss_kwargs": {"method": "jvp"}}, "jvp"), ({"batch_size": 63}, "divisible")):
        args = {"steps": 1, "batch_size": 64, **kwargs}
        try:
            train(net(), gmm, "ssm", **args)
        except ValueError as err:
            assert message in str(err), err
        else:
            raise AssertionError(f"no error for {kwargs}")
    torch.distributed.destroy_process_group()
    print(f"rank {rank} ok")
    """
)


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    script = out / "worker.py"
    script.write_text(WORKER)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script), str(out)],
        capture_output=True, text=True, timeout=240, env=env,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "rank 0 ok" in proc.stdout and "rank 1 ok" in proc.stdout
    return out


def test_ddp_loss_curve_equals_single_process(ddp_run):
    ckpt = load_checkpoint(ddp_run / "ism.pt")
    assert ckpt["config"]["world_size"] == 2 and ckpt["step"] == 25
    net = ScoreMLP(2, 32, 2, generator=torch.Generator().manual_seed(0))
    single = train(net, three_gaussians(), "ism", steps=25, batch_size=64, lr=3e-3, ema_decay=0.9,
                   grad_clip=5.0, seed=1)
    torch.testing.assert_close(ckpt["losses"], torch.tensor(single.losses, dtype=torch.float64),
                               rtol=1e-5, atol=1e-6)
    for name, value in single.model.state_dict().items():
        torch.testing.assert_close(ckpt["model"][name], value, rtol=1e-5, atol=1e-6)
    ema = {k[len("module."):]: v for k, v in ckpt["ema"].items() if k.startswith("module.")}
    for name, value in single.ema_model.state_dict().items():
        torch.testing.assert_close(ema[name], value, rtol=1e-5, atol=1e-6)


def test_ddp_slices_the_global_batch_and_draws_per_rank(ddp_run):
    d0 = torch.load(ddp_run / "draws_0.pt", weights_only=True)
    d1 = torch.load(ddp_run / "draws_1.pt", weights_only=True)
    seen = []

    def recording_loss(model, x, generator):
        seen.append(x.clone())
        return (model(x) ** 2).mean()

    train(ScoreMLP(2, 32, 2), three_gaussians(), recording_loss, steps=2, batch_size=64, seed=5)
    for step in range(2):
        (x0, r0), (x1, r1) = d0[step], d1[step]
        torch.testing.assert_close(torch.cat([x0, x1]), seen[step])  # rank r holds slice r of the global batch
        assert not torch.equal(r0, r1)  # independent random streams per rank


def test_ddp_sliced_loss_runs_and_records_its_ranks(ddp_run):
    ckpt = load_checkpoint(ddp_run / "ssm.pt")
    assert ckpt["config"]["world_size"] == 2 and ckpt["losses"].shape == (10,)
    assert bool(torch.isfinite(ckpt["losses"]).all())
    with pytest.raises(ValueError, match="world_size"):  # a 2-process run is not resumed by 1 process
        train(ScoreMLP(2, 32, 2), three_gaussians(), "ssm", steps=12, batch_size=64, seed=1,
              checkpoint_path=ddp_run / "ssm.pt", resume=True)


@pytest.mark.gpu
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 GPUs")
def test_ddp_nccl_two_gpus(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "scoresde.cli",
         "train-score", "--loss", "ism", "--steps", "20", "--batch-size", "64", "--device", "cuda", "--checkpoint",
         str(tmp_path / "nccl.pt")],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = load_checkpoint(tmp_path / "nccl.pt")
    assert ckpt["config"]["world_size"] == 2 and bool(torch.isfinite(ckpt["losses"]).all())
