r"""The Langevin corrector of predictor–corrector sampling (Song et al. 2021, score_sde's ``LangevinCorrector``).

At a fixed time :math:`t`, ``n_steps`` Langevin steps (book: eq-langevin) with the score
:math:`s(x,t)\approx\nabla_x\log p_t(x)` of a reverse-time SDE, the step set by a signal-to-noise ratio
:math:`r` (bars: averages over the batch):

.. math:: \epsilon = 2\Big(r\,\frac{\overline{\|z\|}}{\overline{\|s(x,t)\|}}\Big)^2,\qquad
          x \leftarrow x + \epsilon\,s(x,t) + \sqrt{2\epsilon}\,z,\quad z\sim\mathcal N(0,I)
          \qquad\text{(book: eq-pc-snr)}

score_sde multiplies :math:`\epsilon` by :math:`\alpha_i = 1-\beta_i` for the VP and sub-VP SDEs
(``alpha_factor=True``; :math:`\beta_i` of :meth:`scoresde.sde.VPSDE.discrete_beta`), declared by each SDE's
:meth:`~scoresde.sde.SDE.langevin_alpha`.
"""

from __future__ import annotations

import torch

from .._checks import (
    as_column,
    check_bool,
    check_positive_int,
    check_snr,
)
from ..sde import SDE, ReverseSDE
from ..solvers import Corrector
from .langevin import langevin_step
from .registry import register_corrector

__all__ = ["snr_step_size", "LangevinCorrector"]


def snr_step_size(score: torch.Tensor, z: torch.Tensor, snr: float) -> torch.Tensor:
    r"""The corrector's step :math:`\epsilon = 2\,(r\,\overline{\|z\|}/\overline{\|s\|})^2` (book: eq-pc-snr),
    a 0-d tensor (norms over each sample's entries, averaged over the batch)."""
    batch = score.shape[0]
    ratio = z.reshape(batch, -1).norm(dim=1).mean() / score.reshape(batch, -1).norm(dim=1).mean()
    return 2 * (snr * ratio) ** 2


@register_corrector
class LangevinCorrector(Corrector):
    r"""``n_steps`` Langevin steps at a fixed time with the step of :func:`snr_step_size` (book: eq-pc-snr).

    Args:
        snr: the signal-to-noise ratio :math:`r > 0` (score_sde: 0.16 for VE, 0.01–0.17 for VP).
        n_steps: Langevin steps per time (>= 1).
        alpha_factor: multiply the step by :math:`\alpha_i = 1-\beta_i` for a VP or sub-VP SDE, as score_sde
            does (a DDPM detail that vanishes as the steps shrink); off by default.
    """

    name = "langevin"

    def __init__(self, snr: float = 0.16, n_steps: int = 1, alpha_factor: bool = False) -> None:
        self.snr = check_snr(snr, "snr")
        self.n_steps = check_positive_int(n_steps, "n_steps")
        self.alpha_factor = check_bool(alpha_factor, "alpha_factor")

    def check_sde(self, sde: SDE) -> None:
        """The corrector needs a score: ``sde`` must be a reverse-time SDE (:meth:`scoresde.sde.SDE.reverse`)."""
        if not isinstance(sde, ReverseSDE):
            raise TypeError(f"the Langevin corrector needs the score of a ReverseSDE (sde.reverse(score_fn)), "
                            f"got {type(sde).__name__}")

    def step(self, sde: SDE, x: torch.Tensor, t: torch.Tensor, dt: float,
             generator: torch.Generator | None) -> torch.Tensor:
        """``n_steps`` Langevin steps at ``t`` with the score ``sde.score`` (book: eq-pc-snr)."""
        alpha = self._alpha(sde, t, dt, x)
        for _ in range(self.n_steps):
            s = sde.score(x, t)  # type: ignore[attr-defined]  # a ReverseSDE: the sampler's reverse SDE
            z = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
            step = snr_step_size(s, z, self.snr)
            if alpha is not None:
                step = as_column(step * alpha, x)
            x = langevin_step(x, s, step, z)
        return x

    def _alpha(self, sde: SDE, t: torch.Tensor, dt: float, x: torch.Tensor) -> torch.Tensor | None:
        r""":math:`\alpha_i = 1-\beta_i` (shape ``(batch,)``) for a VP or sub-VP SDE with ``alpha_factor``, else ``None``."""
        if not self.alpha_factor:
            return None
        return sde.forward.langevin_alpha(t, dt, x)  # type: ignore[attr-defined]  # a ReverseSDE, see check_sde
