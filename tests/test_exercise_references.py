"""The book's code exercises (scoresde.exercises.references): the notebooks' solutions pass every hidden case; typical wrong functions (off by one, wrong shape,
wrong constant) are each caught with a message that says what is wrong without revealing the reference's values."""

from __future__ import annotations

import math
import time

import pytest
import torch

from scoresde.exercises.code import CodeExercise, run_cases
from scoresde.exercises.references import REFERENCES


def ssm_right(score, x, v):
    x = x.detach().requires_grad_(True)
    proj = (v * score(x)).sum(dim=1)
    (grad,) = torch.autograd.grad(proj.sum(), x, create_graph=True)
    return 0.5 * proj**2 + (v * grad).sum(dim=1)


def ssm_no_half(score, x, v):  # wrong constant
    x = x.detach().requires_grad_(True)
    proj = (v * score(x)).sum(dim=1)
    (grad,) = torch.autograd.grad(proj.sum(), x)
    return proj**2 + (v * grad).sum(dim=1)


def ssm_mean(score, x, v):  # wrong shape: the batch mean instead of one value per row
    return ssm_right(score, x, v).mean()


def ssm_vr(score, x, v):  # the variance-reduced form: a different estimator
    x = x.detach().requires_grad_(True)
    s = score(x)
    (grad,) = torch.autograd.grad((v * s).sum(), x)
    return 0.5 * s.square().sum(1) + (v * grad).sum(1)


def ula_right(score, x, eps, z):
    return x + eps * score(x) + math.sqrt(2 * eps) * z


def ito_right(W):
    return (W[:-1] * (W[1:] - W[:-1])).sum(dim=0)


def em_right(f, g, x, t, dt, dw):
    return x + f(x, t) * dt + g(x, t) * dw


def perturb_right(x0, t, z, beta_min=0.1, beta_max=20.0):
    B = (beta_min * t + 0.5 * (beta_max - beta_min) * t**2)[:, None]
    return torch.exp(-B / 2) * x0 + torch.sqrt(1 - torch.exp(-B)) * z


def div_right(G, x):
    x = x.detach().requires_grad_(True)
    g = G(x)
    sigma = g @ g.transpose(1, 2)
    out = []
    for i in range(x.shape[1]):
        total = 0
        for j in range(x.shape[1]):
            (grad,) = torch.autograd.grad(sigma[:, i, j].sum(), x, retain_graph=True)
            total = total + grad[:, j]
        out.append(total)
    return torch.stack(out, dim=1)


def div_gtg(G, x):  # Sigma = G^T G: a typical slip (right only when G is symmetric)
    return div_right(lambda y: G(y).transpose(1, 2), x)


def run_code_exercise(key, fn, time_limit=None):
    """(passed, message) for the code exercise ``key``, as ``scoresde.exercises.check`` runs it."""
    code = REFERENCES[key]
    if time_limit is not None:
        code = CodeExercise(code.reference, code.cases, code.rtol, code.atol, time_limit)
    passed, why = run_cases(code, fn)
    return passed == len(code.cases), why


def energy_score_right(energy, x):  # the score of exp(-E): minus the input gradient of the summed energies
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(energy(x).sum(), x)
    return -grad


def shared_right(score, x, v):  # one batched vector-Jacobian product over the M probes
    x = x.detach().requires_grad_(True)
    proj = (v * score(x)).sum(-1)                                          # (M, n)
    M = v.shape[0]
    cotangents = torch.eye(M, dtype=x.dtype)[:, :, None].expand(M, M, x.shape[0])
    (grads,) = torch.autograd.grad(proj, x, grad_outputs=cotangents, is_grads_batched=True)
    return 0.5 * proj**2 + (v * grads).sum(-1)


def ddim_right(x, eps, a_s, s_s, a_t, s_t):  # (alpha_t / alpha_s) x - sigma_t (e^h - 1) eps, h = lambda_t - lambda_s
    return (a_t / a_s) * x - s_t * ((a_t * s_s) / (a_s * s_t) - 1) * eps


def shared_repeated_batch(score, x, v):  # right values, but the batch repeated M times: M forward passes' worth
    M, n = v.shape[0], x.shape[0]
    xr = x.detach().repeat(M, *[1] * (x.ndim - 1)).requires_grad_(True)
    proj = (v.reshape(M * n, -1) * score(xr)).sum(-1)
    (grad,) = torch.autograd.grad(proj.sum(), xr)
    return (0.5 * proj**2 + (v.reshape(M * n, -1) * grad).sum(-1)).reshape(M, n)


def shared_m_passes(score, x, v):  # right values, one forward pass per probe
    return torch.stack([ssm_right(score, x, v[m]).detach() for m in range(v.shape[0])])


RIGHT = {"ex-07-shared-code": shared_right, "ex-01-ssm-code": ssm_right, "ex-02-ula-code": ula_right, "ex-03-ito-sum-code": ito_right,
         "ex-04-em-code": em_right, "ex-05-perturb-code": perturb_right, "ex-06-div-code": div_right,
         "ex-08-energy-score-code": energy_score_right, "ex-09-ddim-code": ddim_right}

WRONG = [  # (exercise, a typical wrong function, words the message must contain)
    ("ex-08-energy-score-code", lambda e, x: -energy_score_right(e, x), "values"),                # the sign: +grad E
    ("ex-08-energy-score-code", lambda e, x: energy_score_right(e, x).sum(0), "shape"),           # summed over rows
    ("ex-09-ddim-code", lambda x, e, a_s, s_s, a_t, s_t: a_t * (x - s_s * e) / a_s, "values"),        # eps dropped
    ("ex-09-ddim-code", lambda x, e, a_s, s_s, a_t, s_t: (a_t / a_s) * x - (s_t - s_s) * e, "values"),   # alpha_t/alpha_s on eps
    ("ex-09-ddim-code", lambda x, e, a_s, s_s, a_t, s_t: ddim_right(x, e, a_s, s_s, a_t, s_t).sum(-1), "shape"),
    ("ex-07-shared-code", lambda s, x, v: shared_right(s, x, v).T, "shape"),                      # (n, M)
    ("ex-07-shared-code", lambda s, x, v: 2 * shared_right(s, x, v), "constant factor"),
    ("ex-07-shared-code", lambda s, x, v: shared_right(s, x, v[:1]).expand(v.shape[0], -1), "wrong values"),  # probe 0 only
    ("ex-07-shared-code", shared_repeated_batch, "evaluated the score on 8 rows in 1 call(s); evaluate it once, on the 4"),
    ("ex-07-shared-code", shared_m_passes, "evaluated the score on 8 rows in 2 call(s)"),
    ("ex-01-ssm-code", ssm_no_half, "values"),
    ("ex-01-ssm-code", ssm_mean, "shape"),
    ("ex-01-ssm-code", ssm_vr, "wrong values"),
    ("ex-02-ula-code", lambda s, x, e, z: x + e * s(x) + math.sqrt(e) * z, "values"),             # sqrt(eps)
    ("ex-02-ula-code", lambda s, x, e, z: (x + e * s(x) + math.sqrt(2 * e) * z).flatten(), "shape"),
    ("ex-02-ula-code", lambda s, x, e, z: x + e * s(x), "values"),                               # noise forgotten
    ("ex-03-ito-sum-code", lambda W: (W[1:] * (W[1:] - W[:-1])).sum(0), "values"),               # off by one: right point
    ("ex-03-ito-sum-code", lambda W: (W[:-1] * (W[1:] - W[:-1])).sum(), "shape"),                # summed over paths too
    ("ex-03-ito-sum-code", lambda W: 0.5 * (W[:-1] * (W[1:] - W[:-1])).sum(0), "constant factor"),
    ("ex-04-em-code", lambda f, g, x, t, dt, dw: x + f(x, t) * dt + g(x, t) * dw * math.sqrt(abs(dt)), "values"),
    ("ex-04-em-code", lambda f, g, x, t, dt, dw: (x + f(x, t) * dt + g(x, t) * dw).sum(1), "shape"),
    ("ex-04-em-code", lambda f, g, x, t, dt, dw: x + f(x, t) * abs(dt) + g(x, t) * dw, "values"),  # sign of dt lost
    ("ex-05-perturb-code", lambda x0, t, z, bmin=0.1, bmax=20.0: torch.exp(-(bmin * t + 0.5 * (bmax - bmin) * t**2))[:, None]
     * x0 + torch.sqrt(1 - torch.exp(-(bmin * t + 0.5 * (bmax - bmin) * t**2)))[:, None] * z, "values"),  # alpha^2
    ("ex-05-perturb-code", lambda x0, t, z, bmin=0.1, bmax=20.0: perturb_right(x0, t, z, bmin, bmax)[:, 0], "shape"),
    ("ex-05-perturb-code", lambda x0, t, z, bmin=0.1, bmax=20.0: perturb_right(x0, t, z), "values"),  # ignores betas
    ("ex-06-div-code", lambda G, x: div_gtg(G, x), "values"),                                   # G^T G for Sigma
    ("ex-06-div-code", lambda G, x: div_right(G, x).sum(1), "shape"),
    ("ex-06-div-code", lambda G, x: 2 * div_right(G, x), "constant factor"),
]


@pytest.mark.parametrize("key", sorted(REFERENCES))
def test_a_right_function_passes_every_hidden_case(key):
    ok, message = run_code_exercise(key, RIGHT[key])
    assert ok and message == "", message


def test_every_code_exercise_has_a_right_function_here():
    assert set(RIGHT) == set(REFERENCES)


@pytest.mark.parametrize("key, fn, words", WRONG)
def test_a_typical_wrong_function_is_caught_with_a_useful_message(key, fn, words):
    ok, message = run_code_exercise(key, fn)
    assert not ok
    assert words in message and "Case" in message and "測試" in message


def test_wrong_messages_never_show_the_reference_values():
    ok, message = run_code_exercise("ex-03-ito-sum-code", lambda W: (W[1:] * (W[1:] - W[:-1])).sum(0))
    assert not ok
    ref = REFERENCES["ex-03-ito-sum-code"]
    (W,) = ref.cases[0].make(torch.Generator().manual_seed(ref.cases[0].seed))
    for value in ref.reference(W).tolist()[:3]:
        assert f"{value:.3f}" not in message


def test_an_exception_in_the_students_function_is_reported_not_raised():
    ok, message = run_code_exercise("ex-02-ula-code", lambda s, x, e, z: 1 / 0)
    assert not ok and "ZeroDivisionError" in message and "Case 1" in message


def test_a_slow_function_is_stopped_by_the_time_limit():
    def slow(score, x, eps, z):
        time.sleep(5)
        return ula_right(score, x, eps, z)

    t0 = time.perf_counter()
    ok, message = run_code_exercise("ex-02-ula-code", slow, time_limit=0.2)
    assert not ok and "longer than 0.2 s" in message and time.perf_counter() - t0 < 0.2 + 4.0  # the limit, and slack for a loaded machine


def test_not_a_tensor_and_not_a_function():
    ok, message = run_code_exercise("ex-03-ito-sum-code", lambda W: W.tolist())
    assert not ok and "expected a tensor or a number" in message


def test_nan_is_reported():
    ok, message = run_code_exercise("ex-03-ito-sum-code", lambda W: torch.full((W.shape[1],), float("nan")))
    assert not ok and "NaN" in message


def test_the_students_function_cannot_change_the_reference_inputs():
    def mutating(W):
        out = ito_right(W)
        W.zero_()
        return out

    assert run_code_exercise("ex-03-ito-sum-code", mutating)[0]


def test_the_shared_form_s_values_alone_would_pass_without_the_count():
    """Mutation: without ``one_pass`` the repeated batch and the M forward passes give the right values and pass;
    the count is what rejects them. The reference itself evaluates the score once, on the batch."""
    from dataclasses import replace

    code = REFERENCES["ex-07-shared-code"]
    for fn in (shared_repeated_batch, shared_m_passes):
        assert run_cases(replace(code, one_pass=None), fn)[0] == len(code.cases)
    calls = []
    for case in code.cases:
        score, x, v = case.make(torch.Generator().manual_seed(case.seed))
        code.reference(lambda y, s=score: calls.append(y.shape[0]) or s(y), x, v)
        assert calls[-1] == x.shape[0]
    assert len(calls) == len(code.cases)
