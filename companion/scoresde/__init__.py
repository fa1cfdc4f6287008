"""scoresde: the companion package of *Score Matching and SDEs / 分數匹配與隨機微分方程*.

The package is organised in layers; imports point down only::

    exercises   plotting   cli   book     <- what readers and notebooks touch
    train       sampling   likelihood     <- workflows: compose the layers below (checkpoints: train's recipes)
    losses      solvers                   <- algorithms: one formula each
    hutchinson  sde        brownian       <- mathematical objects
    noise       noise_schedules           <- an SDE's parts: noise structure, VP schedules
    data        nets       _checks        <- inputs, models, argument validation
    _progress                             <- the one progress bar (tqdm imported only when shown)

Import the module you need, e.g. ``from scoresde import hutchinson`` or
``from scoresde.hutchinson import hutchinson_trace``. Nothing heavy (matplotlib, tqdm) is imported here.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "DivergenceError"]


def __getattr__(name: str) -> type:
    """``scoresde.DivergenceError``, the one exception raised on divergence, imported lazily (it needs torch)."""
    if name == "DivergenceError":
        from ._checks import DivergenceError

        return DivergenceError
    raise AttributeError(f"module 'scoresde' has no attribute {name!r}")
