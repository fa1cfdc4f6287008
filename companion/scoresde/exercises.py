r"""Self-check for the chapters' exercises: ``check("3.1", answer)`` says *correct* or *not yet*, with a hint.

Every chapter ends with exercises whose worked solutions are folded in the book. A student who wants to know
whether an answer is right, without unfolding the solution, asks this module::

    from scoresde.exercises import check
    check("3.1", 14.0)                   # a number: compared with a tolerance
    check("3.2", "t**3/3")               # an expression: a string or a sympy expression, compared by sympy
    check("6.2", ["x1", "x2"])           # several expressions: a list (or tuple, or sympy vector)
    print(check("3.2", my_expression))   # inside a cell, print it; at the end of a cell it shows itself

The reply is a :class:`CheckResult`: ``bool(result)`` is ``True`` only for a correct answer, and its text
(``str``/``repr``) is the bilingual verdict. It never contains the expected answer: a wrong answer gets the
exercise's hint, and for an expression a structural remark (off by a constant factor or by an additive
constant), never the value. An answer that cannot be read (a string for a number, an unknown symbol, a list
of the wrong length, NaN) gets status ``"malformed"`` and a message saying what form is expected.

Exercise ids are strings ``"<chapter>.<number>"``: ``"3.2"`` is the second exercise of chapter 3 (the second
``{exercise}`` of ``notebooks/03_*.ipynb``); the exercise's label (``"ex-03-t-dw"``) works too. (The rendered
book numbers exercises through the whole book, so use the id, not the number in the exercise's title.)
:func:`exercise_ids` lists them, :func:`describe` says what form an answer takes, :func:`hint` gives the
hint. The answers live in :mod:`scoresde.exercise_answers`, encoded so that opening the file does not spoil
an exercise at a glance.

Kinds of answers:

* ``"number"`` — a real number (int, float, NumPy/torch scalar, one-element tensor, numeric sympy value);
  correct when :math:`|a - e| \le \text{atol} + \text{rtol}\,|e|`.
* ``"vector"`` — a sequence of real numbers of a fixed length (list, tuple, NumPy array, torch tensor),
  each entry compared as a number.
* ``"expression"`` — a sympy expression, a string that sympy parses (``^`` means power), or a number; written
  in the exercise's symbols (matched by name, so ``sympy.Symbol("t")`` works whatever its assumptions);
  correct when both agree, to 25 digits, at random points of the symbols' domains (a tiny ``simplify``
  decides where the points cannot); an answer whose difference is not zero differs at a random point
  with probability one. Some exercises ask for several expressions, e.g. a minimiser ``(a, b)`` or a vector
  field: pass a list, a tuple, a sympy
  vector, or one string such as ``"(1/s**2, mu)"``; a wrong answer is told which entries are not yet right.
* ``"choice"`` — one of a few labelled options (a string, case and surrounding spaces ignored).
* ``"code"`` — a function: ``check("2.4", my_function)`` calls it on hidden cases (shapes, edge cases, a
  seed), each under a time limit, and compares with a reference; a wrong answer is told which case failed
  and why (an exception, a wrong shape, NaN, a constant factor, the largest error), never the reference's
  values (:mod:`scoresde.exercise_code`).

sympy is imported only when an expression is checked. A string answer is data, never code: it is read by
:func:`scoresde._safe_expr.parse_answer` (Python's ``ast`` with an allow-list of numbers, the exercise's
symbols, ``pi``, ``E``, ``+ - * / **`` and a few functions, with bounds on length, depth, literals and
exponents), so no string can run code, touch files or exhaust time or memory; a refused string gets a
"malformed, expected a form like …" message in both languages.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Literal

import torch

from ._checks import check_choice
from ._safe_expr import AnswerError, equal_at_points, parse_answer, sample_points, time_limit, values_at
from .exercise_answers import EXERCISES
from .exercise_code import CodeExercise, run_cases

__all__ = ["CheckResult", "Exercise", "KINDS", "check", "describe", "hint", "exercise_ids"]

KINDS: tuple[str, ...] = ("number", "vector", "expression", "choice", "code")
Status = Literal["correct", "not yet", "malformed"]

_ID = re.compile(r"^(?P<chapter>[1-9]\d*)\.(?P<number>[1-9]\d*)$")
_CORRECT = "✓ correct · 正確"
_NOT_YET = "✗ not yet · 還不對"
_MALFORMED = "? cannot check this answer · 無法檢查這個答案"


@dataclass(frozen=True)
class Exercise:
    """One registered exercise: what form its answer takes, how it is compared, and its hint.

    Attributes:
        exercise_id: ``"<chapter>.<number>"``.
        label: the ``{exercise}``'s label in the chapter notebook (e.g. ``"ex-03-sum-increments"``).
        kind: one of :data:`KINDS`.
        form: (English, 繁體中文) description of what to pass — never the answer itself.
        hint: (English, 繁體中文) hint shown with a wrong answer.
        encoded: the expected answer, JSON then base64 (see :func:`_decode`).
        rtol, atol: tolerances for ``"number"`` and ``"vector"``.
        symbols: for ``"expression"``: symbol name -> sympy assumptions (e.g. ``{"t": {"positive": True}}``).
        options: for ``"choice"``: the allowed labels.
        code: for ``"code"``: the reference function and hidden cases (:class:`scoresde.exercise_code.CodeExercise`).
    """

    exercise_id: str
    label: str
    kind: str
    form: tuple[str, str]
    hint: tuple[str, str]
    encoded: str
    rtol: float = 1e-6
    atol: float = 1e-9
    symbols: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)
    options: tuple[str, ...] = ()
    code: CodeExercise | None = None

    @property
    def chapter(self) -> int:
        return int(self.exercise_id.split(".")[0])

    @property
    def number(self) -> int:
        return int(self.exercise_id.split(".")[1])


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one answer. ``bool(result)`` is ``True`` only when the answer is correct.

    Its text (``str(result)``, and its ``repr`` so that a notebook shows it) is the bilingual message;
    it never contains the expected answer.
    """

    exercise_id: str
    status: Status
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message


class _Malformed(Exception):
    """The answer cannot be read as the exercise's kind; the message says why (bilingual)."""


def _encode(value: Any) -> str:
    """Encode an expected answer for :mod:`scoresde.exercise_answers` (maintainers' helper)."""
    return base64.b64encode(json.dumps(value).encode("utf-8")).decode("ascii")


def _decode(encoded: str) -> Any:
    return json.loads(base64.b64decode(encoded.encode("ascii")).decode("utf-8"))


def _build_registry(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, Exercise]:
    registry: dict[str, Exercise] = {}
    for exercise_id, entry in raw.items():
        if not _ID.match(exercise_id):
            raise ValueError(f"bad exercise id {exercise_id!r} in the registry; expected '<chapter>.<number>'")
        kind = check_choice(entry["kind"], f"kind of exercise {exercise_id}", KINDS)
        code = entry.get("code")
        if (kind == "code") != isinstance(code, CodeExercise):
            raise ValueError(f"exercise {exercise_id}: kind 'code' and a CodeExercise under 'code' go together")
        registry[exercise_id] = Exercise(
            exercise_id=exercise_id,
            label=entry["label"],
            kind=kind,
            form=tuple(entry["form"]),
            hint=tuple(entry["hint"]),
            encoded=entry["answer"] if kind != "code" else "",
            rtol=float(entry.get("rtol", 1e-6)),
            atol=float(entry.get("atol", 1e-9)),
            symbols=dict(entry.get("symbols", {})),
            options=tuple(entry.get("options", ())),
            code=code,
        )
    return registry


def _with_references(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The registry's data, each ``"code"`` entry joined with its reference and hidden cases (by label)."""
    from .exercise_references import REFERENCES

    return {i: ({**e, "code": REFERENCES[e["label"]]} if e["kind"] == "code" else e) for i, e in raw.items()}


_REGISTRY: dict[str, Exercise] = _build_registry(_with_references(EXERCISES))


def exercise_ids(chapter: int | None = None) -> list[str]:
    """The registered exercise ids (of one chapter if ``chapter`` is given), in book order."""
    ids = sorted(_REGISTRY, key=lambda i: (_REGISTRY[i].chapter, _REGISTRY[i].number))
    if chapter is not None:
        if isinstance(chapter, bool) or not isinstance(chapter, int):
            raise TypeError(f"chapter must be an int, got {type(chapter).__name__}")
        ids = [i for i in ids if _REGISTRY[i].chapter == chapter]
    return ids


def _lookup(exercise_id: Any) -> Exercise:
    if isinstance(exercise_id, Real) and not isinstance(exercise_id, bool):
        raise TypeError(
            f"exercise_id must be a string such as '3.2', got the number {exercise_id!r} "
            "(as a number, 3.10 and 3.1 would be the same)"
        )
    by_label = {ex.label: ex for ex in _REGISTRY.values()}
    if isinstance(exercise_id, str) and exercise_id.strip() in by_label:
        return by_label[exercise_id.strip()]
    check_choice(exercise_id.strip() if isinstance(exercise_id, str) else exercise_id, "exercise_id", exercise_ids())
    return _REGISTRY[exercise_id.strip()]


def describe(exercise_id: str) -> str:
    """What form the answer to ``exercise_id`` takes (bilingual), without the answer."""
    ex = _lookup(exercise_id)
    return f"{ex.exercise_id}: {ex.form[0]} · {ex.form[1]}"


def hint(exercise_id: str) -> str:
    """The bilingual hint of ``exercise_id`` (the same one a wrong answer gets)."""
    ex = _lookup(exercise_id)
    return f"Hint: {ex.hint[0]}\n提示：{ex.hint[1]}"


# ---- reading answers -------------------------------------------------------------------------------

def _as_real(value: Any, what: tuple[str, str] = ("the answer", "答案")) -> float:
    """A finite float from a Python/NumPy/torch/sympy real scalar, else :class:`_Malformed`.

    ``what`` names the value in English and 繁體中文 for the message.
    """
    en, zh = what
    if isinstance(value, bool):
        raise _Malformed(f"{en} must be a number, got a bool · {zh}應該是一個數，而不是布林值")
    if isinstance(value, str):
        raise _Malformed(
            f"{en} must be a number, got the string {value!r}; pass float(...) of it · "
            f"{zh}應該是一個數，而不是字串"
        )
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise _Malformed(f"{en} must be one number, got a tensor of shape {tuple(value.shape)} · "
                             f"{zh}應該是一個數，卻是形狀 {tuple(value.shape)} 的張量")
        if value.is_complex():
            raise _Malformed(f"{en} must be real, got a complex tensor · {zh}應該是實數")
        value = value.detach().cpu().item()
    elif hasattr(value, "shape") and hasattr(value, "item") and not isinstance(value, Real):
        if getattr(value, "size", 1) != 1:  # a NumPy array
            raise _Malformed(f"{en} must be one number, got an array of shape {tuple(value.shape)} · "
                             f"{zh}應該是一個數，卻是形狀 {tuple(value.shape)} 的陣列")
        value = value.item()
    if type(value).__module__.startswith("sympy"):
        free: set[Any] = getattr(value, "free_symbols", set())
        if free:
            names = ", ".join(sorted(str(s) for s in free))
            raise _Malformed(f"{en} must be a number, got an expression in {names} · "
                             f"{zh}應該是一個數，卻是含 {names} 的式子")
        try:
            value = complex(value)
        except (TypeError, ValueError) as exc:
            raise _Malformed(f"{en} is not a number: {exc} · {zh}不是一個數") from None
        if value.imag != 0:
            raise _Malformed(f"{en} must be real, got a complex number · {zh}應該是實數")
        value = value.real
    if isinstance(value, complex):
        raise _Malformed(f"{en} must be real, got a complex number · {zh}應該是實數")
    if not isinstance(value, Real):
        raise _Malformed(f"{en} must be a number, got {type(value).__name__} · "
                         f"{zh}應該是一個數，卻是 {type(value).__name__}")
    x = float(value)
    if not math.isfinite(x):
        raise _Malformed(f"{en} is {x}, not a finite number · {zh}是 {x}，不是有限的數")
    return x


def _close(a: float, e: float, ex: Exercise) -> bool:
    return abs(a - e) <= ex.atol + ex.rtol * abs(e)


def _check_number(ex: Exercise, answer: Any) -> bool:
    return _close(_as_real(answer), float(_decode(ex.encoded)), ex)


def _check_vector(ex: Exercise, answer: Any) -> bool:
    expected = [float(v) for v in _decode(ex.encoded)]
    values: list[Any]
    if isinstance(answer, torch.Tensor):
        if answer.ndim > 1:
            raise _Malformed(f"the answer must be a flat list of {len(expected)} numbers, got a tensor of shape "
                             f"{tuple(answer.shape)} · 答案應該是 {len(expected)} 個數的一維串列")
        values = answer.detach().cpu().reshape(-1).tolist()
    elif hasattr(answer, "tolist") and hasattr(answer, "ndim"):
        if answer.ndim != 1:
            raise _Malformed(f"the answer must be a flat list of {len(expected)} numbers, got an array of shape "
                             f"{tuple(answer.shape)} · 答案應該是 {len(expected)} 個數的一維串列")
        values = answer.tolist()
    elif isinstance(answer, Sequence) and not isinstance(answer, (str, bytes)):
        values = list(answer)
    else:
        raise _Malformed(f"the answer must be a list of {len(expected)} numbers, got {type(answer).__name__} · "
                         f"答案應該是 {len(expected)} 個數的串列")
    if len(values) != len(expected):
        raise _Malformed(f"the answer must have {len(expected)} entries, got {len(values)} · "
                         f"答案應該有 {len(expected)} 個分量，卻有 {len(values)} 個")
    got = [_as_real(v, (f"entry {k}", f"第 {k} 個分量")) for k, v in enumerate(values, start=1)]
    return all(_close(a, e, ex) for a, e in zip(got, expected))


def _check_choice(ex: Exercise, answer: Any) -> bool:
    options = ", ".join(ex.options)
    if not isinstance(answer, str):
        raise _Malformed(f"the answer must be one of the labels {options} (a string), got {type(answer).__name__}"
                         f" · 答案應該是選項 {options} 之一（字串）")
    picked = answer.strip().lower()
    if picked not in [o.lower() for o in ex.options]:
        raise _Malformed(f"{answer!r} is not one of the options {options} · {answer!r} 不是選項 {options} 之一")
    return picked == str(_decode(ex.encoded)).lower()


def _symbols(ex: Exercise) -> dict[str, Any]:
    import sympy as sp

    return {name: sp.Symbol(name, **dict(assumptions)) for name, assumptions in ex.symbols.items()}


def _parse(answer: Any, symbols: dict[str, Any]) -> Any:
    """Turn an answer into a sympy object (not yet validated), else :class:`_Malformed`.

    A string is read as data by :func:`scoresde._safe_expr.parse_answer` (no code runs, sizes bounded).
    """
    import sympy as sp

    names = ", ".join(symbols) or "no symbols"
    if isinstance(answer, bool) or answer is None:
        raise _Malformed(f"the answer must be an expression in {names}, got {answer!r} · "
                         f"答案應該是以 {names} 表示的式子")
    if isinstance(answer, str):
        if not answer.strip():
            raise _Malformed("the answer is an empty string · 答案是空字串")
        if re.search(r"(?<![<>=!:])=(?!=)", answer):
            raise _Malformed("the answer is an equation; give only the expression (the right-hand side) · "
                             "答案是方程式；請只寫出式子（右邊）")
        try:
            parsed = parse_answer(answer, symbols)
        except AnswerError as why:
            raise _Malformed(str(why)) from None
        return sp.Tuple(*parsed) if isinstance(parsed, tuple) else parsed
    if isinstance(answer, torch.Tensor) or (hasattr(answer, "shape") and hasattr(answer, "item")
                                            and not type(answer).__module__.startswith("sympy")):
        return sp.Float(_as_real(answer))
    try:
        return sp.sympify(answer, strict=True)
    except (sp.SympifyError, TypeError):
        raise _Malformed(f"the answer must be a sympy expression or a string, got {type(answer).__name__} · "
                         "答案應該是 sympy 式子或字串") from None


def _validate(expr: Any, symbols: dict[str, Any], what: tuple[str, str] = ("the answer", "答案")) -> Any:
    """``expr`` as one finite sympy expression in the exercise's symbols (same assumptions), else _Malformed."""
    import sympy as sp

    en, zh = what
    names = ", ".join(symbols) or "no symbols"
    # (a Symbol is also a Boolean in sympy, so test for Boolean only among non-expressions)
    if isinstance(expr, sp.core.relational.Relational) or (
            isinstance(expr, sp.logic.boolalg.Boolean) and not isinstance(expr, sp.Expr)):
        raise _Malformed(f"{en} is an equation or a truth value; give only the expression (the right-hand side) · "
                         f"{zh}是方程式或真假值；請只寫出式子（右邊）")
    if getattr(expr, "is_Matrix", False) or not isinstance(expr, sp.Expr):
        raise _Malformed(f"{en} must be one expression, got {type(expr).__name__} · {zh}應該是單一個式子")
    unknown = sorted(str(s) for s in expr.free_symbols if str(s) not in symbols)
    if unknown:
        raise _Malformed(f"unknown symbol(s) {', '.join(unknown)}; write {en} in {names} · "
                         f"未知的符號 {', '.join(unknown)}；請用 {names} 表示{zh}")
    if expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise _Malformed(f"{en} contains an infinite or undefined value · {zh}含有無窮大或未定義的值")
    # the student's Symbol('t') and ours may differ in assumptions: match them by name
    return expr.xreplace({s: symbols[str(s)] for s in expr.free_symbols})


def _entries(parsed: Any, n: int) -> list[Any]:
    """The entries of an answer that must hold ``n`` expressions (list, tuple, sympy Tuple or vector)."""
    import sympy as sp

    if isinstance(parsed, (list, tuple, sp.Tuple)):
        items = list(parsed)
    elif getattr(parsed, "is_Matrix", False) and 1 in parsed.shape:
        items = list(parsed)
    else:
        raise _Malformed(f"the answer must be a list of {n} expressions, got {type(parsed).__name__} · "
                         f"答案應該是 {n} 個式子的串列")
    if len(items) != n:
        raise _Malformed(f"the answer must have {n} entries, got {len(items)} · "
                         f"答案應該有 {n} 個分量，卻有 {len(items)} 個")
    return items


_POINTS = 8          # random points at which an answer is compared with the expected expression
_SIMPLIFY_OPS = 40   # sympy.simplify is tried only on a difference this small, when the points cannot decide
_SECONDS = 5.0       # wall-clock bound on one comparison (SIGALRM, main thread; see _safe_expr.time_limit)


def _points(ex: Exercise) -> list[dict[Any, Any]]:
    symbols = _symbols(ex)
    seed = sum(ord(c) * 31 ** k for k, c in enumerate(ex.exercise_id))
    return sample_points([symbols[n] for n in sorted(symbols)], _POINTS, seed)


def _is_zero(got: Any, expected: Any, points: list[dict[Any, Any]]) -> bool:
    """``got == expected``: by value at random points (40 digits), else a cheap bounded ``simplify``."""
    import sympy as sp

    try:
        with time_limit(_SECONDS):
            same = equal_at_points(got, expected, points)
            if same is None and sp.count_ops(got - expected) <= _SIMPLIFY_OPS:
                same = sp.simplify(got - expected) == 0
    except TimeoutError:
        raise _Malformed(f"the answer took more than {_SECONDS:g} s to compare; write it more simply · "
                         f"比較這個答案超過 {_SECONDS:g} 秒；請寫得簡單一些") from None
    return bool(same)


def _constant(values: list[Any]) -> bool:
    from ._safe_expr import _close

    known = [v for v in values if v is not None]
    return len(known) >= 2 and all(_close(v, known[0], 1e-20) for v in known)


def _remark(got: Any, expected: Any, points: list[dict[Any, Any]]) -> str:
    """A structural remark on a wrong scalar expression that does not reveal the answer, or ''."""
    g, e = values_at(got, points), values_at(expected, points)
    pairs = [(a, b) for a, b in zip(g, e) if a is not None and b is not None]
    if pairs and all(b != 0 for _, b in pairs) and _constant([a / b for a, b in pairs]) and pairs[0][0] != 0:
        return "Your expression is off by a constant factor. · 你的式子差了一個常數倍。"
    if _constant([a - b for a, b in pairs]):
        return "Your expression is off by an additive constant. · 你的式子與答案相差一個常數項。"
    return ""


def _expected(ex: Exercise, symbols: dict[str, Any]) -> Any:
    decoded = _decode(ex.encoded)
    if isinstance(decoded, list):
        return [parse_answer(e, symbols) for e in decoded]
    return parse_answer(decoded, symbols)


def _check_expression(ex: Exercise, answer: Any) -> tuple[bool, str]:
    """(correct, a remark for a wrong answer). Expected: one sympy string, or a list of them."""
    symbols = _symbols(ex)
    expected = _expected(ex, symbols)
    points = _points(ex)
    if not isinstance(expected, list):
        got = _validate(_parse(answer, symbols), symbols)
        return (True, "") if _is_zero(got, expected, points) else (False, _remark(got, expected, points))
    parsed = answer if isinstance(answer, (list, tuple)) else _parse(answer, symbols)
    items = _entries(parsed, len(expected))
    gots = []
    for k, item in enumerate(items, start=1):
        value = item if type(item).__module__.startswith("sympy") else _parse(item, symbols)
        gots.append(_validate(value, symbols, (f"entry {k}", f"第 {k} 個分量")))
    wrong = [k for k, (g, e) in enumerate(zip(gots, expected), start=1) if not _is_zero(g, e, points)]
    if not wrong:
        return True, ""
    listed, listed_zh = ", ".join(str(k) for k in wrong), "、".join(str(k) for k in wrong)
    n = len(expected)
    return False, f"Not yet right: entry {listed} of {n}. · 還不對的分量：第 {listed_zh} 個（共 {n} 個）。"


def _check_code(ex: Exercise, answer: Any) -> tuple[bool, str]:
    """(correct, the failed case and why) for a code exercise: ``answer`` must be a function."""
    assert ex.code is not None
    if not callable(answer) or isinstance(answer, type):
        raise _Malformed(f"the answer must be a function (pass it without calling it), got "
                         f"{type(answer).__name__} · 答案應該是一個函式（直接傳入，不要呼叫它）")
    passed, why = run_cases(ex.code, answer)
    return passed == len(ex.code.cases), why


# ---- the public check --------------------------------------------------------------------------------

def check(exercise_id: str, answer: Any) -> CheckResult:
    """Check a student's answer to an exercise, without revealing the expected answer.

    Args:
        exercise_id: ``"<chapter>.<number>"``, e.g. ``"3.2"`` (a string: as a number 3.10 would be 3.1), or
            the exercise's label, e.g. ``"ex-03-t-dw"``.
        answer: the answer, in the form :func:`describe` gives: a number, a list of numbers, an expression
            (sympy or a string), an option label, or a function (a code exercise: run on hidden cases, each
            under a time limit; see :mod:`scoresde.exercise_code`).

    Returns:
        A :class:`CheckResult` with status ``"correct"``, ``"not yet"`` (with the hint) or ``"malformed"``
        (with what form is expected). Its text is the bilingual verdict; ``bool(result)`` is the verdict.

    Raises:
        TypeError: ``exercise_id`` is not a string.
        ValueError: no exercise has that id (the message lists the registered ids).
    """
    ex = _lookup(exercise_id)
    head = f"Exercise {ex.exercise_id} · 習題 {ex.exercise_id}:"
    try:
        remark = ""
        if ex.kind == "number":
            ok = _check_number(ex, answer)
        elif ex.kind == "vector":
            ok = _check_vector(ex, answer)
        elif ex.kind == "choice":
            ok = _check_choice(ex, answer)
        elif ex.kind == "code":
            ok, remark = _check_code(ex, answer)
        else:
            ok, remark = _check_expression(ex, answer)
    except _Malformed as why:
        message = f"{head} {_MALFORMED}\n{why}\nExpected · 應為: {ex.form[0]} · {ex.form[1]}"
        return CheckResult(ex.exercise_id, "malformed", message)
    if ok:
        return CheckResult(ex.exercise_id, "correct", f"{head} {_CORRECT}")
    lines = [f"{head} {_NOT_YET}"]
    if remark:
        lines.append(remark)
    lines.append(hint(ex.exercise_id))
    return CheckResult(ex.exercise_id, "not yet", "\n".join(lines))
