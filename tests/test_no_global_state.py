"""No hidden global state (issue 18, item 6): with explicit generators, the package's results do not depend on
torch's default dtype or on the global RNG, and calling it leaves both as they were. (No test sets the default
dtype; the precision tests name ``dtype=torch.float64``.)"""

from __future__ import annotations

import pytest
import torch

from scoresde import cli, data, metrics, nets
from scoresde.losses import flow_matching
from scoresde.sampling import Prediction, VPPath, edm_heun_sample, predictor_corrector_sample, sample_with_nfe
from scoresde.sde import VPSDE
from scoresde.train import train


def _run_everything() -> dict[str, torch.Tensor]:
    g = lambda s: torch.Generator().manual_seed(s)  # noqa: E731
    out: dict[str, torch.Tensor] = {}
    out["toy"] = data.make_toy("two_moons").sample(64, generator=g(1))
    out["rings"] = data.make_toy("eight_gaussians").sample(64, generator=g(2))
    for name, net in (("mlp", nets.ScoreMLP(2, 8, 2)), ("time_mlp", nets.TimeScoreMLP(2, 8, 1)),
                      ("time_sin", nets.TimeScoreMLP(2, 8, 1, embedding="sinusoidal")),
                      ("conv", nets.TimeScoreConv(1, 4, 1))):
        for k, v in net.state_dict().items():
            out[f"{name}.{k}"] = v
    out["prior"] = VPSDE().prior_sample((16, 2), generator=g(3))
    out["pc"] = predictor_corrector_sample(VPSDE(), lambda x, t: -x, (16, 2), n_steps=5, generator=g(4))
    pred = Prediction(lambda x, t: -x, VPPath(VPSDE()), "score")
    out["ddpm"] = sample_with_nfe("ddpm", pred, (16, 2), nfe=5, generator=g(6))
    out["edm"] = edm_heun_sample(pred, (16, 2), n_steps=3, churn=2.0, generator=g(7))
    out["fm"] = flow_matching(lambda x, t: -x, out["toy"], generator=g(8)).reshape(1)
    result = metrics.permutation_test(out["toy"][:32], out["rings"][:32], n_permutations=50, generator=g(5))
    out["perm"] = torch.tensor([result.statistic, result.p_value], dtype=torch.float64)
    out["grid"] = cli.image_grid(torch.zeros(3, 1, 2, 2, dtype=torch.float32))
    run = train(nets.ScoreMLP(2, 8, 1), data.three_gaussians(), "ssm", steps=3, batch_size=8)
    out["losses"] = torch.tensor(run.losses, dtype=torch.float64)
    return out


@pytest.mark.parametrize("default", [torch.float64, torch.bfloat16])
def test_results_do_not_depend_on_the_default_dtype(default):
    reference = _run_everything()
    try:
        torch.set_default_dtype(default)
        changed = _run_everything()
    finally:
        torch.set_default_dtype(torch.float32)
    for key, value in reference.items():
        assert changed[key].dtype == value.dtype, f"{key}: dtype follows torch's default"
        assert torch.equal(changed[key], value), f"{key}: values follow torch's default dtype"


def test_results_do_not_depend_on_the_global_rng():
    torch.manual_seed(1)
    first = _run_everything()
    torch.manual_seed(2)
    second = _run_everything()
    for key, value in first.items():
        assert torch.equal(second[key], value), f"{key}: depends on the global RNG"


def test_the_package_leaves_the_global_rng_and_default_dtype_alone():
    torch.manual_seed(7)
    expected = torch.rand(4, dtype=torch.float64)
    torch.manual_seed(7)
    _run_everything()
    assert torch.equal(torch.rand(4, dtype=torch.float64), expected), "the package read or advanced the global RNG"
    assert torch.get_default_dtype() == torch.float32
