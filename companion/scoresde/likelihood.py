r"""Exact log-likelihood of a score-based model through the probability-flow ODE.

The probability-flow ODE :math:`\mathrm dx/\mathrm dt = F(x,t) = f(x,t) - \tfrac12 g(t)^2 s(x,t)`
(book: eq-probability-flow) moves points so that their law stays :math:`p_t`. Along one of its solutions the
log-density changes by the instantaneous change of variables of neural ODEs :cite:`chen2018neuralode`,

.. math:: \frac{\mathrm d}{\mathrm dt}\log p_t(x_t) = -\nabla_x\cdot F(x_t,t)
          \quad\Longrightarrow\quad
          \log p_\varepsilon(x) = \log p_T(x_T) + \int_\varepsilon^T \nabla_x\cdot F(x_t,t)\,\mathrm dt
          \qquad\text{(book: eq-instantaneous-cov)}

where :math:`x_t` solves the ODE from :math:`x_\varepsilon=x` up to :math:`T`. :func:`log_likelihood` integrates
the state and the running integral together with the adaptive Dormand–Prince method of ``torchdiffeq`` and
replaces :math:`\log p_T` by the prior's log-density (``sde.prior_logp``, or one you pass). The divergence is
computed exactly (``divergence="exact"``: :math:`D` backward passes, :func:`scoresde.hutchinson.jacobian_trace`)
or estimated by Hutchinson's estimator :func:`scoresde.hutchinson.hutchinson_trace` (book: eq-hutchinson)
with probes drawn **once** and kept along the whole path, as in FFJORD :cite:`grathwohl2019ffjord`: the ODE
then stays deterministic (the adaptive solver needs that). The exact path does not depend on the probes, so with
an exact ODE solution the estimate of :math:`\log p_\varepsilon(x)` would be unbiased; dopri5's step-size control,
however, also sees the probe-dependent running integral, so the computed path depends on the probes through the
chosen steps and the estimate is unbiased only up to the solver's tolerance.

When :math:`s=\nabla_x\log p_t` exactly and the prior is :math:`p_T` itself, the result is :math:`\log p_\varepsilon(x)`
up to the ODE solver's tolerance; with a learned score it is the exact log-density of the model defined by the
ODE (a continuous normalising flow), not of the SDE sampler's law.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

from ._checks import (
    check_callable,
    check_choice,
    check_eps,
    check_generator,
    check_positive_float,
    check_positive_int,
    check_tensor,
)
from .hutchinson import PROBE_DISTS, ProbeDist, hutchinson_trace, jacobian_trace, probes_for
from .sde import (
    SDE,
    check_forward_sde,
)
from .solvers import dopri5

__all__ = ["DIVERGENCES", "LikelihoodResult", "log_likelihood"]

ScoreFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
DIVERGENCES: tuple[str, ...] = ("hutchinson", "exact")


@dataclass
class LikelihoodResult:
    r"""What :func:`log_likelihood` returns (all tensors of shape ``(batch,)`` except ``z``).

    Attributes:
        log_prob: :math:`\log p_\varepsilon(x) = ` ``prior_logp + delta_logp`` (nats).
        prior_logp: the prior's log-density at the ODE's end point :math:`x_T`.
        delta_logp: :math:`\int_\varepsilon^T\nabla\cdot F\,\mathrm dt` (exact or Hutchinson estimate).
        z: the end points :math:`x_T`, shaped like ``x`` (the ODE's "latent code" of ``x``).
        nfe: number of evaluations of the ODE's vector field; each evaluates the score once together with
            its divergence (one Jacobian–vector product per probe, or ``D`` backward passes when exact).
    """

    log_prob: torch.Tensor
    prior_logp: torch.Tensor
    delta_logp: torch.Tensor
    z: torch.Tensor
    nfe: int

    def bits_per_dim(self, levels: int = 256, data_range: float = 1.0) -> torch.Tensor:
        r"""Bits per dimension of discrete data, as score_sde reports it (its ``bpd`` with the ``offset``).

        Data with ``levels`` integer values, dequantised and scaled to an interval of width ``data_range``
        (:math:`x = a\,(k+u)/L + b`, :math:`a` = ``data_range``), has the density of :math:`k+u` on
        :math:`[0, L)^D` equal to :math:`p(x)\,(a/L)^D`, so

        .. math:: \text{bpd} = -\frac{\log p_\varepsilon(x)}{D\ln 2} + \log_2\frac{L}{a} ,

        per point, shape ``(batch,)``. score_sde's ``offset = 7 - inverse_scaler(-1)`` is this
        :math:`\log_2(L/a)` for :math:`L = 256`: 8 for data in :math:`[0,1]`, 7 for :math:`[-1,1]`."""
        levels = check_positive_int(levels, "levels")
        if levels > 2**32:
            raise ValueError(f"levels must be <= 2**32 (the values a pixel of discrete data takes), got an int of "
                             f"{levels.bit_length()} bits")
        data_range = check_positive_float(data_range, "data_range")
        if data_range < sys.float_info.min:
            raise ValueError(f"data_range = {data_range:g} is below the smallest normal float "
                             f"({sys.float_info.min:.3g}); give the width of the data's interval, e.g. 1 or 2")
        dims = self.z[0].numel()
        ratio = levels / data_range
        offset = math.log2(ratio) if math.isfinite(ratio) else math.log2(levels) - math.log2(data_range)
        return -self.log_prob / (dims * math.log(2)) + offset


def log_likelihood(
    sde: SDE,
    score_fn: ScoreFn,
    x: torch.Tensor,
    *,
    divergence: Literal["hutchinson", "exact"] = "hutchinson",
    n_probes: int = 1,
    dist: ProbeDist = "rademacher",
    eps: float = 1e-5,
    rtol: float = 1e-5,
    atol: float = 1e-5,
    prior_logp: Callable[[torch.Tensor], torch.Tensor] | None = None,
    generator: torch.Generator | None = None,
    probes: torch.Tensor | None = None,
) -> LikelihoodResult:
    r""":math:`\log p_\varepsilon(x)` by the instantaneous change of variables (book: eq-instantaneous-cov).

    Solves, from :math:`t=\varepsilon` to :math:`T`, the ODE of :math:`(x_t, \ell_t)`

    .. math:: \dot x_t = F(x_t,t) = f(x_t,t)-\tfrac12g(t)^2s(x_t,t),\qquad
              \dot\ell_t = \nabla_x\cdot F(x_t,t),\qquad x_\varepsilon = x,\ \ell_\varepsilon = 0,

    and returns :math:`\log p_T(x_T) + \ell_T`, with the divergence exact or estimated by Hutchinson's
    :math:`\frac1M\sum_m v_m^\top\nabla_xF\,v_m` (book: eq-hutchinson) with fixed probes.

    Args:
        sde: the forward SDE (with ``prior_logp`` unless ``prior_logp`` is given).
        score_fn: :math:`s(x,t)` with ``t`` of shape ``(batch,)``; must treat rows independently and, for
            ``"hutchinson"``, be ``torch.func``-transformable (no ``.item()``, no in-place ops on inputs).
        x: points, shape ``(batch, *event_shape)``, floating, finite.
        divergence: ``"hutchinson"`` (``n_probes`` Jacobian–vector products per evaluation) or ``"exact"``
            (:math:`D` backward passes; fine in two dimensions).
        n_probes: probes :math:`M\ge1` per point (``"hutchinson"``).
        dist: probe law, ``"rademacher"`` (lowest variance, book: eq-hutchinson-variance), ``"gaussian"``
            or ``"sphere"``.
        eps: the start time :math:`\varepsilon\in(0,T)`.
        rtol: relative tolerance of the adaptive solver.
        atol: absolute tolerance of the adaptive solver.
        prior_logp: log-density used at :math:`T` (``None``: ``sde.prior_logp``), maps ``(batch, *event)``
            to ``(batch,)``; pass the exact :math:`\log p_T` to separate the prior's mismatch from the ODE error.
        generator: ``torch.Generator`` on ``x``'s device for the probes.
        probes: explicit probe vectors, shape ``(M, *x.shape)``, used at every evaluation instead of drawn ones
            (``"hutchinson"`` only; they replace ``dist`` and ``generator``).

    Returns:
        A :class:`LikelihoodResult`.
    """
    check_forward_sde(sde, "the likelihood uses its probability-flow ODE")
    check_callable(score_fn, "score_fn")
    check_tensor(x, "x", min_dim=2)
    check_choice(divergence, "divergence", DIVERGENCES)
    n_probes = check_positive_int(n_probes, "n_probes")
    check_choice(dist, "dist", PROBE_DISTS)
    eps = check_eps(eps, sde.T)
    rtol = check_positive_float(rtol, "rtol")
    atol = check_positive_float(atol, "atol")
    if prior_logp is None and sde.prior_std is None:
        raise ValueError(f"{type(sde).__name__} has no closed-form prior; pass prior_logp= (log p_T, shape (batch,))")
    prior = sde.prior_logp if prior_logp is None else check_callable(prior_logp, "prior_logp")
    check_generator(generator, x.device)
    if probes is not None:
        if divergence != "hutchinson":
            raise ValueError("probes are used only with divergence='hutchinson'")
        probes = probes_for(x, n_probes, dist, generator, probes)

    # one seed, drawn from the caller's generator: every evaluation re-creates the same probes
    probe_seed = None if probes is not None else int(torch.randint(0, 2**62, (1,), generator=generator,
                                                                   device=x.device))
    field = _AugmentedFlow(sde.reverse(score_fn, probability_flow=True), divergence, n_probes, dist, probes, probe_seed)
    state0 = (x.detach(), x.new_zeros(x.shape[0]))
    z, delta = dopri5(field, state0, eps, sde.T, rtol=rtol, atol=atol, advice="check score_fn, or raise eps")
    p = check_tensor(prior(z), "the output of prior_logp", ndim=1)
    if p.shape != (x.shape[0],) or p.device != z.device:
        raise ValueError(f"prior_logp must return a tensor of shape ({x.shape[0]},) on {z.device}, "
                         f"got {tuple(p.shape)} on {p.device}")
    return LikelihoodResult(log_prob=p + delta, prior_logp=p, delta_logp=delta, z=z, nfe=field.nfe)


class _AugmentedFlow:
    r"""The right-hand side :math:`(F(x,t),\ \nabla_x\cdot F(x,t))` of the ODE of :math:`(x_t,\ell_t)`
    (book: eq-instantaneous-cov), counting its evaluations (one score evaluation each: the trace routines
    evaluate :math:`F` on the way). Hutchinson's probes are the explicit ones, or re-created at every evaluation
    from one seed, so the estimator sees fixed probes along the whole solve."""

    def __init__(self, flow: SDE, divergence: str, n_probes: int, dist: ProbeDist,
                 probes: torch.Tensor | None, probe_seed: int | None) -> None:
        self.flow, self.divergence, self.n_probes, self.dist = flow, divergence, n_probes, dist
        self.probes, self.probe_seed = probes, probe_seed
        self.nfe = 0

    def __call__(self, t: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        y = state[0]
        tb = t.expand(y.shape[0])
        self.nfe += 1

        def drift(z: torch.Tensor) -> torch.Tensor:
            return self.flow.f(z, tb)

        if self.divergence == "exact":
            div, dy = jacobian_trace(drift, y, return_output=True)
        elif self.probes is not None:
            div, dy = hutchinson_trace(drift, y, method="jvp", return_output=True, probes=self.probes)
        else:
            g = torch.Generator(device=y.device)
            g.manual_seed(int(self.probe_seed))  # type: ignore[arg-type]  # set whenever probes is None
            div, dy = hutchinson_trace(drift, y, self.n_probes, self.dist, generator=g, method="jvp",
                                       return_output=True)
        return dy, div.to(y.dtype)
