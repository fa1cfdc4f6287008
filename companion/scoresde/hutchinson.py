r"""Trace of a Jacobian: exact, and Hutchinson's unbiased estimator.

For a vector field :math:`f:\mathbb{R}^D\to\mathbb{R}^D` applied row-wise to a batch ``x`` of shape
``(batch, *event_shape)`` (``D`` = the number of entries of one event), this module computes

.. math::  \operatorname{tr}\nabla_x f(x) = \sum_{i=1}^{D} \frac{\partial f_i}{\partial x_i}
           = \nabla_x\cdot f(x)                                          \qquad\text{(book: eq-div-trace)}

exactly with :func:`jacobian_trace`, and without ever forming the Jacobian with :func:`hutchinson_trace`,
which uses Hutchinson's identity

.. math::  \operatorname{tr} A = \mathbb{E}_v\!\left[v^\top A v\right]
           \quad\text{for any probe } v \text{ with } \mathbb{E}[vv^\top]=I   \qquad\text{(book: eq-hutchinson)}

and one Jacobian–vector product :math:`Av` per probe. Probes come from :func:`sample_probes`
(Gaussian, Rademacher, or uniform on the sphere of radius :math:`\sqrt{D}`); each has
:math:`\mathbb{E}[vv^\top]=I`. The variance of one probe is (book: eq-hutchinson-variance)

.. math::  \operatorname{Var}_{\mathcal N}(v^\top A v) = \|A\|_F^2 + \operatorname{tr}(A^2), \qquad
           \operatorname{Var}_{\pm1}(v^\top A v) = \|A\|_F^2 + \operatorname{tr}(A^2) - 2\textstyle\sum_i A_{ii}^2 .

The functions assume that ``f`` treats the rows of the batch independently (no batch norm, no attention
across the batch): the Jacobian is then block diagonal and one backward pass per coordinate serves the
whole batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch

from ._checks import (
    check_bool,
    check_callable,
    check_choice,
    check_generator,
    check_nondegenerate_probes,
    check_output_like,
    check_positive_int,
    check_shape,
    check_tensor,
    draw_device,
)

__all__ = ["ProbeDist", "PROBE_DISTS", "sample_probes", "probes_for", "jacobian_trace", "hutchinson_trace"]

ProbeDist = Literal["gaussian", "rademacher", "sphere"]
PROBE_DISTS: tuple[str, ...] = ("gaussian", "rademacher", "sphere")

VectorField = Callable[[torch.Tensor], torch.Tensor]


def sample_probes(
    shape: tuple[int, ...] | torch.Size,
    dist: ProbeDist = "gaussian",
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    event_dims: int = 1,
) -> torch.Tensor:
    r"""Draw probe vectors :math:`v` with :math:`\mathbb{E}[vv^\top]=I` (book: eq-hutchinson).

    Args:
        shape: output shape; the last ``event_dims`` dimensions form one probe vector of length ``D``.
        dist: ``"gaussian"`` (:math:`v\sim\mathcal N(0,I)`), ``"rademacher"`` (i.i.d. :math:`\pm1`),
            or ``"sphere"`` (uniform on the sphere of radius :math:`\sqrt D`, so :math:`\|v\|^2=D` exactly).
        generator: a ``torch.Generator`` on ``device`` for reproducible draws (``None``: global RNG).
        dtype: floating dtype of the probes.
        device: where to create them (default: the generator's device, else CPU).
        event_dims: how many trailing dimensions make one probe (for ``"sphere"``'s normalisation).

    Returns:
        A tensor of the given shape.
    """
    check_choice(dist, "dist", PROBE_DISTS)
    device = draw_device(generator, device, dtype)
    shape = check_shape(shape, dtype=dtype, device=device)  # refused before allocation if it cannot fit
    check_positive_int(event_dims, "event_dims")
    if event_dims > len(shape):
        raise ValueError(f"event_dims={event_dims} exceeds the number of dimensions of shape {shape}")
    if dist == "rademacher":
        bits = torch.randint(0, 2, shape, generator=generator, device=device)
        return (2 * bits - 1).to(dtype)
    v = torch.randn(shape, generator=generator, device=device, dtype=dtype)
    if dist == "sphere":
        event = tuple(range(len(shape) - event_dims, len(shape)))
        d = 1
        for s in shape[len(shape) - event_dims :]:
            d *= s
        v = v * (d**0.5 / v.square().sum(dim=event, keepdim=True).sqrt())
    return v


def probes_for(
    x: torch.Tensor,
    n_probes: int,
    dist: ProbeDist,
    generator: torch.Generator | None,
    probes: torch.Tensor | None,
) -> torch.Tensor:
    """The ``(M, *x.shape)`` probe vectors for ``x``: the caller's ``probes`` (checked), or ``n_probes`` drawn
    from ``dist`` with ``generator``. Explicit probes let a result be matched with a peer's (score_sde,
    sliced_score_matching) without copying its seeding; they replace ``dist`` and ``generator``, and
    ``n_probes`` must then be left at 1 or equal ``M``."""
    if probes is None:
        return sample_probes((n_probes, *x.shape), dist, generator=generator, dtype=x.dtype, device=x.device,
                             event_dims=x.ndim - 1)
    check_tensor(probes, "probes", min_dim=x.ndim + 1)
    if tuple(probes.shape[1:]) != tuple(x.shape):
        raise ValueError(f"probes must have shape (M, *x.shape) = (M, {', '.join(map(str, x.shape))}), "
                         f"got {tuple(probes.shape)}")
    if probes.dtype != x.dtype or probes.device != x.device:
        raise ValueError(f"probes must have x's dtype and device ({x.dtype}, {x.device}), "
                         f"got {probes.dtype} on {probes.device}")
    if generator is not None:
        raise ValueError("pass either probes or generator, not both (explicit probes need no random draws)")
    if n_probes not in (1, probes.shape[0]):
        raise ValueError(f"n_probes={n_probes} contradicts the {probes.shape[0]} probes given")
    return check_nondegenerate_probes(probes)


def _prepare(f: VectorField, x: torch.Tensor) -> torch.Tensor:
    check_callable(f, "f")
    check_tensor(x, "x", min_dim=2)
    return x if x.requires_grad else x.detach().requires_grad_(True)


def jacobian_trace(
    f: VectorField, x: torch.Tensor, *, create_graph: bool = False, return_output: bool = False
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    r"""Exact :math:`\operatorname{tr}\nabla_x f(x)` for each row of ``x`` (book: eq-div-trace).

    Uses ``D`` backward passes, one per coordinate :math:`i`, each giving
    :math:`\partial f_i/\partial x_i` for the whole batch. Exact but ``D`` times the cost of one gradient:
    the reference against which :func:`hutchinson_trace` is tested, and the trace inside implicit score
    matching (book: eq-ism).

    Args:
        f: vector field, ``f(x)`` has ``x``'s shape and treats rows independently.
        x: points, shape ``(batch, *event_shape)``, floating, finite.
        create_graph: keep the graph so the result can be differentiated again (e.g. with respect to the
            parameters of a network ``f``). Otherwise the result is detached.
        return_output: also return ``f(x)``, which the computation evaluates anyway (saves a second call, e.g.
            in the instantaneous change of variables, where both the field and its divergence are needed).

    Returns:
        Tensor of shape ``(batch,)``; with ``return_output`` the pair ``(trace, f(x))``.
    """
    with torch.enable_grad():
        xg = _prepare(f, x)
        y = check_output_like(f(xg), xg, "f")
        batch = xg.shape[0]
        flat = y.reshape(batch, -1)
        trace = torch.zeros(batch, dtype=y.dtype, device=y.device)
        for i in range(flat.shape[1]):
            (grad,) = torch.autograd.grad(
                flat[:, i].sum(), xg, create_graph=create_graph, retain_graph=True
            )
            trace = trace + grad.reshape(batch, -1)[:, i]
    if not create_graph:
        trace, y = trace.detach(), y.detach()
    return (trace, y) if return_output else trace


def hutchinson_trace(
    f: VectorField,
    x: torch.Tensor,
    n_probes: int = 1,
    dist: ProbeDist = "gaussian",
    *,
    generator: torch.Generator | None = None,
    method: Literal["jvp", "vjp"] = "jvp",
    reduction: Literal["mean", "none"] = "mean",
    create_graph: bool = False,
    return_output: bool = False,
    probes: torch.Tensor | None = None,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    r"""Hutchinson's unbiased estimate of :math:`\operatorname{tr}\nabla_x f(x)` (book: eq-hutchinson).

    .. math:: \widehat{\operatorname{tr}} = \frac1M\sum_{m=1}^{M} v_m^\top \nabla_x f(x)\, v_m,
              \qquad v_m \text{ i.i.d. with } \mathbb{E}[vv^\top]=I .

    Args:
        f: vector field, ``f(x)`` has ``x``'s shape and treats rows independently.
        x: points, shape ``(batch, *event_shape)``, floating, finite.
        n_probes: number of probes :math:`M \ge 1` per row.
        dist: probe distribution, see :func:`sample_probes`.
        generator: ``torch.Generator`` on ``x``'s device; the same seed gives the same estimate.
        method: ``"jvp"`` computes :math:`Av` by forward mode (``torch.func.jvp``); ``"vjp"`` computes
            :math:`v^\top A` by reverse mode (one forward pass, one backward pass per probe). Both give
            the same number up to rounding.
        reduction: ``"mean"`` returns the average over probes, shape ``(batch,)``; ``"none"`` returns
            every probe's value :math:`v_m^\top A v_m`, shape ``(n_probes, batch)``.
        create_graph: keep the graph so the estimate is differentiable (e.g. w.r.t. network parameters);
            otherwise the result is detached.
        return_output: also return ``f(x)``, which every path evaluates anyway.
        probes: explicit probe vectors, shape ``(M, *x.shape)`` (see :func:`probes_for`); they replace
            ``dist`` and ``generator``.

    Returns:
        The estimate, shape ``(batch,)`` or ``(n_probes, batch)``; with ``return_output`` the pair
        ``(estimate, f(x))``.
    """
    n_probes = check_positive_int(n_probes, "n_probes")
    check_choice(dist, "dist", PROBE_DISTS)
    check_choice(method, "method", ("jvp", "vjp"))
    check_choice(reduction, "reduction", ("mean", "none"))
    check_bool(create_graph, "create_graph")
    check_bool(return_output, "return_output")
    check_callable(f, "f")
    check_tensor(x, "x", min_dim=2)
    check_generator(generator, x.device)
    probes = probes_for(x, n_probes, dist, generator, probes)
    batch = x.shape[0]
    values = []
    if method == "jvp":
        xd = x.detach().contiguous()  # an expanded (stride-0) x would make the dual tensor's writes overlap
        for v in probes:
            try:
                y, av = torch.func.jvp(f, (xd,), (v,))[:2]
            except RuntimeError as err:  # torch.func's message for a non-tensor output names no argument
                if "return only tensors" not in str(err):
                    raise
                raise TypeError("f must return a torch.Tensor (shaped like x)") from None
            check_output_like(y, xd, "f")
            values.append((v * av).reshape(batch, -1).sum(dim=1))
    else:
        with torch.enable_grad():
            xg = _prepare(f, x)
            y = check_output_like(f(xg), xg, "f")
            for v in probes:
                (vta,) = torch.autograd.grad(y, xg, v, create_graph=create_graph, retain_graph=True)
                values.append((vta * v).reshape(batch, -1).sum(dim=1))
    out = torch.stack(values)
    if reduction == "mean":
        out = out.mean(dim=0)
    if not create_graph:
        out, y = out.detach(), y.detach()
    return (out, y) if return_output else out
