"""The fairness table (issue 30): for every exercise, the exact answer, the value its worked solution prints, and
plausible wrong answers (a factor 2, a sign, a missing term, an off-by-one). Right ones are accepted; wrong ones are
rejected, typed at full precision and rounded to the fewest significant digits the exercise accepts, so each
exercise's stated minimum of digits lies below its nearest plausible wrong answer."""

from __future__ import annotations

import math
from decimal import Decimal
from statistics import NormalDist

import pytest
from test_exercise_references import RIGHT, WRONG
from test_exercises import DERIVED

from scoresde import exercises
from scoresde.exercises import check
from scoresde.exercises.answers import EXERCISES
from scoresde.exercises.kinds import EXACT_DIGITS

PHI = NormalDist().cdf
LN2 = math.log(2)

# label: (the exact value, what the worked solution prints, plausible wrong answers)
NUMBERS: dict[str, tuple[float, float, list[float]]] = {
    "ex-01-hutchinson-sigma": (-1, -1, [1, 4, -2]),                                  # sign; tr(A Sigma) alone; x2
    "ex-01-rademacher-2x2": (25, 25, [59, 50]),                                      # Gaussian probes; x2
    "ex-01-logistic-constant": (1 / 6, 0.1667, [1 / 3, 1 / 12, -1 / 6]),              # x2; /2; sign
    "ex-02-dsm-bias": (0.8, 0.8, [1.25, 0.2, 0.64]),                                 # inverted; sigma^2 share; squared
    "ex-02-rademacher": (5, 5, [0.2, 20 / 12, 2.5]),                                 # inverted; 2 sum A_ii^2 halved; F only
    "ex-02-ema-memory": (0.999**500, 0.6064, [0.999**501, 0.999**499, 0.5]),          # off by one (both); first order
    "ex-02-ula-variance": (0.3125, 0.3125, [0.25, 0.625, 0.15625]),                  # target; x2; noise sqrt(eps)
    "ex-03-sum-increments": (14, 14, [6, 7, 28]),                                    # independent W_k; 1+2+4?; x2
    "ex-03-lambda-point": (5 / 16, 5 / 16, [0.25, 0.5, 0.625]),                      # midpoint; left point; x2
    "ex-04-gbm-negative": (PHI(-math.sqrt(2)), 0.0786, [PHI(-2), PHI(-1 / math.sqrt(2)), 2 * PHI(-math.sqrt(2))]),
    "ex-sde-gaussian-flow": (0.5000905500285502, 0.5001, [1 / 0.5000905500285502, 0.5000905500285502**2]),
    "ex-sde-prior": (math.exp(-0.525), 0.59, [math.exp(-1.05), math.exp(-1), math.exp(0.525)]),  # alpha^2; B; sign
    "ex-06-ou-drift-zero": (math.log(3) / 2, 0.549, [math.log(3), math.log(3) / 4, math.log(2) / 2]),
    "ex-07-uniform-bpd": (math.log2(17), 4.087, [math.log2(8.5), 4.0, math.log(17)]),  # no log 2; log2 16; nats
    "ex-07-bpd-from-nats": ((0.5 + math.log(8.5)) / LN2, 3.81, [math.log2(17), math.log2(8.5), 0.5 / LN2,
                                                                 0.5 + math.log(8.5)]),
    "ex-08-nice-logp": (-2.5 - math.log(2 * math.pi) + 0.2, -4.138,
                        [-2.5 - math.log(2 * math.pi), -2.5 - math.log(2 * math.pi) - 0.2,  # no scales; their sign
                         -2.5 - 0.5 * math.log(2 * math.pi) + 0.2]),                        # log(2 pi) / 2 for d = 2
    "ex-08-bpd-to-nats": (math.log(8.5) - 2.5 * LN2, 0.407, [2.5 * LN2 - math.log(8.5), -2.5 * LN2,  # sign; no offset
                                                           math.log(8.5) - 2.5]),                   # bits as nats
    "ex-09-eps-to-score": (-0.75, -0.75, [0.75, -0.48, -0.9375]),                  # sign; times sigma; over sigma^2
    "ex-09-log-snr": (math.log(4), 1.386, [-math.log(4), math.log(2), 4.0]),        # sign; log sqrt; no log
    "ex-09-karras-level": ((80 ** (1 / 7) + 0.25 * (0.002 ** (1 / 7) - 80 ** (1 / 7))) ** 7, 17.5,
                           [80 + 0.25 * (0.002 - 80), 80 * (0.002 / 80) ** 0.25]),  # rho = 1; equal steps in log
}
ALSO_PRINTED = {"ex-sde-prior": [0.592], "ex-07-uniform-bpd": [4.09]}

# label: (the solution's form, plausible wrong answers); the exact form is the registered one
EXPRESSIONS: dict[str, tuple[object, list[object]]] = {
    "ex-01-rademacher-variance": ("4*b^2", ["2*b**2", "4*b**2 + 2*a**2 + 2*c**2"]),
    "ex-01-ism-gaussian-model": (["s**-2", "mu"], [["s**2", "mu"], ["1/s**2", "-mu"], ["1/(2*s**2)", "mu"]]),
    "ex-02-two-mode-score": ("m*tanh(m*x) - x", ["-x + tanh(m*x)", "-x - m*tanh(m*x)", "m*tanh(m*x)"]),
    "ex-03-t-dw": ("t^3/3", ["t**2/2", "t**3"]),
    "ex-03-exp-martingale": ("exp(sigma^2*t)", ["1", "exp(sigma**2*t/2)", "exp(2*sigma**2*t)"]),
    "ex-03-isometry-square": ("t^2/2", ["t**2", "t**2/4"]),
    "ex-04-ou-stationary": ("1/(1 - beta*h/2) - 1", ["beta*h/2", "beta*h/(2 + beta*h)", "2/(2 - beta*h)"]),
    "ex-04-sum-of-increments": ("(N - 1)*(2*N - 1)/(6*N^2)", ["1/3", "(N + 1)*(2*N + 1)/(6*N**2)"]),
    "ex-04-gbm-weak-error": ("exp(mu) - (1 + mu*h)^(1/h)", ["exp(mu) - (1 + mu*h)**h", "(1 + mu*h)**(1/h) - exp(mu)"]),
    "ex-sde-subvp": ("1 - exp(-B)", ["1 + exp(-B)", "1 - exp(-2*B)"]),
    "ex-05-dsm-conditional": ("sigma*x/(alpha^2*s0^2 + sigma^2)",
                              ["x/sigma", "sigma*x/(alpha**2*s0**2)", "sigma**2*x/(alpha**2*s0**2 + sigma**2)"]),
    "ex-rt-ou": ("-beta*x + sigma^2*x/(s0^2*exp(-2*beta*t) + sigma^2*(1 - exp(-2*beta*t))/(2*beta))",
                 ["-beta*x", "-beta*x - sigma**2*x/(s0**2*exp(-2*beta*t) + sigma**2*(1 - exp(-2*beta*t))/(2*beta))"]),
    "ex-rt-div": (["x1", "x2"], [["x2", "x1"], ["2*x1", "x2"]]),
    "ex-06-reverse-drift-2d": (["x1*(1 + x2)", "x1^2*(1 + x2) + x2 - 1"],
                               [["x1*x2", "x1**2*x2 + x2"], ["-x1 - x1*x2", "1 - x1**2 - x1**2*x2 - x2"]]),
    "ex-07-shared-cost": ("(M + 1)/(2*M)", ["1/M", "(1 + M)/M", "2*M/(1 + M)"]),
    "ex-07-probe-variance": (["2*d/s^4", "0"], [["d/s**4", "0"], ["2*d/s**4", "2*d/s**4"], ["2*d/s**2", "0"]]),
    "ex-08-ism-gaussian-family": (["mu/s^2", "1/s^2"], [["mu", "1/s**2"], ["mu/s**2", "s**2"], ["-mu/s**2", "1/s**2"]]),
    "ex-08-dsm-bias": ("s^2 + sigma^2", ["s**2", "s**2 - sigma**2", "sigma**2"]),
    "ex-09-v-to-x0": ("a*x - s*v", ["a*x + s*v", "s*x + a*v", "x/a - s*v"]),
    "ex-09-fm-weight": ("1/(1 - t)^2", ["t**2/(1 - t)**2", "(1 - t)**2", "1/(1 - t)"]),
}


def _kind(label: str) -> str:
    return EXERCISES[label]["kind"]


def test_the_table_covers_every_exercise():
    numbers = {lab for lab in EXERCISES if _kind(lab) == "number"}
    expressions = {lab for lab in EXERCISES if _kind(lab) == "expression"}
    assert set(NUMBERS) == numbers and set(EXPRESSIONS) == expressions
    codes = {lab for lab in EXERCISES if _kind(lab) == "code"}
    assert all(sum(key == lab for key, _, _ in WRONG) >= 2 for lab in codes) and set(RIGHT) == codes
    assert all(len(EXERCISES[lab]["options"]) >= 3 for lab in EXERCISES if _kind(lab) == "choice")


def _rounded(x: float, digits: int) -> float:
    return float(f"{x:.{digits}g}")


@pytest.mark.parametrize("label", sorted(NUMBERS))
def test_a_number_right_at_every_precision_wrong_at_the_fewest_digits(label):
    exact, printed, wrong = NUMBERS[label]
    digits = EXERCISES[label]["digits"]
    assert math.isclose(exact, exercises._decode(EXERCISES[label]["answer"]), rel_tol=1e-12)
    for typed in [exact, printed, *ALSO_PRINTED.get(label, [])] + [_rounded(exact, n)
                                                                     for n in range(digits, EXACT_DIGITS + 1)]:
        assert check(label, typed).correct, (label, typed, str(check(label, typed)))
    assert len(wrong) >= 2
    for w in wrong:
        for typed in (w, _rounded(w, digits)):
            result = check(label, typed)
            assert result.status == "not yet", (label, typed, str(result))
    fewer = _rounded(exact, digits - 1)  # as a float: 14 to 1 digit is 10.0, with 3 digits of its own
    if digits > 1 and len(Decimal(repr(fewer)).as_tuple().digits) < digits and not math.isclose(fewer, exact):
        assert check(label, fewer).status == "malformed"  # too few digits to judge, not "correct"


@pytest.mark.parametrize("label", sorted(EXPRESSIONS))
def test_an_expression_right_in_the_solution_s_form_and_wrong_answers_rejected(label):
    printed, wrong = EXPRESSIONS[label]
    assert check(label, exercises._decode(EXERCISES[label]["answer"])).correct
    assert check(label, DERIVED[exercises._REGISTRY[label].exercise_id]()).correct
    assert check(label, printed).correct, str(check(label, printed))
    assert len(wrong) >= 2
    for w in wrong:
        assert check(label, w).status == "not yet", (label, w, str(check(label, w)))


@pytest.mark.parametrize("label", sorted(lab for lab in EXERCISES if _kind(lab) == "choice"))
def test_a_choice_right_and_every_other_option_wrong(label):
    right = exercises._decode(EXERCISES[label]["answer"])
    assert check(label, right).correct
    for option in EXERCISES[label]["options"]:
        if option != right:
            assert check(label, option).status == "not yet"


@pytest.mark.parametrize("label", sorted(RIGHT))
def test_a_code_answer_right_and_its_typical_wrong_functions_rejected(label):
    assert check(label, RIGHT[label]).correct
    for key, fn, words in WRONG:
        if key == label:
            result = check(label, fn)
            assert result.status == "not yet" and words in str(result).splitlines()[0], str(result)


def test_the_table_catches_a_tolerance_too_loose(monkeypatch):
    """Mutation: with 2.3's minimum lowered to 3 digits, the off-by-one beta^501 rounds to the right 0.606 and passes."""
    loose = dict(exercises._REGISTRY)
    from dataclasses import replace

    loose["ex-02-ema-memory"] = replace(loose["ex-02-ema-memory"], digits=3)
    monkeypatch.setattr(exercises, "_REGISTRY", loose)
    assert check("ex-02-ema-memory", _rounded(0.999**501, 3)).correct
