r"""One checker per kind of answer: a number, an expression (or a list of them), a choice.

Each checker takes the exercise and the answer and returns ``(correct, remark)``, or raises :class:`Malformed`
with a bilingual message saying what cannot be read. None ever names the expected answer. (Code answers:
:mod:`scoresde.exercises.code`.)

**Numbers are judged at the precision typed.** A number that agrees with the exact value to :data:`EXACT_DIGITS`
significant digits is *correct*. Otherwise its significant digits are those it was typed with (the shortest
``repr`` of a float, so ``0.59`` and ``4.0`` have 2, but ``0.50`` is the float ``0.5``, with 1; float32 values are read
as float32). It
is *not yet* right unless the exact value rounds to it at that precision,
:math:`|a - e| \le \tfrac12 10^{\lfloor\log_{10}|a|\rfloor - n + 1}`; if it does, it is *correct to n significant
digits* when n is at least the exercise's ``digits``, and *malformed* (right as far as it goes, but too short to
tell from a plausible wrong answer) when n is fewer. Integers, fractions and sympy numbers are exact.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .safe_expr import AnswerError, close, equal_at_points, parse_answer, sample_points, time_limit, values_at

if TYPE_CHECKING:
    from . import Exercise

__all__ = ["EXACT_DIGITS", "Malformed", "check_number", "check_choice", "check_expression"]

#: significant digits at which a number counts as the exact value (a computed float64 agrees far better)
EXACT_DIGITS = 6
_POINTS = 8          # random points at which an answer is compared with the expected expression
_SIMPLIFY_OPS = 40   # sympy.simplify is tried only on a difference this small, when the points cannot decide
_SECONDS = 5.0       # wall-clock bound on one comparison (see safe_expr.time_limit)


class Malformed(Exception):
    """The answer cannot be read as the exercise's kind; the message says why (bilingual)."""


def as_real(value: Any, what: tuple[str, str] = ("the answer", "答案")) -> tuple[float, int]:
    """``(x, significant digits typed)`` for a real scalar (Python, NumPy, torch, sympy), else :class:`Malformed`."""
    en, zh = what
    single = isinstance(value, np.floating) and value.dtype.itemsize < 8  # a float32 is read as typed in float32
    if isinstance(value, bool):
        raise Malformed(f"{en} must be a number, got a bool · {zh}應該是一個數，而不是布林值")
    if isinstance(value, str):
        raise Malformed(f"{en} must be a number, got the string {value!r}; pass float(...) of it · "
                        f"{zh}應該是一個數，而不是字串；請傳入 float(...)")
    if isinstance(value, (torch.Tensor, np.ndarray)):
        kind, kind_zh = ("tensor", "張量") if isinstance(value, torch.Tensor) else ("array", "陣列")
        if math.prod(value.shape) != 1:
            raise Malformed(f"{en} must be one number, got a{'n' * (kind == 'array')} {kind} of shape "
                            f"{tuple(value.shape)} · {zh}應該是一個數，卻是形狀 {tuple(value.shape)} 的{kind_zh}")
        if value.is_complex() if isinstance(value, torch.Tensor) else np.iscomplexobj(value):
            raise Malformed(f"{en} must be real, got a complex {kind} · {zh}應該是實數")
        single = str(value.dtype).removeprefix("torch.") in ("float32", "float16", "bfloat16")
        value = (value.detach().cpu() if isinstance(value, torch.Tensor) else value).reshape(()).item()
    if type(value).__module__.startswith("sympy"):
        free: set[Any] = getattr(value, "free_symbols", set())
        if free:
            names = ", ".join(sorted(str(s) for s in free))
            raise Malformed(f"{en} must be a number, got an expression in {names} · {zh}應該是一個數，卻是含 {names} 的式子")
        try:
            value = complex(value)
        except (TypeError, ValueError) as exc:
            raise Malformed(f"{en} is not a number: {exc} · {zh}不是一個數") from None
        if value.imag != 0:
            raise Malformed(f"{en} must be real, got a complex number · {zh}應該是實數")
        value = value.real
    if isinstance(value, complex):
        raise Malformed(f"{en} must be real, got a complex number · {zh}應該是實數")
    if not isinstance(value, Real):
        raise Malformed(f"{en} must be a number, got {type(value).__name__} · {zh}應該是一個數，卻是 {type(value).__name__}")
    try:
        x = float(value)
    except OverflowError:
        raise Malformed(f"{en} is too large for a float · {zh}太大，超出浮點數的範圍") from None
    if not math.isfinite(x):
        raise Malformed(f"{en} is {x}, not a finite number · {zh}是 {x}，不是有限的數")
    if not (single or isinstance(value, float)):
        return x, EXACT_DIGITS  # an int, a fraction, a sympy number: exact
    return x, min(_digits(str(np.float32(x)) if single else repr(x)), EXACT_DIGITS)


def _digits(text: str) -> int:
    """Significant digits of a shortest float repr: ``"0.0066"`` -> 2, ``"4.0"`` -> 2."""
    return len(Decimal(text).as_tuple().digits)


def _agrees(x: float, e: float, digits: int) -> bool:
    """The exact value ``e`` rounds to ``x`` at ``digits`` significant digits (of ``x``; of ``e`` if ``x`` is 0)."""
    scale = abs(x) if x != 0 else abs(e)
    if scale == 0:
        return True
    unit = 10.0 ** (math.floor(math.log10(scale)) - digits + 1)
    return abs(x - e) <= 0.5 * unit * (1 + 1e-9)


def check_number(ex: Exercise, answer: Any) -> tuple[bool, str]:
    """Judge a number at the precision it was typed (module docstring); the remark names the digits."""
    x, n = as_real(answer)
    e = float(ex.expected)
    if _agrees(x, e, EXACT_DIGITS):
        return True, ""
    if n >= EXACT_DIGITS or not _agrees(x, e, n):
        return False, ""
    if n < ex.digits:  # right as far as it goes, but too short to tell from a plausible wrong answer
        raise Malformed(f"{x!r} has {n} significant digit{'s' * (n > 1)}; give at least {ex.digits} · "
                        f"{x!r} 只有 {n} 位有效數字；請至少給出 {ex.digits} 位")
    return True, f"to {n} significant digits · （{n} 位有效數字）"


def check_choice(ex: Exercise, answer: Any) -> tuple[bool, str]:
    """Judge a multiple-choice answer: one of the exercise's option labels, as a string (case and spaces ignored)."""
    options, options_zh = ", ".join(ex.options), "、".join(ex.options)
    if not isinstance(answer, str):
        raise Malformed(f"the answer must be one of the labels {options} (a string), got {type(answer).__name__}"
                        f" · 答案應該是選項 {options_zh} 之一（字串）")
    picked = answer.strip().lower()
    if picked not in [o.lower() for o in ex.options]:
        raise Malformed(f"{answer!r} is not one of the options {options} · {answer!r} 不是選項 {options_zh} 之一")
    return picked == str(ex.expected).lower(), ""


def _symbols(ex: Exercise) -> dict[str, Any]:
    import sympy as sp

    return {name: sp.Symbol(name, **dict(assumptions)) for name, assumptions in ex.symbols.items()}


def _parse(answer: Any, symbols: dict[str, Any]) -> Any:
    """Turn an answer into a sympy object (not yet validated), else :class:`Malformed`.

    A string is read as data by :func:`scoresde.exercises.safe_expr.parse_answer` (no code runs, sizes bounded).
    """
    import sympy as sp

    names = ", ".join(symbols) or "no symbols"
    if isinstance(answer, bool) or answer is None:
        raise Malformed(f"the answer must be an expression in {names}, got {answer!r} · 答案應該是以 {names} 表示的式子")
    if isinstance(answer, str):
        if not answer.strip():
            raise Malformed("the answer is an empty string · 答案是空字串")
        if re.search(r"(?<![<>=!:])=(?!=)", answer):
            raise Malformed("the answer is an equation; give only the expression (the right-hand side) · "
                            "答案是方程式；請只寫出式子（右邊）")
        try:
            parsed = parse_answer(answer, symbols)
        except AnswerError as why:
            raise Malformed(str(why)) from None
        return sp.Tuple(*parsed) if isinstance(parsed, tuple) else parsed
    if isinstance(answer, torch.Tensor) or (hasattr(answer, "shape") and hasattr(answer, "item")
                                            and not type(answer).__module__.startswith("sympy")):
        return sp.Float(as_real(answer)[0])
    try:
        return sp.sympify(answer, strict=True)
    except (sp.SympifyError, TypeError):
        raise Malformed(f"the answer must be a sympy expression or a string, got {type(answer).__name__} · "
                        "答案應該是 sympy 式子或字串") from None


def _validate(expr: Any, symbols: dict[str, Any], what: tuple[str, str] = ("the answer", "答案")) -> Any:
    """``expr`` as one finite sympy expression in the exercise's symbols (same assumptions), else Malformed."""
    import sympy as sp

    en, zh = what
    names = ", ".join(symbols) or "no symbols"
    # (a Symbol is also a Boolean in sympy, so test for Boolean only among non-expressions)
    if isinstance(expr, sp.core.relational.Relational) or (
            isinstance(expr, sp.logic.boolalg.Boolean) and not isinstance(expr, sp.Expr)):
        raise Malformed(f"{en} is an equation or a truth value; give only the expression (the right-hand side) · "
                        f"{zh}是方程式或真假值；請只寫出式子（右邊）")
    if getattr(expr, "is_Matrix", False) or not isinstance(expr, sp.Expr):
        raise Malformed(f"{en} must be one expression, got {type(expr).__name__} · {zh}應該是單一個式子")
    unknown = sorted(str(s) for s in expr.free_symbols if str(s) not in symbols)
    if unknown:
        raise Malformed(f"unknown symbol(s) {', '.join(unknown)}; write {en} in {names} · "
                        f"未知的符號 {'、'.join(unknown)}；請用 {names} 表示{zh}")
    if expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise Malformed(f"{en} contains an infinite or undefined value · {zh}含有無窮大或未定義的值")
    # the student's Symbol('t') and ours may differ in assumptions: match them by name
    return expr.xreplace({s: symbols[str(s)] for s in expr.free_symbols})


def _entries(parsed: Any, n: int) -> list[Any]:
    """The entries of an answer that must hold ``n`` expressions (list, tuple, sympy Tuple or vector)."""
    import sympy as sp

    if isinstance(parsed, (list, tuple, sp.Tuple)) or (getattr(parsed, "is_Matrix", False) and 1 in parsed.shape):
        items = list(parsed)
    else:
        raise Malformed(f"the answer must be a list of {n} expressions, got {type(parsed).__name__} · "
                        f"答案應該是 {n} 個式子的串列")
    if len(items) != n:
        raise Malformed(f"the answer must have {n} entries, got {len(items)} · 答案應該有 {n} 個分量，卻有 {len(items)} 個")
    return items


def _is_zero(got: Any, expected: Any, points: list[dict[Any, Any]]) -> bool:
    """``got == expected``: by value at random points (40 digits), else a cheap bounded ``simplify``."""
    import sympy as sp

    try:
        with time_limit(_SECONDS):
            same = equal_at_points(got, expected, points)
            if same is None and sp.count_ops(got - expected) <= _SIMPLIFY_OPS:
                same = sp.simplify(got - expected) == 0
    except TimeoutError:
        raise Malformed(f"the answer took more than {_SECONDS:g} s to compare; write it more simply · "
                        f"比對這個答案花了超過 {_SECONDS:g} 秒；請寫得簡單一些") from None
    return bool(same)


def _constant(values: list[Any]) -> bool:
    known = [v for v in values if v is not None]
    return len(known) >= 2 and all(close(v, known[0], 1e-20) for v in known)


def _remark(got: Any, expected: Any, points: list[dict[Any, Any]]) -> str:
    """A structural remark on a wrong scalar expression that does not reveal the answer, or ''."""
    g, e = values_at(got, points), values_at(expected, points)
    pairs = [(a, b) for a, b in zip(g, e) if a is not None and b is not None]
    if pairs and all(b != 0 for _, b in pairs) and _constant([a / b for a, b in pairs]) and pairs[0][0] != 0:
        return "Your expression is off by a constant factor. · 你的式子差了一個常數倍。"
    if _constant([a - b for a, b in pairs]):
        return "Your expression is off by an additive constant. · 你的式子與答案相差一個常數項。"
    return ""


def check_expression(ex: Exercise, answer: Any) -> tuple[bool, str]:
    """(correct, a remark for a wrong answer). Expected: one sympy string, or a list of them."""
    symbols = _symbols(ex)
    seed = sum(ord(c) * 31**k for k, c in enumerate(ex.label))
    points = sample_points([symbols[n] for n in sorted(symbols)], _POINTS, seed)
    expected = ex.expected
    # the statement's constraints (e.g. a^2 + s^2 = 1), imposed on both sides
    imposed = {symbols[name]: parse_answer(rhs, symbols) for name, rhs in ex.relations.items()}
    if not isinstance(expected, list):
        want = parse_answer(expected, symbols).xreplace(imposed)
        got = _validate(_parse(answer, symbols), symbols).xreplace(imposed)
        return (True, "") if _is_zero(got, want, points) else (False, _remark(got, want, points))
    wants = [parse_answer(e, symbols).xreplace(imposed) for e in expected]
    items = _entries(answer if isinstance(answer, (list, tuple)) else _parse(answer, symbols), len(wants))
    gots = [_validate(item if type(item).__module__.startswith("sympy") else _parse(item, symbols), symbols,
                      (f"entry {k}", f"第 {k} 個分量")).xreplace(imposed) for k, item in enumerate(items, start=1)]
    wrong = [str(k) for k, (g, w) in enumerate(zip(gots, wants), start=1) if not _is_zero(g, w, points)]
    if not wrong:
        return True, ""
    n = len(wants)
    return False, f"Not yet right: entry {', '.join(wrong)} of {n}. · 還不對的分量：第 {'、'.join(wrong)} 個（共 {n} 個）。"
