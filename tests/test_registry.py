"""The registries: a new solver, predictor, corrector, SDE or sampler is one decorated definition, and every list
of names (the CLI's choices, the samplers' accepted names, the messages) is read from them."""

from __future__ import annotations

import argparse

import pytest
import torch

from scoresde import cli
from scoresde._registry import Registry
from scoresde.sampling import (
    CORRECTORS,
    PREDICTORS,
    SAMPLERS,
    LangevinCorrector,
    predictor_corrector_sample,
    register_corrector,
    register_predictor,
    register_sampler,
    reverse_sde_sample,
)
from scoresde.sde import SDES, VPSDE, register_sde
from scoresde.solvers import SOLVERS, EulerMaruyama, register_solver, solve


def _choices(argv_prefix: list[str], dest: str) -> tuple[str, ...]:
    """The ``choices`` of option ``dest`` of the sub-command ``argv_prefix[0]`` in a freshly built parser."""
    parser = cli._parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    action = next(a for a in sub.choices[argv_prefix[0]]._actions if a.dest == dest)
    return tuple(action.choices)


@pytest.fixture
def toy_solver():
    @register_solver
    class Toy(EulerMaruyama, name="toy_em", calculus=("ito",), orders={"none": (1.0, 1.0), "additive": (1.0, 1.0)}):
        """Euler–Maruyama for additive noise under another name."""

    yield Toy
    SOLVERS.remove("toy_em")


def test_a_registered_solver_is_a_method_a_predictor_and_a_cli_choice(toy_solver):
    assert "toy_em" in SOLVERS and isinstance(SOLVERS["toy_em"], toy_solver)
    # it accepts additive noise, so it is a predictor of the reverse SDE, and the CLI offers it
    assert "toy_em" in PREDICTORS.names
    assert "toy_em" in _choices(["sample"], "predictor") and "toy_em" in _choices(["train"], "predictor")
    x0 = torch.zeros(4, 2, dtype=torch.float64)
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    assert torch.equal(solve(VPSDE(), x0, [0.0, 1.0], dt=0.1, method="toy_em", generator=g1),
                       solve(VPSDE(), x0, [0.0, 1.0], dt=0.1, method="euler", generator=g2))
    score = lambda x, t: -x  # noqa: E731
    a = reverse_sde_sample(VPSDE(), score, (4, 2), n_steps=5, method="toy_em", generator=torch.Generator().manual_seed(1))
    b = reverse_sde_sample(VPSDE(), score, (4, 2), n_steps=5, method="euler", generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)


def test_after_removal_it_is_gone_everywhere(toy_solver):
    SOLVERS.remove("toy_em")
    try:
        assert "toy_em" not in PREDICTORS and "toy_em" not in _choices(["sample"], "predictor")
        with pytest.raises(ValueError, match="unknown method 'toy_em'"):
            solve(VPSDE(), torch.zeros(2, 2), [0.0, 1.0], method="toy_em")
    finally:
        SOLVERS.register(toy_solver)


def test_a_solver_without_additive_noise_is_no_predictor():
    @register_solver
    class Diag(EulerMaruyama, name="toy_diag", calculus=("ito",), orders={"diagonal": (0.5, 1.0)}):
        """Euler–Maruyama that declares diagonal noise only."""

    try:
        assert "toy_diag" in SOLVERS and "toy_diag" not in PREDICTORS
        assert "toy_diag" not in _choices(["sample"], "predictor")
    finally:
        SOLVERS.remove("toy_diag")


def test_a_registered_predictor_corrector_sampler_and_sde_reach_the_cli():
    @register_predictor
    class Half(EulerMaruyama, name="toy_predictor", calculus=("ito",), orders={"additive": (1.0, 1.0)}):
        """A predictor-only entry (not a solve method)."""

    @register_corrector
    class Still(LangevinCorrector):
        """A Langevin corrector under another name."""

        name = "toy_corrector"

    @register_sampler("toy_sampler")
    def toy_sampler(sde, score_fn, shape, *, generator, **_):
        """Draw from the prior."""
        return sde.prior_sample(shape, generator=generator)

    @register_sde("toy_vp")
    class ToyVP(VPSDE):
        """A VP SDE under another name."""

    try:
        assert "toy_predictor" in PREDICTORS and "toy_predictor" not in SOLVERS
        assert "toy_predictor" in _choices(["sample"], "predictor")
        assert "toy_corrector" in _choices(["sample"], "corrector") and "toy_corrector" in CORRECTORS
        assert "toy_sampler" in _choices(["sample"], "sampler") and "toy_sampler" in SAMPLERS
        assert "toy_vp" in _choices(["train"], "sde") and SDES["toy_vp"] is ToyVP
        assert isinstance(cli.make_sde({"name": "toy_vp", "beta_max": 5.0}), ToyVP)
        out = predictor_corrector_sample(VPSDE(), lambda x, t: -x, (3, 2), n_steps=4, predictor="toy_predictor",
                                         corrector="toy_corrector", generator=torch.Generator().manual_seed(0))
        assert out.shape == (3, 2)
        with pytest.raises(ValueError, match="unknown corrector 'none'.*'langevin', 'toy_corrector'"):
            predictor_corrector_sample(VPSDE(), lambda x, t: -x, (3, 2), n_steps=4, corrector="none")
    finally:
        PREDICTORS.remove("toy_predictor")
        CORRECTORS.remove("toy_corrector")
        SAMPLERS.remove("toy_sampler")
        SDES.remove("toy_vp")
    assert "toy_vp" not in _choices(["train"], "sde") and "toy_sampler" not in _choices(["sample"], "sampler")


def test_names_are_unique_and_entries_well_formed():
    """Mutation: a second entry under a taken name, or an entry without a name, is refused."""
    reg: Registry[int] = Registry("number")
    reg.register(1, name="one")
    with pytest.raises(ValueError, match="a number named 'one' is already registered"):
        reg.register(2, name="one")
    with pytest.raises(TypeError, match="non-empty string name"):
        reg.register(3)
    with pytest.raises(ValueError, match="a solver named 'euler' is already registered"):
        register_solver(type("Again", (EulerMaruyama,), {}, name="euler", orders={"diagonal": (0.5, 1.0)},
                             calculus=("ito",)))
    with pytest.raises(ValueError, match="a predictor named 'heun' is already registered"):  # via the view
        register_predictor(type("Again", (EulerMaruyama,), {}, name="heun", orders={"additive": (1.0, 1.0)},
                                calculus=("ito",)))
    with pytest.raises(TypeError, match="decorates a Solver subclass"):
        register_solver(int)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="decorates an SDE subclass"):
        register_sde("x")(int)  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="no number 'two'"):
        reg.remove("two")
    assert reg.names == ("one",) and reg.lookup("one", "n") == 1 and "Registry('number': one)" == repr(reg)
    with pytest.raises(TypeError, match="n must be one of"):
        reg.lookup(1, "n")


def test_the_shipped_names():
    """What the package registers itself (each where it is defined)."""
    assert {"euler", "heun", "milstein"} <= set(SOLVERS.names)
    assert {"euler", "heun", "milstein", "reverse_diffusion", "ancestral"} <= set(PREDICTORS.names)
    assert "langevin" in CORRECTORS.names and {"sde", "pc", "ode"} <= set(SAMPLERS.names)
    assert {"vp", "subvp", "ve"} <= set(SDES.names)


def test_the_discrete_chain_and_the_prior_are_declared_not_inferred():
    """A VP subclass that declares no DDPM chain is refused by the ancestral predictor (an isinstance check would
    have let it in); the prior is one number, prior_std, read by prior_sample and prior_logp of every SDE."""
    from scoresde.sde import VESDE, OrnsteinUhlenbeck, SubVPSDE

    class Reweighted(VPSDE):
        discrete_chain = None

    score = lambda x, t: -x  # noqa: E731
    with pytest.raises(ValueError, match="DDPM or SMLD chain.*got Reweighted"):
        predictor_corrector_sample(Reweighted(), score, (2, 2), n_steps=2, predictor="ancestral")
    assert predictor_corrector_sample(VPSDE(), score, (2, 2), n_steps=50, predictor="ancestral").shape == (2, 2)
    assert (VPSDE().discrete_chain, SubVPSDE().discrete_chain, VESDE().discrete_chain) == ("ddpm", None, "smld")
    assert (VPSDE().prior_std, VESDE(sigma_max=7.0).prior_std) == (1.0, 7.0)
    assert VPSDE().reverse(score).prior_std == 1.0 and OrnsteinUhlenbeck(2.0, 1.0).prior_std == 0.5
    z = torch.ones(3, 2, dtype=torch.float64)
    assert torch.allclose(VESDE(sigma_max=2.0).prior_logp(z),
                          torch.distributions.Normal(0.0, 2.0).log_prob(z).sum(1))
    g = torch.Generator().manual_seed(0)
    assert abs(float(VESDE(sigma_max=3.0).prior_sample((20000, 1), generator=g).std()) - 3.0) < 0.05


def test_the_langevin_alpha_factor_is_declared_not_inferred():
    """The corrector's alpha_i = 1 - beta_i is each SDE's declared langevin_alpha: the VP family's from its discrete
    beta_i, None for the others; a VP subclass that declares none gets none (though it has discrete_beta), and any
    SDE that declares one gets it (here alpha = 0: the corrector does not move)."""
    from scoresde.sampling.correctors import LangevinCorrector
    from scoresde.sde import VESDE, CosineVPSDE, FunctionSDE, OrnsteinUhlenbeck, SubVPSDE

    x, t = torch.ones(4, 2, dtype=torch.float64), torch.full((4,), 0.5, dtype=torch.float64)
    for sde in (VPSDE(), SubVPSDE(), CosineVPSDE()):
        assert torch.equal(sde.langevin_alpha(t, 0.01, x), 1 - sde.discrete_beta(t, 0.01, x))
    assert VESDE().langevin_alpha(t, 0.01, x) is None and OrnsteinUhlenbeck().langevin_alpha(t, 0.01, x) is None

    class NoAlpha(VPSDE):
        def langevin_alpha(self, t, dt, like):
            return None

    class Frozen(FunctionSDE):
        def langevin_alpha(self, t, dt, like):
            return torch.zeros(like.shape[0], dtype=like.dtype)

    score = lambda y, t: -y  # noqa: E731
    frozen = Frozen(lambda y, t: -y, lambda y, t: torch.ones(y.shape[0], dtype=y.dtype), "scalar", additive=True)

    def corrected(sde, alpha_factor):
        return LangevinCorrector(0.2, 1, alpha_factor).step(sde.reverse(score), x, t, 0.01, torch.Generator().manual_seed(1))

    assert torch.equal(corrected(NoAlpha(), True), corrected(NoAlpha(), False))
    assert not torch.equal(corrected(VPSDE(), True), corrected(VPSDE(), False))
    assert torch.equal(corrected(frozen, True), x) and not torch.equal(corrected(frozen, False), x)
