"""Tests of scoresde.nets: shapes, reproducible initialisation, time embeddings, config round trip."""

from __future__ import annotations

import math

import pytest
import torch

from scoresde.nets import (
    ACTIVATIONS,
    GaussianFourierEmbedding,
    ScoreMLP,
    SinusoidalEmbedding,
    TimeScoreMLP,
    from_config,
)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_score_mlp_shapes_and_smoothness(activation):
    net = ScoreMLP(3, hidden=16, depth=2, activation=activation, generator=gen(0))
    x = torch.randn(5, 3, generator=gen(1))
    assert net(x).shape == (5, 3)
    # smooth activations: the Jacobian varies with x (a ReLU net would be piecewise linear)
    jac = torch.func.vmap(torch.func.jacrev(lambda z: net(z[None])[0]))(x)
    assert jac.shape == (5, 3, 3)
    assert float((jac[0] - jac[1]).detach().abs().max()) > 1e-6
    n_linear = sum(isinstance(m, torch.nn.Linear) for m in net.modules())
    assert n_linear == 3  # depth hidden layers + output layer


def test_generator_makes_initialisation_reproducible_and_default_like():
    a, b, c = (ScoreMLP(4, 32, 2, generator=gen(s)) for s in (7, 7, 8))
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        torch.testing.assert_close(pa, pb)
        assert not torch.equal(pa, pc)
    # the same law as nn.Linear's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w = a.net[2].weight
    bound = 1 / math.sqrt(32)
    assert float(w.abs().max()) <= bound
    # uniform on [-b, b] has variance b^2/3; 1024 draws: relative sd of the sample variance ~ 0.028
    assert abs(float(w.var()) / (bound**2 / 3) - 1) < 0.15


@pytest.mark.parametrize("build", [
    lambda g: ScoreMLP(4, 16, 2, generator=g),
    lambda g: TimeScoreMLP(3, 16, 2, generator=g),
    lambda g: TimeScoreMLP(3, 16, 2, embedding="sinusoidal", generator=g),
    lambda g: TimeScoreConv(1, 8, 2, generator=g),
    lambda g: GaussianFourierEmbedding(8, generator=g),
])
def test_building_a_network_neither_reads_nor_advances_the_global_rng(build):
    torch.manual_seed(1)
    first = build(None)
    after = torch.rand(3)
    torch.manual_seed(2)
    second = build(None)
    torch.manual_seed(1)
    assert torch.equal(torch.rand(3), after), "building the network advanced the global RNG"
    seeded = build(torch.Generator().manual_seed(0))
    for a, b, c in zip(first.state_dict().values(), second.state_dict().values(), seeded.state_dict().values()):
        assert torch.equal(a, b), "the initialisation depends on the global RNG"
        assert torch.equal(a, c), "generator=None is not the generator seeded with 0"


def test_forward_mode_jvp_through_score_mlp():
    """SSM's method='jvp' needs torch.func.jvp through the network: it must equal J v."""
    net = ScoreMLP(3, 16, 2, generator=gen(2)).double()
    x = torch.randn(4, 3, generator=gen(3), dtype=torch.float64)
    v = torch.randn(4, 3, generator=gen(4), dtype=torch.float64)
    _, jv = torch.func.jvp(net, (x,), (v,))
    jac = torch.func.vmap(torch.func.jacrev(lambda z: net(z[None])[0]))(x)
    torch.testing.assert_close(jv, torch.einsum("bij,bj->bi", jac, v))


def test_fourier_embedding_formula():
    emb = GaussianFourierEmbedding(8, scale=3.0, generator=gen(5))
    t = torch.tensor([0.0, 0.25, 1.0])
    out = emb(t)
    W = emb.W
    assert W.shape == (4,) and not W.requires_grad
    ref = torch.cat([torch.sin(2 * math.pi * t[:, None] * W), torch.cos(2 * math.pi * t[:, None] * W)], dim=1)
    torch.testing.assert_close(out, ref)
    # W ~ N(0, scale^2): 20000 draws, sample sd within 5 standard errors (scale / sqrt(2n))
    big = GaussianFourierEmbedding(40000, scale=3.0, generator=gen(6)).W
    assert abs(float(big.std()) - 3.0) < 5 * 3.0 / math.sqrt(2 * 20000)


def test_sinusoidal_embedding_formula():
    emb = SinusoidalEmbedding(6, time_scale=1000.0, max_period=10000.0)
    t = torch.tensor([0.0, 0.5])
    freqs = torch.tensor([1.0, 10000 ** (-1 / 3), 10000 ** (-2 / 3)])
    arg = 1000 * t[:, None] * freqs
    torch.testing.assert_close(emb(t), torch.cat([arg.sin(), arg.cos()], dim=1))


@pytest.mark.parametrize("embedding", ["fourier", "sinusoidal"])
def test_time_score_mlp(embedding):
    net = TimeScoreMLP(2, hidden=32, depth=2, embedding=embedding, embed_dim=16, generator=gen(9))
    x = torch.randn(6, 2, generator=gen(10))
    t1, t2 = torch.full((6,), 0.1), torch.full((6,), 0.9)
    out1, out2 = net(x, t1), net(x, t2)
    assert out1.shape == (6, 2)
    assert float((out1 - out2).abs().max()) > 1e-4  # the output depends on t
    # rows are independent: row 0 alone gives the same answer
    torch.testing.assert_close(net(x[:1], t1[:1]), out1[:1])
    again = TimeScoreMLP(2, hidden=32, depth=2, embedding=embedding, embed_dim=16, generator=gen(9))
    torch.testing.assert_close(again(x, t1), out1)


@pytest.mark.parametrize(
    "net",
    [ScoreMLP(2, 8, 1, "tanh"), TimeScoreMLP(3, 8, 2, "elu", "sinusoidal", 4, 2.0)],
    ids=["ScoreMLP", "TimeScoreMLP"],
)
def test_config_round_trip(net):
    rebuilt = from_config(net.config)
    assert type(rebuilt) is type(net) and rebuilt.config == net.config
    rebuilt.load_state_dict(net.state_dict())
    x = torch.randn(3, net.dim, generator=gen(11))
    args = (x,) if isinstance(net, ScoreMLP) else (x, torch.rand(3, generator=gen(12)))
    torch.testing.assert_close(rebuilt(*args), net(*args))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: ScoreMLP(2, activation="relu"), ValueError, "unknown activation"),
        (lambda: ScoreMLP(0), ValueError, ">= 1"),
        (lambda: ScoreMLP(2, depth=0), ValueError, ">= 1"),
        (lambda: ScoreMLP(2, hidden=1.5), TypeError, "int"),
        (lambda: ScoreMLP(2, generator="seed"), TypeError, "Generator"),
        (lambda: ScoreMLP(2)(torch.ones(4, 3)), ValueError, r"\(batch, 2\)"),
        (lambda: ScoreMLP(2)(torch.ones(4)), ValueError, "2 dimensions"),
        (lambda: ScoreMLP(2)(torch.ones(4, 2, dtype=torch.int64)), TypeError, "floating"),
        (lambda: TimeScoreMLP(2, embedding="learned"), ValueError, "unknown embedding"),
        (lambda: TimeScoreMLP(2, embed_dim=5), ValueError, "even"),
        (lambda: TimeScoreMLP(2)(torch.ones(4, 2), torch.ones(3)), ValueError, r"shape \(4,\)"),
        (lambda: TimeScoreMLP(2)(torch.ones(4, 2), torch.ones(4, 1)), ValueError, "1 dimensions"),
        (lambda: GaussianFourierEmbedding(8, scale=0.0), ValueError, "> 0"),
        (lambda: SinusoidalEmbedding(1), ValueError, ">= 2"),
        (lambda: from_config({"dim": 2}), ValueError, "'class'"),
        (lambda: from_config({"class": "UNet"}), ValueError, "unknown network class"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.gpu
def test_cuda_matches_cpu_and_rejects_mixed_devices():
    net = TimeScoreMLP(2, 16, 2, generator=gen(13))
    x, t = torch.randn(8, 2, generator=gen(14)), torch.rand(8, generator=gen(15))
    cpu = net(x, t)
    net = net.cuda()
    torch.testing.assert_close(net(x.cuda(), t.cuda()).cpu(), cpu, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="same device"):
        net(x.cuda(), t)


# ---- the convolutional, time-conditional score model for images (chapter 7) ---------------------------------

from scoresde.nets import TimeScoreConv  # noqa: E402


@pytest.mark.parametrize("embedding", ["fourier", "sinusoidal"])
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 5, 7)], ids=["digits", "rgb-odd"])
def test_time_score_conv_shapes_time_dependence_and_row_independence(embedding, shape):
    net = TimeScoreConv(shape[0], width=8, depth=2, embedding=embedding, embed_dim=8, generator=gen(20))
    x = torch.randn(4, *shape, generator=gen(21))
    t1, t2 = torch.full((4,), 0.1), torch.full((4,), 0.9)
    out = net(x, t1)
    assert out.shape == x.shape
    assert float((out - net(x, t2)).abs().max()) > 1e-4  # the output depends on t
    torch.testing.assert_close(net(x[2:3], t1[2:3]), out[2:3])  # rows independent: no batch statistics
    again = TimeScoreConv(shape[0], width=8, depth=2, embedding=embedding, embed_dim=8, generator=gen(20))
    torch.testing.assert_close(again(x, t1), out)


def test_time_score_conv_receptive_field_and_gradients():
    """Depth 3: a 9-pixel receptive field, so a centre output pixel of an 8x8 image depends on every input pixel;
    gradients reach every parameter; the activation is smooth (the Jacobian varies with x)."""
    net = TimeScoreConv(1, 8, 3, generator=gen(22))
    x = torch.randn(2, 1, 8, 8, generator=gen(23))
    t = torch.rand(2, generator=gen(24))
    jac = torch.func.jacrev(lambda z: net(z[None], t[:1])[0])(x[0])  # (1, 8, 8, 1, 8, 8)
    assert bool((jac[0, 3, 3].abs() > 0).all())  # a centre output pixel sees the whole image
    assert float(jac[0, 0, 0, 0, 7, 7].abs()) == 0.0  # the corner sees 4 pixels away, not the far corner
    jac2 = torch.func.jacrev(lambda z: net(z[None], t[:1])[0])(x[1])
    assert float((jac - jac2).abs().max()) > 1e-6
    net(x, t).square().sum().backward()
    assert all(p.grad is not None and float(p.grad.abs().max()) > 0 for p in net.parameters())
    shallow = TimeScoreConv(1, 8, 1, generator=gen(22))  # 5-pixel field: the centre misses the corners
    jac_s = torch.func.jacrev(lambda z: shallow(z[None], t[:1])[0])(x[0])
    assert float(jac_s[0, 3, 3, 0, 7, 7].abs()) == 0.0 and float(jac_s[0, 3, 3, 0, 5, 5].abs()) > 0


def test_time_score_conv_config_round_trip():
    net = TimeScoreConv(1, 6, 2, "softplus", "sinusoidal", 4, 2.0, generator=gen(25))
    rebuilt = from_config(net.config)
    assert type(rebuilt) is TimeScoreConv and rebuilt.config == net.config
    rebuilt.load_state_dict(net.state_dict())
    x, t = torch.randn(3, 1, 8, 8, generator=gen(26)), torch.rand(3, generator=gen(27))
    torch.testing.assert_close(rebuilt(x, t), net(x, t))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: TimeScoreConv(1, activation="relu"), ValueError, "unknown activation"),
        (lambda: TimeScoreConv(0), ValueError, ">= 1"),
        (lambda: TimeScoreConv(1, width=0), ValueError, ">= 1"),
        (lambda: TimeScoreConv(1, depth=1.0), TypeError, "int"),
        (lambda: TimeScoreConv(1, embedding="learned"), ValueError, "unknown embedding"),
        (lambda: TimeScoreConv(1, embed_dim=5), ValueError, "even"),
        (lambda: TimeScoreConv(1)(torch.ones(4, 64), torch.ones(4)), ValueError, "4 dimensions"),
        (lambda: TimeScoreConv(1)(torch.ones(4, 3, 8, 8), torch.ones(4)), ValueError, r"\(batch, 1, H, W\)"),
        (lambda: TimeScoreConv(1)(torch.ones(4, 1, 8, 8, dtype=torch.int64), torch.ones(4)), TypeError, "floating"),
        (lambda: TimeScoreConv(1)(torch.ones(4, 1, 8, 8), torch.ones(3)), ValueError, r"shape \(4,\)"),
        (lambda: TimeScoreConv(1)(torch.ones(4, 1, 8, 8), torch.ones(4, 1)), ValueError, "1 dimensions"),
    ],
)
def test_time_score_conv_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.gpu
def test_time_score_conv_cuda_matches_cpu():
    net = TimeScoreConv(1, 8, 2, generator=gen(28))
    x, t = torch.randn(4, 1, 8, 8, generator=gen(29)), torch.rand(4, generator=gen(30))
    cpu = net(x, t)
    net = net.cuda()
    torch.testing.assert_close(net(x.cuda(), t.cuda()).cpu(), cpu, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="same device"):
        net(x.cuda(), t)
