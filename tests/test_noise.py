"""Tests of scoresde.noise: each noise structure's products G dw, Sigma v and the matrix Sigma against the explicit
matrix G built from g (random inputs, float64, a state with a multi-dimensional event), its autograd divergence of
Sigma against central differences of that explicit Sigma, the check of g's shape, the choice of a structure from a
``noise_type`` string, and that an SDE picks its structure once."""

from __future__ import annotations

import pytest
import torch

from scoresde import noise as noise_mod
from scoresde.noise import (
    NOISE_TYPES,
    DiagonalNoise,
    GeneralNoise,
    NoiseStructure,
    NoNoise,
    ScalarNoise,
    noise_structure,
)
from scoresde.sde import VPSDE, FunctionSDE, GeometricBrownianMotion

BATCH, EVENT = 4, (2, 3)
D = 6
M = 5


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def explicit_G(structure: NoiseStructure, g: torch.Tensor) -> torch.Tensor:
    """The matrix G of each sample, (batch, D, m), written out from the definitions (not the package's code)."""
    if isinstance(structure, ScalarNoise):
        return torch.stack([gi * torch.eye(D, dtype=g.dtype) for gi in g])
    if isinstance(structure, DiagonalNoise):
        return torch.stack([torch.diag(gi.reshape(-1)) for gi in g])
    return g


def random_g(structure: NoiseStructure, x: torch.Tensor, seed: int) -> torch.Tensor:
    return torch.randn(structure.g_shape(x), generator=gen(seed), dtype=x.dtype)


STRUCTURES = [ScalarNoise(), DiagonalNoise(), GeneralNoise(M), GeneralNoise(1)]
IDS = ["scalar", "diagonal", "general", "shared"]


@pytest.mark.parametrize("structure", STRUCTURES, ids=IDS)
def test_products_match_the_explicit_matrix(structure):
    x = torch.randn(BATCH, *EVENT, generator=gen(0), dtype=torch.float64)
    for seed in range(3):
        g = random_g(structure, x, 10 + seed)
        dw = torch.randn(structure.noise_shape(x.shape), generator=gen(20 + seed), dtype=torch.float64)
        v = torch.randn(x.shape, generator=gen(30 + seed), dtype=torch.float64)
        G = explicit_G(structure, g)
        Sigma = G @ G.transpose(1, 2)
        gdw = torch.einsum("bij,bj->bi", G, dw.reshape(BATCH, -1)).reshape(x.shape)
        torch.testing.assert_close(structure.apply(x, g, dw), gdw, rtol=1e-12, atol=1e-12)
        sv = torch.einsum("bij,bj->bi", Sigma, v.reshape(BATCH, -1)).reshape(x.shape)
        torch.testing.assert_close(structure.sigma_apply(x, g, v), sv, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(structure.sigma_matrix(x, g), Sigma, rtol=1e-12, atol=1e-12)


def state_dependent_g(structure: NoiseStructure):
    """A smooth g(y) of the right shape for each structure, where each sample's G depends on its own state only."""
    w = torch.randn(D, D, generator=gen(5), dtype=torch.float64)

    def g(y: torch.Tensor) -> torch.Tensor:
        flat = y.reshape(y.shape[0], -1)
        if isinstance(structure, ScalarNoise):
            return 1 + torch.sin(flat @ w[:, 0]) ** 2
        if isinstance(structure, DiagonalNoise):
            return (torch.cos(flat @ w) + 2).reshape(y.shape)
        m = structure.noise_dim
        return torch.stack([torch.sin(flat @ w[:, k % D] + k)[:, None] * flat for k in range(m)], -1) + 0.5

    return g


@pytest.mark.parametrize("structure", STRUCTURES, ids=IDS)
def test_div_sigma_matches_central_differences_of_the_explicit_sigma(structure):
    x = torch.randn(BATCH, *EVENT, generator=gen(1), dtype=torch.float64)
    g = state_dependent_g(structure)
    got = structure.div_sigma(g, x)
    h = 1e-5
    want = torch.zeros(BATCH, D, dtype=torch.float64)
    for j in range(D):
        e = torch.zeros(BATCH, D, dtype=torch.float64)
        e[:, j] = h
        G_plus, G_minus = (explicit_G(structure, g(x + s * e.reshape(x.shape))) for s in (1, -1))
        dSigma = (G_plus @ G_plus.transpose(1, 2) - G_minus @ G_minus.transpose(1, 2)) / (2 * h)
        want += dSigma[:, :, j]  # (div Sigma)_i = sum_j d Sigma_ij / d x_j
    assert got.shape == x.shape
    torch.testing.assert_close(got.reshape(BATCH, D), want, rtol=1e-7, atol=1e-7)
    assert float(want.abs().max()) > 0.1  # the check is not vacuous


@pytest.mark.parametrize("structure", STRUCTURES, ids=IDS)
def test_wrong_g_shape_is_a_value_error_naming_g(structure):
    x = torch.randn(BATCH, *EVENT, generator=gen(2), dtype=torch.float64)
    good = random_g(structure, x, 3)
    assert structure.check_g(x, good, "MySDE") is good
    bad = good[..., :1] if good.ndim > 1 and good.shape[-1] > 1 else good.unsqueeze(-1)
    with pytest.raises(ValueError, match=rf"MySDE\.g returned shape .*noise_type '{structure.name}' needs"):
        structure.check_g(x, bad, "MySDE")
    with pytest.raises(TypeError, match="g must return a torch.Tensor"):
        structure.check_g(x, good.tolist(), "MySDE")


def test_an_sde_returning_a_wrong_g_names_it():
    sde = FunctionSDE(lambda y, t: -y, lambda y, t: y[:, :1], "diagonal")
    x = torch.ones(3, 2, dtype=torch.float64)
    for call in (lambda: sde.g_prod(x, 0.5, x), lambda: sde.sigma_prod(x, 0.5, x), lambda: sde.sigma_matrix(x, 0.5)):
        with pytest.raises(ValueError, match=r"FunctionSDE\.g returned shape \(3, 1\).*'diagonal' needs \(3, 2\)"):
            call()


def test_no_noise_is_zero_and_has_no_g():
    structure = NoNoise()
    x = torch.randn(BATCH, *EVENT, generator=gen(4), dtype=torch.float64)
    assert not structure.diffusive and structure.noise_shape(x.shape) == x.shape
    assert torch.equal(structure.apply(x, x, x), torch.zeros_like(x))
    assert torch.equal(structure.sigma_apply(x, x, x), torch.zeros_like(x))
    assert torch.equal(structure.sigma_matrix(x, x), torch.zeros(BATCH, D, D, dtype=torch.float64))
    assert torch.equal(structure.div_sigma(lambda y: y, x), torch.zeros_like(x))
    with pytest.raises(ValueError, match="no diffusion g"):
        structure.check_g(x, x, "MySDE")


def test_noise_structure_from_its_name():
    assert NOISE_TYPES == ("scalar", "diagonal", "general", "none")
    for name in NOISE_TYPES:
        s = noise_structure(name, 3 if name == "general" else None)
        assert s.name == name and type(s).name == name
    assert noise_structure("general", 3).noise_shape((7, 2, 2)) == (7, 3)
    assert [noise_structure(n, 2 if n == "general" else None).elementwise for n in NOISE_TYPES] == [True, True, False, False]
    with pytest.raises(ValueError, match="noise_type"):
        noise_structure("additive")
    with pytest.raises(TypeError, match="noise_type"):
        noise_structure(1)
    with pytest.raises(ValueError, match="needs noise_dim"):
        noise_structure("general")
    with pytest.raises(ValueError, match="noise_dim is only used"):
        noise_structure("scalar", 2)
    with pytest.raises(ValueError, match="noise_dim"):
        noise_structure("general", 0)
    assert "general" in repr(noise_structure("general", 2)).lower() and repr(NoNoise()) == "NoNoise()"


def test_the_declared_solver_class_and_isotropy():
    """What the solvers' check and the likelihood weighting read off the structure (no ``noise_type`` string):
    scalar noise on one coordinate is diagonal, one shared Brownian motion is its own class."""
    from scoresde.losses import sde_score_matching
    from scoresde.solvers.base import noise_structure as solver_structure

    assert [ScalarNoise().solver_class(d) for d in (1, 6)] == ["diagonal", "scalar"]
    assert [DiagonalNoise().solver_class(1), GeneralNoise(1).solver_class(6), GeneralNoise(M).solver_class(6),
            NoNoise().solver_class(6)] == ["diagonal", "shared", "general", "none"]
    assert [s.isotropic for s in (ScalarNoise(), DiagonalNoise(), GeneralNoise(M), NoNoise())] == [True, False, False, False]
    x1, x6 = torch.zeros(2, 1), torch.zeros(2, *EVENT)
    scalar = FunctionSDE(lambda y, t: -y, lambda y, t: y[:, 0] ** 2, "scalar")
    assert solver_structure(scalar, x1) == "diagonal" and solver_structure(scalar, x6) == "scalar"
    assert solver_structure(VPSDE(), x6) == "additive"
    assert solver_structure(scalar.reverse(lambda y, t: -y, probability_flow=True), x6) == "none"
    data = torch.zeros(4, 2)
    sde_score_matching(lambda y, t: -y, data, VPSDE(), weighting="likelihood", generator=gen(0))
    gbm = GeometricBrownianMotion()
    with pytest.raises(ValueError, match="weighting='likelihood' needs a scalar diffusion"):
        sde_score_matching(lambda y, t: -y, data, gbm, weighting="likelihood", generator=gen(0))


def test_an_sde_chooses_its_structure_once():
    vp, gbm = VPSDE(), GeometricBrownianMotion()
    assert isinstance(vp.noise, ScalarNoise) and vp.noise is vp.noise
    assert isinstance(gbm.noise, DiagonalNoise)
    fs = FunctionSDE(lambda y, t: -y, lambda y, t: y.unsqueeze(-1), "general", noise_dim=1)
    assert isinstance(fs.noise, GeneralNoise) and fs.noise.noise_dim == 1 and fs.noise_dim == 1
    score = lambda y, t: -y  # noqa: E731
    assert vp.reverse(score).noise is vp.noise
    flow = fs.reverse(score, probability_flow=True)
    assert isinstance(flow.noise, NoNoise) and flow.noise_type == "none" and flow.noise_dim == 1


def test_every_structure_is_listed():
    classes = {c for c in vars(noise_mod).values() if isinstance(c, type) and issubclass(c, NoiseStructure)}
    assert {c.name for c in classes if c is not NoiseStructure} == set(NOISE_TYPES)
