r"""Fixed-step SDE solvers as objects (Euler–Maruyama, Milstein, stochastic Heun) and :func:`solve`, the one
stepping loop of the package.

A solver knows only the :class:`~scoresde.sde.SDE` interface (``f``, ``g``, ``g_prod``, ``noise_type``), never
a concrete SDE. Each declares its strong and weak orders, the calculus it converges to and the noise it
accepts (:mod:`.base`); ``solve(..., method="euler")`` maps the name to its object, registered where it is
defined with ``@register_solver`` (:mod:`.registry`; a new solver is one file).

=========  ==========================================  ============  ==================================
method     strong / weak order by noise                calculus      noise
=========  ==========================================  ============  ==================================
euler      ½ / 1; additive 1 / 1                       Itô           any (eq-em)
milstein   1 / 1                                       Itô, Strat.   diagonal, shared, additive (eq-milstein)
heun       1 / 1 commutative; ½ / 1 non-commutative;   Stratonovich  any; additive for Itô (eq-heun)
           additive 1 / 2
sra1       additive 1.5 / 2 (needs the Lévy area H)    any           additive (eq-sra1)
=========  ==========================================  ============  ==================================

(``shared``: one Brownian motion drives every coordinate, torchsde's "scalar" noise.) Each solver declares these
per noise structure (``Solver.orders``) and ``tests/test_solver_orders.py`` measures every declared pair.

The equations: Euler–Maruyama book: eq-em, Milstein book: eq-milstein, stochastic Heun book: eq-heun.
The probability-flow ODE is solved by :func:`dopri5` (:mod:`.adaptive`): torchdiffeq's adaptive Dormand–Prince
5(4), set up once to stay inside the time interval. It is an ODE solver called directly, not a ``method`` of
:func:`solve` (which steps SDEs on a fixed grid).

Time may run backwards (``ts`` decreasing, ``dt < 0``): that is how a reverse-time SDE
(:meth:`~scoresde.sde.SDE.reverse`, ``time_direction = -1``) is solved, exactly as it is written. States have
any shape ``(batch, *event_shape)``; everything happens on ``x0``'s device.
"""

from .adaptive import dopri5
from .base import NOISE_STRUCTURES, Corrector, Order, Solver, check_compatible, noise_structure
from .euler import EulerMaruyama, euler_maruyama_step
from .heun import StochasticHeun, heun_step
from .integrate import solve
from .milstein import Milstein, milstein_step
from .registry import SOLVERS, get_solver, methods, register_solver
from .sra import SRA1, sra1_step

__all__ = [
    "SOLVERS",
    "register_solver",
    "methods",
    "NOISE_STRUCTURES",
    "Order",
    "Solver",
    "Corrector",
    "EulerMaruyama",
    "Milstein",
    "StochasticHeun",
    "SRA1",
    "sra1_step",
    "euler_maruyama_step",
    "milstein_step",
    "heun_step",
    "solve",
    "dopri5",
    "get_solver",
    "noise_structure",
    "check_compatible",
]
