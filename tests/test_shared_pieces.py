"""The small pieces every module shares (issue 18, item 4): one helper each, tested once here.

`draw_device` (which device to draw on), `as_column` (the (batch, 1, ..., 1) view), `check_eps`,
`check_forward_sde`, `check_real`, `check_float_dtype`, `check_optional_bool`, and `solvers.adaptive.dopri5`
(torchdiffeq's Dormand–Prince set up to stay inside the interval).
"""

from __future__ import annotations

import math

import pytest
import torch

from scoresde._checks import (
    DivergenceError,
    as_column,
    check_eps,
    check_float_dtype,
    check_optional_bool,
    check_real,
    draw_device,
)
from scoresde.sde import VPSDE, check_forward_sde
from scoresde.solvers.adaptive import dopri5


def test_draw_device_prefers_the_argument_then_the_generator_then_the_default():
    g = torch.Generator()
    assert draw_device(g, None, torch.float32) == torch.device("cpu")
    assert draw_device(None, "cpu", torch.float64) == torch.device("cpu")
    assert draw_device(None, None, torch.float32, default=torch.device("meta")) == torch.device("meta")
    assert draw_device(g, None, torch.float32, default=torch.device("meta")) == torch.device("cpu")


@pytest.mark.parametrize(("generator", "device", "dtype", "error", "match"), [
    (None, None, torch.int64, TypeError, "dtype must be a floating"),
    (None, None, "float32", TypeError, "dtype must be a floating"),
    ("seed", None, torch.float32, TypeError, "generator must be a torch.Generator"),
    (torch.Generator(), "meta", torch.float32, ValueError, "generator lives on cpu"),
])
def test_draw_device_refuses_by_name(generator, device, dtype, error, match):
    with pytest.raises(error, match=match):
        draw_device(generator, device, dtype)


def test_as_column_broadcasts_one_value_per_row_over_any_event_shape():
    v = torch.tensor([1.0, 2.0, 3.0])
    for like in (torch.ones(3), torch.ones(3, 2), torch.ones(3, 1, 4, 4)):
        col = as_column(v, like)
        assert col.shape == (3, *([1] * (like.ndim - 1)))
        out = col * like
        for i in range(3):
            assert bool((out[i] == v[i]).all())


def test_check_eps_accepts_the_open_interval_only():
    assert check_eps(1e-3, 1.0) == 1e-3
    for bad, error in ((0.0, ValueError), (1.0, ValueError), (2.0, ValueError), (math.nan, ValueError),
                       ("0.1", TypeError), (True, TypeError)):
        with pytest.raises(error, match="eps"):
            check_eps(bad, 1.0)


def test_check_forward_sde_refuses_a_reverse_sde_and_other_objects():
    sde = VPSDE()
    assert check_forward_sde(sde, "why") is sde
    with pytest.raises(ValueError, match=r"forward SDE \(because\)"):
        check_forward_sde(sde.reverse(lambda x, t: -x), "because")
    with pytest.raises(TypeError, match="sde must be a scoresde.sde.SDE"):
        check_forward_sde("vp", "why")


def test_small_type_checks():
    assert check_real(-2, "mu") == -2.0 and check_real(torch.tensor(0.5), "mu") == 0.5
    for bad, error in ((True, TypeError), ("1", TypeError), (math.inf, ValueError), (torch.ones(2), TypeError)):
        with pytest.raises(error, match="mu"):
            check_real(bad, "mu")
    assert check_float_dtype(torch.bfloat16) is torch.bfloat16
    assert check_optional_bool(None, "flag") is None and check_optional_bool(False, "flag") is False
    with pytest.raises(TypeError, match="flag must be a bool or None"):
        check_optional_bool(1, "flag")


def test_dopri5_solves_a_linear_ode_both_ways_and_stays_inside_the_interval():
    times: list[float] = []

    def field(t, y):
        times.append(float(t))
        return -2.0 * y

    y0 = torch.tensor([1.0, -3.0], dtype=torch.float64)
    forward = dopri5(field, y0, 0.1, 1.0, rtol=1e-10, atol=1e-12)
    assert torch.allclose(forward, y0 * math.exp(-2 * 0.9), rtol=1e-8, atol=0)
    assert min(times) >= 0.1 - 1e-15 and max(times) <= 1.0 + 1e-15, "dopri5 evaluated outside [t0, t1]"
    times.clear()
    backward = dopri5(field, y0, 1.0, 0.1, rtol=1e-10, atol=1e-12)
    assert torch.allclose(backward, y0 * math.exp(2 * 0.9), rtol=1e-8, atol=0)
    assert min(times) >= 0.1 - 1e-15 and max(times) <= 1.0 + 1e-15, "dopri5 evaluated outside [t1, t0]"


def test_dopri5_keeps_a_tuple_state_and_names_a_blow_up():
    y0 = (torch.ones(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64))
    y, s = dopri5(lambda t, st: (st[0], torch.ones_like(st[1])), y0, 0.0, 1.0, rtol=1e-9, atol=1e-12)
    assert torch.allclose(y, torch.full((3,), math.e, dtype=torch.float64)) and torch.allclose(s, torch.ones(3, dtype=torch.float64))
    with pytest.raises(DivergenceError, match="non-finite.*check the score"):
        dopri5(lambda t, y: y * torch.where(t > 0.5, math.inf, 1.0), torch.ones(2), 0.0, 1.0, rtol=1e-6, atol=1e-8,
               advice="check the score")
