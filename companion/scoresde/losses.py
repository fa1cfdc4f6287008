r"""Score-matching objectives: explicit, implicit, sliced, and denoising (one place for all of them).

A score model :math:`S_\theta:\mathbb{R}^D\to\mathbb{R}^D` is any callable ``score_fn`` that maps a batch
``x`` of shape ``(batch, *event_shape)`` to a tensor of the same shape, row by row (``D`` = the number of
entries of one event). Every loss here returns the batch mean (a 0-dim tensor, differentiable with respect
to the parameters that ``score_fn`` captures) or, with ``reduction="none"``, one value per row, shape
``(batch,)``.

**Scaling convention (stated once, used everywhere).** All objectives carry Hyvärinen's factor
:math:`\tfrac12` :cite:`hyvarinen2005`:

.. math::
    J_{\mathrm{ESM}}(\theta) &= \mathbb{E}_{x}\big[\tfrac12\|S_\theta(x)-\nabla_x\log p(x)\|^2\big]
        && \text{(book: eq-esm)}\\
    J_{\mathrm{ISM}}(\theta) &= \mathbb{E}_{x}\big[\tfrac12\|S_\theta(x)\|^2
        + \operatorname{tr}\nabla_x S_\theta(x)\big]  && \text{(book: eq-ism)}\\
    J_{\mathrm{SSM}}(\theta) &= \mathbb{E}_{x,v}\big[\tfrac12(v^\top S_\theta(x))^2
        + v^\top\nabla_x(v^\top S_\theta(x))\big]  && \text{(book: eq-ssm)}\\
    J_{\mathrm{SSM\text{-}VR}}(\theta) &= \mathbb{E}_{x,v}\big[\tfrac12\|S_\theta(x)\|^2
        + v^\top\nabla_x(v^\top S_\theta(x))\big]  && \text{(book: eq-ssm-vr)}\\
    J_{\mathrm{DSM}}(\theta) &= \mathbb{E}_{x,\varepsilon}\big[\tfrac12\|S_\theta(x+\sigma\varepsilon)
        +\varepsilon/\sigma\|^2\big], \ \varepsilon\sim\mathcal N(0,I)  && \text{(book: eq-dsm)}

The course's seed notes write :math:`L_{\mathrm{ISM}} = \mathbb{E}[\|S\|^2 + 2\operatorname{tr}\nabla_x S]`
and :math:`L_{\mathrm{SSM}}=\mathbb{E}[(v^\top S)^2+2v^\top\nabla_x(v^\top S)]`: exactly **twice** the
objectives above (:math:`L = 2J`), so they have the same minimiser and gradients that differ by the factor 2.
Multiply a value returned here by 2 to get the seeds' number. :math:`J_{\mathrm{ESM}} = J_{\mathrm{ISM}} +
\tfrac12\mathbb{E}\|\nabla_x\log p\|^2` (a constant in :math:`\theta`; book: eq-esm-ism), and with probes
:math:`\mathbb{E}[vv^\top]=I` the sliced objectives equal :math:`J_{\mathrm{ISM}}` in expectation.

Sliced score matching needs :math:`v^\top\nabla_x(v^\top S) = v^\top(\nabla_x S)v` (book: eq-grad-vs). Two
paths compute exactly that scalar and are tested equal:

* ``method="jvp"``: one forward-mode Jacobian–vector product :math:`(S, (\nabla_x S)v)` with
  ``torch.func.jvp``, then :math:`v^\top[(\nabla_x S)v]`; the parameters' gradient is reverse mode through it.
* ``method="vjp"``: :math:`\nabla_x(v^\top S) = (\nabla_x S)^\top v` by a backward pass with
  ``create_graph=True``, then :math:`v^\top[(\nabla_x S)^\top v]` (the "double backward" of the reference
  implementation of :cite:`song2019sliced`).

``method="auto"`` picks the path recorded in :data:`SSM_AUTO_METHOD` for the inputs' device type; the table
is filled from ``benchmarks/bench_ssm_paths.py``. Probes come from :func:`scoresde.hutchinson.sample_probes`,
or are passed explicitly (``probes=``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Literal

import torch

from ._checks import (
    as_column,
    check_bool,
    check_callable,
    check_choice,
    check_eps,
    check_generator,
    check_noise_level,
    check_output_like,
    check_positive_float,
    check_positive_int,
    check_same_device,
    check_tensor,
)
from .hutchinson import PROBE_DISTS, ProbeDist, jacobian_trace, probes_for

__all__ = [
    "SSM_AUTO_METHOD",
    "ssm_method_for",
    "explicit_score_matching",
    "implicit_score_matching",
    "sliced_score_matching",
    "denoising_score_matching",
    "sde_score_matching",
    "flow_matching",
]

ScoreFn = Callable[[torch.Tensor], torch.Tensor]
Reduction = Literal["mean", "none"]
REDUCTIONS: tuple[str, ...] = ("mean", "none")

#: The SSM path ``method="auto"`` uses on each device type, chosen by ``benchmarks/bench_ssm_paths.py``
#: (time of one training step, loss + parameter gradient). On the course's 2-core CPU the double backward
#: ("vjp") was faster at every size measured; for CUDA the same choice is kept until the benchmark is run on a
#: GPU (run it and update this table: both paths compute the same number, so the choice only changes speed).
SSM_AUTO_METHOD: Mapping[str, str] = MappingProxyType({"cpu": "vjp", "cuda": "vjp"})  # read-only: no hidden state


def ssm_method_for(device: torch.device | str) -> str:
    """The path (``"jvp"`` or ``"vjp"``) that ``method="auto"`` uses on ``device`` (see :data:`SSM_AUTO_METHOD`)."""
    return SSM_AUTO_METHOD.get(torch.device(device).type, "vjp")


def _row_sq_norm(y: torch.Tensor) -> torch.Tensor:
    return y.reshape(y.shape[0], -1).square().sum(dim=1)


def _row_dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).reshape(a.shape[0], -1).sum(dim=1)


def _reduce(per_row: torch.Tensor, reduction: str) -> torch.Tensor:
    return per_row.mean() if reduction == "mean" else per_row


def _check_common(score_fn: ScoreFn, x: torch.Tensor, reduction: str) -> None:
    check_callable(score_fn, "score_fn")
    check_tensor(x, "x", min_dim=2)
    check_choice(reduction, "reduction", REDUCTIONS)


def explicit_score_matching(
    score_fn: ScoreFn,
    x: torch.Tensor,
    true_score: ScoreFn | torch.Tensor,
    *,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""Explicit score matching (Fisher divergence) against a known score (book: eq-esm).

    .. math:: J_{\mathrm{ESM}}(\theta)=\mathbb{E}_{x\sim p}\big[\tfrac12\|S_\theta(x)-\nabla_x\log p(x)\|^2\big].

    Only computable when the data's score :math:`\nabla_x\log p` is known (a toy model, a test); this is the
    objective that implicit and sliced score matching replace.

    Args:
        score_fn: the model :math:`S_\theta`, maps ``x`` to a tensor of ``x``'s shape.
        x: samples from :math:`p`, shape ``(batch, *event_shape)``, floating, finite.
        true_score: :math:`\nabla_x\log p`, a callable (evaluated on ``x`` without gradient tracking) or a
            tensor of ``x``'s shape holding its values at ``x``.
        reduction: ``"mean"`` (0-dim tensor) or ``"none"`` (shape ``(batch,)``).

    Returns:
        The objective, differentiable with respect to the parameters of ``score_fn``.
    """
    _check_common(score_fn, x, reduction)
    if isinstance(true_score, torch.Tensor):
        target = check_tensor(true_score, "true_score")
        check_same_device(("x", x), ("true_score", target))
        if target.shape != x.shape:
            raise ValueError(
                f"true_score must have x's shape {tuple(x.shape)}, got {tuple(target.shape)}"
            )
    else:
        check_callable(true_score, "true_score (a callable or a tensor)")
        with torch.no_grad():
            target = check_output_like(true_score(x.detach()), x, "true_score")
    s = check_output_like(score_fn(x), x, "score_fn")
    return _reduce(0.5 * _row_sq_norm(s - target.detach()), reduction)


def implicit_score_matching(
    score_fn: ScoreFn,
    x: torch.Tensor,
    *,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""Implicit score matching with the exact trace of the Jacobian (book: eq-ism).

    .. math:: J_{\mathrm{ISM}}(\theta)=\mathbb{E}_{x\sim p}\big[\tfrac12\|S_\theta(x)\|^2
              +\operatorname{tr}\nabla_x S_\theta(x)\big],

    equal to :math:`J_{\mathrm{ESM}}` minus the constant :math:`\tfrac12\mathbb{E}\|\nabla_x\log p\|^2` when
    :math:`p\,S_\theta\to0` at infinity (Hyvärinen's integration by parts). The trace costs ``D`` backward passes
    (:func:`scoresde.hutchinson.jacobian_trace`): the exact reference that sliced score matching estimates.

    Args:
        score_fn: the model :math:`S_\theta`; must treat rows independently.
        x: samples from the data, shape ``(batch, *event_shape)``.
        reduction: ``"mean"`` (0-dim tensor) or ``"none"`` (shape ``(batch,)``).

    Returns:
        The objective, differentiable with respect to the parameters of ``score_fn``.
    """
    _check_common(score_fn, x, reduction)
    xd = x.detach()
    s = check_output_like(score_fn(xd), xd, "score_fn")
    trace = jacobian_trace(score_fn, xd, create_graph=True)
    assert isinstance(trace, torch.Tensor)  # without return_output: the trace alone
    return _reduce(0.5 * _row_sq_norm(s) + trace, reduction)


def sliced_score_matching(
    score_fn: ScoreFn,
    x: torch.Tensor,
    n_projections: int = 1,
    dist: ProbeDist = "gaussian",
    variance_reduction: bool = False,
    generator: torch.Generator | None = None,
    *,
    method: Literal["auto", "jvp", "vjp"] = "auto",
    reduction: Reduction = "mean",
    probes: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Sliced score matching, an unbiased estimate of :math:`J_{\mathrm{ISM}}` (book: eq-ssm, eq-ssm-vr).

    With :math:`M` = ``n_projections`` probes :math:`v_m` per sample, :math:`\mathbb{E}[vv^\top]=I`:

    .. math:: \hat J_{\mathrm{SSM}} = \frac1M\sum_{m=1}^M \Big[\tfrac12(v_m^\top S_\theta(x))^2
              + v_m^\top\nabla_x\big(v_m^\top S_\theta(x)\big)\Big],

    and with ``variance_reduction=True`` (SSM-VR of :cite:`song2019sliced`) the first term is replaced by its
    exact expectation :math:`\tfrac12\|S_\theta(x)\|^2`. Each term is computed as the formula reads:
    :math:`v^\top\nabla_x(v^\top S) = v^\top(\nabla_x S)v` (book: eq-grad-vs), never a rescaled variant.
    Its expectation over the probes is :math:`J_{\mathrm{ISM}}` for every ``dist`` offered, because each has
    :math:`\mathbb{E}[vv^\top]=I` (``"sphere"``: uniform on the sphere of radius :math:`\sqrt D`).

    **The M probes share one forward pass.** ``score_fn`` is called once, on ``x`` itself (``batch`` rows, not
    the batch repeated :math:`M` times as in the reference implementation): :math:`S_\theta(x)` does not depend on
    the probe, only the directional terms do. With ``method="vjp"`` the :math:`M` vector–Jacobian products
    :math:`(\nabla_x S)^\top v_m` are one batched backward pass (``torch.autograd.grad(...,
    is_grads_batched=True)``, a ``vmap`` over the cotangents); with ``method="jvp"`` the :math:`M` products
    :math:`(\nabla_x S)v_m` are ``torch.func.vmap`` over the tangents of one ``torch.func.jvp`` whose primal is
    not batched. Value and parameter gradient are those of the repeated-batch form (tested); the step costs
    about :math:`(1+M)/(2M)` of it for large :math:`M` (``benchmarks/bench_ssm.py``). For :math:`M=1` both
    paths are a plain product, no ``vmap``. With :math:`M>1`, ``score_fn`` must be ``vmap``-able over its
    backward (``"vjp"``) or its tangents (``"jvp"``): no data-dependent Python control flow on ``x``.

    Args:
        score_fn: the model :math:`S_\theta`; must treat rows independently. For ``method="jvp"`` it must be
            ``torch.func``-transformable (no in-place ops on captured buffers, no ``.item()``).
        x: samples, shape ``(batch, *event_shape)``.
        n_projections: probes per sample, :math:`M\ge1`.
        dist: ``"gaussian"``, ``"rademacher"`` or ``"sphere"`` (see :func:`scoresde.hutchinson.sample_probes`).
        variance_reduction: use :math:`\tfrac12\|S\|^2` instead of :math:`\tfrac12(v^\top S)^2` (SSM-VR).
        generator: a ``torch.Generator`` on ``x``'s device; the same seed gives the same value.
        method: ``"jvp"`` (forward mode), ``"vjp"`` (double backward), or ``"auto"``
            (:func:`ssm_method_for` the device). Both give the same number up to rounding.
        reduction: ``"mean"`` (0-dim tensor) or ``"none"`` (shape ``(batch,)``, averaged over the probes).
        probes: explicit probe vectors, shape ``(M, batch, *event_shape)`` (probe ``m`` of sample ``b`` is
            ``probes[m, b]``), e.g. a peer's; they replace ``dist`` and ``generator``
            (:func:`scoresde.hutchinson.probes_for`).

    Returns:
        The estimate, differentiable with respect to the parameters of ``score_fn``.
    """
    n = check_positive_int(n_projections, "n_projections")
    check_choice(dist, "dist", PROBE_DISTS)
    check_choice(method, "method", ("auto", "jvp", "vjp"))
    check_bool(variance_reduction, "variance_reduction")
    _check_common(score_fn, x, reduction)
    check_generator(generator, x.device)
    if method == "auto":
        method = ssm_method_for(x.device)  # type: ignore[assignment]  # "jvp" or "vjp"
    v = probes_for(x, n, dist, generator, probes)
    n, batch = v.shape[0], x.shape[0]
    # (M, batch, *event): probe m of sample b is v[m, b], normalised over all of b's event entries
    if method == "jvp":
        s, av = _shared_jvp(score_fn, x.detach(), v)  # av[m] = (grad S) v_m
    else:
        s, av = _shared_vjp(score_fn, x.detach(), v)  # av[m] = grad_x (v_m^T S) = (grad S)^T v_m

    def dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # per (probe, sample), shape (M, batch)
        return (a * b).reshape(n, batch, -1).sum(dim=2)

    quad = dot(v, av)  # v^T (grad S) v
    first = 0.5 * _row_sq_norm(s)[None] if variance_reduction else 0.5 * dot(v, s).square()
    return _reduce((first + quad).mean(dim=0), reduction)


def _shared_jvp(score_fn: ScoreFn, x: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(S(x), [(grad S) v_m]_m)``: one primal pass, the ``M`` tangents ``v`` (shape ``(M, *x.shape)``) batched."""
    if v.shape[0] == 1:
        s, jv = torch.func.jvp(score_fn, (x,), (v[0],))[:2]
        return check_output_like(s, x, "score_fn"), jv[None]
    s, jv = torch.func.vmap(lambda vm: torch.func.jvp(score_fn, (x,), (vm,)), out_dims=(None, 0))(v)  # type: ignore[arg-type,misc]
    return check_output_like(s, x, "score_fn"), jv


def _shared_vjp(score_fn: ScoreFn, x: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(S(x), [(grad S)^T v_m]_m)``: one forward pass, one batched backward over the ``M`` cotangents ``v``."""
    with torch.enable_grad():
        xg = x.requires_grad_(True)
        s = check_output_like(score_fn(xg), xg, "score_fn")
        if not s.requires_grad:  # S does not depend on x or on anything differentiable: its Jacobian is zero
            return s, torch.zeros_like(v)
        if v.shape[0] == 1:
            (g,) = torch.autograd.grad(s, xg, v[0], create_graph=True, allow_unused=True, materialize_grads=True)
            return s, g[None]
        (g,) = torch.autograd.grad(s, xg, v, create_graph=True, allow_unused=True, materialize_grads=True,
                                   is_grads_batched=True)
        return s, g


def denoising_score_matching(
    score_fn: ScoreFn,
    x: torch.Tensor,
    sigma: float | torch.Tensor,
    *,
    generator: torch.Generator | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""Denoising score matching at noise level :math:`\sigma` :cite:`vincent2011` (book: eq-dsm).

    .. math:: J_{\mathrm{DSM}}(\theta)=\mathbb{E}_{x\sim p,\ \varepsilon\sim\mathcal N(0,I)}
              \big[\tfrac12\|S_\theta(x+\sigma\varepsilon)+\varepsilon/\sigma\|^2\big].

    :math:`-\varepsilon/\sigma=\nabla_{\tilde x}\log q_\sigma(\tilde x\mid x)` for :math:`\tilde x=x+\sigma\varepsilon`,
    so :math:`J_{\mathrm{DSM}}` equals the explicit objective for the *noised* density
    :math:`q_\sigma = p * \mathcal N(0,\sigma^2 I)` plus a constant in :math:`\theta`: its minimiser is
    :math:`\nabla\log q_\sigma`, not :math:`\nabla\log p`. No weighting :math:`\lambda(\sigma)` is applied.

    Args:
        score_fn: the model :math:`S_\theta` (evaluated at the noised points).
        x: clean samples, shape ``(batch, *event_shape)``.
        sigma: noise level :math:`\sigma>0`: a number, or a tensor of shape ``(batch,)`` (one level per row)
            on ``x``'s device.
        generator: a ``torch.Generator`` on ``x``'s device for the noise :math:`\varepsilon`.
        reduction: ``"mean"`` (0-dim tensor) or ``"none"`` (shape ``(batch,)``).

    Returns:
        The objective, differentiable with respect to the parameters of ``score_fn``.
    """
    _check_common(score_fn, x, reduction)
    check_generator(generator, x.device)
    batch = x.shape[0]
    if isinstance(sigma, torch.Tensor) and sigma.numel() != 1:
        check_tensor(sigma, "sigma", ndim=1)
        check_same_device(("x", x), ("sigma", sigma))
        if sigma.shape[0] != batch:
            raise ValueError(f"sigma must have shape ({batch},) (one level per row), got {tuple(sigma.shape)}")
        if bool((sigma <= 0).any()):
            raise ValueError("every entry of sigma must be > 0")
        check_noise_level(float(sigma.min()), x.dtype, "the smallest entry of sigma")
        sig = as_column(sigma.detach().to(x.dtype), x)
    else:
        level = check_noise_level(check_positive_float(sigma, "sigma"), x.dtype)
        sig = torch.as_tensor(level, dtype=x.dtype, device=x.device)
    eps = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    xd = x.detach()
    x_noisy = xd + sig * eps
    s = check_output_like(score_fn(x_noisy), x_noisy, "score_fn")
    return _reduce(0.5 * _row_sq_norm(s + eps / sig), reduction)



def sde_score_matching(
    score_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    sde: object,
    *,
    objective: Literal["dsm", "ssm"] = "dsm",
    weighting: Literal["sigma2", "likelihood"] = "sigma2",
    eps: float = 1e-5,
    n_projections: int = 1,
    dist: ProbeDist = "rademacher",
    variance_reduction: bool = False,
    generator: torch.Generator | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""The time-weighted score-matching objective of score-based SDE models (book: eq-weighted-dsm).

    With :math:`t\sim\mathcal U(\varepsilon,T)`, :math:`x_t=m_t(x_0)+\sigma_t z` drawn from the SDE's
    perturbation kernel :math:`p_{0t}(x_t\mid x_0)=\mathcal N(m_t(x_0),\sigma_t^2I)` (``sde.marginal_prob``) and a
    time-conditional model :math:`s_\theta(x,t)`:

    .. math:: J_{\mathrm{DSM}}(\theta)=\mathbb{E}_{t}\,\lambda(t)\,\mathbb{E}_{x_0,z}
              \big[\tfrac12\|s_\theta(x_t,t)+z/\sigma_t\|^2\big]          \qquad(\text{``objective="dsm"``})

    (:math:`-z/\sigma_t=\nabla_{x_t}\log p_{0t}(x_t\mid x_0)`, so the minimiser is :math:`\nabla\log p_t` for
    every :math:`t`), or sliced score matching on the perturbed points (book: eq-ssm),

    .. math:: J_{\mathrm{SSM}}(\theta)=\mathbb{E}_{t}\,\lambda(t)\,\mathbb{E}_{x_t,v}
              \big[\tfrac12(v^\top s_\theta(x_t,t))^2+v^\top\nabla_x(v^\top s_\theta(x_t,t))\big]
              \qquad(\text{``objective="ssm"``}),

    which needs only samples of :math:`p_t`, not the kernel's score. Weights: ``"sigma2"``
    :math:`\lambda(t)=\sigma_t^2` (score_sde's default: every :math:`t` contributes terms of order one) or
    ``"likelihood"`` :math:`\lambda(t)=g(t)^2`, which makes :math:`J_{\mathrm{DSM}}` (times :math:`T-\varepsilon`,
    plus the prior's KL term and a constant) an upper bound on the negative log-likelihood of the *reverse-SDE*
    model (Song, Durkan, Murray & Ermon 2021, "maximum likelihood training"), not of the probability-flow ODE
    that :func:`scoresde.likelihood.log_likelihood` evaluates. Like every loss in this
    module it carries the factor :math:`\tfrac12` (the module's scaling convention).

    Args:
        score_fn: :math:`s_\theta(x,t)`, ``x`` of shape ``(batch, *event)``, ``t`` of shape ``(batch,)``.
        x: clean data :math:`x_0`, shape ``(batch, *event_shape)``.
        sde: a :class:`scoresde.sde.SDE` with ``marginal_prob`` (VE, VP, sub-VP); ``"likelihood"`` also
            needs isotropic noise :math:`G = gI` (``noise_type == "scalar"``, :attr:`~scoresde.noise.NoiseStructure.isotropic`).
        objective: ``"dsm"`` or ``"ssm"``.
        weighting: ``"sigma2"`` or ``"likelihood"``.
        eps: smallest time :math:`\varepsilon\in(0,T)`.
        n_projections: probes per point (``"ssm"`` only).
        dist: probe law (``"ssm"`` only), see :func:`scoresde.hutchinson.sample_probes`.
        variance_reduction: SSM-VR, :math:`\tfrac12\|s_\theta\|^2` for :math:`\tfrac12(v^\top s_\theta)^2`
            (``"ssm"`` only; book: eq-ssm-vr).
        generator: ``torch.Generator`` on ``x``'s device for :math:`t`, :math:`z` and the probes.
        reduction: ``"mean"`` (0-dim tensor) or ``"none"`` (shape ``(batch,)``).

    Returns:
        The objective, differentiable with respect to the parameters of ``score_fn``.
    """
    from .sde import check_forward_sde  # the mathematical objects' layer, below this one

    sde = check_forward_sde(sde, "the objective adds noise along it")
    check_callable(score_fn, "score_fn")
    check_tensor(x, "x", min_dim=2)
    check_choice(reduction, "reduction", REDUCTIONS)
    check_choice(objective, "objective", ("dsm", "ssm"))
    check_choice(weighting, "weighting", ("sigma2", "likelihood"))
    eps = check_eps(eps, sde.T)
    n = check_positive_int(n_projections, "n_projections")
    check_choice(dist, "dist", PROBE_DISTS)
    check_bool(variance_reduction, "variance_reduction")
    if variance_reduction and objective != "ssm":
        raise ValueError("variance_reduction=True applies to objective='ssm' only (DSM has no probe term)")
    check_generator(generator, x.device)
    if weighting == "likelihood" and not sde.noise.isotropic:
        raise ValueError(f"weighting='likelihood' needs a scalar diffusion g(t); {type(sde).__name__} has "
                         f"noise_type {sde.noise_type!r}")
    batch = x.shape[0]
    xd = x.detach()
    t = eps + (sde.T - eps) * torch.rand(batch, generator=generator, dtype=x.dtype, device=x.device)
    z = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    mean, std = sde.marginal_prob(xd, t)
    col = as_column(std, x)
    xt = mean + col * z
    lam = std.square() if weighting == "sigma2" else sde.g(xt, t).square()
    if objective == "dsm":
        s = check_output_like(score_fn(xt, t), xt, "score_fn")
        per_row = 0.5 * _row_sq_norm(s + z / col)
    else:
        def at_t(y: torch.Tensor) -> torch.Tensor:  # the probes share one forward pass: y has x's rows
            return score_fn(y, t)

        per_row = sliced_score_matching(at_t, xt, n, dist, variance_reduction, generator, reduction="none")
    return _reduce(lam.detach() * per_row, reduction)


def flow_matching(
    velocity_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    *,
    generator: torch.Generator | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    r"""Conditional flow matching with the linear interpolant (Lipman et al. 2023; Liu et al. 2023; book: eq-fm-loss).

    With :math:`t\sim\mathcal U(0,1)`, :math:`\varepsilon\sim\mathcal N(0,I)` and the interpolant
    :math:`x_t=(1-t)\,x_0+t\,\varepsilon` (book: eq-fm-path), whose conditional velocity is
    :math:`\mathrm dx_t/\mathrm dt=\varepsilon-x_0`,

    .. math:: J_{\mathrm{FM}}(\theta)=\mathbb{E}_{t,x_0,\varepsilon}
              \big[\tfrac12\|v_\theta(x_t,t)-(\varepsilon-x_0)\|^2\big].

    Its minimiser is the marginal velocity :math:`v(x,t)=\mathbb{E}[\varepsilon-x_0\mid x_t=x]`, the
    probability-flow drift of the Gaussian path :math:`\mathcal N((1-t)x_0, t^2I)`; sample by integrating
    :math:`\mathrm dx/\mathrm dt=v_\theta` from :math:`t=1` to :math:`0`
    (:func:`scoresde.sampling.flow.flow_sample`). Written in the noise prediction
    :math:`\varepsilon_\theta=x_t+(1-t)\,v_\theta` and the score :math:`s_\theta=-\varepsilon_\theta/t`, the
    integrand is :math:`\tfrac12\|\varepsilon_\theta-\varepsilon\|^2/(1-t)^2=\tfrac{t^2}{(1-t)^2}\cdot
    \tfrac12\|s_\theta+\varepsilon/t\|^2`: denoising score matching with the weight
    :math:`\lambda(t)=t^2/(1-t)^2` (book: eq-fm-dsm). Carries the module's factor :math:`\tfrac12`.

    Args:
        velocity_fn: :math:`v_\theta(x,t)`, ``x`` of shape ``(batch, *event)``, ``t`` of shape ``(batch,)``.
        x: clean data :math:`x_0`, shape ``(batch, *event_shape)``.
        generator: ``torch.Generator`` on ``x``'s device for :math:`t` (drawn first) and :math:`\varepsilon`.
        reduction: ``"mean"`` (0-dim tensor) or ``"none"`` (shape ``(batch,)``).

    Returns:
        The objective, differentiable with respect to the parameters of ``velocity_fn``.
    """
    check_callable(velocity_fn, "velocity_fn")
    check_tensor(x, "x", min_dim=2)
    check_choice(reduction, "reduction", REDUCTIONS)
    check_generator(generator, x.device)
    xd = x.detach()
    t = torch.rand(x.shape[0], generator=generator, dtype=x.dtype, device=x.device)
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    col = as_column(t, x)
    xt = (1 - col) * xd + col * noise
    v = check_output_like(velocity_fn(xt, t), xt, "velocity_fn")
    return _reduce(0.5 * _row_sq_norm(v - (noise - xd)), reduction)
