r"""Small score networks: an MLP :math:`S_\theta:\mathbb{R}^d\to\mathbb{R}^d` and a time-conditional variant.

* :class:`ScoreMLP` — ``depth`` hidden layers of width ``hidden`` with a smooth activation. Smooth, because the
  implicit and sliced objectives differentiate the network's Jacobian: with ReLU the score field would be
  piecewise linear in :math:`x` and :math:`\operatorname{tr}\nabla_x S_\theta` piecewise constant: autograd's
  divergence then misses the singular part on the kinks (the integration by parts behind ISM no longer holds),
  so the computed ISM/SSM is not Hyvärinen's objective. ReLU is not offered; the activations offered are at
  least :math:`C^1`.
* :class:`TimeScoreMLP` — :math:`S_\theta(x, t)` for score-based generative models (chapter 5): ``t`` of shape
  ``(batch,)`` is embedded by Gaussian random Fourier features :cite:`song2021sde`
  (:math:`[\sin 2\pi tW, \cos 2\pi tW]`, :math:`W\sim\mathcal N(0, s^2)` fixed) or by the sinusoidal
  embedding of the transformer/DDPM :cite:`ho2020ddpm`, then added to the first hidden layer.
* :class:`TimeScoreConv` — :math:`S_\theta(x, t)` for images ``(batch, C, H, W)`` (chapter 7): 3×3 convolutions
  with the time embedding added to every hidden layer as a per-channel shift.

Every network records its constructor arguments in :attr:`config`, and :func:`from_config` rebuilds it, so a
checkpoint (:mod:`scoresde.train`) holds only plain data and tensors. The initialisation is a function of the
arguments alone: drawn from ``generator`` (a fresh one seeded with 0 when ``None``), with the same law as
PyTorch's default ``nn.Linear`` initialisation, :math:`U(-1/\sqrt{\text{fan-in}}, 1/\sqrt{\text{fan-in}})`;
building a network neither reads nor advances the global RNG.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import torch
from torch import nn

from ._checks import (
    check_choice,
    check_float_dtype,
    check_generator,
    check_module_input,
    check_positive_float,
    check_positive_int,
    check_tensor,
)

__all__ = [
    "ACTIVATIONS",
    "EMBEDDINGS",
    "ScoreMLP",
    "TimeScoreMLP",
    "TimeScoreConv",
    "GaussianFourierEmbedding",
    "SinusoidalEmbedding",
    "from_config",
]

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}
ACTIVATIONS: tuple[str, ...] = tuple(_ACTIVATIONS)
EMBEDDINGS: tuple[str, ...] = ("fourier", "sinusoidal")


InitT = TypeVar("InitT", bound=Callable[..., None])


def _pure_init(init: InitT) -> InitT:
    """Run a constructor with its ``generator`` (seed 0 when ``None``) and ``dtype`` (float32 unless given; never
    torch's default dtype), leaving the global CPU RNG as it was (PyTorch's layers draw a default initialisation
    from it, which the generator's draws then replace)."""

    @functools.wraps(init)
    def wrapper(self: nn.Module, *args: Any, generator: torch.Generator | None = None,
                dtype: torch.dtype = torch.float32, **kwargs: Any) -> None:
        if generator is None:
            generator = torch.Generator().manual_seed(0)
        check_generator(generator, torch.device("cpu"))
        check_float_dtype(dtype)
        with torch.random.fork_rng(devices=[]):
            init(self, *args, generator=generator, dtype=dtype, **kwargs)

    return cast(InitT, wrapper)


def _init_linear(layer: nn.Linear, generator: torch.Generator) -> None:
    bound = 1.0 / math.sqrt(layer.in_features)
    with torch.no_grad():
        nn.init.uniform_(layer.weight, -bound, bound, generator=generator)
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


def _mlp(
    sizes: list[int], activation: str, generator: torch.Generator, dtype: torch.dtype, *, last_activation: bool = False
) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(a, b, dtype=dtype)
        _init_linear(lin, generator)
        layers.append(lin)
        if i < len(sizes) - 2 or last_activation:
            layers.append(_ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def _check_init(dim: Any, hidden: Any, depth: Any, activation: Any, generator: Any) -> None:
    check_positive_int(dim, "dim")
    check_positive_int(hidden, "hidden")
    check_positive_int(depth, "depth")
    check_choice(activation, "activation", ACTIVATIONS)


def _check_points(x: Any, dim: int) -> torch.Tensor:
    # finite=False: a NaN check would synchronise a GPU on every call; the losses check the outputs.
    check_tensor(x, "x", ndim=2, finite=False)
    if x.shape[1] != dim:
        raise ValueError(f"x must have shape (batch, {dim}), got {tuple(x.shape)}")
    return x


class ScoreMLP(nn.Module):
    r"""MLP score model :math:`S_\theta:\mathbb{R}^d\to\mathbb{R}^d`, input and output shape ``(batch, dim)``.

    Args:
        dim: data dimension :math:`d`.
        hidden: width of each hidden layer.
        depth: number of hidden layers (>= 1).
        activation: one of :data:`ACTIVATIONS` (smooth functions only).
        generator: a CPU ``torch.Generator`` for the initialisation (``None``: one seeded with 0).
        dtype: the floating dtype of the parameters (float32 unless given; torch's default dtype plays no part).
    """

    @_pure_init
    def __init__(
        self,
        dim: int,
        hidden: int = 128,
        depth: int = 3,
        activation: str = "silu",
        *,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        assert generator is not None  # @_pure_init supplies one
        _check_init(dim, hidden, depth, activation, generator)
        self.dim = int(dim)
        self._config = {"class": "ScoreMLP", "dim": int(dim), "hidden": int(hidden), "depth": int(depth),
                        "activation": activation}
        self.net = _mlp([dim] + [hidden] * depth + [dim], activation, generator, dtype)

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments (plain data) that :func:`from_config` turns back into this network."""
        return dict(self._config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_module_input(_check_points(x, self.dim), self)
        return self.net(x)


class GaussianFourierEmbedding(nn.Module):
    r"""Random Fourier features of a scalar time, :math:`\gamma(t)=[\sin 2\pi tW,\ \cos 2\pi tW]`, with
    :math:`W\in\mathbb{R}^{n/2}` drawn once from :math:`\mathcal N(0, s^2)` and kept fixed (a buffer).

    Args:
        embed_dim: output size :math:`n` (even).
        scale: :math:`s`, the frequency scale.
        generator: a CPU generator for :math:`W` (``None``: one seeded with 0).
        dtype: the floating dtype of :math:`W`.
    """

    W: torch.Tensor  # a buffer (fixed random frequencies)

    @_pure_init
    def __init__(self, embed_dim: int, scale: float = 16.0, *, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        assert generator is not None  # @_pure_init supplies one
        check_positive_int(embed_dim, "embed_dim", minimum=2)
        if embed_dim % 2:
            raise ValueError(f"embed_dim must be even, got {embed_dim}")
        scale = check_positive_float(scale, "scale")
        self.register_buffer("W", scale * torch.randn(embed_dim // 2, generator=generator, dtype=dtype))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        proj = 2 * math.pi * t[:, None] * self.W.to(t.dtype)[None, :]
        return torch.cat([proj.sin(), proj.cos()], dim=1)


class SinusoidalEmbedding(nn.Module):
    r"""The transformer/DDPM embedding of a scalar time,
    :math:`\gamma(t)_k=\sin(\tau t\,\omega_k)`, :math:`\gamma(t)_{k+n/2}=\cos(\tau t\,\omega_k)`,
    :math:`\omega_k = P^{-k/(n/2)}`, with :math:`\tau` = ``time_scale`` (1000 maps :math:`t\in[0,1]` to the
    range of DDPM's integer steps) and :math:`P` = ``max_period``; ``dtype`` (float32 unless given) is the dtype of
    the frequency buffer.
    """

    freqs: torch.Tensor  # a buffer

    def __init__(self, embed_dim: int, time_scale: float = 1000.0, max_period: float = 10000.0, *,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        check_positive_int(embed_dim, "embed_dim", minimum=2)
        if embed_dim % 2:
            raise ValueError(f"embed_dim must be even, got {embed_dim}")
        self.time_scale = check_positive_float(time_scale, "time_scale")
        max_period = check_positive_float(max_period, "max_period")
        half = embed_dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=check_float_dtype(dtype)) / half)
        self.register_buffer("freqs", freqs)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        arg = self.time_scale * t[:, None] * self.freqs.to(t.dtype)[None, :]
        return torch.cat([arg.sin(), arg.cos()], dim=1)


def _time_embedding(embedding: str, embed_dim: int, fourier_scale: float,
                    generator: torch.Generator, dtype: torch.dtype) -> nn.Module:
    """The time embedding of the time-conditional nets: Gaussian Fourier features or sinusoidal."""
    check_choice(embedding, "embedding", EMBEDDINGS)
    if embedding == "fourier":
        return GaussianFourierEmbedding(embed_dim, fourier_scale, generator=generator, dtype=dtype)
    return SinusoidalEmbedding(embed_dim, dtype=dtype)


class TimeScoreMLP(nn.Module):
    r"""Time-conditional MLP :math:`S_\theta(x,t)`: ``x`` of shape ``(batch, dim)``, ``t`` of shape ``(batch,)``.

    The first hidden layer is :math:`a(W_x x + W_t\,\gamma(t) + b)`, with :math:`\gamma` the time embedding;
    the remaining layers are those of :class:`ScoreMLP`.

    Args:
        dim: data dimension.
        hidden: width of each hidden layer.
        depth: number of hidden layers (>= 1).
        activation: one of :data:`ACTIVATIONS`.
        embedding: ``"fourier"`` (:class:`GaussianFourierEmbedding`) or ``"sinusoidal"``
            (:class:`SinusoidalEmbedding`).
        embed_dim: size of the time embedding (even).
        fourier_scale: frequency scale :math:`s` of the Fourier features (ignored for ``"sinusoidal"``).
        generator: a CPU ``torch.Generator`` for the initialisation (``None``: one seeded with 0).
        dtype: the floating dtype of the parameters (float32 unless given; torch's default dtype plays no part).
    """

    @_pure_init
    def __init__(
        self,
        dim: int,
        hidden: int = 128,
        depth: int = 3,
        activation: str = "silu",
        embedding: str = "fourier",
        embed_dim: int = 32,
        fourier_scale: float = 16.0,
        *,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        assert generator is not None  # @_pure_init supplies one
        _check_init(dim, hidden, depth, activation, generator)
        self.dim = int(dim)
        self._config = {"class": "TimeScoreMLP", "dim": int(dim), "hidden": int(hidden), "depth": int(depth),
                        "activation": activation, "embedding": embedding, "embed_dim": int(embed_dim),
                        "fourier_scale": float(fourier_scale)}
        self.embed = _time_embedding(embedding, embed_dim, fourier_scale, generator, dtype)
        self.input = nn.Linear(dim, hidden, dtype=dtype)
        self.time = nn.Linear(embed_dim, hidden, bias=False, dtype=dtype)
        _init_linear(self.input, generator)
        bound = 1.0 / math.sqrt(embed_dim)
        with torch.no_grad():
            nn.init.uniform_(self.time.weight, -bound, bound, generator=generator)
        self.act = _ACTIVATIONS[activation]()
        self.net = _mlp([hidden] * depth + [dim], activation, generator, dtype)

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments (plain data) that :func:`from_config` turns back into this network."""
        return dict(self._config)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        check_module_input(_check_points(x, self.dim), self)
        check_tensor(t, "t", ndim=1, finite=False)
        if t.shape[0] != x.shape[0]:
            raise ValueError(f"t must have shape ({x.shape[0]},) (one time per row of x), got {tuple(t.shape)}")
        if t.device != x.device:
            raise ValueError(f"t is on {t.device} but x is on {x.device}; move them to the same device")
        h = self.act(self.input(x) + self.time(self.embed(t.to(x.dtype))))
        return self.net(h)


def _init_conv(layer: nn.Conv2d, generator: torch.Generator) -> None:
    fan_in = layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1]
    bound = 1.0 / math.sqrt(fan_in)
    with torch.no_grad():
        nn.init.uniform_(layer.weight, -bound, bound, generator=generator)
        if layer.bias is not None:
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


class TimeScoreConv(nn.Module):
    r"""Time-conditional convolutional score model :math:`S_\theta(x,t)` for images: ``x`` of shape
    ``(batch, channels, H, W)`` (any :math:`H, W`), ``t`` of shape ``(batch,)``; output of ``x``'s shape.

    ``depth`` hidden layers of ``width`` channels, each a :math:`3\times3` convolution (zero padding, so the image
    size is kept) plus a per-channel shift :math:`W_\ell\gamma(t)` from the time embedding :math:`\gamma`, then a
    smooth activation; a last :math:`3\times3` convolution maps back to ``channels``. With ``depth`` layers the
    receptive field is :math:`2\,\text{depth}+3` pixels wide (9 for the default 3: the centre pixels of an 8×8 digit
    see all of it). No
    normalisation across the batch, so rows stay independent (which the sliced and exact traces assume), and no
    ReLU (see the module's note). Everything else, the SDEs, losses and samplers, already takes any event shape.

    Args:
        channels: image channels :math:`C` (1 for grey digits).
        width: channels of the hidden layers.
        depth: number of hidden layers (>= 1).
        activation: one of :data:`ACTIVATIONS` (smooth functions only).
        embedding: ``"fourier"`` or ``"sinusoidal"`` (see :class:`TimeScoreMLP`).
        embed_dim: size of the time embedding (even).
        fourier_scale: frequency scale of the Fourier features.
        generator: a CPU ``torch.Generator`` for the initialisation (``None``: one seeded with 0).
        dtype: the floating dtype of the parameters (float32 unless given; torch's default dtype plays no part).
    """

    @_pure_init
    def __init__(
        self,
        channels: int = 1,
        width: int = 32,
        depth: int = 3,
        activation: str = "silu",
        embedding: str = "fourier",
        embed_dim: int = 32,
        fourier_scale: float = 16.0,
        *,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        assert generator is not None  # @_pure_init supplies one
        _check_init(channels, width, depth, activation, generator)
        self.channels = int(channels)
        self._config = {"class": "TimeScoreConv", "channels": int(channels), "width": int(width),
                        "depth": int(depth), "activation": activation, "embedding": embedding,
                        "embed_dim": int(embed_dim), "fourier_scale": float(fourier_scale)}
        self.embed = _time_embedding(embedding, embed_dim, fourier_scale, generator, dtype)
        sizes = [channels] + [width] * depth
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1, dtype=dtype) for a, b in zip(sizes[:-1], sizes[1:]))
        self.times = nn.ModuleList(nn.Linear(embed_dim, width, bias=False, dtype=dtype) for _ in range(depth))
        self.out = nn.Conv2d(width, channels, 3, padding=1, dtype=dtype)
        for conv in [*self.convs, self.out]:
            _init_conv(conv, generator)
        bound = 1.0 / math.sqrt(embed_dim)
        with torch.no_grad():
            for lin in self.times:
                assert isinstance(lin, nn.Linear)
                nn.init.uniform_(lin.weight, -bound, bound, generator=generator)
        self.act = _ACTIVATIONS[activation]()

    @property
    def config(self) -> dict[str, Any]:
        """Constructor arguments (plain data) that :func:`from_config` turns back into this network."""
        return dict(self._config)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        check_module_input(check_tensor(x, "x", ndim=4, finite=False), self)
        if x.shape[1] != self.channels:
            raise ValueError(f"x must have shape (batch, {self.channels}, H, W), got {tuple(x.shape)}")
        check_tensor(t, "t", ndim=1, finite=False)
        if t.shape[0] != x.shape[0]:
            raise ValueError(f"t must have shape ({x.shape[0]},) (one time per image), got {tuple(t.shape)}")
        if t.device != x.device:
            raise ValueError(f"t is on {t.device} but x is on {x.device}; move them to the same device")
        emb = self.embed(t.to(x.dtype))
        h = x
        for conv, time in zip(self.convs, self.times):
            h = self.act(conv(h) + time(emb)[:, :, None, None])
        return self.out(h)


_CLASSES: dict[str, type[nn.Module]] = {"ScoreMLP": ScoreMLP, "TimeScoreMLP": TimeScoreMLP,
                                        "TimeScoreConv": TimeScoreConv}


def from_config(config: dict[str, Any], *, dtype: torch.dtype = torch.float32) -> nn.Module:
    """Rebuild a network from its :attr:`config` (e.g. the one stored in a training checkpoint), in ``dtype``.

    The weights are freshly initialised; load a ``state_dict`` into the result.
    """
    if not isinstance(config, dict) or "class" not in config:
        raise ValueError(f"config must be a dict with a 'class' entry, got {config!r}")
    kwargs = dict(config)
    name = check_choice(kwargs.pop("class"), "network class", tuple(_CLASSES))
    return _CLASSES[name](**kwargs, dtype=dtype)
