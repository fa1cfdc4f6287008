"""Tests of scoresde.exercises: the registered answers, right / wrong / malformed answers, every kind.

The registered answers are re-derived here independently (sympy, or a closed form), so a typo in
scoresde/exercises/answers.py fails; each registered exercise must exist, in place, in its chapter notebook.
Ids: every exercise is keyed by its label; its number "<chapter>.<k>" is an alias computed from the registry's
order, which must be the notebooks' order (inserting an exercise renumbers aliases and changes no key).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import torch

from scoresde import exercises
from scoresde.exercises.answers import EXERCISES
from scoresde.exercises import CheckResult, check, describe, exercise_ids, hint, kinds

ROOT = Path(__file__).resolve().parents[1]
ENTRY = {ex.exercise_id: EXERCISES[ex.label] for ex in exercises._REGISTRY.values()}  # by number, for the tables

# ---- the registry against the notebooks and against independent derivations -----------------------


def notebook_exercise_labels(chapter: int) -> list[str]:
    """The labels of the {exercise} directives of notebooks/NN_*.ipynb, in order."""
    found = sorted((ROOT / "notebooks").glob(f"{chapter:02d}_*.ipynb"))
    assert len(found) == 1, f"chapter {chapter}: expected one notebook, found {found}"
    nb = json.loads(found[0].read_text(encoding="utf-8"))
    labels = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        # the directive line, then its option lines (":label: …", ":class: …") in any order
        for m in re.finditer(r"^:{3,}\{exercise\}[^\n]*\n((?:[ \t]*:[\w-]+:[^\n]*\n?)*)", text, re.M):
            label = re.search(r":label:\s*(\S+)", m.group(1))
            labels.append(label.group(1) if label else None)
    return labels


@pytest.mark.parametrize("chapter", range(1, 8))
def test_the_registry_lists_every_exercise_of_a_chapter_in_the_notebooks_order(chapter):
    registered = [label for label, entry in EXERCISES.items() if entry["chapter"] == chapter]
    assert registered == notebook_exercise_labels(chapter)


def test_inserting_an_exercise_changes_no_key_and_only_renumbers_the_later_aliases():
    labels = list(EXERCISES)
    at = labels.index("ex-07-shared-cost") + 1
    dummy = {"chapter": 7, "kind": "choice", "form": ("a or b", "a 或 b"), "hint": ("h", "提示"),
             "answer": exercises._encode("a"), "options": ("a", "b")}
    raw = {**{k: EXERCISES[k] for k in labels[:at]}, "ex-07-dummy": dummy, **{k: EXERCISES[k] for k in labels[at:]}}
    before, after = exercises._REGISTRY, exercises._build_registry(raw)
    assert set(after) == set(before) | {"ex-07-dummy"}
    assert after["ex-07-dummy"].exercise_id == "7.2"
    for label, ex in before.items():
        assert after[label].label == label and after[label].kind == ex.kind and after[label].encoded == ex.encoded
        shift = int(ex.chapter == 7 and ex.number >= 2)
        assert after[label].exercise_id == f"{ex.chapter}.{ex.number + shift}", label


def _gaussian_expectation(expr, variances):
    """E[expr] for a polynomial in independent centred Gaussians: E[Z^k] = (k-1)!! Var(Z)^(k/2), 0 for odd k."""
    poly = sp.Poly(sp.expand(expr), *variances)
    total = 0
    for powers, coeff in poly.terms():
        term = coeff
        for k, v in zip(powers, variances.values()):
            term *= 0 if k % 2 else sp.factorial2(k - 1) * v ** sp.Rational(k, 2)
        total += term
    return sp.simplify(total)


def _derive_1_3():
    # J_ISM(a, b) = E[S^2/2 + S'] with S = -a (x - b), x = mu + s z; minimise over (a, b)
    a, b, z = sp.symbols("a b z", real=True)
    mu, s = sp.Symbol("mu", real=True), sp.Symbol("s", positive=True)
    x = mu + s * z
    J = _gaussian_expectation((a * (x - b)) ** 2 / 2 - a, {z: 1})
    (solution,) = sp.solve([sp.diff(J, a), sp.diff(J, b)], [a, b], dict=True)
    assert sp.hessian(J, (a, b)).subs(solution).is_positive_definite
    return [solution[a], solution[b]]


def _derive_3_1():
    # Cov(W_i, W_j) = min(i, j): Var(W_1 + W_2 + W_3) is the sum of the covariance matrix
    return sum(min(i, j) for i in range(1, 4) for j in range(1, 4))


def _derive_3_2():
    s, t = sp.symbols("s t", positive=True)
    return sp.integrate(s**2, (s, 0, t))  # Ito isometry with the deterministic integrand s


def _derive_3_3():
    t, sigma = sp.symbols("t sigma", positive=True)
    m = sp.Function("m")
    sol = sp.dsolve(sp.Eq(m(t).diff(t), sigma**2 * m(t)), m(t), ics={m(0): 1})
    return sol.rhs


def _derive_4_1():
    # the variance v that X -> (1 - beta h) X + sigma dW leaves unchanged, relative to sigma^2 / (2 beta)
    beta, h, sigma, v = sp.symbols("beta h sigma v", positive=True)
    (v_h,) = sp.solve(sp.Eq(v, (1 - beta * h) ** 2 * v + sigma**2 * h), v)
    return sp.simplify(v_h / (sigma**2 / (2 * beta)) - 1)


def _derive_5_1():
    B = sp.Symbol("B", positive=True)
    v = sp.Function("v")
    var_vp = sp.dsolve(sp.Eq(v(B).diff(B), -v(B) + 1), v(B), ics={v(0): 0}).rhs
    var_sub = sp.dsolve(sp.Eq(v(B).diff(B), -v(B) + 1 - sp.exp(-2 * B)), v(B), ics={v(0): 0}).rhs
    return sp.simplify(var_sub / var_vp)


def _derive_5_3():
    s = sp.Symbol("s", nonnegative=True)
    B_T = sp.integrate(sp.Rational(1, 10) + s * (2 - sp.Rational(1, 10)), (s, 0, 1))
    alpha_T = float(sp.exp(-B_T / 2))
    from scoresde.sde import VPSDE  # the companion's schedule gives the same number

    log_alpha = VPSDE(beta_min=0.1, beta_max=2.0).log_mean_coeff(torch.tensor(1.0, dtype=torch.float64))
    companion = math.exp(float(log_alpha))
    assert abs(companion - alpha_T) < 1e-12
    return alpha_T


def _derive_6_1():
    x = sp.Symbol("x", real=True)
    t, beta, sigma, s0 = sp.symbols("t beta sigma s0", positive=True)
    v = sp.Function("v")
    v_t = sp.dsolve(sp.Eq(v(t).diff(t), -2 * beta * v(t) + sigma**2), v(t), ics={v(0): s0**2}).rhs
    log_p = -(x**2) / (2 * v_t) - sp.log(2 * sp.pi * v_t) / 2
    return -beta * x - sigma**2 * sp.diff(log_p, x)  # f - G G^T grad log p


def _derive_6_2():
    x1, x2 = sp.symbols("x1 x2", real=True)
    G = sp.Matrix([[x2, 0], [x1, 1]])
    Sigma = G * G.T
    return [sum(sp.diff(Sigma[i, j], (x1, x2)[j]) for j in range(2)) for i in range(2)]


# ---- derivations of the problem sets' answers (issue 20) ----


def _derive_hutchinson_sigma_bias():
    A, S = sp.Matrix([[1, 2], [3, 4]]), sp.diag(2, sp.Rational(1, 2))
    return float((A * S).trace() - A.trace())  # E[v^T A v] = tr(A Sigma_v)


def _derive_rademacher_symmetric_2x2():
    a, b, c = sp.symbols("a b c", real=True)
    v1, v2 = sp.symbols("v1 v2")
    q = sp.expand(a * v1**2 + 2 * b * v1 * v2 + c * v2**2)
    signs = [(s1, s2) for s1 in (-1, 1) for s2 in (-1, 1)]
    mean = sum(q.subs({v1: s1, v2: s2}) for s1, s2 in signs) / 4
    return sp.simplify(sum((q.subs({v1: s1, v2: s2}) - mean) ** 2 for s1, s2 in signs) / 4)


def _derive_rademacher_2x2():
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    values = [np.array(v) @ A @ np.array(v) for v in ((-1, -1), (-1, 1), (1, -1), (1, 1))]
    return float(np.var(values))


def _derive_logistic_constant():
    x = sp.Symbol("x", real=True)
    p = sp.exp(-x) / (1 + sp.exp(-x)) ** 2
    score = sp.diff(sp.log(p), x)
    return float(sp.Integral(score**2 * p / 2, (x, -sp.oo, sp.oo)).evalf(30))  # quadrature, not the u-substitution


def _derive_ism_facts():
    # at the true score of N(0, 1) data, J_ISM = E[x^2/2 - 1] = -1/2 < 0: (c) is false; (b) and (d) fail by definition
    return "a"


def _derive_dsm_ratio():
    s, sigma = 1.0, 0.5
    return (-1 / (s**2 + sigma**2)) / (-1 / s**2)


def _derive_probe_choice():
    # Var(v^T A v) for A = [[2, 1], [1, 2]]: Isserlis for Gaussian v, the four sign vectors for Rademacher v
    z1, z2 = sp.symbols("z1 z2", real=True)
    q = lambda a, b: 2 * a**2 + 2 * a * b + 2 * b**2  # noqa: E731
    gaussian = _gaussian_expectation(q(z1, z2) ** 2, {z1: 1, z2: 1}) - _gaussian_expectation(q(z1, z2), {z1: 1, z2: 1}) ** 2
    values = [q(s1, s2) for s1 in (-1, 1) for s2 in (-1, 1)]
    rademacher = sum(sp.Integer(v) ** 2 for v in values) / 4 - (sum(values) / sp.Integer(4)) ** 2
    return sp.nsimplify(gaussian / rademacher)  # an exact sympy number


def _derive_ema_memory():
    w = 1.0
    for _ in range(500):
        w *= 0.999  # theta_0's weight, one EMA step at a time
    return w


def _derive_two_mode_score():
    x, m = sp.Symbol("x", real=True), sp.Symbol("m", positive=True)
    p = sp.exp(-(x + m) ** 2 / 2) + sp.exp(-(x - m) ** 2 / 2)
    return sp.simplify(sp.diff(sp.log(p), x))


def _derive_ula_variance():
    s, eps = 0.5, 0.1
    a = 1 - eps / s**2  # x <- a x + sqrt(2 eps) z
    return 2 * eps / (1 - a**2)


def _derive_langevin_modes():
    return "b"


def _derive_lambda_point_constant():
    lam = sp.Rational(1, 4)
    return float((lam**2 + (1 - lam) ** 2) / 2)


def _derive_isometry_square():
    t = sp.Symbol("t", positive=True)
    z = sp.Symbol("z", real=True)
    W = sp.sqrt(t) * z
    return _gaussian_expectation(((W**2 - t) / 2) ** 2, {z: 1})  # from the closed form (W_t^2 - t)/2


def _derive_which_sum():
    return "c"


def _derive_gbm_negative():
    from statistics import NormalDist

    mu, sigma, h = 0.0, 1.0, 0.5
    return NormalDist().cdf(-(1 + mu * h) / (sigma * math.sqrt(h)))


def _derive_sum_tk_dw():
    N = sp.Symbol("N", positive=True, integer=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    return sp.simplify(sp.summation((k / N) ** 2 / N, (k, 0, N - 1)))


def _derive_gbm_weak_error():
    mu, h = sp.symbols("mu h", positive=True)
    return sp.exp(mu) - (1 + mu * h) ** (1 / h)


def _derive_additive_order():
    return "b"


def _derive_gaussian_flow_factor():
    from scoresde.sde import VPSDE

    vp = VPSDE()
    v = {}
    for t in (1e-3, 1.0):
        mean, std = vp.marginal_prob(torch.ones(1, 1, dtype=torch.float64), t)
        v[t] = float(mean[0, 0]) ** 2 * 0.25 + float(std.reshape(-1)[0]) ** 2
    return math.sqrt(v[1e-3] / v[1.0])


def _derive_dsm_conditional():
    x = sp.Symbol("x", real=True)
    alpha, sigma, s0 = sp.symbols("alpha sigma s0", positive=True)
    z, x0 = sp.symbols("z x0", real=True)
    xt = alpha * s0 * x0 + sigma * z  # x0, z independent N(0, 1)
    cov = _gaussian_expectation(z * xt, {z: 1, x0: 1})
    var = _gaussian_expectation(xt**2, {z: 1, x0: 1})
    return cov / var * x


def _derive_flow_vs_sde():
    return "b"


def _derive_reverse_drift_2d():
    x1, x2 = sp.symbols("x1 x2", real=True)
    X = sp.Matrix([x1, x2])
    G = sp.Matrix([[1, 0], [x1, 1]])
    Sigma = G * G.T
    div = sp.Matrix([sum(sp.diff(Sigma[i, j], X[j]) for j in range(2)) for i in range(2)])
    fbar = -div - Sigma * (-X)
    return [sp.expand(fbar[0]), sp.expand(fbar[1])]


def _derive_missing_div():
    return "b"


def _derive_ou_drift_zero():
    # v_t = 1/2 + 3/2 e^{-2t} = 1  <=>  t = log(3)/2
    return math.log(3) / 2


# code exercises: an independent right function each (the check runs it on the hidden cases)


def _derive_ssm_code():
    def ssm_by_jacobian(score, x, v):  # the full Jacobian row by row, not the one-backward-pass trick
        rows = []
        for xi, vi in zip(x, v):
            J = torch.autograd.functional.jacobian(lambda z: score(z[None])[0], xi)
            s = score(xi[None])[0]
            rows.append(0.5 * (vi @ s) ** 2 + vi @ J @ vi)
        return torch.stack(rows).detach()

    return ssm_by_jacobian


def _derive_ula_code():
    return lambda score, x, eps, z: x + eps * score(x) + (2 * eps) ** 0.5 * z


def _derive_ito_code():
    def ito_loop(W):
        total = torch.zeros_like(W[0])
        for k in range(W.shape[0] - 1):
            total = total + W[k] * (W[k + 1] - W[k])
        return total

    return ito_loop


def _derive_em_code():
    return lambda f, g, x, t, dt, dw: x + dt * f(x, t) + dw * g(x, t)


def _derive_perturb_code():
    from scoresde.sde import VPSDE

    def by_marginal_prob(x0, t, z, beta_min=0.1, beta_max=20.0):
        mean, std = VPSDE(beta_min=beta_min, beta_max=beta_max).marginal_prob(x0, t)
        return mean + std.reshape(-1, 1) * z

    return by_marginal_prob


def _derive_div_code():
    from scoresde.sde import FunctionSDE

    def by_companion(G, x):
        m = G(x).shape[2]
        sde = FunctionSDE(lambda y, t: torch.zeros_like(y), lambda y, t: G(y), "general", noise_dim=m)
        return sde.div_sigma(x, 0.0)

    return by_companion


def _derive_why_project():
    return "a"  # Hutchinson: E_v[v^T J v] = tr J, so the sliced objective is unbiased


def _derive_bpd_from_nats():
    return float((sp.Rational(1, 2) + sp.log(sp.Rational(17, 2))) / sp.log(2))


def _derive_shared_code():
    def one_pass_then_m_gradients(score, x, v):  # the score once; one gradient per probe
        x = x.detach().requires_grad_(True)
        proj = (v * score(x)).sum(-1)
        grads = torch.stack([torch.autograd.grad(proj[m].sum(), x, retain_graph=True)[0] for m in range(len(v))])
        return (0.5 * proj**2 + (v * grads).sum(-1)).detach()

    return one_pass_then_m_gradients


DERIVED = {"1.3": _derive_1_3, "3.1": _derive_3_1, "3.2": _derive_3_2, "3.3": _derive_3_3, "4.1": _derive_4_1,
           "5.1": _derive_5_1, "5.3": _derive_5_3, "6.1": _derive_6_1, "6.2": _derive_6_2}
DERIVED.update({"1.1": _derive_hutchinson_sigma_bias, "1.2": _derive_rademacher_symmetric_2x2, "1.4": _derive_rademacher_2x2, "1.5": _derive_logistic_constant, "1.6": _derive_ism_facts, "1.7": _derive_ssm_code, "2.1": _derive_dsm_ratio, "2.2": _derive_probe_choice, "2.3": _derive_ema_memory, "2.4": _derive_two_mode_score, "2.5": _derive_ula_variance, "2.6": _derive_langevin_modes, "2.7": _derive_ula_code, "3.4": _derive_lambda_point_constant, "3.5": _derive_isometry_square, "3.6": _derive_which_sum, "3.7": _derive_ito_code, "4.2": _derive_gbm_negative, "4.3": _derive_sum_tk_dw, "4.4": _derive_gbm_weak_error, "4.5": _derive_additive_order, "4.6": _derive_em_code, "5.2": _derive_gaussian_flow_factor, "5.4": _derive_dsm_conditional, "5.5": _derive_flow_vs_sde, "5.6": _derive_perturb_code, "6.3": _derive_reverse_drift_2d, "6.4": _derive_missing_div, "6.5": _derive_ou_drift_zero, "6.6": _derive_div_code})
DERIVED.update({"7.4": _derive_why_project, "7.5": _derive_bpd_from_nats, "7.6": _derive_shared_code})


def _derive_7_1():
    M = sp.Symbol("M", positive=True)
    repeated, shared = M * (1 + 1), 1 + M * 1  # units: forward passes + directional products
    return sp.simplify(shared / repeated)


def _derive_7_2():
    D = 64
    neg_log_p = D * sp.log(2)  # p = 2^-64 on [-1, 1]^64
    return float((neg_log_p / D + sp.log(sp.Rational(17, 2))) / sp.log(2))


def _derive_7_3():
    d, s = sp.symbols("d s", positive=True)
    # Gaussian probes: Var(v^T A v) = ||A||_F^2 + tr(A^2) with A = -I/s^2 (book: eq-hutchinson-variance)
    gaussian = d / s**4 + d / s**4
    return [gaussian, sp.Integer(0)]  # sphere: |v|^2 = d exactly


DERIVED.update({"7.1": _derive_7_1, "7.2": _derive_7_2, "7.3": _derive_7_3})


def _derive_8_1():
    # J_ISM = E[(t1 - t2 x)^2 / 2 - t2] with x = mu + s z; minimise over (t1, t2)
    t1, t2, z = sp.symbols("t1 t2 z", real=True)
    mu, s = sp.Symbol("mu", real=True), sp.Symbol("s", positive=True)
    J = _gaussian_expectation((t1 - t2 * (mu + s * z)) ** 2 / 2 - t2, {z: 1})
    sol = sp.solve([sp.diff(J, t1), sp.diff(J, t2)], (t1, t2), dict=True)[0]
    return [sol[t1], sol[t2]]


def _derive_8_2():
    # eq-nice-logp by hand: standard normal prior in d = 2 plus the log-determinant of the scaling
    return float(-sp.Rational(1, 2) * (1 + 4) - sp.log(2 * sp.pi) + sp.Rational(3, 10) - sp.Rational(1, 10))


def _derive_8_3():
    # J_DSM(v) as an expectation over two independent Gaussians, minimised over v
    x, e = sp.symbols("x e", real=True)
    s, sigma, v = sp.symbols("s sigma v", positive=True)
    J = _gaussian_expectation((-(x + sigma * e) / v + e / sigma) ** 2 / 2, {x: s**2, e: 1})
    return sp.solve(sp.diff(J, v), v)[0]


def _derive_8_4():
    return "a"  # only the likelihood needs the normalising constant


def _derive_8_5():
    def by_jacobian(energy, x):  # row by row: the full Jacobian of the energy with respect to one row
        return torch.stack([-torch.autograd.functional.jacobian(lambda r: energy(r[None])[0], row) for row in x])

    return by_jacobian


def _derive_8_6():
    return float(sp.log(sp.Rational(17, 2)) - sp.Rational(5, 2) * sp.log(2))


DERIVED.update({"8.1": _derive_8_1, "8.2": _derive_8_2, "8.3": _derive_8_3, "8.4": _derive_8_4, "8.5": _derive_8_5,
                "8.6": _derive_8_6})


def _derive_9_1():
    sigma, eps_hat = sp.Rational(4, 5), sp.Rational(3, 5)
    return float(-eps_hat / sigma)  # the score of q(x_t | x_0) at x_t = alpha x_0 + sigma eps is -eps / sigma


def _derive_9_2():
    a, s, x0, eps, c1, c2 = sp.symbols("a s x0 eps c1 c2", real=True)
    x, v = a * x0 + s * eps, a * eps - s * x0
    sol = sp.solve(sp.Poly(sp.expand(c1 * x + c2 * v - x0), x0, eps).coeffs(), [c1, c2])  # x0 = c1 x + c2 v
    norm = a**2 + s**2                                   # = 1 on a variance-preserving path
    xs, vs = sp.symbols("x v", real=True)
    return sp.simplify(sol[c1] * norm) * xs + sp.simplify(sol[c2] * norm) * vs


def _derive_9_3():
    t = sp.Rational(1, 5)
    return float(sp.log((1 - t) / t))


def _derive_9_4():
    rho, lo, hi = 7, sp.Rational(2, 1000), sp.Integer(80)
    return float((hi ** sp.Rational(1, rho) + sp.Rational(1, 4) * (lo ** sp.Rational(1, rho) - hi ** sp.Rational(1, rho))) ** rho)


def _derive_9_5():
    t, vt, vv, eps = sp.symbols("t v_theta v eps", real=True)
    x0 = sp.Symbol("x0", real=True)
    xt = (1 - t) * x0 + t * eps
    eps_theta = xt + (1 - t) * vt          # the noise that v_theta implies on the linear path
    ratio = sp.simplify(((vt - (eps - x0)) ** 2) / ((eps_theta - eps) ** 2))
    return sp.factor(ratio)


def _derive_9_6():
    return "a"  # x_t - x_s = (t - s)(eps_hat - x0_hat) = (t - s) u: Euler on the velocity ODE


def _derive_9_7():
    return lambda x, eps, a_s, s_s, a_t, s_t: a_t * (x - s_s * eps) / a_s + s_t * eps


DERIVED.update({"9.1": _derive_9_1, "9.2": _derive_9_2, "9.3": _derive_9_3, "9.4": _derive_9_4, "9.5": _derive_9_5,
                "9.6": _derive_9_6, "9.7": _derive_9_7})


def test_every_registered_exercise_is_derived_here():
    assert set(DERIVED) == set(ENTRY), "add an independent derivation for each registered exercise"


@pytest.mark.parametrize("exercise_id", sorted(DERIVED))
def test_independent_derivation_is_accepted(exercise_id):
    result = check(exercise_id, DERIVED[exercise_id]())
    assert result.status == "correct", str(result)
    assert bool(result) and result.correct and "✓" in str(result)


def _wrong(exercise_id):
    """A plausible wrong answer: the derived one doubled (its first entry, for a list; shifted if zero)."""
    right = DERIVED[exercise_id]()
    if callable(right):  # a code exercise: the right function's output, doubled
        return lambda *args: 2 * right(*args)
    if isinstance(right, str):  # a choice: another of its options
        return next(o for o in ENTRY[exercise_id]["options"] if o != right)
    if isinstance(right, list):
        return [2 * right[0] + 1] + right[1:]
    return 2 * right + 1 if right == 0 else 2 * right


@pytest.mark.parametrize("exercise_id", sorted(DERIVED))
def test_wrong_answer_gets_not_yet_and_the_hint_but_never_the_answer(exercise_id):
    result = check(exercise_id, _wrong(exercise_id))
    assert result.status == "not yet" and not result
    text = str(result)
    assert "not yet" in text and "還不對" in text
    assert ENTRY[exercise_id]["hint"][0] in text and ENTRY[exercise_id]["hint"][1] in text
    expected = exercises._decode(ENTRY[exercise_id].get("answer", exercises._encode("")))
    derived = DERIVED[exercise_id]()
    shown = {str(expected), sp.sstr(derived)} | ({sp.sstr(d) for d in derived} if isinstance(derived, list) else set())
    for value in shown:
        if len(value) > 3:  # a bare symbol such as x1 may well be named in the hint
            assert value not in text, f"the message reveals {value!r}"


@pytest.mark.parametrize("exercise_id", sorted(DERIVED))
def test_describe_and_hint_never_reveal_the_answer(exercise_id):
    expected = str(exercises._decode(ENTRY[exercise_id].get("answer", exercises._encode(""))))
    for text in (describe(exercise_id), hint(exercise_id)):
        if ENTRY[exercise_id]["kind"] not in ("choice", "code"):  # a choice's options are public; which one is right is not
            assert expected not in text
        assert re.search(r"[\u4e00-\u9fff]", text) and re.search(r"[A-Za-z]{3}", text)  # both languages


def test_answers_are_not_stored_in_plain_text():
    source = (ROOT / "companion/scoresde/exercises/answers.py").read_text(encoding="utf-8")
    for entry in EXERCISES.values():
        value = exercises._decode(entry.get("answer", exercises._encode("")))
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and len(item) > 3 and entry["kind"] != "choice":  # options are public
                assert item not in source
        assert exercises._decode(exercises._encode(value)) == value


# ---- numbers (exercise 3.1) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [14, 14.0, 14 + 1e-9, np.float64(14.0), np.array(14.0), np.array([14.0]), torch.tensor(14.0),
     torch.tensor([14.0], dtype=torch.float64), sp.Integer(14), sp.Rational(28, 2), sp.sqrt(196), Fraction(14, 1)],
    ids=lambda a: type(a).__name__,
)
def test_number_right_in_every_numeric_type(answer):
    assert check("3.1", answer).status == "correct"


def test_number_on_the_answers_device(device):
    assert check("3.1", torch.tensor(14.0, device=device)).correct
    assert check("3.1", torch.tensor(13.0, device=device)).status == "not yet"


def test_number_is_judged_at_the_precision_typed():
    assert str(check("3.1", 14 * (1 + 4e-7))) == "Exercise 3.1 · 習題 3.1: ✓ correct · 正確"  # 6 digits agree
    assert check("3.1", 14 * (1 + 1e-5)).status == "not yet"  # 14.00014: typed to 7 digits, wrong at the 6th
    assert check("3.1", 14.2).status == "not yet"  # a Monte Carlo estimate is not the exact value
    assert check("3.1", 14.02).status == "not yet"
    assert str(check("5.3", 0.59)).endswith("✓ correct to 2 significant digits · 正確（2 位有效數字）")
    assert str(check("5.3", 0.5916)).endswith("correct to 4 significant digits · 正確（4 位有效數字）")
    assert check("5.3", 0.5915).status == "not yet"  # 4 digits typed, the 4th wrong (truncated, not rounded)
    assert check("5.3", np.float32(0.59)).correct and check("5.3", torch.tensor(0.5916)).correct  # read as float32
    short = check("5.3", 0.6)
    assert short.status == "malformed" and "0.6 has 1 significant digit; give at least 2" in str(short)
    assert "至少給出 2 位" in str(short) and "to at least 2 significant digits" in describe("5.3")


@pytest.mark.parametrize(
    "answer, says",
    [
        ("14", "pass float(...) of it"),
        ("14", "請傳入 float(...)"),
        (10**400, "too large for a float"),
        (10**400, "太大"),
        (None, "must be a number"),
        (True, "bool"),
        (float("nan"), "not a finite number"),
        (float("inf"), "not a finite number"),
        (torch.tensor([14.0, 1.0]), "tensor of shape (2,)"),
        (torch.tensor(14.0 + 0j), "complex"),
        (np.array([14.0, 1.0]), "array of shape (2,)"),
        (complex(14, 1), "complex"),
        (sp.Symbol("x") + 14, "expression in x"),
        (sp.I + 14, "complex"),
        ([14], "must be a number"),
    ],
    ids=lambda v: repr(v)[:20],
)
def test_number_malformed(answer, says):
    result = check("3.1", answer)
    assert result.status == "malformed" and not result
    text = str(result)
    assert says in text, text
    assert "無法檢查" in text and ENTRY["3.1"]["form"][0] in text and ENTRY["3.1"]["form"][1] in text


# ---- expressions (exercises 3.2, 3.3, 4.1, 6.1) ---------------------------------------------------------


@pytest.mark.parametrize(
    "exercise_id, answer",
    [
        ("3.2", "t**3/3"),
        ("3.2", "t^3/3"),                                  # ^ means power
        ("3.2", " (1/3) * t**3 "),
        ("3.2", sp.Symbol("t") ** 3 / 3),                  # a plain Symbol (no assumptions) matches by name
        ("3.2", sp.integrate(sp.Symbol("s") ** 2, (sp.Symbol("s"), 0, sp.Symbol("t")))),
        ("3.3", "exp(sigma**2*t)"),
        ("3.3", "exp(sigma*t*sigma)"),
        ("3.3", "exp(sigma**2*t/2)**2"),                   # equal only after simplification
        ("4.1", "beta*h/(2 - beta*h)"),
        ("4.1", "1/(1 - beta*h/2) - 1"),                   # the ratio minus one, unsimplified
        ("6.1", "-beta*x + sigma**2*x/(s0**2*exp(-2*beta*t) + sigma**2/(2*beta)*(1-exp(-2*beta*t)))"),
        ("6.1", "x*(-beta + 2*beta*sigma**2/(2*beta*s0**2*exp(-2*beta*t) + sigma**2*(1 - exp(-2*beta*t))))"),
    ],
)
def test_expression_right_in_any_equivalent_form(exercise_id, answer):
    result = check(exercise_id, answer)
    assert result.status == "correct", str(result)


@pytest.mark.parametrize(
    "exercise_id, answer, remark",
    [
        ("3.2", "t**3/6", "constant factor"),
        ("3.2", "-t**3/3", "constant factor"),
        ("3.2", "t**3/3 + 1", "additive constant"),
        ("3.2", "t**2/2", None),
        ("3.3", "exp(sigma**2*t/2)", None),
        ("3.3", "1", None),
        ("3.3", 1, None),                                  # a plain number is an expression too
        ("4.1", "beta*h/2", None),                         # the first-order approximation is not exact
        ("6.1", "-beta*x + 2*beta*x", None),               # the stationary drift, not the general one
        ("6.1", "-beta*x", None),
    ],
)
def test_expression_wrong(exercise_id, answer, remark):
    result = check(exercise_id, answer)
    assert result.status == "not yet", str(result)
    if remark:
        assert remark in str(result)
    else:
        assert "constant factor" not in str(result) and "additive constant" not in str(result)


@pytest.mark.parametrize(
    "answer, says",
    [
        ("x**3/3", "unknown symbol(s) x"),
        ("t**3/3 + sigma", "unknown symbol(s) sigma"),
        ("Var = t**3/3", "equation"),
        (sp.Eq(sp.Symbol("t"), 1), "equation"),
        ("t**(", "cannot read"),
        ("t**3/", "cannot read"),
        ("", "empty string"),
        ("   ", "empty string"),
        ("1/0", "infinite or undefined"),
        ("oo", "infinite or undefined"),
        (None, "expression in t"),
        (True, "expression in t"),
        ([1, 2], "sympy expression or a string"),
        (object(), "sympy expression or a string"),
        (sp.Matrix([1, 2]), "one expression"),
    ],
    ids=lambda v: repr(v)[:20],
)
def test_expression_malformed(answer, says):
    result = check("3.2", answer)
    assert result.status == "malformed", str(result)
    assert says in str(result) and ENTRY["3.2"]["form"][0] in str(result)


def test_expression_from_a_tensor_or_array_is_a_constant():
    assert check("3.3", torch.tensor(1.0)).status == "not yet"
    assert check("3.3", np.float64(1.0)).status == "not yet"
    assert check("3.2", torch.tensor([1.0, 2.0])).status == "malformed"


# ---- lists of expressions (exercises 1.3 and 6.2) -------------------------------------------------

X1, X2 = sp.symbols("x1 x2")  # no assumptions: matched by name


@pytest.mark.parametrize(
    "exercise_id, answer",
    [
        ("1.3", ["1/s**2", "mu"]),
        ("1.3", ("s**-2", "mu")),
        ("1.3", "(1/s^2, mu)"),                            # one string holding a tuple
        ("1.3", [1 / sp.Symbol("s") ** 2, sp.Symbol("mu")]),
        ("1.3", sp.Tuple(sp.Symbol("s") ** -2, sp.Symbol("mu"))),
        ("6.2", ["x1", "x2"]),
        ("6.2", [X1, X2]),
        ("6.2", sp.Matrix([X1, X2])),                      # a column vector
        ("6.2", sp.Matrix([[X1, X2]])),                    # a row vector
        ("6.2", [X2 * X1 / X2, "x2"]),
    ],
    ids=lambda v: str(v)[:24],
)
def test_list_of_expressions_right(exercise_id, answer):
    assert check(exercise_id, answer).status == "correct", str(check(exercise_id, answer))


@pytest.mark.parametrize(
    "exercise_id, answer, entries",
    [("1.3", ["s**2", "mu"], "entry 1 of 2"), ("1.3", ["1/s**2", "0"], "entry 2 of 2"),
     ("1.3", ["mu", "1/s**2"], "entry 1, 2 of 2"), ("6.2", ["x2", "x1"], "entry 1, 2 of 2"),
     ("6.2", ["x1", "2*x2"], "entry 2 of 2")],
)
def test_list_of_expressions_wrong_names_the_wrong_entries(exercise_id, answer, entries):
    result = check(exercise_id, answer)
    assert result.status == "not yet" and entries in str(result), str(result)


@pytest.mark.parametrize(
    "answer, says",
    [
        (["x1"], "2 entries, got 1"),
        (["x1", "x2", "0"], "2 entries, got 3"),
        ("x1", "list of 2 expressions"),
        (X1, "list of 2 expressions"),
        (sp.Matrix([[X1, 0], [0, X2]]), "list of 2 expressions"),
        (["x1", "y"], "unknown symbol(s) y; write entry 2"),
        (["x1", "x2 ="], "equation"),
        (["x1", None], "expression in x1, x2"),
        (["x1", "1/0"], "entry 2 contains an infinite"),
        ([sp.Eq(X1, 0), "x2"], "entry 1 is an equation"),
        (["x1", "x2**("], "cannot read"),
    ],
    ids=lambda v: repr(v)[:24],
)
def test_list_of_expressions_malformed(answer, says):
    result = check("6.2", answer)
    assert result.status == "malformed" and says in str(result), str(result)


# ---- choices and ids past 9, on a registry made here ------------------------------------------------

TEST_REGISTRY = exercises._build_registry(
    {
        "ex-09-choice": {"chapter": 9, "kind": "choice", "form": ("a, b or c", "a、b 或 c"),
                         "hint": ("choice hint", "選擇提示"), "answer": exercises._encode("b"), "options": ["a", "b", "c"]},
        **{f"ex-09-{k}": {"chapter": 9, "kind": "number", "form": ("a number", "一個數"), "hint": ("ten hint", "十的提示"),
                          "answer": exercises._encode(10), "digits": 1} for k in range(2, 11)},
    }
)


@pytest.fixture
def test_registry(monkeypatch):
    monkeypatch.setattr(exercises, "_REGISTRY", TEST_REGISTRY)


@pytest.mark.parametrize("answer, status", [("b", "correct"), (" B ", "correct"), ("a", "not yet"), ("c", "not yet"),
                                            ("d", "malformed"), (2, "malformed"), (None, "malformed")])
def test_choice(test_registry, answer, status):
    assert check("9.1", answer).status == status


def test_choice_options_listed_in_both_languages(test_registry):
    text = str(check("9.1", "d"))
    assert "not one of the options a, b, c" in text and "不是選項 a、b、c 之一" in text


def test_ids_are_strings_in_book_order(test_registry):
    assert check("9.10", 10).correct and check("9.10", 11).status == "not yet"
    assert exercise_ids() == [f"9.{k}" for k in range(1, 11)]  # book order, not string order
    assert exercise_ids(9)[-2:] == ["9.9", "9.10"] and exercise_ids(3) == []
    with pytest.raises(TypeError, match="string such as"):
        check(9.10, 10)  # as a number it would be 9.1


# ---- ids, the result object, the registry builder, imports ------------------------------------------


def test_exercise_id_errors():
    with pytest.raises(TypeError, match="string such as '3.2'"):
        check(3.1, 14)
    with pytest.raises(TypeError, match="string"):
        check(["3.1"], 14)
    with pytest.raises(ValueError, match="unknown exercise_id '9.9'; the nearest are"):
        check("9.9", 14)
    with pytest.raises(ValueError, match="unknown exercise_id"):
        describe("3")
    with pytest.raises(TypeError, match="chapter must be an int"):
        exercise_ids("3")
    with pytest.raises(TypeError, match="chapter must be an int"):
        exercise_ids(True)


@pytest.mark.parametrize("exercise_id", exercise_ids())
def test_the_label_and_a_padded_id_name_the_same_exercise(exercise_id):
    label = next(lab for lab, ex in exercises._REGISTRY.items() if ex.exercise_id == exercise_id)
    right = DERIVED[exercise_id]()
    for name in (label, f" {exercise_id} ", f"{label} "):
        result = check(name, right)
        assert result.correct and result.exercise_id == exercise_id
    assert describe(label) == describe(exercise_id) and hint(label) == hint(exercise_id)


def test_exercise_ids_of_a_chapter():
    assert exercise_ids(3) == [i for i in exercise_ids() if i.startswith("3.")]
    assert all(exercise_ids(c) == [] or exercise_ids(c)[0].startswith(f"{c}.") for c in range(1, 7))


def test_result_object():
    right, wrong = check("3.1", 14), check("3.1", 15)
    assert isinstance(right, CheckResult) and right.exercise_id == "3.1"
    assert repr(right) == str(right) == right.message and "Exercise 3.1 · 習題 3.1" in right.message
    assert bool(right) is True and bool(wrong) is False and not wrong.correct
    with pytest.raises(AttributeError):
        right.status = "correct"  # frozen


def test_a_typo_in_an_id_answers_in_one_line_in_both_languages_with_the_nearest_ids():
    with pytest.raises(ValueError) as err:
        check("1.l", 0.5)
    text = str(err.value)
    assert "\n" not in text and "unknown exercise_id '1.l'" in text and "沒有編號為 '1.l' 的習題" in text
    assert "the nearest are '1.1'" in text and "最接近的是 '1.1'" in text and len(text) < 200
    with pytest.raises(ValueError, match="nearest are 'ex-07-shared-code'"):
        check("ex-07-shared-cod", None)


@pytest.mark.parametrize(
    "entry, error, match",
    [
        ({"l": {"chapter": "3", "kind": "number", "form": ("", ""), "hint": ("", ""), "answer": ""}},
         ValueError, "chapter must be a positive int"),
        ({"l": {"chapter": 0, "kind": "number", "form": ("", ""), "hint": ("", ""), "answer": ""}},
         ValueError, "chapter must be a positive int"),
        ({"l": {"chapter": 3, "kind": "vector", "form": ("", ""), "hint": ("", ""), "answer": ""}},
         ValueError, "unknown kind"),
    ],
)
def test_registry_builder_rejects_bad_entries(entry, error, match):
    with pytest.raises(error, match=match):
        exercises._build_registry(entry)


def test_sympy_is_imported_lazily():
    """Importing the module, and checking a number, loads neither sympy nor matplotlib; an expression does."""
    code = (
        "import sys, scoresde.exercises as e; assert 'sympy' not in sys.modules, 'sympy at import'; "
        "assert 'matplotlib' not in sys.modules, 'matplotlib at import'; "
        "e.check('3.1', 14.0); assert 'sympy' not in sys.modules, 'sympy for a number'; "
        "e.check('3.2', 't**3/3'); assert 'sympy' in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_registry_entries_are_complete():
    for exercise_id, entry in EXERCISES.items():
        assert {"chapter", "kind", "form", "hint"} | ({"answer"} if entry["kind"] != "code" else set()) <= set(entry)
        assert all(len(pair) == 2 and all(pair) for pair in (entry["form"], entry["hint"])), exercise_id
        if entry["kind"] == "expression":
            assert entry.get("symbols"), exercise_id
            decoded = exercises._decode(entry["answer"])
            for item in decoded if isinstance(decoded, list) else [decoded]:
                expected = sp.sympify(item, locals={n: sp.Symbol(n) for n in entry["symbols"]})
                assert {str(s) for s in expected.free_symbols} <= set(entry["symbols"]), exercise_id
        if entry["kind"] == "number":
            assert 1 <= entry["digits"] <= kinds.EXACT_DIGITS, exercise_id
