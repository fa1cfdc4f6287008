"""The answer checker treats a typed answer as data: injection, resource and malformed strings are refused
quickly with no side effect, and every registered answer (and equivalent forms) is still accepted."""

from __future__ import annotations

import os
import time

import pytest
import sympy as sp

from scoresde import exercises
from scoresde.exercises import kinds
from scoresde.exercises import safe_expr as _safe_expr
from scoresde.exercises.answers import EXERCISES
from scoresde.exercises import check

INJECTIONS = [
    "__import__('os').system('touch pwned')",
    "open('pwned2','w').write('x') and t",
    "open('pwned3', 'w')",
    "exec('open(\"pwned4\",\"w\")')",
    "eval('t')",
    "t.__class__.__bases__",
    "().__class__.__base__.__subclasses__()",
    "__builtins__",
    "_t",
    "lambda: t",
    "[open('pwned5','w') for _ in (1,)]",
    "(t for t in (1,))",
    "(y := t)",
    "'t**3/3'",
    "b't'",
    "f'{t}'",
    "t[0]",
    "exp(x=t)",
    "exp(*[t])",
    "exp(**{})",
    "t if t else 1",
    "{1: t}",
    "{t}",
    "t < 1",
    "import os",
    "t; open('pwned6','w')",
    "exp(t)(t)",
    "getattr(t, 'func')",
    "Symbol('t')",
    "1j*t",
]
RESOURCES = [
    "9**9**9",
    "factorial(10**7)",
    "t**(10**10)",
    "2**4000",
    "(2**1000)**1000",
    "2**1000*2**1000*2**1000*2**1000*2**1000",
    "10**" + "9" * 40,
    "1" * 200,
    "1e400*t",
    "-" * 400 + "t",
    "exp(" * 40 + "t" + ")" * 40,
    "t" + "+t" * 300,
    "2**exp(exp(exp(100)))",
    "t**exp(exp(exp(exp(9))))",
    "gamma(10**7)",
    "x" * 600,
]
MALFORMED = ["t**(", "t**3/", "exp", "log(t, 2)", "...", "True", "None", "(t, (t, t))"]


@pytest.mark.parametrize("answer", INJECTIONS + RESOURCES + MALFORMED, ids=lambda a: repr(a)[:30])
def test_refused_quickly_with_no_side_effect(answer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    result = check("3.2", answer)
    elapsed = time.perf_counter() - start
    assert result.status == "malformed", (answer, str(result))
    assert elapsed < 1.0, (answer, elapsed)
    assert os.listdir(tmp_path) == []
    assert "·" in str(result) and "t" in str(result)  # bilingual, and says the form (in t)


def test_the_table_is_large_enough():
    assert len(INJECTIONS) + len(RESOURCES) >= 25


@pytest.mark.parametrize("answer", ["__import__('os').system('touch pwned')", "9**9**9", "t.real"])
def test_refusal_says_malformed_and_expected_form_in_both_languages(answer):
    text = str(check("3.2", answer))
    assert "malformed" in text and "expected a form like" in text and "格式錯誤" in text and "應為" in text


def test_the_injection_test_catches_an_evaluating_parser(tmp_path, monkeypatch):
    """Mutation: with sympy's evaluating parse_expr back in place, the side-effect check fails."""
    from sympy.parsing.sympy_parser import parse_expr

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(kinds, "parse_answer", lambda text, symbols: parse_expr(text, local_dict=dict(symbols)))
    check("3.2", "open('pwned2','w').write('x') and t")
    assert os.listdir(tmp_path) == ["pwned2"]


@pytest.mark.parametrize("exercise_id", [i for i, e in EXERCISES.items() if e["kind"] == "expression"])
def test_every_registered_answer_is_accepted_as_typed_text(exercise_id):
    decoded = exercises._decode(EXERCISES[exercise_id]["answer"])
    assert check(exercise_id, decoded).status == "correct"
    if isinstance(decoded, str):
        assert check(exercise_id, f"({decoded})*2/2 + 0").status == "correct"
        assert check(exercise_id, decoded.replace("**", "^")).status == "correct"
        assert check(exercise_id, f"({decoded})*(1 + 10**-20)").status == "not yet"
    else:
        assert check(exercise_id, "[" + ", ".join(f"2*({d})/2" for d in decoded) + "]").status == "correct"


@pytest.mark.parametrize("answer", ["sqrt(t**6)/3", "0.5*t**3*2/3", "Abs(t)**3/3", "t**(3*exp(0))/3",
                                    "exp(3*log(t))/3", "t**3*(sin(t)**2 + cos(t)**2)/3", "pi*t**3/(3*pi)",
                                    "t^3/3 + 0*exp(exp(exp(exp(100))))"])
def test_equivalent_forms_accepted(answer):
    assert check("3.2", answer).status == "correct"


def test_overflowing_points_are_undecided_not_errors():
    t = sp.Symbol("t", positive=True)
    points = _safe_expr.sample_points([t], 4, seed=0)
    assert _safe_expr.values_at(sp.exp(sp.exp(sp.exp(sp.exp(sp.exp(t))))), points) == [None] * 4
    assert _safe_expr.equal_at_points(sp.exp(sp.exp(sp.exp(sp.exp(sp.exp(t))))), t, points) is None
    assert _safe_expr.equal_at_points(t**2, t * t, points) is True
    assert _safe_expr.equal_at_points(t**2, t * t + sp.Rational(1, 10**20), points) is False


def test_limits_are_parameters():
    small = _safe_expr.Limits(max_chars=5)
    with pytest.raises(_safe_expr.AnswerError, match="more than 5"):
        _safe_expr.parse_answer("t**3/3", {"t": sp.Symbol("t")}, small)
    assert _safe_expr.parse_answer("t**3/3", {"t": sp.Symbol("t")}) == sp.Symbol("t") ** 3 / 3


def test_time_limit_interrupts_python_code():
    with pytest.raises(TimeoutError):
        with _safe_expr.time_limit(0.2):
            while True:
                pass


def test_nested_time_limits_keep_the_outer_deadline():
    start = time.perf_counter()
    with pytest.raises(TimeoutError):
        with _safe_expr.time_limit(0.3):
            with _safe_expr.time_limit(5.0):
                pass
            while True:
                pass
    assert time.perf_counter() - start < 1.0


def test_unknown_function_lists_the_allowed_ones_in_each_language():
    """The Chinese half lists with 、 (Taiwan usage), the English half with commas."""
    t = sp.Symbol("t")
    with pytest.raises(_safe_expr.AnswerError) as err:
        _safe_expr.parse_answer("erfcx(t)", {"t": t})
    en, zh = str(err.value).split(" · ", 1)
    allowed = zh[zh.index("可用："):]
    assert "、" in allowed and ", " not in allowed, zh
    assert ", " in en, en
